"""Three real workspaces that edit at random and exchange files in random orders, with
duplicates and omissions repaired later, end showing the same judgement: claims, links,
relations, marks, notes, grades, credibilities, statuses, sign-offs, conflicts and the ACH
ranking (issue 21; test_team_merge.py proves the same of the bare replica).

Local numbers differ between workspaces, and so do pseudonyms (drawn under each workspace's
key), so each workspace's picture is described by content: claims and hypotheses by their text
(every text written is unique), sources by their server id.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import age
from keys.signing import KeyKind, SigningKey
from review.ach import MARKS
from review.corroboration import BASES, RELATION_KINDS, STANCES
from review.grading import CREDIBILITIES, RELIABILITIES
from review.models import TIP_STATUSES
from review.service import Review
from review.team_state import SHARED_STATUSES
from review.workspace import Workspace, WorkspaceError
from tests.support.review import TipSpec, make_bundle

T = TypeVar("T")
NAMES = ("ana", "ben", "cy")  # every workspace names the team alike, so conflicts read alike
TIPS = [
    TipSpec("a1", "srcA", b"The mayor met the contractor on Friday."),
    TipSpec("a2", "srcA", b"The contract was signed on Monday."),
    TipSpec("b1", "srcB", b"I saw the mayor with the contractor."),
    TipSpec("c1", "srcC", b"The council never voted on it."),
]
EARLY = 2  # cy has the LATE tips from the start; the others import them when they will
LATE = [  # teammates' links to these wait until they are imported
    TipSpec("b2", "srcB", b"The contractor paid for the dinner."),
    TipSpec("d1", "srcD", b"The minutes of the vote are missing."),
]


@dataclass(frozen=True)
class Team:
    """Three workspaces holding the same tips and a few claims, each pinning all three keys by
    the same names."""

    root: Path
    identities: tuple[age.X25519Identity, ...]
    late: Path  # a bundle of LATE, sealed to all three


@contextlib.contextmanager
def opened(root: Path, identity: age.X25519Identity) -> Iterator[Review]:
    """One verb's worth of a workspace, as a command has it: committed if no error."""
    with Workspace.open(root, identity) as workspace:
        yield Review(workspace)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """Built once: every example works on a copy."""
    root = tmp_path_factory.mktemp("team")
    server = SigningKey.generate(KeyKind.SERVER)
    identities = tuple(age.X25519Identity.generate() for _ in NAMES)
    recipients = [identity.recipient for identity in identities]
    first = make_bundle(root / "first.tar", server, TIPS, recipients)
    late = make_bundle(root / "late.tar", server, LATE, recipients)
    keys = []
    for n, identity in enumerate(identities):
        with opened(root / NAMES[n], identity) as review:
            review.trust(str(server.verify_key))
            review.import_bundle(first, ack_out=root / f"{NAMES[n]}.ack.json")
            if n == EARLY:
                review.import_bundle(late, ack_out=root / "late.ack.json")
            keys.append(review.team()[0].key)
    for n, identity in enumerate(identities):
        with opened(root / NAMES[n], identity) as review:
            for key, name in zip(keys, NAMES, strict=True):
                review.add_member(key, name)
    with opened(root / NAMES[0], identities[0]) as review:  # something to disagree about
        review.add_claim("the mayor took a bribe")
        review.add_claim("the council was misled")
        review.add_hypothesis("the mayor acted alone")
        review.share(root / "shared.cairn")
    for n in (1, 2):
        with opened(root / NAMES[n], identities[n]) as review:
            review.merge(root / "shared.cairn")
    return Team(root, identities, late)


class Picks:
    """Choices drawn by hypothesis, taken in turn."""

    def __init__(self, numbers: Sequence[int]) -> None:
        self.numbers = itertools.cycle(numbers)

    def index(self, length: int) -> int:
        if not length:
            raise WorkspaceError("nothing to choose from")  # the step is skipped, as a refusal
        return next(self.numbers) % length

    def of(self, choices: Sequence[T]) -> T:
        return choices[self.index(len(choices))]


def _claims(review: Review) -> list[int]:
    return sorted(claim for claim, _ in review.recent_claims(10**6))


