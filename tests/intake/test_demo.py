"""``make run``: the commands the demo prints carry a real tip from its server to its reviewer
and a reply back to the source, each exactly as printed, in order, from the repository root
(I8: no step fails as printed; issue 19, item 9: the whole round trip, replies included)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.intake import VENV_BIN, SourceSession
from tests.support.ports import free_port, wait_for_port

TIP = "The demo tip: the depot's fuel logs were rewritten in March."


def printed_commands(stdout: Path) -> list[str]:
    """The command lines the demo printed: those that run a program from .venv/bin."""
    return [
        line.strip()
        for line in stdout.read_text().splitlines()
        if line.strip().startswith(".venv/bin/")
    ]


def test_the_printed_demo_steps_work_as_printed(tmp_path: Path) -> None:
    # A checkout: the demo runs in its root, where .venv is.
    root = tmp_path / "checkout"
    root.mkdir()
    (root / ".venv").symlink_to(VENV_BIN.parent)
    # A reviewer's own data directory, which the demo must leave alone.
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    port = free_port()
    env |= {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "CAIRN_DEMO_PORT": str(port),
        "COLUMNS": "200",
    }
    stdout = tmp_path / "demo.out"
    with stdout.open("wb") as out, (tmp_path / "demo.err").open("wb") as err:
        demo = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "intake.demo"],
            cwd=root,
            stdout=out,
            stderr=err,
            env=env,
        )
    try:
        wait_for_port(port, timeout=120)
        source = SourceSession(f"http://127.0.0.1:{port}")
        source.start()
        assert source.submit(TIP).status_code == 200

        commands = printed_commands(stdout)
        programs = [" ".join(command.split()[:2]) for command in commands]
        assert programs == [
            ".venv/bin/review fetch",
            ".venv/bin/review trust",
            ".venv/bin/review import",
            ".venv/bin/review tips",
            ".venv/bin/review reply",
            ".venv/bin/intake reviewers",
            ".venv/bin/review push",
            ".venv/bin/review delivered",
            ".venv/bin/review outbox",
            ".venv/bin/review ack",
        ], stdout.read_text()
        outputs = []
        for command in commands:
            result = subprocess.run(
                ["sh", "-c", command],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, (command, result.stderr)
            assert "Traceback" not in result.stderr
            outputs.append(result.stdout)
        fetched, _trust, imported, tips, replied, added, pushed, delivered, outbox, acked = outputs
        assert "1 tip." in fetched
        assert "Imported 1 new tip" in imported
        assert TIP[:20] in tips
        assert "is in the outbox" in replied and "Added the reviewer demo-desk" in added
        assert "Delivered 1 replies" in pushed
        assert "Marked 1 reply delivered; 0 still wait" in delivered
        assert "delivered" in outbox
        assert "acknowledged 1 items" in acked
        assert "Can you send the March fuel logs too?" in source.login().text
        # Everything stayed in ./demo: no workspace or identity in the reviewer's own directory.
        assert not (home / "data" / "cairn").exists()
        assert (root / "demo" / "workspace").is_dir()
    finally:
        demo.terminate()
        demo.wait(30)
