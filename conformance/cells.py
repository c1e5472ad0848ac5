"""One cell of the matrix (an operation on a platform) and its checks: the verdict, the reasons
and findings behind it, and the views renderers show of it (its checks, its kind of absence).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.annotations import BaselineCell, Declared, Drift, Expectation
from conformance.findings import Finding
from conformance.verdicts import DECIDED, ReasonCode, Verdict, combine, verdict_of


class Absence(StrEnum):
    """The two kinds of `unsupported`, which mean different things to a reader."""

    absent = "absent"
    """The platform has no such operation (501 or 405: reason not_supported)."""
    not_allowed = ReasonCode.not_allowed
    """Only the buyer or the marketplace may do it (403: reason not_allowed)."""


_ABSENCE_OF: dict[str, Absence] = {
    ReasonCode.not_supported: Absence.absent,
    ReasonCode.not_allowed: Absence.not_allowed,
}


@dataclass(frozen=True)
class CheckResult:
    """One named check of one operation: its tally and the findings it produced."""

    name: str
    run: int
    passed: int
    findings: tuple[Finding, ...]
    verdict: Verdict | None  # the most severe verdict among the findings; None without any


@dataclass(frozen=True)
class Retried:
    """The requests of one operation that got transient answers before their reply (contract
    section 2: one that then succeeds is a note, saying how many needed a retry; shown as WPT
    shows flaky tests, never swallowed)."""

    requests: int
    answers: tuple[tuple[str, int], ...]  # (transient answer, how many times), most first
    exhausted: int = 0  # of `requests`: still only transient answers when the budget ran out

    @classmethod
    def of(cls, requests: list[tuple[str, ...]], exhausted: int = 0) -> Retried | None:
        """The tally of an operation's retried requests (each: its transient answers)."""
        if not requests:
            return None
        counts = Counter(answer for answers in requests for answer in answers)
        return cls(len(requests), _most_first(counts), exhausted)

    @property
    def why(self) -> str:
        """The transient answers with their counts: `503 ×21, 502 ×20`."""
        return ", ".join(f"{answer} ×{n}" for answer, n in self.answers)

    @property
    def note(self) -> str:
        """The sentence the cell's notes, the terminal and the reports show."""
        why = self.why
        plural = "request" if self.requests == 1 else "requests"
        head = f"{self.requests} {plural} needed a retry ({why})"
        if not self.exhausted:
            return head + (
                ", and each then succeeded" if self.requests > 1 else ", and then succeeded"
            )
        return (
            f"{head}; {self.exhausted} of them still got only transient answers after the retry "
            "budget (see the findings)"
        )

    @property
    def short(self) -> str:
        """The tally in a few words, for one line per platform: `41 (503 ×21, 502 ×20)`."""
        ran_out = f", {self.exhausted} still refused after the budget" if self.exhausted else ""
        return f"{self.requests} ({self.why}{ran_out})"

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answers": dict(self.answers),
            "exhausted": self.exhausted,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Retried:
        answers = {str(k): int(v) for k, v in dict(data.get("answers", {})).items()}
        return cls(int(data["requests"]), _most_first(answers), int(data.get("exhausted", 0)))


def _most_first(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """(answer, count) pairs, the most frequent first, then by name: one order everywhere."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass(frozen=True)
class OperationResult:
    """One cell: the verdict of one operation on one platform, and why."""

    operation: str
    verdict: Verdict
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    checks_run: int = 0
    checks_passed: int = 0
    notes: tuple[str, ...] = ()
    rerun: str | None = None
    by_check: tuple[tuple[str, int, int], ...] = ()  # (check name, run, passed), by name
    declared: Declared | None = None
    drift: Drift | None = None
    baseline: BaselineCell | None = None
    expected: Expectation | None = None
    retried: Retried | None = None  # the requests that needed a retry (transient answers)

    @property
    def decided(self) -> bool:
        """The cell is evidence about the platform (not inconclusive, not untested)."""
        return self.verdict in DECIDED

    @property
    def absence(self) -> Absence | None:
        """For an unsupported cell, which kind (by its first reason that tells); else None."""
        if self.verdict != Verdict.unsupported:
            return None
        return next((_ABSENCE_OF[r] for r in self.reasons if r in _ABSENCE_OF), None)

    @property
    def declared_differs(self) -> bool:
        """The manifest claims something other than the observed verdict (drift or not: an
        inconclusive cell never drifts, but its claim still differs from what was seen)."""
        return self.declared is not None and self.declared.status.value != self.verdict.value

    def checks(self) -> tuple[CheckResult, ...]:
        """Every check of the operation, tallied or only named by a finding, in name order.

        One JUnit testcase and one pytest item each. A finding's verdict comes from its reason
        code; a code this suite does not know (a matrix from a newer suite) counts as the cell's.
        """
        tallies = {name: (run, ok) for name, run, ok in self.by_check}
        names = sorted(set(tallies) | {f.check for f in self.findings})
        result = []
        for name in names:
            found = tuple(f for f in self.findings if f.check == name)
            verdicts = [verdict_of(f.reason, self.verdict) for f in found]
            run, ok = tallies.get(name, (len(found), 0))
            result.append(CheckResult(name, run, ok, found, combine(verdicts) if found else None))
        return tuple(result)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.verdict.value,
            "reasons": list(self.reasons),
            "findings": [f.to_json() for f in self.findings],
            "checks": {
                "run": self.checks_run,
                "passed": self.checks_passed,
                "byName": {name: {"run": run, "passed": ok} for name, run, ok in self.by_check},
            },
            "notes": list(self.notes),
        }
        if self.retried:
            data["retried"] = self.retried.to_json()
        if self.rerun:
            data["reproduce"] = self.rerun
        data["declared"] = self.declared.to_json() if self.declared else None
        data["drift"] = self.drift.value if self.drift else None
        data["baseline"] = self.baseline.to_json() if self.baseline else None
        data["expected"] = self.expected.to_json() if self.expected else None
        return data

    @classmethod
    def from_json(cls, operation: str, data: dict[str, Any]) -> OperationResult:
        checks = data.get("checks", {})
        return cls(
            operation=operation,
            verdict=Verdict(data["status"]),
            reasons=tuple(data["reasons"]),
            findings=tuple(Finding.from_json(operation, f) for f in data["findings"]),
            checks_run=int(checks.get("run", 0)),
            checks_passed=int(checks.get("passed", 0)),
            notes=tuple(data.get("notes", [])),
            rerun=data.get("reproduce"),
            by_check=tuple(
                (name, int(t["run"]), int(t["passed"]))
                for name, t in sorted(checks.get("byName", {}).items())
            ),
            declared=Declared.from_json(data["declared"]) if data.get("declared") else None,
            drift=Drift(data["drift"]) if data.get("drift") else None,
            baseline=BaselineCell.from_json(data["baseline"]) if data.get("baseline") else None,
            expected=Expectation.from_json(data["expected"]) if data.get("expected") else None,
            retried=Retried.from_json(data["retried"]) if data.get("retried") else None,
        )

    @property
    def top_reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None
