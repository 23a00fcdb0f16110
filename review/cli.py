"""The ``review`` command."""

from __future__ import annotations

import click

from keys.core_dumps import forbid_core_dumps

from .ach_cli import ach, hypothesis_group
from .agent_cli import lock, unlock
from .claims_cli import claim_group, claims, link, unlink
from .courier_cli import ack, courier_group, fetch, push
from .desk_cli import desk
from .import_cli import import_, trust
from .keys_cli import keys_group
from .output import ReviewGroup
from .replies_cli import delivered, outbox_, reply
from .report_cli import report
from .sources_cli import relate, sources, suggest_, unrelate
from .team_cli import conflicts, merge, share, sign_off, team_group
from .triage_cli import export, mark, note, show, tips


@click.group(cls=ReviewGroup)
@click.version_option(package_name="cairn")
def main() -> None:
    """Cairn's offline review tool: open tips, record claims, see what is corroborated.

    The journey: `keys new`, `unlock` (the passphrase once, until `lock`), `trust`, `import`,
    then triage (`tips`, `show`, `mark`, `note`), claims (`claim add`, `link`, `claims`),
    independence (`sources`, `relate`, `suggest`), grades (`sources grade`), competing
    hypotheses (`hypothesis add`, `ach mark`, `ach`), and finally `report`, `reply` and `outbox`.
    With a team: `team add`, `share`, `merge`, `conflicts` and `sign-off`.
    On the networked machine: `courier new`, `fetch`, `push` and `ack`.
    """


for command in (
    desk,
    keys_group,
    unlock,
    lock,
    trust,
    import_,
    tips,
    show,
    export,
    mark,
    note,
    sources,
    relate,
    unrelate,
    suggest_,
    claim_group,
    link,
    unlink,
    claims,
    hypothesis_group,
    ach,
    team_group,
    share,
    merge,
    conflicts,
    sign_off,
    report,
    reply,
    outbox_,
    delivered,
    courier_group,
    fetch,
    push,
    ack,
):
    main.add_command(command)


def run() -> None:
    """``review`` as installed: its memory holds plaintext tips, keys and passphrases, so the
    process may never dump core (nor be read by others of the same user), whatever the command."""
    forbid_core_dumps()
    main()
