"""Verdicts and reason codes (contract section 5), with the precedence that combines them.

A cell's verdict is the most severe verdict implied by its reasons, so judging is `max()`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class Verdict(StrEnum):
    """One status per platform × operation cell."""

    supported = "supported"
    """A well-formed request succeeded and every applicable check passed."""
    partial = "partial"
    """Works, with deviations a client can live with (vocabulary, rejected filters)."""
    unsupported = "unsupported"
    """Answered 501 / 405 / 403 to a well-formed request on valid data."""
    failing = "failing"
    """A contract violation."""
    inconclusive = "inconclusive"
    """Tried, but could not decide (throttled, timed out, no data)."""
    untested = "untested"
    """Deliberately not tried (writes not allowed, excluded, prerequisite unavailable)."""

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


# untested < supported < partial < inconclusive < unsupported < failing
_SEVERITY = {
    Verdict.untested: 0,
    Verdict.supported: 1,
    Verdict.partial: 2,
    Verdict.inconclusive: 3,
    Verdict.unsupported: 4,
    Verdict.failing: 5,
}

VERDICT_ORDER: tuple[Verdict, ...] = tuple(Verdict)


@dataclass(frozen=True)
class Reason:
    """A reason code from data/reasons.toml."""

    code: str
    verdict: Verdict
    title: str
    hint: str


@cache
def reasons() -> dict[str, Reason]:
    text = resources.files("conformance.data").joinpath("reasons.toml").read_text("utf-8")
    return {
        code: Reason(code, Verdict(row["verdict"]), row["title"], row["hint"])
        for code, row in tomllib.loads(text).items()
    }


def reason(code: str) -> Reason:
    try:
        return reasons()[code]
    except KeyError:
        raise KeyError(f"unknown reason code {code!r}: add it to data/reasons.toml") from None


def combine(verdicts: list[Verdict]) -> Verdict:
    """The most severe verdict wins; no verdict at all means untested."""
    return max(verdicts, key=lambda v: v.severity, default=Verdict.untested)
