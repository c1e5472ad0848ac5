"""One presentation table for every renderer: verdict, drift and baseline change → symbol,
label, colour.

Colours are from the Okabe–Ito colour-blind-safe palette, and every cell also carries a symbol
and a word, so no reader depends on colour alone. `tint` is the same hue mixed with white, a
background that keeps dark text readable (contrast above 7:1 on every tint); `ink` is the
symbol's colour on a solid badge.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.results import Change, Drift
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
