"""Benchmark the offline review tool: importing tips, computing every claim's status, merging a
teammate's exchange file, and the desk's pages.

    .venv/bin/python bench/review.py [--tips 10000] [--claims 2000] [--links 50000]
        [--hypotheses 20] [--team-tips 5000] [--tmpdir DIR]

Import: a bundle of ``--tips`` sealed messages (a few hundred bytes each, as most tips are) is
imported into a fresh workspace after one unlock (the identity file at the default scrypt work
factor, then the workspace key), exactly as `review import` does it: every item's hash checked
and every item decrypted before any is stored, one age file written per tip. Setting up the
bundle is not timed. The reference, in the same run: reading each item of the bundle in order,
decrypting it and writing it as a file, and nothing else (no hash, no database, no summary).
Files go to /dev/shm (tmpfs) unless $TMPDIR or ``--tmpdir`` says otherwise; on a disk, creating
10,000 files adds that disk's cost to both.

Statuses: ``--claims`` claims and ``--links`` links over those tips, with a relation for every
tenth source, timed three ways: the pure core alone (union-find, each claim's sides gathered from
the links in Python, every status), the same fed from the workspace database, where SQLite
gathers the sides (what `review claims` does before it unseals any text), and the whole
`review claims --json` assessment: every claim text unsealed, every link listed as evidence.

Grades and ACH: from the pure core's statuses, every claim's grade (a random Admiralty grade for
each source) and the ranking of ``--hypotheses`` hypotheses with every claim marked against every
one (its weighted inconsistency, diagnosticity and sensitivity), held to the status target.

Desk: each page of `review desk` requested ``--repeat`` times through Flask's test client (the
server's time, no network), each request opening the workspace afresh as the desk does; the
median is held to 200 ms. Listings are paginated (50 tips, claims or sources a page). Search and
the suggestions read texts the desk decrypted into memory when it started (timed on its own, as
the desk does it in the background), so they are held to the page target too.

Merge: a teammate's workspace and this reviewer's hold the same ``--team-tips`` tips. The
teammate's work, written to the tables as the verbs write them, is shared through the service
(``Review.share``) as one exchange file of 10,000 changes (MERGE_MIX gives the records), then
merged into a copy of this reviewer's workspace, which holds claims, links and grades of its own,
already shared once (some of its grades conflict with the teammate's): ``Review.merge`` inside
``Workspace.open``, commit included, as `review merge` does. The reference, in the same run:
opening the same file and nothing else (decrypting it, checking its signature, parsing its
JSON: ``keys.exchange.open_exchange``).

Status figures are the best of ``--repeat`` runs; the import and the full assessment run once.
Peak RSS is measured for each phase on its own (Linux VmHWM, reset between phases). Missed
targets print MISS, met ones PASS; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import os
import random
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# Run as a script, this file's directory comes first on sys.path, and this file would shadow the
# review package it measures.
sys.path.remove(str(Path(__file__).resolve().parent))

from sqlalchemy import insert, select, update

from keys import age
from keys.bundle import BundleItem, write_bundle
from keys.exchange import open_exchange, team_identity
from keys.identity_file import read_identity_file, write_identity_file
from keys.sealed import ItemWriter, open_item
from keys.signing import KeyKind, SigningKey, parse_verify_key
from review.ach import MARKS, Ranking, rank
from review.assessment import assess, evidence, relations, statuses
from review.corroboration import (
    BASES,
    RELATION_KINDS,
    ClaimStatus,
    Sides,
    claim_statuses,
    independence_groups,
    sides_by_claim,
)
from review.desk import create_desk
from review.grading import CREDIBILITIES, RELIABILITIES, Grade, grade
from review.importer import BundleImport, ImportResult
from review.models import (
    SET_ASIDE,
    AchMark,
    Claim,
    CredibilityOverride,
    Hypothesis,
    Link,
    Note,
    Source,
    SourceGrade,
    Tip,
)
from review.models import Relation as RelationRow
from review.service import Review
from review.service.bundles import default_ack_path
from review.team_state import SHARED_STATUSES
from review.workspace import Workspace

MIN_TIPS_PER_SECOND = 1_000
MAX_STATUS_SECONDS = 0.2
MAX_PAGE_SECONDS = 0.2
MAX_MERGE_SECONDS = 2.0
# The teammate's records in the exchange file, and the changes each makes (one per field):
MERGE_MIX = {
    "claims": (1_000, 1),  # text
    "links": (2_000, 3),  # stance, basis, quote (a quote on every other link)
    "tip marks": (300, 1),  # flagged, discarded or spam
    "notes": (200, 2),  # tip, text
    "source grades": (300, 2),  # reliability, note (a note on every third)
    "relations": (100, 2),  # kind, note
    "credibility overrides": (100, 2),  # credibility, reason
    "hypotheses": (20, 1),  # text
    "ACH marks": (640, 2),  # mark, reason (a reason on every fourth)
}
MERGE_CHANGES = sum(records * fields for records, fields in MERGE_MIX.values())  # 10,000
OWN_CLAIMS = 300  # the merging reviewer's own, with 1,000 links and 100 grades
PASSPHRASE = "bench passphrase"
STANCES = ("supports", "supports", "supports", "contradicts", "context")  # support dominates

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Wall time, and this process's CPU time: on a busy machine the second is the steadier."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall * 1000:,.0f} ms ({self.cpu * 1000:,.0f} ms CPU)"


class Stopwatch:
    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> Timing:
        return Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def best_of(repeat: int, run: Callable[[], T]) -> tuple[Timing, T]:
    """The fastest of ``repeat`` runs by wall time, and its result."""
    runs = []
    for _ in range(repeat):
        stopwatch = Stopwatch()
        result = run()
        runs.append((stopwatch.elapsed(), result))
    return min(runs, key=lambda run: run[0].wall)


def make_bundle(
    path: Path, tips: int, sources: int, recipients: Sequence[age.Recipient]
) -> SigningKey:
    server = SigningKey.generate()
    rng = random.Random(1)
    sealed: dict[str, bytes] = {}
    items = []
    for n in range(tips):
        text = f"Tip {n}: " + " ".join(
            rng.choice(("memo", "budget", "signed", "office")) for _ in range(60)
        )
        buffer = io.BytesIO()
        ItemWriter(buffer, recipients, "message").seal_all(io.BytesIO(text.encode()))
        sealed[f"t{n:06d}"] = data = buffer.getvalue()
        items.append(
            BundleItem(
                id=f"t{n:06d}",
                source=f"s{n % sources:05d}",
                kind="message",
                day="2025-03-01",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    with path.open("wb") as out:
        write_bundle(out, server, items, lambda item: io.BytesIO(sealed[item.id]))
    return server


def add_claims_and_links(workspace: Workspace, claims: int, links: int, rng: random.Random) -> None:
    """Claims, links and relations written straight to the database, sealed like the CLI's; and
    one tip in twenty set aside (discarded or spam), so that its links count for nothing."""
    session = workspace.session
    tips = list(session.scalars(select(Tip.id)))
    for tip in tips[::20]:
        session.execute(update(Tip).where(Tip.id == tip).values(status=rng.choice(SET_ASIDE)))
    sources = list(session.scalars(select(Source.id)))
    sealed_text = workspace.seal("A claim of typical length, about what someone signed and when.")
    session.execute(insert(Claim), [{"text": sealed_text} for _ in range(claims)])
    pairs = {(rng.choice(tips), rng.randrange(1, claims + 1)) for _ in range(links * 2)}
    rows = [
        {"tip_id": tip, "claim_id": claim, "stance": rng.choice(STANCES), "basis": basis}
        for (tip, claim), basis in zip(
            list(pairs)[:links], rng.choices(BASES, k=links), strict=True
        )
    ]
    session.execute(insert(Link), rows)
    pairs_of_sources = {tuple(sorted((s, rng.choice(sources)))) for s in sources[::10]}
    kinds = ("same-person", "shared-origin")
    session.execute(
        insert(RelationRow),
        [
            {"source_a": a, "source_b": b, "kind": rng.choice(kinds)}
            for a, b in pairs_of_sources
            if a != b
        ],
    )
    session.commit()


def reset_peak_rss() -> None:
    """Start a new peak (Linux: VmHWM restarts from the current RSS)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    """The peak RSS since the last reset (Linux: VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def bench_import(root: Path, tips: int, sources: int) -> age.X25519Identity:
    """Import a bundle of ``tips`` into a new workspace at ``root``; returns the identity."""
    identity = age.X25519Identity.generate()
    write_identity_file(root / "identity.age", identity, PASSPHRASE)
    print(f"Sealing {tips} tips into a bundle (not timed)...", flush=True)
    server = make_bundle(root / "bundle.tar", tips, sources, [identity.recipient])
    floor, _ = best_of(1, lambda: decrypt_and_write(root / "bundle.tar", identity, root / "floor"))
    reset_peak_rss()
    stopwatch = Stopwatch()
    unlocked = read_identity_file(root / "identity.age", PASSPHRASE)
    with Workspace.open(root / "workspace", unlocked) as workspace:
        print(
            "unlock (identity file at scrypt work factor 18, then the workspace key): "
            f"{stopwatch.elapsed()}, peak RSS {peak_rss_mib():.0f} MiB (scrypt takes 256 MiB)"
        )
        reset_peak_rss()
        workspace.pin_server_key(server.verify_key)
        took, result = best_of(1, lambda: import_bundle(workspace, root / "bundle.tar"))
    assert len(result.added) == tips
    rate = tips / took.wall
    print(
        f"import: {tips} tips in {took} = {rate:,.0f} tips/s "
        f"({verdict(rate >= MIN_TIPS_PER_SECOND)}, target >= {MIN_TIPS_PER_SECOND:,}); "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )
    print(
        f"  reference, reading, decrypting and writing each item and nothing else: {floor} = "
        f"{tips / floor.wall:,.0f} tips/s; the import takes {took.wall / floor.wall:.1f}x as long"
    )
    return unlocked


def decrypt_and_write(bundle: Path, identity: age.X25519Identity, out: Path) -> int:
    """The least any import does: each item read in order, decrypted, written as a file."""
    out.mkdir()
    count = 0
    with tarfile.open(bundle, "r:") as tar:
        for member in tar:
            src = tar.extractfile(member)
            if src is None or not member.name.startswith("items/"):
                continue
            data = src.read()
            open_item(io.BytesIO(data), io.BytesIO(), [identity])
            (out / Path(member.name).name).write_bytes(data)
            count += 1
    return count


def import_bundle(workspace: Workspace, bundle: Path, ack: Path | None = None) -> ImportResult:
    """What `review import` does, without the progress bar."""
    with BundleImport(workspace, bundle, ack or default_ack_path(bundle)) as job:
        for _ in job.verify():
            pass
        return job.store()


def grade_and_rank(
    found: list[ClaimStatus],
    sides: dict[int, Sides],
    grade_of: dict[str, str],
    hypotheses: range,
    marks: dict[tuple[int, int], str],
) -> tuple[list[Grade], Ranking]:
    """Every claim's grade, and the hypotheses ranked: what `review claims` and `review ach` add
    to the statuses."""
    grades = [
        grade(
            status.status,
            len(status.weak_support),
            sides[status.claim].supports if status.claim in sides else (),
            grade_of,
        )
        for status in found
    ]
    return grades, rank(hypotheses, marks, {s.claim: s.supporting for s in found})


def bench_statuses(root: Path, identity: age.X25519Identity, args: argparse.Namespace) -> None:
    reset_peak_rss()
    with Workspace.open(root / "workspace", identity) as workspace:
        add_claims_and_links(workspace, args.claims, args.links, random.Random(2))
        # From the database first, while the heap is about what `review claims` starts with: the
        # pure core's inputs below keep 50,000 links alive, and every collection walks them.
        db_s, from_database = best_of(args.repeat, lambda: statuses(workspace, 2))
        sources = list(workspace.session.scalars(select(Source.id)))
        links = evidence(workspace)
        related = relations(workspace)
        claims = list(range(1, args.claims + 1))

        def core() -> list[ClaimStatus]:
            groups = independence_groups(sources, related)
            return claim_statuses(claims, sides_by_claim(links), groups)

        core_s, from_core = best_of(args.repeat, core)
        if from_database != from_core:
            sys.exit("the statuses from the database differ from the pure core's")
        full_s, views = best_of(1, lambda: assess(workspace, 2))
        rng = random.Random(3)
        grade_of = {source: rng.choice(RELIABILITIES) for source in sources}
        hypotheses = range(1, args.hypotheses + 1)
        marks = {(h, c): rng.choice(MARKS) for h in hypotheses for c in claims}
        sides = sides_by_claim(links)
        ach_s, _ = best_of(
            args.repeat, lambda: grade_and_rank(from_core, sides, grade_of, hypotheses, marks)
        )
    print(
        f"statuses for {args.tips} tips, {len(sources)} sources, {len(claims)} claims, "
        f"{len(links)} links, {len(related)} relations:"
    )
    for label, took in (("pure core", core_s), ("from the database", db_s)):
        ok = verdict(took.wall <= MAX_STATUS_SECONDS)
        print(f"  {label}: {took} ({ok}, target <= {MAX_STATUS_SECONDS} s)")
    ok = verdict(ach_s.wall <= MAX_STATUS_SECONDS)
    print(
        f"  grades for {len(claims)} claims and the ranking of {args.hypotheses} hypotheses "
        f"over {len(marks)} marks: {ach_s} ({ok}, target <= {MAX_STATUS_SECONDS} s)"
    )
    print(
        f"  `review claims --json` in full, unsealing {len(views)} claim texts, "
        f"listing every link: {full_s}"
    )
    print(f"  peak RSS {peak_rss_mib():.0f} MiB")


def write_teammate_work(workspace: Workspace, rng: random.Random) -> None:
    """MERGE_MIX's records, written to the tables as the verbs write them (texts sealed)."""
    session, seal = workspace.session, workspace.seal
    tips = list(session.scalars(select(Tip.id)))
    sources = list(session.scalars(select(Source.id)))
    count = {kind: number for kind, (number, _) in MERGE_MIX.items()}
    claim_text = seal("A claim of typical length, about what someone signed and when.")
    session.execute(insert(Claim), [{"text": claim_text} for _ in range(count["claims"])])
    claims = list(session.scalars(select(Claim.id)))
    quote = seal("The words of the tip that bear on the claim, a sentence or two of them.")
    pairs = rng.sample([(t, c) for t in tips[:400] for c in claims[:100]], count["links"])
    session.execute(
        insert(Link),
        [
            {
                "tip_id": tip,
                "claim_id": claim,
                "stance": rng.choice(STANCES),
                "basis": rng.choice(BASES),
                "quote": quote if n % 2 else None,
            }
            for n, (tip, claim) in enumerate(pairs)
        ],
    )
    for tip in rng.sample(tips, count["tip marks"]):
        session.execute(update(Tip).where(Tip.id == tip).values(status=rng.choice(SHARED_STATUSES)))
    note = seal("A reviewer's note on the tip: what to check, whom to call.")
    session.execute(insert(Note), [{"tip_id": t, "text": note} for t in tips[: count["notes"]]])
    graded = rng.sample(sources, count["source grades"])
    session.execute(
        insert(SourceGrade),
        [
            {
                "source_id": source,
                "reliability": rng.choice(RELIABILITIES),
                "note": seal("Why this grade.") if n % 3 == 0 else None,
            }
            for n, source in enumerate(graded)
        ],
    )
    pairs_of_sources = sorted({tuple(sorted(rng.sample(sources, 2))) for _ in range(200)})
    session.execute(
        insert(RelationRow),
        [
            {"source_a": a, "source_b": b, "kind": rng.choice(RELATION_KINDS), "note": None}
            for a, b in pairs_of_sources[: count["relations"]]
        ],
    )
    reason = seal("Why the reviewer judges it so, in a sentence.")
    session.execute(
        insert(CredibilityOverride),
        [
            {"claim_id": claim, "credibility": rng.choice(CREDIBILITIES), "reason": reason}
            for claim in claims[: count["credibility overrides"]]
        ],
    )
    hypothesis_text = seal("A hypothesis of typical length: who did what, and why.")
    session.execute(
        insert(Hypothesis), [{"text": hypothesis_text} for _ in range(count["hypotheses"])]
    )
    hypotheses = list(session.scalars(select(Hypothesis.id)))
    session.execute(
        insert(AchMark),
        [
            {
                "hypothesis_id": hypotheses[n % len(hypotheses)],
                "claim_id": claims[n // len(hypotheses)],
                "mark": rng.choice(MARKS),
                "reason": reason if n % 4 == 0 else None,
            }
            for n in range(count["ACH marks"])
        ],
    )


def write_own_work(workspace: Workspace, rng: random.Random) -> None:
    """This reviewer's own claims, links and grades, before any teammate's work arrives."""
    session = workspace.session
    tips = list(session.scalars(select(Tip.id)))
    sources = list(session.scalars(select(Source.id)))
    claim_text = workspace.seal("A claim this reviewer made before the teammate's file came.")
    session.execute(insert(Claim), [{"text": claim_text} for _ in range(OWN_CLAIMS)])
    claims = list(session.scalars(select(Claim.id)))
    pairs = rng.sample([(t, c) for t in tips[-500:] for c in claims], 1_000)
    rows = [
        {"tip_id": t, "claim_id": c, "stance": rng.choice(STANCES), "basis": rng.choice(BASES)}
        for t, c in pairs
    ]
    session.execute(insert(Link), rows)
    session.execute(
        insert(SourceGrade),
        [{"source_id": s, "reliability": rng.choice(RELIABILITIES)} for s in sources[:100]],
    )


def own_key(workspace: Workspace) -> str:
    return Review(workspace).team()[0].key


def merge_copy(file: Path, identity: age.X25519Identity, copy: Path) -> int:
    """Merge ``file`` into ``copy``, a workspace, as `review merge` does; the changes it found
    new."""
    with Workspace.open(copy, identity) as opened:
        merged = Review(opened).merge(file)
    return merged.new


def bench_merge(root: Path, args: argparse.Namespace) -> None:
    """Time merging a teammate's exchange file of MERGE_CHANGES changes into a workspace of its
    own; see the module's docstring."""
    teammate, reviewer = age.X25519Identity.generate(), age.X25519Identity.generate()
    bundle = root / "team-bundle.tar"
    recipients = [teammate.recipient, reviewer.recipient]
    print(f"Sealing {args.team_tips} tips for a team of two (not timed)...", flush=True)
    server = make_bundle(bundle, args.team_tips, args.team_tips // 3, recipients)
    for identity, name in ((teammate, "teammate"), (reviewer, "reviewer")):
        with Workspace.open(root / name, identity) as workspace:
            workspace.pin_server_key(server.verify_key)
            import_bundle(workspace, bundle, root / f"{name}.ack.json")
    with Workspace.open(root / "teammate", teammate) as workspace:
        teammate_key = own_key(workspace)
    with Workspace.open(root / "reviewer", reviewer) as workspace:
        Review(workspace).add_member(teammate_key, "Teammate")
        write_own_work(workspace, random.Random(4))
        own = Review(workspace).share(root / "reviewer-own.cairn")
        reviewer_key = own_key(workspace)
    with Workspace.open(root / "teammate", teammate) as workspace:
        Review(workspace).add_member(reviewer_key, "Reviewer")
        write_teammate_work(workspace, random.Random(5))
        stopwatch = Stopwatch()
        shared = Review(workspace).share(root / "teammate.cairn")
        share_took = stopwatch.elapsed()
    if shared.changes != MERGE_CHANGES:
        sys.exit(f"the teammate shared {shared.changes} changes, not {MERGE_CHANGES}")
    file = root / "teammate.cairn"
    data = file.read_bytes()
    with Workspace.open(root / "reviewer", reviewer) as workspace:
        identity = team_identity(workspace.signing_key)
    pinned = [parse_verify_key(teammate_key, KeyKind.REVIEWER)]
    reference, opened = best_of(args.repeat, lambda: open_exchange(data, identity, pinned))
    if len(opened.changes) != MERGE_CHANGES:
        sys.exit("the exchange file does not hold the changes shared")
    runs: list[tuple[Timing, int]] = []
    for _ in range(args.repeat):  # each into a fresh copy, made before the stopwatch starts
        copy = root / f"merged-{len(runs)}"
        shutil.copytree(root / "reviewer", copy)
        reset_peak_rss()
        stopwatch = Stopwatch()
        new = merge_copy(file, reviewer, copy)
        runs.append((stopwatch.elapsed(), new))
    rss = peak_rss_mib()
    if any(new != MERGE_CHANGES for _, new in runs):
        sys.exit(f"a merge found {[new for _, new in runs]} new changes, not {MERGE_CHANGES}")
    took = min((took for took, _ in runs), key=lambda took: took.wall)
    with Workspace.open(root / "merged-0", reviewer) as workspace:
        merged_claims = Review(workspace).claim_count()
        conflicts = len(Review(workspace).conflicts())

    def sync_nothing_new() -> None:
        with Workspace.open(root / "merged-0", reviewer) as workspace:
            Review(workspace).sync_team()

    resynced, _ = best_of(args.repeat, sync_nothing_new)
    if merged_claims != OWN_CLAIMS + MERGE_MIX["claims"][0]:
        sys.exit(f"the merged workspace holds {merged_claims} claims")
    mix = ", ".join(f"{number:,} {kind}" for kind, (number, _) in MERGE_MIX.items())
    print(
        f"merge: a teammate's exchange file of {MERGE_CHANGES:,} changes ({mix}; "
        f"{len(data) / 1024:,.0f} KiB), shared in {share_took}, into a workspace of "
        f"{args.team_tips:,} tips with {own.changes:,} changes of its own already shared:"
    )
    ok = verdict(took.wall <= MAX_MERGE_SECONDS)
    print(
        f"  `review merge`, commit included: {took} ({ok}, target <= {MAX_MERGE_SECONDS} s); "
        f"{conflicts} conflicts listed"
    )
    print(
        f"  reference, opening the file (decrypt, verify, parse) and nothing else: {reference}; "
        f"the merge takes {took.wall / reference.wall:.0f}x as long"
    )
    print(
        f"  a sync with nothing new (an import's, or before a share), in the merged workspace of "
        f"{OWN_CLAIMS + MERGE_MIX['claims'][0]:,} claims: {resynced}"
    )
    print(f"  peak RSS {rss:.0f} MiB")


DESK_HOST = "127.0.0.1:8765"
DESK_URL = f"http://{DESK_HOST}"
# The desk's stylesheet: the same gate, headers and session, no workspace work.
DESK_REFERENCE = "/static/desk.css"
DESK_PAGES: tuple[tuple[str, str | None], ...] = (  # a path, and the words a search POSTs
    ("/", None),
    ("/?page=100", None),
    ("/?status=flagged", None),
    ("/", "nowhere"),  # found in no tip: every text and note looked through
    ("/", "budget"),  # found in every tip: the count, and the first page
    ("/tips/t000042", None),
    ("/claims/", None),
    ("/claims/1", None),
    ("/matrix", None),
    ("/sources", None),
    ("/sources?page=30", None),
    ("/suggestions", None),
    ("/replies/", None),
    ("/import", None),
    ("/report", None),
    ("/team", None),
    ("/conflicts", None),  # syncs the team's changes: every shared record unsealed
)


def bench_desk(root: Path, identity: age.X25519Identity, repeat: int) -> None:
    """Each desk page's server time (Flask's own, no network), median of ``repeat`` requests,
    each opening the workspace afresh as the desk does, once the desk has decrypted every tip
    into memory as it does when it starts (timed too); a search and the suggestions included."""
    app = create_desk(functools.partial(Workspace.open, root / "workspace", identity))
    desk = app.extensions["desk"]
    desk.gate.host = DESK_HOST
    client = app.test_client()
    client.get(desk.gate.launch_address().removeprefix(f"http://{DESK_HOST}"), base_url=DESK_URL)
    stopwatch = Stopwatch()
    desk.keyring.warm()
    print(
        f"desk start: decrypting every tip into memory (in the background): {stopwatch.elapsed()}"
    )
    page = client.get("/", base_url=DESK_URL).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def request(path: str, words: str | None) -> Timing:
        stopwatch = Stopwatch()
        if words is None:
            response = client.get(path, base_url=DESK_URL)
        else:
            data = {"csrf_token": token, "words": words}
            response = client.post(path, data=data, base_url=DESK_URL)
        took = stopwatch.elapsed()
        if response.status_code != 200:
            sys.exit(f"the desk answered {response.status_code} to {path}")
        return took

    def median(path: str, words: str | None) -> Timing:
        runs = [request(path, words) for _ in range(repeat)]
        parts = ("wall", "cpu")
        return Timing(*(statistics.median(getattr(run, part) for run in runs) for part in parts))

    reset_peak_rss()
    reference = median(DESK_REFERENCE, None)
    print(f"desk pages, server time, median of {repeat}; reference {DESK_REFERENCE}: {reference}")
    for path, words in DESK_PAGES:
        took = median(path, words)
        ok = verdict(took.wall <= MAX_PAGE_SECONDS)
        what = path if words is None else f"search {words!r}"
        ratio = took.wall / reference.wall
        print(
            f"  {what}: {took}, {ratio:.0f}x the reference "
            f"({ok}, target <= {MAX_PAGE_SECONDS * 1000:.0f} ms)"
        )
    print(f"  peak RSS {peak_rss_mib():.0f} MiB (every tip's text held in memory)")


def default_tmpdir() -> Path | None:
    """tmpfs, as for bench/crypto.py, unless $TMPDIR says otherwise."""
    shm = Path("/dev/shm")
    return shm if "TMPDIR" not in os.environ and shm.is_dir() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=3_000)
    parser.add_argument("--claims", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--hypotheses", type=int, default=20)
    parser.add_argument("--team-tips", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tmpdir", type=Path, default=default_tmpdir())
    args = parser.parse_args()
    print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(dir=args.tmpdir, prefix="cairn-bench-review-") as tmp:
        identity = bench_import(Path(tmp), args.tips, args.sources)
        bench_statuses(Path(tmp), identity, args)
        bench_merge(Path(tmp), args)
        bench_desk(Path(tmp), identity, args.repeat)


if __name__ == "__main__":
    main()
