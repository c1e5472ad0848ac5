"""One verdict → symbol / colour / label table for every renderer.

Colours are from the Okabe–Ito colour-blind-safe palette, and every cell also carries a symbol, so
no reader depends on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.verdicts import Verdict


@dataclass(frozen=True)
class Style:
    symbol: str
    label: str
    colour: str  # hex, Okabe–Ito
    rich: str  # rich style for the terminal


STYLES: dict[Verdict, Style] = {
    Verdict.supported: Style("✔", "supported", "#009E73", "bold green"),
    Verdict.partial: Style("◐", "partial", "#56B4E9", "bold cyan"),
    Verdict.unsupported: Style("—", "unsupported", "#999999", "dim"),
    Verdict.failing: Style("✘", "failing", "#D55E00", "bold red"),
    Verdict.inconclusive: Style("?", "inconclusive", "#E69F00", "bold yellow"),
    Verdict.untested: Style("·", "untested", "#CCCCCC", "dim italic"),
}
