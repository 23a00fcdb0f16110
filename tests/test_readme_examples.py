"""The README's examples work as printed (issue 19, item 9): every `review` and `intake` line in
its shell blocks names a real command, with options it has, every option it requires, and as
many arguments as it takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from intake.cli import main as intake_main
from review.cli import main as review_main

README = Path(__file__).parent.parent / "README.md"
PROGRAMS = {"review": review_main, "intake": intake_main}


def _examples() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.split(" ", 1)[0] in PROGRAMS
    ]


def _problems(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    command: click.Command = PROGRAMS[words[0]]
    rest = words[1:]
    while isinstance(command, click.Group):
        if command.invoke_without_command and (not rest or rest[0] not in command.commands):
            break  # a group that runs on its own, as `review sources` lists
        if not rest or rest[0] not in command.commands:
            return [f"no command {rest[:1]} in {words[0]}"]
        command, rest = command.commands[rest[0]], rest[1:]
    options = {
        name: param
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }
    given: set[str] = set()
    arguments: list[str] = []
    words_left = iter(rest)
    problems = []
    for word in words_left:
        if word.startswith("--"):
            option = options.get(word)
            if option is None:
                problems.append(f"no option {word}")
                continue
            given.add(option.name or "")
            if not option.is_flag:
                next(words_left, None)
        else:
            arguments.append(word)
    problems += [
        f"{param.opts[0]} is required"
        for param in command.params
        if isinstance(param, click.Option)
        and param.required
        and param.envvar is None
        and param.name not in given
    ]
    positional = [p for p in command.params if isinstance(p, click.Argument)]
    least = sum(p.required for p in positional)
    if not least <= len(arguments) <= len(positional):
        problems.append(f"takes {least} to {len(positional)} arguments, not {arguments}")
    return problems


@pytest.mark.parametrize("line", _examples())
def test_issue19_item9_a_readme_example_works_as_printed(line: str) -> None:
    assert _problems(line) == []


def test_the_readme_shows_the_whole_round_trip() -> None:
    commands = {" ".join(shlex.split(line, comments=True)[:2]) for line in _examples()}
    for step in ("review fetch", "review import", "review reply", "review push", "review ack"):
        assert step in commands
    assert "review delivered" in commands and "intake reviewers" in commands
