"""Verdicts and reason codes (contract section 5), with the precedence that combines them.

A cell's verdict is the most severe verdict implied by its reasons, so judging is `max()`.
This module holds the suite's only verdict ordering (`PRECEDENCE`) and its only answer for a
reason code it does not know (`verdict_of`); the gate, the results and the renderers ask it.
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
        """Its place in `PRECEDENCE`: the higher, the more severe."""
        return PRECEDENCE.index(self)

    def worse_than(self, other: Verdict) -> bool:
        """More severe. Among the decided verdicts this is also the gate's baseline and drift
        order read backwards: supported is best, failing worst."""
        return self.severity > other.severity


PRECEDENCE: tuple[Verdict, ...] = (
    Verdict.untested,
    Verdict.supported,
    Verdict.partial,
    Verdict.inconclusive,
    Verdict.unsupported,
    Verdict.failing,
)
"""Least to most severe (contract section 5): combining verdicts is `max()` over this order.
The declaration order of `Verdict` is only the order in which legends and counts list them."""


DECIDED = frozenset({Verdict.supported, Verdict.partial, Verdict.unsupported, Verdict.failing})
"""Verdicts that are evidence about the platform; inconclusive and untested are not."""
WORKING = frozenset({Verdict.supported, Verdict.partial})
"""Verdicts under which a client can use the operation."""


class ReasonCode(StrEnum):
    """The reason codes of data/reasons.toml, in its order: the names the code uses, so a typo
    is a type error rather than a KeyError when the judge runs (tests/test_verdict_order.py
    holds the two equal; the file keeps each code's verdict, title and hint)."""

    not_supported = "not_supported"
    not_allowed = "not_allowed"
    nonnormalized_value = "nonnormalized_value"
    filter_rejected = "filter_rejected"
    pagination_rejected = "pagination_rejected"
    server_error = "server_error"
    schema_violation = "schema_violation"
    undocumented_status = "undocumented_status"
    wrong_content_type = "wrong_content_type"
    invalid_input_accepted = "invalid_input_accepted"
    over_quantity_accepted = "over_quantity_accepted"
    effect_missing = "effect_missing"
    illegal_transition_accepted = "illegal_transition_accepted"
    transition_refused = "transition_refused"
    data_mismatch = "data_mismatch"
    leak_across_orders = "leak_across_orders"
    not_found_misreported = "not_found_misreported"
    auth_not_enforced = "auth_not_enforced"
    unsupported_misreported = "unsupported_misreported"
    stale_list = "stale_list"
    filter_ignored = "filter_ignored"
    pagination_broken = "pagination_broken"
    rate_limited = "rate_limited"
    platform_error = "platform_error"
    timeout = "timeout"
    connection_error = "connection_error"
    no_test_data = "no_test_data"
    writes_not_allowed = "writes_not_allowed"
    excluded = "excluded"
    prerequisite_unavailable = "prerequisite_unavailable"
    interrupted = "interrupted"
    budget_exhausted = "budget_exhausted"
    suite_error = "suite_error"


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
    """A known reason code; an unknown one is a bug in the suite (the judge never guesses)."""
    try:
        return reasons()[code]
    except KeyError:
        raise KeyError(f"unknown reason code {code!r}: add it to data/reasons.toml") from None


def verdict_of(code: str, fallback: Verdict) -> Verdict:
    """The verdict a reason code implies. A code this suite does not know (a matrix written by
    a newer suite) implies `fallback`, the verdict of the cell it was found in: the suite cannot
    judge it again, so it keeps the judgement that was recorded."""
    known = reasons().get(code)
    return known.verdict if known is not None else fallback


def combine(verdicts: list[Verdict]) -> Verdict:
    """The most severe verdict wins; no verdict at all means untested."""
    return max(verdicts, key=lambda v: v.severity, default=Verdict.untested)
