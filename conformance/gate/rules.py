"""The gate's rules as functions of verdicts: drift, baseline change, `--fail-on`.

The tables are in the package docstring (`conformance.gate`). Drift and baseline change compare
decided verdicts by the one precedence (`conformance.verdicts.PRECEDENCE`): a more severe verdict
is worse. They differ from combining only in what they leave out: inconclusive and untested are
no evidence, so they never drift and a change to or from them is `unverified`.
"""

from __future__ import annotations

from conformance.errors import UsageError
from conformance.results import DECIDED, Change, Claim, Drift
from conformance.verdicts import Verdict

DEFAULT_FAIL_ON = frozenset({Verdict.failing})


def drift(claim: Claim, observed: Verdict) -> Drift | None:
    """The drift table in the docstring of `conformance.gate`: a claim is the verdict of the
    same name, compared by precedence. Failing under an `unsupported` claim is not drift (it
    gates on its own)."""
    if observed not in DECIDED:
        return None
    claimed = Verdict(claim.value)
    if observed.worse_than(claimed):
        return None if claim == Claim.unsupported else Drift.overclaim
    return Drift.underclaim if claimed.worse_than(observed) else None


def change(before: Verdict | None, now: Verdict) -> Change:
    """How a cell moved since the baseline (the order is in `conformance.gate`'s docstring)."""
    if before is None:
        return Change.new
    if before == now:
        return Change.unchanged
    if before not in DECIDED or now not in DECIDED:
        return Change.unverified
    return Change.regressed if now.worse_than(before) else Change.fixed


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
