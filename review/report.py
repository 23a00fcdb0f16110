"""The corroboration report, in Markdown or as one self-contained HTML file.

It names sources by pseudonym only: no server ids, tip ids or days, which could tie it back to the
server's records if it ever leaves the newsroom. The HTML has no script and loads nothing (its own
Content-Security-Policy forbids it); its claims x groups matrix shows each mark as a symbol and
in words, so it reads the same without colour or sight. In a team's workspace it says which
claims a teammate signed off, by the team's name for them, and which sign-offs came before the
claim's evidence changed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .ach import SYMBOLS as ACH_SYMBOLS
from .ach import Matrix
from .assessment import ClaimView, EvidenceView
from .grading import CREDIBILITY_WORDS, RELIABILITY_WORDS, Members
from .printable import one_line, printable
from .wording import SignedOff, ach_notes, signed_off, signers, support

SYMBOLS = {
    "supports": "●",
    "weak support": "○",
    "contradicts": "✖",
    "weak contradiction": "⊘",
    "context": "·",
    "set aside": "∅",
}


@dataclass(frozen=True)
class Report:
    day: str
    threshold: int
    claims: tuple[ClaimView, ...]
    groups: tuple[Members, ...]  # the matrix's columns, G1 first
    group_of: Mapping[str, Members]  # pseudonym -> its group
    relations: tuple[tuple[str, str, str], ...]  # (pseudonym, pseudonym, kind)
    ach: Matrix
    team: bool  # the workspace has teammates or sign-offs: say who signed off what
    sign_offs: Mapping[int, Sequence[SignedOff]]  # claim id -> its sign-offs

    def label(self, group: Members) -> str:
        return f"G{self.groups.index(group) + 1}"

    def marks(self, claim: ClaimView, group: Members) -> list[str]:
        """The marks for one matrix cell, strongest first."""
        found = [
            mark
            for mark, groups in (
                ("supports", claim.supporting),
                ("contradicts", claim.contradicting),
                ("weak support", claim.weak_support),
                ("weak contradiction", claim.weak_contradiction),
            )
            if group in groups
        ]
        linked = [e.counted for e in claim.evidence if self.group_of[e.source] == group]
        return found or (["context"] if any(linked) else ["set aside"] if linked else [])


def build_report(
    day: str,
    threshold: int,
    claims: list[ClaimView],
    group_of: Mapping[str, Members],
    relations: tuple[tuple[str, str, str], ...],
    ach: Matrix,
    *,
    team: bool,
    sign_offs: Mapping[int, Sequence[SignedOff]],
) -> Report:
    linked = {group_of[e.source] for claim in claims for e in claim.evidence}
    return Report(
        day,
        threshold,
        tuple(claims),
        tuple(sorted(linked)),
        group_of,
        relations,
        ach,
        team,
        sign_offs,
    )


def _signed_off(report: Report, claim: ClaimView) -> str:
    """The claim's sign-off sentence, or empty outside a team."""
    return signed_off(report.sign_offs.get(claim.id, ()), claim.status) if report.team else ""


def _link(evidence: EvidenceView) -> str:
    aside = "" if evidence.counted else " (set aside as discarded or spam: not counted)"
    return f"{evidence.stance}, {evidence.basis}{aside}"


def _count(claim: ClaimView) -> str:
    """For example: '2 independent groups support it; 2 are needed'."""
    return support(len(claim.supporting), claim.threshold)


def _count_sentence(claim: ClaimView) -> str:
    text = _count(claim)
    return f"{text[0].upper()}{text[1:]}."


def _grade_sentence(claim: ClaimView) -> str:
    """For example: 'Grade B2: the best supporting source B (usually reliable), the information 2
    (probably true).' An override says so, with the derived credibility and the reason."""
    grade = claim.grade
    sentence = (
        f"Grade {grade.text}: the best supporting source {grade.reliability} "
        f"({RELIABILITY_WORDS[grade.reliability]}), the information {grade.credibility} "
        f"({CREDIBILITY_WORDS[grade.credibility]})"
    )
    if grade.overridden:
        sentence += (
            f", the reviewer's judgement in place of {grade.derived} "
            f"({CREDIBILITY_WORDS[grade.derived]}): {grade.override_reason}"
        )
    return sentence + "."


def _ach_mark(matrix: Matrix, hypothesis: int, claim: int) -> str:
    """A matrix cell in Heuer's letters and in words, so it reads the same without colour."""
    found = matrix.mark(hypothesis, claim)
    return "" if found is None else f"{ACH_SYMBOLS[found.mark]} {found.mark}"


def _ach_intro(matrix: Matrix) -> list[str]:
    return [
        "Each inconsistency (I 1, II 2) counts once per independence group supporting the claim, "
        "and a group's claims count once against a hypothesis; the least inconsistent "
        "hypothesis ranks first.",
        *(f"Rank {h.rank}: H{h.id}, inconsistency {h.score}: " for h in matrix.hypotheses),
    ]


