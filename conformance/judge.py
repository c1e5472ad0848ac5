"""The only place that assigns verdicts: findings and checks of an operation → its cell.

Contract section 5: the verdict is the most severe one implied by the reasons found; with no
reason, `supported` needs a well-formed request that succeeded, else the cell is inconclusive.
"""

from __future__ import annotations

from conformance.cells import Retried
from conformance.findings import Finding, Observations
from conformance.results import OperationResult
from conformance.verdicts import ReasonCode, Verdict, combine, reason

NO_SUCCESS = ReasonCode.no_test_data


def judge(operation: str, seen: Observations, rerun: str | None = None) -> OperationResult:
    findings = seen.for_operation(operation)
    if not findings and operation not in seen.succeeded:
        findings = [
            Finding(
                operation,
                NO_SUCCESS,
                "succeeds",
                "no well-formed request to this operation succeeded, and nothing else decided it",
            )
        ]
    verdicts = [reason(f.reason).verdict for f in findings]
    if operation in seen.succeeded:
        verdicts.append(Verdict.supported)
    verdict = combine(verdicts)
    ordered = sorted(
        dict.fromkeys(f.reason for f in findings),
        key=lambda code: -reason(code).verdict.severity,
    )
    findings.sort(key=lambda f: -reason(f.reason).verdict.severity)
    retried = Retried.of(
        seen.retried_requests.get(operation, []), seen.retries_ran_out.get(operation, 0)
    )
    notes = tuple(seen.notes.get(operation, ()))
    if retried is not None:
        notes += (retried.note,)  # contract section 2: a note, never a deviation
    return OperationResult(
        operation=operation,
        verdict=verdict,
        reasons=tuple(ordered),
        findings=tuple(findings),
        checks_run=seen.checks_run.get(operation, 0),
        checks_passed=seen.checks_passed.get(operation, 0),
        notes=notes,
        retried=retried,
        by_check=tuple(
            (name, run, ok) for name, (run, ok) in sorted(seen.by_check.get(operation, {}).items())
        ),
        rerun=rerun if verdict != Verdict.supported else None,
    )
