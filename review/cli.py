"""The ``review`` command."""

from __future__ import annotations

import click

from .claims_cli import claim_group, claims, link, unlink
from .courier_cli import ack, courier_group, fetch, push
from .import_cli import import_, trust
from .keys_cli import keys_group
from .replies_cli import outbox_, reply
from .report_cli import report
from .sources_cli import relate, sources, suggest_, unrelate
from .triage_cli import export, mark, note, show, tips


@click.group()
@click.version_option(package_name="cairn")
def main() -> None:
    """Cairn's offline review tool: open tips, record claims, see what is corroborated.

    The journey: `keys new`, `trust`, `import`, then triage (`tips`, `show`, `mark`, `note`),
    claims (`claim add`, `link`, `claims`), independence (`sources`, `relate`, `suggest`),
    and finally `report`, `reply` and `outbox`. On the networked machine: `courier new`,
    `fetch`, `push` and `ack`.
    """


for command in (
    keys_group,
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
    report,
    reply,
    outbox_,
    courier_group,
    fetch,
    push,
    ack,
):
    main.add_command(command)