def _hypotheses(review: Review) -> list[int]:
    return sorted(h.id for h in review.matrix().hypotheses)


def _tips(review: Review) -> list[str]:
    return sorted(row.id for row in review.tips())


def _pair(review: Review, p: Picks) -> tuple[str, str]:
    names = review.source_names()
    return p.of(names), p.of(names)


Verb = Callable[[Review, Picks, str], object]
VERBS: dict[str, Verb] = {
    "add claim": lambda r, p, text: r.add_claim(text),
    "reword claim": lambda r, p, text: r.reword_claim(p.of(_claims(r)), text),
    "remove claim": lambda r, p, text: r.remove_claim(p.of(_claims(r))),
    "link": lambda r, p, text: r.link(
        p.of(_tips(r)), p.of(_claims(r)), p.of(STANCES), p.of(BASES), p.of([None, text])
    ),
    "unlink": lambda r, p, text: r.unlink(p.of(_tips(r)), p.of(_claims(r))),
    "relate": lambda r, p, text: r.relate(*_pair(r, p), p.of(RELATION_KINDS), p.of([None, text])),
    "unrelate": lambda r, p, text: r.unrelate(*_pair(r, p)),
    "mark": lambda r, p, text: r.mark(p.of(_tips(r)), p.of(TIP_STATUSES)),
    "note": lambda r, p, text: r.note(p.of(_tips(r)), text),
    "grade": lambda r, p, text: r.grade_source(
        p.of(r.source_names()), p.of(RELIABILITIES), p.of([None, text])
    ),
    "override credibility": lambda r, p, text: r.override_credibility(
        p.of(_claims(r)), p.of(CREDIBILITIES), text
    ),
    "derive credibility": lambda r, p, text: r.derive_credibility(p.of(_claims(r))),
    "add hypothesis": lambda r, p, text: r.add_hypothesis(text),
    "remove hypothesis": lambda r, p, text: r.remove_hypothesis(p.of(_hypotheses(r))),
    "mark evidence": lambda r, p, text: r.mark_evidence(
        p.of(_hypotheses(r)), p.of(_claims(r)), p.of(MARKS), p.of([None, text])
    ),
    "sign off": lambda r, p, text: r.sign_off(p.of(_claims(r)), withdraw=p.of([False, True])),
    "settle": lambda r, p, text: _settle(r, p),
}


def _settle(review: Review, p: Picks) -> object:
    conflicts = review.conflicts()
    conflict = conflicts[p.index(len(conflicts))]
    return review.settle(conflict.number, p.index(len(conflict.alternatives)) + 1)


@dataclass(frozen=True)
class Edit:
    reviewer: int
    verb: str
    picks: tuple[int, ...]


@dataclass(frozen=True)
class Together:
    """Every reviewer makes the same edit before hearing of the others': a conflict if the
    values differ (their texts always do)."""

    verb: str
    picks: tuple[int, ...]


@dataclass(frozen=True)
class Share:
    reviewer: int
    to: tuple[int, ...]  # 0 or 1, the first or second teammate: nobody, either, both, twice


@dataclass(frozen=True)
class Deliver:
    file: int  # of the files shared so far, modulo their number (-1: the newest)
    to: int  # 0 or 1: the first or second of the sender's teammates


@dataclass(frozen=True)
class ImportLate:
    reviewer: int


Step = Edit | Together | Share | Deliver | ImportLate
reviewers = st.integers(0, len(NAMES) - 1)
ADDING = ["add claim", "add claim", "add hypothesis"]  # first: shrinking keeps claims to edit
verbs = st.sampled_from(ADDING + sorted(VERBS))
picks = st.tuples(*[st.integers(0, 30)] * 6)
edits = st.builds(Edit, reviewers, verbs, picks)
steps = st.one_of(
    edits,
    edits,
    st.builds(Together, verbs, picks),
    st.builds(Share, reviewers, st.lists(st.integers(0, 1), max_size=3).map(tuple)),
    st.builds(Deliver, st.integers(0, 30), st.integers(0, 1)),
    st.builds(ImportLate, reviewers),
)


