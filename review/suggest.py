"""Suggested shared-origin relations: the same words or the same file reaching us twice.

Two signals, each only between sources in different independence groups:

- near-duplicate text: messages are cut into overlapping runs of ``SHINGLE_WORDS`` words
  (shingles). A pair is suggested when they share at least ``MIN_SHARED`` shingles and the shared
  ones make up at least ``MIN_CONTAINMENT`` of the shorter message's: one text pasted into
  another counts, as does a copy with a few words changed. Messages shorter than a shingle are
  too short to judge. A shingle found in more than ``BOILERPLATE_TIPS`` tips is treated as
  boilerplate and ignored, which also bounds the work.
- identical attachments: equal keyed fingerprints of decrypted file content, taken at import.

Nothing is related automatically: the reviewer accepts a suggestion with ``review relate``.
Pure: plain values in, plain values out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from .corroboration import Group

SHINGLE_WORDS = 4
MIN_SHARED = 3
MIN_CONTAINMENT = 0.5
BOILERPLATE_TIPS = 50


@dataclass(frozen=True)
class TipSignals:
    """What ``suggest`` may compare of one tip: a message's text or a file's fingerprint."""

    tip: str
    source: str
    text: str | None = None
    content_tag: bytes | None = None


@dataclass(frozen=True)
class Clue:
    kind: str  # "near-duplicate text" or "identical attachment"
    tips: tuple[str, str]
    score: float  # the shorter text's share of shared shingles; 1.0 for identical files


@dataclass(frozen=True)
class Suggestion:
    sources: tuple[str, str]
    clues: tuple[Clue, ...]

    @property
    def strength(self) -> float:
        return max(clue.score for clue in self.clues)


def shingles(text: str) -> frozenset[str]:
    words = re.findall(r"\w+", text.casefold())
    return frozenset(
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def _text_clues(tips: list[TipSignals]) -> Iterable[Clue]:
    cut = {tip.tip: shingles(tip.text) for tip in tips if tip.text}
    index: dict[str, list[str]] = defaultdict(list)
    for tip_id, found in cut.items():
        for shingle in found:
            index[shingle].append(tip_id)
    shared: Counter[tuple[str, str]] = Counter()
    for holders in index.values():
        if len(holders) <= BOILERPLATE_TIPS:
            shared.update(combinations(sorted(holders), 2))
    for (a, b), count in shared.items():
        containment = count / min(len(cut[a]), len(cut[b]))
        if count >= MIN_SHARED and containment >= MIN_CONTAINMENT:
            yield Clue("near-duplicate text", (a, b), round(containment, 3))


def _file_clues(tips: list[TipSignals]) -> Iterable[Clue]:
    by_content: dict[bytes, list[str]] = defaultdict(list)
    for tip in tips:
        if tip.content_tag is not None:
            by_content[tip.content_tag].append(tip.tip)
    for holders in by_content.values():
        for a, b in combinations(sorted(holders), 2):
            yield Clue("identical attachment", (a, b), 1.0)


def suggest(tips: Iterable[TipSignals], group_of: Mapping[str, Group]) -> list[Suggestion]:
    """Pairs of sources in different groups whose tips look alike, strongest first."""
    tips = list(tips)
    source_of = {tip.tip: tip.source for tip in tips}
    by_pair: dict[tuple[str, str], list[Clue]] = defaultdict(list)
    for clue in [*_text_clues(tips), *_file_clues(tips)]:
        a, b = (source_of[tip] for tip in clue.tips)
        if group_of.get(a, frozenset({a})) == group_of.get(b, frozenset({b})):
            continue
        if a > b:
            a, b = b, a
            clue = Clue(clue.kind, clue.tips[::-1], clue.score)
        by_pair[(a, b)].append(clue)
    found = [Suggestion(pair, tuple(clues)) for pair, clues in by_pair.items()]
    return sorted(found, key=lambda s: (-s.strength, -len(s.clues), s.sources))
