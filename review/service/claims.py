"""Claims and evidence: recording claims, linking tips to them, and reading their status."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from keys.private_files import private_output

from ..assessment import ClaimView, assess, groups, members, pseudonyms
from ..assessment import relations as relations_of
from ..corroboration import BASES, COUNTING_BASES, DEFAULT_THRESHOLD, STANCES, Relation
from ..grading import CREDIBILITIES
from ..models import Claim, CredibilityOverride, Link
from ..report import build_report, to_html, to_markdown
from ..workspace import Workspace, WorkspaceError
from .choices import one_of
from .hypotheses import matrix
from .team import SignOffView

DEFAULT_BASIS = "secondhand"
REPORT_FORMATS = ("md", "html")


@dataclass(frozen=True)
class Replaced:
    """The link a new one took the place of."""

    stance: str
    basis: str
    had_quote: bool


@dataclass(frozen=True)
class Linked:
    tip: str
    claim: int
    stance: str
    basis: str
    has_quote: bool
    replaced: Replaced | None  # the link between the same pair before this one, if any

    @property
    def weak(self) -> bool:
        """Shown but never counted: a secondhand link that takes a side."""
        return self.stance != "context" and self.basis not in COUNTING_BASES


def _named(relation: Relation, names: dict[str, str]) -> tuple[str, str, str]:
    first, second = sorted((names[relation.a], names[relation.b]))
    return first, second, relation.kind


class Claims:
    workspace: Workspace

    def in_team(self) -> bool:
        """Whether this workspace works in a team (review.service.team)."""
        raise NotImplementedError

    def sign_offs(self) -> dict[int, list[SignOffView]]:
        """Each signed-off claim's sign-offs (review.service.team)."""
        raise NotImplementedError

    def add_claim(self, text: str) -> int:
        """Record a claim (sealed); returns its id."""
        claim = Claim(text=self.workspace.seal(text))
        self.workspace.session.add(claim)
        self.workspace.session.flush()
        return claim.id

    def reword_claim(self, claim_id: int, text: str) -> None:
        """Reword a claim; its links stay."""
        self.workspace.claim(claim_id).text = self.workspace.seal(text)

    def remove_claim(self, claim_id: int) -> int:
        """Remove a claim and its links; returns how many links went with it."""
        claim = self.workspace.claim(claim_id)
        links = len(claim.links)
        self.workspace.delete(claim)
        return links

    def override_credibility(self, claim_id: int, credibility: int, reason: str) -> None:
        """Set a claim's credibility (1-6) in place of the derived one, with a sealed reason
        shown beside it."""
        if credibility not in CREDIBILITIES:
            raise WorkspaceError("credibility is 1 to 6: 1 confirmed ... 6 cannot be judged")
        self.workspace.claim(claim_id)
        sealed = self.workspace.seal(reason)
        self.workspace.session.merge(
            CredibilityOverride(claim_id=claim_id, credibility=credibility, reason=sealed)
        )

    def derive_credibility(self, claim_id: int) -> None:
        """Drop a claim's overridden credibility: it is derived from corroboration again."""
        found = self.workspace.session.get(CredibilityOverride, claim_id)
        if found is None:
            self.workspace.claim(claim_id)
            raise WorkspaceError(f"claim {claim_id}'s credibility is not overridden")
        self.workspace.delete(found)

    def check_link(self, tip_ref: str, claim_id: int) -> None:
        """Refuse an unknown tip or claim before the reviewer types a quote for the link."""
        self.workspace.tip(tip_ref)
        self.workspace.claim(claim_id)

    def link(
        self,
        tip_ref: str,
        claim_id: int,
        stance: str,
        basis: str = DEFAULT_BASIS,
        quote: str | None = None,
        *,
        drop_quote: bool = False,
    ) -> Linked:
        """Link a tip to a claim, replacing any link between the two.

        A replaced link's quote is kept when no new one is given, unless ``drop_quote``: evidence
        the reviewer typed is never lost by restating a stance.
        """
        one_of(stance, STANCES, "stance")
        one_of(basis, BASES, "basis")
        if drop_quote and quote is not None:
            raise WorkspaceError("give a new quote or drop the old one, not both")
        workspace = self.workspace
        tip, claim = workspace.tip(tip_ref), workspace.claim(claim_id)
        found = workspace.session.get(Link, (tip.id, claim.id))
        replaced = None
        if found is None:
            found = Link(tip_id=tip.id, claim_id=claim.id)
            workspace.session.add(found)
        else:
            replaced = Replaced(found.stance, found.basis, found.quote is not None)
        found.stance, found.basis = stance, basis
        if quote is not None:
            found.quote = workspace.seal(quote)
        elif drop_quote:
            found.quote = None
        return Linked(tip.id, claim.id, stance, basis, found.quote is not None, replaced)

    def unlink(self, tip_ref: str, claim_id: int) -> str:
        """Remove the link between a tip and a claim; returns the tip's id."""
        tip = self.workspace.tip(tip_ref)
        found = self.workspace.session.get(Link, (tip.id, claim_id))
        if found is None:
            raise WorkspaceError(f"tip {tip.id} is not linked to claim {claim_id}")
        self.workspace.delete(found)
        return tip.id

    def claims(
        self,
        threshold: int = DEFAULT_THRESHOLD,
        *,
        with_evidence: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[ClaimView]:
        """Every claim's status and groups, oldest first, or ``limit`` of them from ``offset``
        on (a page, whose texts alone are opened); quotes are opened only with evidence."""
        only = None
        if offset or limit is not None:
            page = select(Claim.id).order_by(Claim.id).offset(offset).limit(limit)
            only = list(self.workspace.session.scalars(page))
        return assess(self.workspace, threshold, with_evidence=with_evidence, only=only)

    def recent_claims(self, count: int) -> list[tuple[int, str]]:
        """The ``count`` newest claims' ids and texts, newest first: the ones a link most
        likely wants, without the cost of their statuses."""
        newest = select(Claim.id, Claim.text).order_by(Claim.id.desc()).limit(count)
        return [
            (claim, self.workspace.unseal(text))
            for claim, text in self.workspace.session.execute(newest)
        ]

    def claim_count(self) -> int:
        count: int = self.workspace.session.scalars(select(func.count()).select_from(Claim)).one()
        return count

    def claim(self, claim_id: int, threshold: int = DEFAULT_THRESHOLD) -> ClaimView:
        """One claim's status, groups and evidence; only its own quotes are opened."""
        self.workspace.claim(claim_id)
        (view,) = assess(self.workspace, threshold, only={claim_id})
        return view

    def report_text(self, format_: str = "md", *, threshold: int = DEFAULT_THRESHOLD) -> str:
        """The corroboration report as Markdown or HTML: claims, status, support, quotes."""
        one_of(format_, REPORT_FORMATS, "report format")
        workspace = self.workspace
        names = pseudonyms(workspace)
        group_of = {
            names[source]: members(group, names) for source, group in groups(workspace).items()
        }
        relations = tuple(sorted(_named(r, names) for r in relations_of(workspace)))
        today = datetime.date.today().isoformat()
        claims = assess(workspace, threshold)
        ach = matrix(workspace, threshold, claims)
        team = self.in_team()
        sign_offs = self.sign_offs()
        built = build_report(
            today, threshold, claims, group_of, relations, ach, team=team, sign_offs=sign_offs
        )
        return to_html(built) if format_ == "html" else to_markdown(built)

    def report(
        self,
        out: Path,
        format_: str = "md",
        *,
        force: bool = False,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> Path:
        """Write the corroboration report to ``out``, outside the workspace, whole or not at all."""
        one_of(format_, REPORT_FORMATS, "report format")
        self.workspace.check_outside(out)
        text = self.report_text(format_, threshold=threshold)
        try:
            with private_output(out, overwrite=force) as dst:
                dst.write(text.encode())
        except FileExistsError:
            raise WorkspaceError(
                f"{out} already exists; give --force to replace it, or choose another --out"
            ) from None
        return out