class Run:
    """One example: copies of the team's workspaces, and the files shared between them."""

    def __init__(self, team: Team, root: Path) -> None:
        self.team = team
        self.root = root
        self.roots = [root / name for name in NAMES]
        for path in self.roots:
            shutil.copytree(team.root / path.name, path)
        self.files: list[tuple[int, Path]] = []  # (sender, file)
        self.merged: list[set[Path]] = [set() for _ in NAMES]
        self.late = {EARLY}  # who holds the LATE tips
        self.texts = itertools.count()

    def review(self, n: int) -> contextlib.AbstractContextManager[Review]:
        return opened(self.roots[n], self.team.identities[n])

    def edit(self, step: Edit) -> None:
        with contextlib.suppress(WorkspaceError), self.review(step.reviewer) as review:
            VERBS[step.verb](review, Picks(step.picks), f"t{next(self.texts)}")

    def share(self, n: int, *, everything: bool = False) -> Path | None:
        out = self.root / f"{len(self.files)}.{NAMES[n]}.cairn"
        try:
            with self.review(n) as review:
                review.share(out, everything=everything)
        except WorkspaceError:  # nothing new to share
            return None
        self.files.append((n, out))
        return out

    def merge(self, n: int, path: Path) -> None:
        """Merge a file; one merged here before adds nothing."""
        with self.review(n) as review:
            merged = review.merge(path)
        if path in self.merged[n]:
            assert merged.new == 0, f"{NAMES[n]} merged {path.name} again and took it as new"
        self.merged[n].add(path)

    def deliver(self, step: Deliver) -> None:
        if self.files:
            sender, path = self.files[step.file % len(self.files)]
            self.merge((sender + 1 + step.to) % len(NAMES), path)

    def import_late(self, n: int) -> None:
        with self.review(n) as review:
            review.import_bundle(self.team.late, ack_out=self.root / f"late.{n}.ack.json")
        self.late.add(n)

    def repair(self, rng: random.Random) -> None:
        """Every tip everywhere, then two rounds of everyone sending everything to everyone."""
        for n in set(range(len(NAMES))) - self.late:
            self.import_late(n)
        for _ in range(2):
            sent = [
                (n, path) for n in range(len(NAMES)) if (path := self.share(n, everything=True))
            ]
            for n in rng.sample(range(len(NAMES)), len(NAMES)):
                for sender, path in rng.sample(sent, len(sent)):
                    if sender != n:
                        self.merge(n, path)
            if sent:  # and one file once more, to someone who has it
                sender, path = rng.choice(sent)
                self.merge((sender + 1) % len(NAMES), path)


def _replacing(
    text: str, names: dict[str, str], claims: dict[int, str], hyps: dict[int, str]
) -> str:
    """A line as another workspace would say it: pseudonyms, claim and hypothesis numbers put
    as what they stand for."""
    for pseudonym in sorted(names, key=len, reverse=True):
        text = text.replace(pseudonym, f"<{names[pseudonym]}>")
    # a group is said in its pseudonyms' order, which each workspace draws for itself
    text = re.sub(
        r"<[^<>]+>(?: \+ <[^<>]+>)+", lambda m: " + ".join(sorted(m[0].split(" + "))), text
    )
    text = re.sub(r"claim (\d+)", lambda m: f"claim <{claims.get(int(m[1]), m[1])}>", text)
    return re.sub(r"hypothesis (\d+)", lambda m: f"hypothesis <{hyps.get(int(m[1]), m[1])}>", text)


