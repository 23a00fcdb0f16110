"""The desk's two pictures, laid out here and drawn as inline SVG by the templates (no script,
no charting library): claims by independence group, and the sources with their relations.

Pure: views in, shapes with coordinates out. Each mark carries a symbol as well as a colour, so
the picture reads without colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from ..assessment import ClaimView
from ..grading import Members
from ..service.sources import SourceView

CELL = 28
LABEL = 180
HEAD = 120
MATRIX_ROWS = 40  # claims per picture; the page offers the next ones


@dataclass(frozen=True)
class Label:
    """A text at a place: a row's or a column's name, a source on the circle."""

    x: float
    y: float
    text: str


class Mark(NamedTuple):
    """How a group speaks to a claim: the ClaimView field, its CSS class, symbol and meaning."""

    field: str
    css: str
    symbol: str
    meaning: str


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    mark: Mark
    title: str


@dataclass(frozen=True)
class Matrix:
    """Claims against independence groups: a row a claim, a column a group."""

    rows: tuple[Label, ...]
    columns: tuple[Label, ...]
    cells: tuple[Cell, ...]
    first: int  # the index of the first claim shown, and how many there are in all
    total: int

    @property
    def width(self) -> int:
        return LABEL + max(len(self.columns), 1) * CELL + HEAD  # room for the slanted names

    @property
    def height(self) -> int:
        return HEAD + max(len(self.rows), 1) * CELL


MARKS = (
    Mark("supporting", "support", "+", "supports firsthand or by document"),
    Mark("contradicting", "contradict", "x", "contradicts firsthand or by document"),
    Mark("weak_support", "weak-support", "s", "supports secondhand only (not counted)"),
    Mark("weak_contradiction", "weak-contradict", "c", "contradicts secondhand only (not counted)"),
)


def group_name(group: Members) -> str:
    return group[0] if len(group) == 1 else f"{group[0]} +{len(group) - 1}"


def matrix(shown: list[ClaimView], first: int, total: int) -> Matrix:
    """The claims ``shown`` (from the ``first`` of ``total``) against every group that takes a
    side on one of them."""
    groups = sorted(
        {group for claim in shown for mark in MARKS for group in getattr(claim, mark.field)}
    )
    column = {group: index for index, group in enumerate(groups)}
    cells = []
    for row, claim in enumerate(shown):
        for mark in MARKS:
            for group in getattr(claim, mark.field):
                cells.append(
                    Cell(
                        LABEL + column[group] * CELL,
                        HEAD + row * CELL,
                        mark,
                        f"claim {claim.id}: {group_name(group)} {mark.meaning}",
                    )
                )
    return Matrix(
        rows=tuple(
            Label(LABEL - 8, HEAD + row * CELL + CELL // 2, f"claim {claim.id} · {claim.status}")
            for row, claim in enumerate(shown)
        ),
        columns=tuple(
            Label(LABEL + index * CELL + CELL // 2, HEAD - 8, group_name(group))
            for index, group in enumerate(groups)
        ),
        cells=tuple(cells),
        first=first,
        total=total,
    )


@dataclass(frozen=True)
class Edge:
    start: Label
    end: Label
    kind: str

    @property
    def title(self) -> str:
        return f"{self.start.text} and {self.end.text}: {self.kind}"


@dataclass(frozen=True)
class Graph:
    size: int
    nodes: tuple[Label, ...]
    edges: tuple[Edge, ...]


GRAPH_MAX_SOURCES = 200  # beyond this, the page lists relations instead of drawing them


def relation_graph(sources: list[SourceView]) -> Graph | None:
    """Sources on a circle, related ones joined by a line (dashed for shared origin)."""
    if not sources or len(sources) > GRAPH_MAX_SOURCES:
        return None
    radius = max(120, 14 * len(sources))
    size = 2 * radius + 160  # room for the names around the circle
    centre = size / 2
    place = {}
    for index, source in enumerate(sources):
        angle = 2 * math.pi * index / len(sources) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        place[source.pseudonym] = Label(round(x, 1), round(y, 1), source.pseudonym)
    edges = [
        Edge(place[source.pseudonym], place[relation.source], relation.kind)
        for source in sources
        for relation in source.relations
        if source.pseudonym < relation.source
    ]
    return Graph(size, tuple(place.values()), tuple(edges))
