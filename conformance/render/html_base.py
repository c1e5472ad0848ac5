"""What the two HTML pages share: the page shell and its CSS, the cell, footnotes, the legend,
the gate banner and provenance.

No external assets and no JavaScript: inline CSS only, so a page opens from a CI artifact, an
e-mail or a file share exactly as it was generated. Every cell shows a symbol and a word besides
its Okabe–Ito colour; what explains a cell (reason codes, the connector's notes, observations)
is a numbered footnote. The pages are a function of the matrices and the gate decision only (no
clock), so regenerating them from the same matrices gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from conformance.gate import Decision, Expected, Outcome, expected_badge, platform_outcome
from conformance.render.style import (
    CHANGE_STYLES,
    DRIFT_STYLES,
    STYLES,
    cell_style,
    legend_entries,
)
from conformance.results import Change, OperationResult, PlatformResult
from conformance.verdicts import Verdict, reasons

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub, .meta { color: #444; margin: 0 0 12px; }
.meta .warn { color: #8a3b00; font-weight: 600; }
.gate { padding: 10px 14px; border-radius: 6px; font-weight: 600; margin: 12px 0;
  border-left: 6px solid; }
.gate.passed { background: #D9F0E9; border-color: #009E73; }
.gate.failed { background: #F7DFCC; border-color: #D55E00; }
.gate.undecided { background: #FAEBCC; border-color: #E69F00; }
.gate ul { font-weight: 400; margin: 6px 0 0; padding-left: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid #c8c8c8; padding: 6px 8px; vertical-align: top; text-align: left; }
thead th { background: #f3f3f3; font-size: 12px; }
thead th small, th.platform small { display: block; font-weight: 400; color: #555;
  font-size: 11px; }
th.platform { overflow-wrap: anywhere; }
th.platform .gated { color: #A33F00; font-weight: 600; }
td.cell { border-left: 5px solid; font-size: 12px; padding: 5px 4px 5px 5px; }
td.cell a.ev { color: inherit; text-decoration: none; }
td.cell a.ev:hover .label, td.cell a.ev:focus .label { text-decoration: underline; }
.head { white-space: nowrap; }
.badge { display: inline-block; min-width: 1.35em; height: 1.35em; line-height: 1.35em;
  border-radius: 50%; text-align: center; font-weight: 700; margin-right: 3px; }
.label { font-weight: 600; font-size: 11.5px; }
sup.fn { font-size: 10px; line-height: 0; margin-left: 2px; }
sup.fn a { color: #0B5A8A; }
.mark { display: inline-block; margin-top: 3px; padding: 0 4px; border: 1.5px solid;
  border-radius: 3px; font-size: 11px; font-weight: 600; background: #fff; }
.mark small { display: block; font-weight: 400; font-size: 10.5px; }
.mark.declared { border-color: #666; border-style: dashed; }
.legend { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
  gap: 4px 18px; margin: 8px 0 14px; font-size: 13px; }
.legend div { display: flex; align-items: baseline; }
.legend dt { flex: 0 0 auto; margin-right: 6px; white-space: nowrap; }
.legend dd { margin: 0; color: #333; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  border: 1px solid #888; vertical-align: -1px; }
ol.footnotes { font-size: 12.5px; padding-left: 28px; columns: 2 420px; column-gap: 28px; }
ol.footnotes li { break-inside: avoid; margin: 0 0 3px; }
ol.footnotes li:target { background: #FFF3C4; }
ol.footnotes .src { color: #555; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 8px; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; margin: 4px 0; }
pre.curl, pre.command { background: #1f2430; color: #f0f0f0; }
details { margin: 6px 0; } summary { cursor: pointer; }
.finding { border-left: 4px solid #999; padding: 2px 10px; margin: 10px 0; }
dl.prov { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.prov dt { color: #555; } dl.prov dd { margin: 0; overflow-wrap: anywhere; }
table.prov-table { font-size: 12px; width: 100%; }
table.prov-table td { overflow-wrap: break-word; }
footer { margin-top: 28px; color: #555; font-size: 12px; }
"""

_STATUS_CSS = "\n".join(
    f"td.cell.v-{v.value} {{ background: {s.tint}; border-left-color: {s.colour}; }}\n"
    f".badge.v-{v.value}, .swatch.v-{v.value} {{ background: {s.colour}; color: {s.ink}; }}"
    for v, s in STYLES.items()
)
_MARK_CSS = "\n".join(
    f".mark.{name} {{ border-color: {s.colour}; }}"
    for name, s in [
        *((d.value, s) for d, s in DRIFT_STYLES.items()),
        *((c.value, s) for c, s in CHANGE_STYLES.items()),
    ]
)

# Plain symbols, not emoji: they render with any font (no colour-emoji font needed).
GATE_MARKS = {Outcome.passed: "✔", Outcome.failed: "✘", Outcome.undecided: "?"}

CHANGE_WORDS = {
    Change.regressed: "worse than the baseline (fails the gate)",
    Change.fixed: "better than the baseline",
    Change.new: "not in the baseline",
    Change.unverified: "no evidence now or then",
    Change.unchanged: "",
}