def picture(review: Review) -> dict[str, object]:
    """What a reviewer sees of the shared judgement, by content rather than local numbers."""
    sources = review.sources()
    ids = {source.pseudonym: source.id for source in sources}
    claims = review.claims()
    matrix = review.matrix()
    claim_text = {claim.id: claim.text for claim in claims}
    hypothesis_text = {h.id: h.text for h in matrix.hypotheses}

    def plain(text: str) -> str:
        return _replacing(text, ids, claim_text, hypothesis_text)

    def groups(found: Sequence[Sequence[str]]) -> list[list[str]]:
        return sorted(sorted(ids[member] for member in group) for group in found)

    tips = review.tips()
    return {
        "claims": sorted(
            (
                claim.text,
                claim.status,
                claim.grade.text,
                claim.grade.override_reason,
                groups(claim.supporting),
                groups(claim.contradicting),
                groups(claim.weak_support),
                groups(claim.weak_contradiction),
                sorted(
                    (e.tip, ids[e.source], e.stance, e.basis, e.quote, e.counted)
                    for e in claim.evidence
                ),
                sorted(plain(line) for line in claim.to_do),
            )
            for claim in claims
        ),
        "sources": sorted(
            (
                source.id,
                groups([source.group]),
                sorted((ids[r.source], r.kind, r.note) for r in source.relations),
                source.reliability,
            )
            for source in sources
        ),
        "grades": sorted(
            (ids[record.source], record.reliability, record.note, record.record)
            for record in review.source_records()
        ),
        "tips": sorted(
            (tip.id, tip.status if tip.status in SHARED_STATUSES else "not shared", tip.notes)
            for tip in tips
        ),
        "notes": sorted((tip.id, sorted(review.show(tip.id).notes)) for tip in tips),
        "sign-offs": sorted(
            (claim_text[claim], sorted((v.reviewer, v.current) for v in views))
            for claim, views in review.sign_offs().items()
        ),
        "waiting": sorted(
            (claim_text[w.claim], w.tip, w.stance, w.basis) for w in review.waiting_links()
        ),
        "conflicts": [
            (
                plain(conflict.record),
                conflict.field,
                [(plain(a.value), a.author) for a in conflict.alternatives],
            )
            for conflict in review.conflicts()
        ],
        "ranking": sorted((h.text, h.score, h.rank) for h in matrix.hypotheses),
        "ach evidence": sorted(
            (e.text, e.grade, e.groups, e.diagnostic, e.sensitive) for e in matrix.evidence
        ),
        "ach marks": sorted(
            (hypothesis_text[m.hypothesis], claim_text[m.claim], m.mark, m.reason)
            for m in matrix.marks
        ),
    }


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")  # the ORM and the tables agree
@settings(
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(steps, min_size=4, max_size=30), rng=st.randoms(use_true_random=False))
def test_three_workspaces_converge_whatever_the_order_duplicates_and_omissions(
    team: Team, script: list[Step], rng: random.Random
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        run = Run(team, Path(scratch))
        for step in script:
            match step:
                case Edit():
                    run.edit(step)
                case Together():
                    for n in range(len(NAMES)):
                        run.edit(Edit(n, step.verb, step.picks))
                case Share():
                    if run.share(step.reviewer):
                        for to in step.to:
                            run.deliver(Deliver(-1, to))
                case Deliver():
                    run.deliver(step)
                case ImportLate():
                    run.import_late(step.reviewer)
        run.repair(rng)
        pictures = []
        for n in range(len(NAMES)):
            with run.review(n) as review:
                pictures.append(picture(review))
        for n in (1, 2):
            for aspect, seen in pictures[0].items():
                assert pictures[n][aspect] == seen, f"{NAMES[0]} and {NAMES[n]} differ in {aspect}"
        assert pictures[0]["waiting"] == []
        for n in range(len(NAMES)):  # merging placed the team's values, and wrote nothing new
            assert run.share(n) is None, f"{NAMES[n]} has changes of its own after the repair"


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
def test_claims_removed_while_a_teammate_overrode_their_credibility_merge_cleanly(
    team: Team, tmp_path: Path
) -> None:
    """The merge's removals and the database's cascades agree on what is left to delete. The
    records' ids are random and the order of removals follows them: tried on both claims, in
    a few fresh copies."""
    for attempt in range(4):
        run = Run(team, tmp_path / str(attempt))
        for claim in (1, 2):
            with run.review(1) as review:
                review.override_credibility(claim, 3, "the minutes say so")
            with run.review(0) as review:  # before hearing of the override
                review.remove_claim(claim)
        removal, override = run.share(0), run.share(1)
        assert removal is not None and override is not None
        run.merge(0, override)
        run.merge(1, removal)
        pictures = []
        for n in (0, 1):
            with run.review(n) as review:
                pictures.append(picture(review))
        assert pictures[0] == pictures[1]
