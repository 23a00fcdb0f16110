"""Competing hypotheses (ACH): recording hypotheses, marking claims against them, ranking them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..ach import MARKS, EvidenceRow, HypothesisView, MarkView, Matrix, rank
from ..assessment import ClaimView, assess
from ..corroboration import DEFAULT_THRESHOLD
from ..models import AchMark, Hypothesis
from ..workspace import Workspace, WorkspaceError
from .choices import one_of


class Hypotheses:
    workspace: Workspace

    def _hypothesis(self, hypothesis_id: int) -> Hypothesis:
        found = self.workspace.session.get(Hypothesis, hypothesis_id)
        if found is None:
            raise WorkspaceError(f"no hypothesis {hypothesis_id}; `review ach` lists them")
        return found

    def add_hypothesis(self, text: str) -> int:
        """Record a hypothesis (sealed); returns its id."""
        hypothesis = Hypothesis(text=self.workspace.seal(text))
        self.workspace.session.add(hypothesis)
        self.workspace.session.flush()
        return hypothesis.id

    def reword_hypothesis(self, hypothesis_id: int, text: str) -> None:
        self._hypothesis(hypothesis_id).text = self.workspace.seal(text)

    def remove_hypothesis(self, hypothesis_id: int) -> int:
        """Remove a hypothesis and its marks; returns how many marks went with it."""
        hypothesis = self._hypothesis(hypothesis_id)
        count = select(func.count()).where(AchMark.hypothesis_id == hypothesis_id)
        marks: int = self.workspace.session.scalars(count).one()
        self.workspace.delete(hypothesis)
        return marks

    def check_mark(self, hypothesis_id: int, claim_id: int) -> None:
        """Refuse an unknown hypothesis or claim before the reviewer types a reason."""
        self._hypothesis(hypothesis_id)
        self.workspace.claim(claim_id)

    def mark_evidence(
        self, hypothesis_id: int, claim_id: int, mark: str, reason: str | None = None
    ) -> None:
        """Mark how consistent a claim is with a hypothesis, replacing any mark before."""
        one_of(mark, MARKS, "mark")
        self.check_mark(hypothesis_id, claim_id)
        sealed = None if reason is None else self.workspace.seal(reason)
        self.workspace.session.merge(
            AchMark(hypothesis_id=hypothesis_id, claim_id=claim_id, mark=mark, reason=sealed)
        )

    def matrix(self, threshold: int = DEFAULT_THRESHOLD) -> Matrix:
        """The hypotheses ranked by weighted inconsistency, the marked claims and the marks."""
        return matrix(self.workspace, threshold)


def matrix(
    workspace: Workspace, threshold: int, assessed: Sequence[ClaimView] | None = None
) -> Matrix:
    """The ACH matrix of ``workspace``, for the report as for ``Review.matrix``; ``assessed``:
    every claim, when the caller has assessed them already."""
    session = workspace.session
    texts = {h.id: workspace.unseal(h.text) for h in session.scalars(select(Hypothesis))}
    rows = list(session.scalars(select(AchMark)))
    marks = {(row.hypothesis_id, row.claim_id): row.mark for row in rows}
    marked = {row.claim_id for row in rows}
    if assessed is None:
        claims = assess(workspace, threshold, with_evidence=False, only=marked)
    else:
        claims = [claim for claim in assessed if claim.id in marked]
    ranking = rank(texts, marks, {claim.id: claim.supporting for claim in claims})
    return Matrix(
        hypotheses=tuple(
            HypothesisView(h, texts[h], ranking.scores[h], ranking.ranks[h]) for h in ranking.order
        ),
        evidence=tuple(
            EvidenceRow(
                claim.id,
                claim.text,
                claim.grade.text,
                len(claim.supporting),
                claim.id not in ranking.not_diagnostic,
                claim.id in ranking.sensitive,
            )
            for claim in claims
        ),
        marks=tuple(
            MarkView(
                row.hypothesis_id, row.claim_id, row.mark, workspace.unseal_optional(row.reason)
            )
            for row in sorted(rows, key=lambda row: (row.hypothesis_id, row.claim_id))
        ),
    )
