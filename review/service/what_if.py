"""What would change a claim's status: accepting a relation between two of its groups, or
removing one of the relations that joined a group behind it."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, islice

from ..assessment import groups, pseudonyms, relations, sides
from ..corroboration import (
    DEFAULT_THRESHOLD,
    NO_SIDES,
    Group,
    Sides,
    claim_statuses,
    independence_groups,
)
from ..workspace import Workspace

MAX_MERGES = 30  # pairs of groups shown; a claim resting on dozens of groups shows the first


@dataclass(frozen=True)
class WhatIf:
    first: str  # pseudonyms
    second: str
    change: str  # "accepted" (the two became related) or "removed" (their relation went)
    status: str  # the claim's status after the change


def _status(claim: int, claim_sides: Sides, group_of: dict[str, Group], threshold: int) -> str:
    return claim_statuses([claim], {claim: claim_sides}, group_of, threshold)[0].status


class WhatIfs:
    workspace: Workspace

    def what_if(self, claim_id: int, threshold: int = DEFAULT_THRESHOLD) -> list[WhatIf]:
        """The claim's status after each change that could move it, changes that move it first."""
        workspace = self.workspace
        workspace.claim(claim_id)
        names = pseudonyms(workspace)
        claim_sides = sides(workspace, {claim_id}).get(claim_id, NO_SIDES)
        on_claim = {source for side in claim_sides for source in side}
        group_of = groups(workspace)
        touching = sorted({group_of[source] for source in on_claim}, key=min)
        local = {source: group for group in touching for source in group}

        def named(group: Group) -> str:
            return min(names[source] for source in group & on_claim)

        found = []
        for a, b in islice(combinations(touching, 2), MAX_MERGES):
            merged = a | b
            after = {**local, **dict.fromkeys(merged, merged)}
            status = _status(claim_id, claim_sides, after, threshold)
            first, second = sorted((named(a), named(b)))
            found.append(WhatIf(first, second, "accepted", status))
        joining = [relation for relation in relations(workspace) if relation.a in local]
        for relation in joining:
            group = local[relation.a]
            inside = [other for other in joining if other.a in group]
            split = independence_groups(group, [other for other in inside if other != relation])
            status = _status(claim_id, claim_sides, {**local, **split}, threshold)
            pair = sorted((names[relation.a], names[relation.b]))
            found.append(WhatIf(pair[0], pair[1], "removed", status))
        now = _status(claim_id, claim_sides, local, threshold)
        return sorted(found, key=lambda found: found.status == now)
