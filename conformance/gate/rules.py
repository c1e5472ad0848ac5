"""The gate's rules as functions of verdicts: drift, baseline change, `--fail-on`.

The tables are in the package docstring (`conformance.gate`).
"""

from __future__ import annotations

from conformance.errors import UsageError
from conformance.results import DECIDED, Change, Claim, Drift
from conformance.verdicts import Verdict

DEFAULT_FAIL_ON = frozenset({Verdict.failing})

_RANK = {Verdict.supported: 3, Verdict.partial: 2, Verdict.unsupported: 1, Verdict.failing: 0}
_CLAIM_RANK = {Claim.supported: 3, Claim.partial: 2, Claim.unsupported: 1}


def drift(claim: Claim, observed: Verdict) -> Drift | None:
    """The drift table in the docstring of `conformance.gate`."""
    if observed not in DECIDED:
        return None
    if claim == Claim.unsupported:
        return Drift.underclaim if observed in (Verdict.supported, Verdict.partial) else None
    rank = _RANK[observed]
    if rank < _CLAIM_RANK[claim]:
        return Drift.overclaim
    return Drift.underclaim if rank > _CLAIM_RANK[claim] else None


def change(before: Verdict | None, now: Verdict) -> Change:
    """How a cell moved since the baseline (the order is in `conformance.gate`'s docstring)."""
    if before is None:
        return Change.new
    if before == now:
        return Change.unchanged
    if before not in _RANK or now not in _RANK:
        return Change.unverified
    return Change.fixed if _RANK[now] > _RANK[before] else Change.regressed


def parse_fail_on(text: str) -> frozenset[Verdict]:
    """`failing,inconclusive` → the verdicts that fail the gate."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    allowed = [v.value for v in Verdict if v != Verdict.supported]
    unknown = [w for w in words if w not in allowed]
    if not words or unknown:
        raise UsageError(
            f"--fail-on {text!r}: {'unknown verdict ' + repr(unknown[0]) if unknown else 'empty'}",
            f"give a comma-separated list of {', '.join(allowed)}",
        )
    return frozenset(Verdict(w) for w in words)
