"""The gate's decision per platform: each check of each cell as a test case (JUnit, pytest) —
what passed, failed, was expected to fail or was skipped, with its evidence — and the platform's
own outcome, so that no renderer derives either from the cells."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conformance.findings import Finding
from conformance.gate.decision import CellGate, Decision, Expected, Outcome, Problem
from conformance.results import (
    Change,
    CheckResult,
    Drift,
    OperationResult,
    PlatformResult,
)
from conformance.verdicts import Verdict, reasons, verdict_of


class CaseStatus(StrEnum):
    """A check's outcome as test runners know it (JUnit, pytest)."""

    passed = "passed"
    failed = "failed"
    """A contract violation, overclaim, regression or stale expectation the gate fails on."""
    error = "error"
    """The suite could not decide, and the gate counts that (inconclusive or untested gated,
    or nothing decided at all): the suite's own trouble, not the connector's violation."""
    skipped = "skipped"
    """Unsupported, untested, inconclusive: not a failure, with the reason."""
    xfailed = "xfailed"
    """Fails as an expected failure says it does."""


@dataclass(frozen=True)
class Case:
    """One test case: a check of an operation, or one of the cell-level comparisons
    (`declared`, `baseline`, `expected_failure`), or the platform's `evidence` case."""

    platform: str
    operation: str | None  # None: the platform-level evidence case
    name: str
    status: CaseStatus
    kind: str  # reason code, problem or verdict: JUnit's failure/skipped type
    message: str
    findings: tuple[Finding, ...] = ()

    @property
    def classname(self) -> str:
        return f"returns.{self.operation}" if self.operation else "returns"


_UNDECIDED = (Verdict.inconclusive, Verdict.untested)


def _check_case(platform: str, cell: OperationResult, check: CheckResult, gate: CellGate) -> Case:
    verdict = check.verdict
    if verdict is None:
        return Case(
            platform,
            cell.operation,
            check.name,
            CaseStatus.passed,
            "passed",
            f"{check.passed}/{check.run} passed",
        )
    top = next(f for f in check.findings if _verdict_of(f, cell) == verdict)
    title = reasons()[top.reason].title if top.reason in reasons() else top.reason
    text = f"{verdict.value}: {top.reason} ({title}): {top.message}"
    status, kind = CaseStatus.skipped, verdict.value
    if verdict == cell.verdict and Problem.verdict in gate.problems:
        status = CaseStatus.error if verdict in _UNDECIDED else CaseStatus.failed
        kind = top.reason
    elif verdict == cell.verdict and gate.waived:
        status, kind = CaseStatus.xfailed, "xfail"
        text = f"expected failure ({cell.expected.reason if cell.expected else ''}): {text}"
    elif verdict in (Verdict.partial, Verdict.supported):
        status = CaseStatus.passed
    elif verdict == Verdict.failing:
        text += " (not gated: --fail-on does not include failing)"
    return Case(platform, cell.operation, check.name, status, kind, text, check.findings)


def _verdict_of(finding: Finding, cell: OperationResult) -> Verdict:
    return verdict_of(finding.reason, cell.verdict)


def _cell_cases(platform: str, cell: OperationResult, gate: CellGate) -> list[Case]:
    op, found = cell.operation, []
    if cell.declared is not None:
        said = f"declared {cell.declared.status.value}, observed {cell.verdict.value}"
        if cell.drift == Drift.overclaim:
            found.append(
                Case(
                    platform,
                    op,
                    "declared",
                    CaseStatus.failed,
                    "overclaim",
                    f"overclaim: {said}",
                    cell.findings,
                )
            )
        else:
            extra = " (underclaim: the manifest undersells it)" if cell.drift else ""
            found.append(
                Case(platform, op, "declared", CaseStatus.passed, "declared", said + extra)
            )
    if cell.baseline is not None:
        was = cell.baseline.status.value if cell.baseline.status else "absent"
        said = f"{cell.baseline.change.value}: was {was}, now {cell.verdict.value}"
        if Problem.regression in gate.problems:
            found.append(
                Case(platform, op, "baseline", CaseStatus.failed, "regression", said, cell.findings)
            )
        elif cell.baseline.change == Change.regressed:
            found.append(Case(platform, op, "baseline", CaseStatus.xfailed, "xfail", said))
        else:
            found.append(Case(platform, op, "baseline", CaseStatus.passed, "baseline", said))
    if cell.expected is not None and gate.expected is not None:
        said = f"expected failure ({cell.expected.reason}): {gate.expected.value}"
        status = {
            Expected.held: CaseStatus.passed,
            Expected.stale: CaseStatus.failed,
            Expected.unmatched: CaseStatus.failed,
            Expected.unverified: CaseStatus.skipped,
        }[gate.expected]
        kind = {Expected.stale: "xpass_strict"}.get(gate.expected, gate.expected.value)
        if gate.expected == Expected.stale:
            said += f": the cell is {cell.verdict.value} now; remove the entry"
        found.append(Case(platform, op, "expected_failure", status, kind, said))
    return found


def platform_outcome(decision: Decision, platform: str) -> Outcome:
    """The run's decision as it concerns one platform: failed when one of its cells fails the
    gate, undecided when none of its cells is decided (`Decision.undecided`), else passed."""
    if any(c.fails for c in decision.cells if c.platform == platform):
        return Outcome.failed
    return Outcome.undecided if platform in decision.undecided else Outcome.passed


def cases(platform: PlatformResult, decision: Decision) -> tuple[Case, ...]:
    """Every test case of a platform, in contract order: what JUnit and pytest items show.

    A cell that fails the gate has at least one failed (or error) case in its class, and no
    other cell has any, so a test report and the exit code always agree.
    """
    found: list[Case] = []
    if platform.decided:
        found.append(
            Case(
                platform.name,
                None,
                "evidence",
                CaseStatus.passed,
                "evidence",
                f"{sum(c.decided for c in platform.operations)} cells decided",
            )
        )
    else:
        found.append(
            Case(
                platform.name,
                None,
                "evidence",
                CaseStatus.error,
                "nothing_decided",
                "no operation could be decided: no evidence is never a pass",
            )
        )
    for cell in platform.operations:
        gate = decision.cell(platform.name, cell.operation)
        found += [_check_case(platform.name, cell, check, gate) for check in cell.checks()]
        found += _cell_cases(platform.name, cell, gate)
    return tuple(found)