def page(title: str, body: Sequence[str], *, css: str = "", meta: str = "") -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            *([meta] if meta else []),
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}{_STATUS_CSS}\n{_MARK_CSS}\n{css}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def breakable(op_id: str) -> str:
    """`createReturnFulfillment` → `create<wbr>Return<wbr>Fulfillment`: narrow columns."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", escape(op_id))


def badge(verdict: Verdict, symbol: str | None = None) -> str:
    symbol = symbol or STYLES[verdict].symbol
    return f'<span class="badge v-{verdict.value}" aria-hidden="true">{symbol}</span>'


def cell_head(cell: OperationResult) -> str:
    """Symbol and word: the verdict, or for unsupported its kind (absent / not allowed)."""
    style = cell_style(cell)
    return (
        f'<span class="head">{badge(cell.verdict, style.symbol)}'
        f'<span class="label">{style.label}</span></span>'
    )


# --------------------------------------------------------------------------- footnotes


@dataclass(frozen=True)
class Note:
    """One explanation of a cell: a reason code's title, the connector's note, an observation."""

    text: str
    source: str  # who says so: "reason code", "declared by the connector", "observed", ...
    code: str = ""

    def html(self) -> str:
        code = f"<code>{escape(self.code)}</code> " if self.code else ""
        return f'{code}{escape(self.text)} <span class="src">({escape(self.source)})</span>'

    def plain(self) -> str:
        return f"{self.code}: {self.text}" if self.code else self.text


def cell_notes(
    cell: OperationResult, not_needed: str | None = None, expected: Expected | None = None
) -> list[Note]:
    """Everything that explains a cell, in reading order (each becomes a footnote)."""
    known = reasons()
    notes: list[Note] = []
    if cell.verdict != Verdict.supported:
        notes += [
            Note(known[code].title if code in known else "", "reason code", code)
            for code in cell.reasons
        ]
    claim = cell.declared
    if claim and claim.note and claim.status.value != "supported":  # why it is limited
        notes.append(Note(claim.note, f"declared {claim.status.value} by the connector"))
    notes += [Note(text, "observed") for text in cell.notes]
    if not_needed:
        notes.append(Note(f"not needed: {not_needed}", "not counted in the roll-up"))
    badge = expected_badge(cell, expected)
    if badge is not None:
        notes.append(Note(badge[1], badge[0]))
    return notes


class Footnotes:
    """Numbered, de-duplicated footnotes: the same explanation has one number page-wide."""

    def __init__(self) -> None:
        self._numbers: dict[Note, int] = {}

    def refs(self, notes: Sequence[Note]) -> str:
        """`<sup>` links to the notes' footnotes (numbering them on first use)."""
        numbers = sorted({self._numbers.setdefault(n, len(self._numbers) + 1) for n in notes})
        if not numbers:
            return ""
        links = ",<wbr>".join(f'<a href="#fn-{n}" aria-label="note {n}">{n}</a>' for n in numbers)
        return f'<wbr><sup class="fn">{links}</sup>'

    def render(self) -> list[str]:
        if not self._numbers:
            return ['<p id="footnotes">No notes: every cell is supported as declared.</p>']
        return [
            '<ol class="footnotes" id="footnotes">',
            *(f'<li id="fn-{n}">{note.html()}</li>' for note, n in self._numbers.items()),
            "</ol>",
        ]


# --------------------------------------------------------------------------- cells


def marks(cell: OperationResult, expected: Expected | None = None) -> list[str]:
    """Drift, a declared claim that differs, a baseline change, an expected failure (with what
    the gate made of it: held, stale, unmatched or unverified)."""
    found = []
    if cell.drift and cell.declared:
        style = DRIFT_STYLES[cell.drift]
        found.append(
            f'<span class="mark {cell.drift.value}" title="declared '
            f'{cell.declared.status.value}, observed {cell.verdict.value}">{style.symbol} '
            f"{style.label}<small>declared {cell.declared.status.value}</small></span>"
        )
    elif cell.declared and cell.declared_differs:
        found.append(
            f'<span class="mark declared" title="the manifest claims {cell.declared.status.value}'
            f'; no evidence either way, so no drift">◇ declared'
            f"<small>{cell.declared.status.value}</small></span>"
        )
    if cell.baseline and cell.baseline.change != Change.unchanged:
        style = CHANGE_STYLES[cell.baseline.change]
        was = cell.baseline.status.value if cell.baseline.status else "absent"
        found.append(
            f'<span class="mark {cell.baseline.change.value}">{style.symbol} {style.label}'
            f"{'' if cell.baseline.change == Change.new else '<small>was ' + was + '</small>'}"
            "</span>"
        )
    badge = expected_badge(cell, expected)
    if badge is not None:
        word, why = badge
        kind = "unverified" if expected in (Expected.held, Expected.unverified) else "regressed"
        found.append(
            f'<span class="mark {kind} xf-{expected}" title="{escape(why)}">{escape(word)}</span>'
        )
    return found