def _md(text: str) -> str:
    """User text made inert in Markdown: no markup, no raw HTML, no line breaks, nothing that
    acts on a terminal showing the file (I11)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~&-])", r"\\\1", one_line(text))


def _html(text: str) -> str:
    """User text made inert in HTML, and in a terminal showing the file (I11)."""
    return html.escape(printable(text))


def to_markdown(report: Report) -> str:
    lines = [
        "# Corroboration report",
        "",
        f"Made {report.day}. A claim is corroborated when at least {report.threshold} "
        "independent groups of sources support it firsthand or with a document. "
        "Sources are named by pseudonym only.",
        "",
        "## Claims",
        "",
        "| Claim | Grade | Status | Support | Text |" + (" Signed off |" if report.team else ""),
        "| --- | --- | --- | --- | --- |" + (" --- |" if report.team else ""),
    ]
    for c in report.claims:
        signed = f" {_md(signers(report.sign_offs.get(c.id, ())))} |" if report.team else ""
        lines.append(
            f"| {c.id} | {c.grade.text} | {c.status} | {_count(c)} | {_md(c.text)} |{signed}"
        )
    if report.groups:
        lines += ["", "## Claims by independence group", ""]
        lines.append("| Claim | " + " | ".join(report.label(g) for g in report.groups) + " |")
        lines.append("| --- |" + " --- |" * len(report.groups))
        for claim in report.claims:
            cells = [
                ", ".join(f"{SYMBOLS[mark]} {mark}" for mark in report.marks(claim, group))
                for group in report.groups
            ]
            lines.append(f"| {claim.id} | " + " | ".join(cells) + " |")
        lines += ["", "Groups:", ""]
        lines += [f"- {report.label(g)}: {', '.join(g)}" for g in report.groups]
    for claim in report.claims:
        lines += ["", f"## Claim {claim.id}: {claim.status}", "", _md(claim.text), ""]
        lines.append(_count_sentence(claim))
        lines += ["", _md(_grade_sentence(claim))]
        if _signed_off(report, claim):
            lines += ["", _md(_signed_off(report, claim))]
        if claim.to_do:
            lines += ["", "To settle it:", ""]
            lines += [f"- {_md(step)}" for step in claim.to_do]
        for e in claim.evidence:
            lines.append("")
            if e.quote:
                lines.append(f"> {_md(e.quote)}")
                lines.append(">")
            attribution = f"{e.source} ({report.label(report.group_of[e.source])})"
            lines.append(f"{'> ' if e.quote else ''}{attribution}: {_link(e)}")
    if report.ach.hypotheses:
        ach = report.ach
        intro, *ranked = _ach_intro(ach)
        lines += ["", "## Competing hypotheses", "", intro, ""]
        lines += [f"- {line}{_md(h.text)}" for line, h in zip(ranked, ach.hypotheses, strict=True)]
        lines += [
            "",
            "| Claim | Grade | " + " | ".join(f"H{h.id}" for h in ach.hypotheses) + " | Notes |",
            "| --- | --- |" + " --- |" * len(ach.hypotheses) + " --- |",
        ]
        for row in ach.evidence:
            cells = [_ach_mark(ach, h.id, row.claim) for h in ach.hypotheses]
            lines.append(
                f"| {row.claim} | {row.grade} | " + " | ".join(cells) + f" | {ach_notes(row)} |"
            )
    if report.relations:
        lines += ["", "## Related sources", ""]
        lines += [f"- {a} and {b}: {kind}" for a, b, kind in report.relations]
    return "\n".join(lines) + "\n"


_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
  color: #1b1b1b; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #999; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th small { display: block; font-weight: normal; }
.supports { background: #d7f0d2; } .contradicts { background: #f6d0cc; }
.weak-support { background: #eef2ea; color: #444; } .weak-contradiction { background: #f8ecea; }
.context, .none { color: #555; }
.ach-strongly-consistent { background: #bfe6b8; } .ach-consistent { background: #e1f3dd; }
.ach-inconsistent { background: #f8dcd8; } .ach-strongly-inconsistent { background: #eeb4ac; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.status, .grade { font-weight: bold; } blockquote { border-left: 4px solid #999; margin: .5rem 0;
  padding-left: 1rem; }
"""


_NO_MARK = (
    '<td class="none"><span aria-hidden="true">&mdash;</span><span class="sr">none</span></td>'
)


def _cell(marks: list[str]) -> str:
    if not marks:
        return _NO_MARK
    parts = [f'<span aria-hidden="true">{SYMBOLS[mark]}</span> {mark}' for mark in marks]
    css = marks[0].replace(" ", "-")
    return f'<td class="{css}">' + "<br>".join(parts) + "</td>"


