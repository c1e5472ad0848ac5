"""One presentation table for every renderer: verdict, drift and baseline change → symbol,
label, colour.

Colours are from the Okabe–Ito colour-blind-safe palette, and every cell also carries a symbol
and a word, so no reader depends on colour alone. `tint` is the same hue mixed with white, a
background that keeps dark text readable (contrast above 7:1 on every tint); `ink` is the
symbol's colour on a solid badge.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.results import Absence, Change, Drift, OperationResult
from conformance.verdicts import Verdict


@dataclass(frozen=True)
class Style:
    symbol: str
    label: str
    colour: str  # hex, Okabe–Ito
    rich: str  # rich style for the terminal
    tint: str = "#FFFFFF"  # hex background for HTML cells
    ink: str = "#000000"  # the symbol's colour on a badge of `colour`


STYLES: dict[Verdict, Style] = {
    Verdict.supported: Style("✔", "supported", "#009E73", "bold green", "#D9F0E9", "#FFFFFF"),
    Verdict.partial: Style("◐", "partial", "#56B4E9", "bold cyan", "#DDF0FB"),
    Verdict.unsupported: Style("—", "unsupported", "#999999", "dim", "#EEEEEE"),
    Verdict.failing: Style("✘", "failing", "#D55E00", "bold red", "#F7DFCC", "#FFFFFF"),
    Verdict.inconclusive: Style("?", "inconclusive", "#E69F00", "bold yellow", "#FAEBCC"),
    Verdict.untested: Style("·", "untested", "#CCCCCC", "dim italic", "#FFFFFF"),
}

ABSENCE_STYLES: dict[Absence, Style] = {
    Absence.absent: Style("—", "absent", "#999999", "dim", "#EEEEEE"),
    Absence.not_allowed: Style("⊘", "not allowed", "#999999", "dim", "#EEEEEE"),
}
"""The two kinds of `unsupported`: same colour (one verdict), their own symbol and word."""

MEANINGS: dict[Verdict | Absence, str] = {
    Verdict.supported: "works as the contract says: every check passed",
    Verdict.partial: "works, with deviations a client can live with (a status outside the "
    "normalized vocabulary, a rejected filter or page size)",
    Absence.absent: "the platform has no such operation (it answered 501 NOT_SUPPORTED or 405)",
    Absence.not_allowed: "the operation exists, but only the buyer or the marketplace may do it "
    "(it answered 403 NOT_ALLOWED)",
    Verdict.unsupported: "the platform does not offer the operation",
    Verdict.failing: "breaks the contract: a wrong answer, a crash, a write that did not take "
    "effect, a leak",
    Verdict.inconclusive: "tried, but the suite could not decide (throttled, timed out, no test "
    "data)",
    Verdict.untested: "deliberately not tried (writes not allowed, excluded, a prerequisite "
    "missing)",
}
"""Every verdict (and both kinds of unsupported) in plain words, for legends."""


def cell_style(cell: OperationResult) -> Style:
    """The symbol and word of a cell: its verdict's, or for unsupported its kind's."""
    return ABSENCE_STYLES[cell.absence] if cell.absence else STYLES[cell.verdict]


def legend_entries() -> list[tuple[str, Style, str]]:
    """(verdict value, style, meaning) in verdict order, unsupported as its two kinds."""
    entries = []
    for verdict, style in STYLES.items():
        if verdict == Verdict.unsupported:
            entries += [(verdict.value, s, MEANINGS[a]) for a, s in ABSENCE_STYLES.items()]
        else:
            entries.append((verdict.value, style, MEANINGS[verdict]))
    return entries


DRIFT_STYLES: dict[Drift, Style] = {
    Drift.overclaim: Style("▲", "overclaim", "#D55E00", "bold red"),
    Drift.underclaim: Style("▽", "underclaim", "#0072B2", "bold blue"),
}
"""Drift marks: ▲ claimed more than observed (fails the gate), ▽ claimed less."""

CHANGE_STYLES: dict[Change, Style] = {
    Change.regressed: Style("↓", "regressed", "#D55E00", "bold red"),
    Change.fixed: Style("↑", "fixed", "#009E73", "bold green"),
    Change.new: Style("✚", "new", "#0072B2", "bold blue"),
    Change.unverified: Style("~", "unverified", "#E69F00", "yellow"),
    Change.unchanged: Style("=", "unchanged", "#999999", "dim"),
}
"""Baseline marks; `unchanged` is not shown in cells."""

GATE_SYMBOLS = {"passed": "✅", "failed": "❌", "undecided": "⚠️"}
"""The headline symbol of each gate outcome (conformance.gate.Outcome)."""