def cell_td(
    platform: str,
    cell: OperationResult,
    *,
    footnotes: Footnotes | None = None,
    href: str | None = None,
    not_needed: str | None = None,
    expected: Expected | None = None,
) -> str:
    """One cell: symbol and word (a link to the evidence when `href`), footnote numbers, marks.

    `data-cell`, `data-verdict` and `data-kind` let tests and the page's filters find it.
    """
    style = cell_style(cell)
    notes = cell_notes(cell, not_needed, expected)
    title = f"{platform} · {cell.operation}: {style.label}"
    if cell.verdict == Verdict.unsupported and style.label != "unsupported":
        title += " (unsupported)"
    title += "".join(f"\n• {n.plain()}" for n in notes)
    if cell.declared:
        title += f"\ndeclared: {cell.declared.status.value}"
    head = cell_head(cell)
    head = f'<a class="ev" href="{escape(href)}">{head}</a>' if href else head
    refs = footnotes.refs(notes) if footnotes is not None else ""
    kind = cell.absence.value if cell.absence else cell.verdict.value
    return (
        f'<td class="cell v-{cell.verdict.value}" data-cell="{escape(platform)}/{cell.operation}"'
        f' data-verdict="{cell.verdict.value}" data-kind="{kind}" title="{escape(title)}">'
        f'<div class="c">{head}{refs}'
        + "".join("<br>" + m for m in marks(cell, expected))
        + "</div></td>"
    )


# --------------------------------------------------------------------------- legend, gate


def legend(*, footnotes: bool = True) -> list[str]:
    """Every verdict in plain words (unsupported as its two kinds), then the marks."""
    items = [
        f'<div data-verdict="{verdict}"><dt><span class="swatch v-{verdict}"></span>'
        f"{badge(Verdict(verdict), style.symbol)}<b>{style.label}</b></dt>"
        f"<dd>{escape(meaning)}</dd></div>"
        for verdict, style, meaning in legend_entries()
    ]
    items += [
        f'<div><dt><span class="mark {d.value}">{s.symbol} {s.label}</span></dt><dd>'
        + (
            "declared better than observed (fails the gate)"
            if d.value == "overclaim"
            else "declared worse than observed (reported only)"
        )
        + "</dd></div>"
        for d, s in DRIFT_STYLES.items()
    ]
    items.append(
        '<div><dt><span class="mark declared">◇ declared</span></dt><dd>the connector claims '
        "another verdict, but there is no evidence either way (inconclusive, untested)</dd></div>"
    )
    items += [
        f'<div><dt><span class="mark {c.value}">{s.symbol} {s.label}</span></dt>'
        f"<dd>{CHANGE_WORDS[c]}</dd></div>"
        for c, s in CHANGE_STYLES.items()
        if c != Change.unchanged
    ]
    items.append(
        '<div><dt><span class="mark unverified">expected failure</span></dt><dd>listed, with '
        "a reason, in the expected-failures file</dd></div>"
    )
    if footnotes:
        items.append(
            '<div><dt><sup class="fn">1</sup> <b>note</b></dt><dd>the numbered note under the '
            "table says why: a reason code, the connector's own words, an observation</dd></div>"
        )
    return ['<dl class="legend" id="legend" aria-label="legend">', *items, "</dl>"]


def gate_banner(decision: Decision, platform: str | None = None) -> list[str]:
    """The gate's decision, for the run or for one platform of it, as read (never recomputed)."""
    failures = [g for g in decision.failures() if platform is None or g.platform == platform]
    if platform is None:
        outcome, headline = decision.outcome, decision.headline()
    else:
        outcome = platform_outcome(decision, platform)
        undecided = platform in decision.undecided
        headline = f"gate {outcome.value}" + (": nothing decided" if undecided else "")
    lines = [
        f'<div class="gate {outcome.value}" id="gate">{GATE_MARKS[outcome]} {escape(headline)}'
    ]
    if failures:
        lines.append("<ul>")
        lines += [
            f"<li>{escape(g.platform)} · <code>{g.operation}</code>: {g.verdict.value} "
            f"({escape(', '.join(p.value for p in g.problems))})</li>"
            for g in failures[:50]
        ]
        if len(failures) > 50:
            lines.append(f"<li>… and {len(failures) - 50} more</li>")
        lines.append("</ul>")
    lines.append("</div>")
    return lines


def provenance_rows(platform: PlatformResult) -> list[tuple[str, str]]:
    prov = platform.provenance
    return [
        ("target", platform.target),
        ("suite / contract", f"{prov.suite_version} / {prov.contract_version}"),
        ("schemas", prov.schema_hash),
        ("seed", str(prov.seed)),
        ("generated", f"{prov.generated_at} ({prov.duration_seconds:.1f} s)"),
        ("writes", "allowed" if prov.writes_allowed else "not allowed"),
        ("generated examples", str(prov.max_examples)),
        ("declared", prov.declared_source or "no manifest"),
        (
            "baseline",
            f"{prov.baseline_source} ({prov.baseline_generated_at or '—'})"
            if prov.baseline_source
            else "none",
        ),
        ("expected failures", prov.expected_failures_source or "none"),
        ("command", prov.command),
    ]