def _ach_html(ach: Matrix) -> list[str]:
    e = _html
    intro, *ranked = _ach_intro(ach)
    out = ["<h2>Competing hypotheses</h2>", f"<p>{e(intro)}</p>", "<ul>"]
    out += [f"<li>{e(line + h.text)}</li>" for line, h in zip(ranked, ach.hypotheses, strict=True)]
    out += [
        "</ul>",
        "<table><caption>Each claim against each hypothesis, in Heuer's letters: CC strongly "
        "consistent, C consistent, N neutral, I inconsistent, II strongly inconsistent."
        '</caption><thead><tr><th scope="col">Claim</th><th scope="col">Grade</th>',
    ]
    out += [f'<th scope="col">H{h.id}</th>' for h in ach.hypotheses]
    out.append('<th scope="col">Notes</th></tr></thead><tbody>')
    for row in ach.evidence:
        cells = []
        for h in ach.hypotheses:
            found = ach.mark(h.id, row.claim)
            if found is None:
                cells.append(_NO_MARK)
            else:
                symbol = ACH_SYMBOLS[found.mark]
                cells.append(
                    f'<td class="ach-{found.mark}"><span aria-hidden="true">{symbol}</span> '
                    f"{found.mark}</td>"
                )
        out.append(
            f'<tr><th scope="row">{row.claim}</th><td>{e(row.grade)}</td>{"".join(cells)}'
            f"<td>{e(ach_notes(row))}</td></tr>"
        )
    scores = "".join(f"<td>{h.score}</td>" for h in ach.hypotheses)
    out.append(f'<tr><th scope="row" colspan="2">Weighted inconsistency</th>{scores}<td></td></tr>')
    out.append("</tbody></table>")
    return out


def to_html(report: Report) -> str:
    e = _html
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Corroboration report, {e(report.day)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Corroboration report</h1>",
        f"<p>Made {e(report.day)}. A claim is corroborated when at least {report.threshold} "
        "independent groups of sources support it firsthand or with a document. "
        "Sources are named by pseudonym only.</p>",
        "<h2>Claims</h2>",
        '<table><thead><tr><th scope="col">Claim</th><th scope="col">Grade</th>'
        '<th scope="col">Status</th><th scope="col">Support</th><th scope="col">Text</th>'
        + ('<th scope="col">Signed off</th>' if report.team else "")
        + "</tr></thead><tbody>",
    ]
    for c in report.claims:
        signed = f"<td>{e(signers(report.sign_offs.get(c.id, ())))}</td>" if report.team else ""
        out.append(
            f'<tr><th scope="row">{c.id}</th><td class="grade">{e(c.grade.text)}</td>'
            f'<td class="status">{e(c.status)}</td>'
            f"<td>{e(_count(c))}</td><td>{e(c.text)}</td>{signed}</tr>"
        )
    out.append("</tbody></table>")
    if report.groups:
        out += [
            "<h2>Claims by independence group</h2>",
            "<table><caption>Each column is one independence group: sources the reviewer "
            "judged to be one person or to share one origin.</caption><thead><tr>"
            '<th scope="col">Claim</th>',
        ]
        out += [
            f'<th scope="col">{report.label(g)}<small>{e(", ".join(g))}</small></th>'
            for g in report.groups
        ]
        out.append("</tr></thead><tbody>")
        for claim in report.claims:
            cells = "".join(_cell(report.marks(claim, group)) for group in report.groups)
            out.append(f'<tr><th scope="row">{claim.id}</th>{cells}</tr>')
        out.append("</tbody></table>")
        legend = ", ".join(f"{symbol} {mark}" for mark, symbol in SYMBOLS.items())
        out.append(
            f"<p>Key: {e(legend)}. Weak means secondhand only: shown, never counted. "
            "Set aside means the group's links were all discarded or marked spam: not counted.</p>"
        )
    for claim in report.claims:
        out += [
            f"<h2>Claim {claim.id}: {e(claim.status)}</h2>",
            f"<p>{e(claim.text)}</p>",
            f"<p>{e(_count_sentence(claim))}</p>",
            f"<p>{e(_grade_sentence(claim))}</p>",
        ]
        if _signed_off(report, claim):
            out.append(f'<p class="sign-off">{e(_signed_off(report, claim))}</p>')
        if claim.to_do:
            out.append('<p class="to-do">To settle it:</p><ul>')
            out += [f"<li>{e(step)}</li>" for step in claim.to_do]
            out.append("</ul>")
        for ev in claim.evidence:
            group = report.label(report.group_of[ev.source])
            who = e(f"{ev.source} ({group}): {_link(ev)}")
            quote = f"<blockquote>{e(ev.quote)}</blockquote>" if ev.quote else ""
            out.append(f"<figure>{quote}<figcaption>{who}</figcaption></figure>")
    if report.ach.hypotheses:
        out += _ach_html(report.ach)
    if report.relations:
        out.append("<h2>Related sources</h2><ul>")
        out += [f"<li>{e(a)} and {e(b)}: {e(kind)}</li>" for a, b, kind in report.relations]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
