"""The one results model of a run. Every output (JSON matrix, Markdown, terminal) renders it.

`PlatformResult.to_json()` is the capability matrix format (schemas/capability-matrix.schema.json)
and `from_json()` reads one back, validating it first, so a truncated or foreign file is an error
rather than a silently wrong report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance import schemas
from conformance.contract import OperationId
from conformance.errors import UsageError
from conformance.findings import Finding
from conformance.verdicts import Verdict

SCHEMA_VERSION = "1.0"
MATRIX_SCHEMA = "capability-matrix.schema.json"


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
        if self.rerun:
            data["reproduce"] = self.rerun
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
        )

    @property
    def top_reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


@dataclass(frozen=True)
class Provenance:
    suite_version: str
    contract_version: str
    schema_hash: str
    seed: int
    generated_at: str
    target: str
    started_at: str
    duration_seconds: float
    writes_allowed: bool
    act_on_existing: bool
    max_examples: int
    command: str

    def to_json(self) -> dict[str, Any]:
        return {
            "suiteVersion": self.suite_version,
            "contractVersion": self.contract_version,
            "schemaHash": self.schema_hash,
            "seed": self.seed,
            "generatedAt": self.generated_at,
            "target": self.target,
            "startedAt": self.started_at,
            "durationSeconds": round(self.duration_seconds, 3),
            "writesAllowed": self.writes_allowed,
            "actOnExisting": self.act_on_existing,
            "maxExamples": self.max_examples,
            "command": self.command,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Provenance:
        return cls(
            suite_version=data["suiteVersion"],
            contract_version=data["contractVersion"],
            schema_hash=data["schemaHash"],
            seed=int(data["seed"]),
            generated_at=data["generatedAt"],
            target=data["target"],
            started_at=data.get("startedAt", data["generatedAt"]),
            duration_seconds=float(data.get("durationSeconds", 0.0)),
            writes_allowed=bool(data.get("writesAllowed", False)),
            act_on_existing=bool(data.get("actOnExisting", False)),
            max_examples=int(data.get("maxExamples", 0)),
            command=data.get("command", ""),
        )


@dataclass(frozen=True)
class PlatformResult:
    """One platform's capability matrix."""

    name: str
    imitates: str | None
    target: str
    provenance: Provenance
    operations: tuple[OperationResult, ...]

    def cell(self, operation: str) -> OperationResult:
        for result in self.operations:
            if result.operation == operation:
                return result
        raise KeyError(operation)

    def counts(self) -> Counter[Verdict]:
        return Counter(r.verdict for r in self.operations)

    @property
    def passed(self) -> int:
        """Cells that hold: the operation works, or is honestly declared absent."""
        c = self.counts()
        return c[Verdict.supported] + c[Verdict.partial] + c[Verdict.unsupported]

    @property
    def failed(self) -> int:
        return self.counts()[Verdict.failing]

    @property
    def skipped(self) -> int:
        c = self.counts()
        return c[Verdict.inconclusive] + c[Verdict.untested]

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        summary = {v.value: counts[v] for v in Verdict}
        summary |= {"passed": self.passed, "failed": self.failed}
        return {
            "schemaVersion": SCHEMA_VERSION,
            "platform": {"name": self.name, "imitates": self.imitates, "target": self.target},
            "provenance": self.provenance.to_json(),
            "summary": summary,
            "operations": {r.operation: r.to_json() for r in self.operations},
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "matrix") -> PlatformResult:
        problems = schemas.violations(MATRIX_SCHEMA, data)
        if problems:
            raise UsageError(
                f"{source} is not a capability matrix: {problems[0]}",
                "regenerate it with `conformance run`",
            )
        platform = data["platform"]
        return cls(
            name=platform["name"],
            imitates=platform.get("imitates"),
            target=platform["target"],
            provenance=Provenance.from_json(data["provenance"]),
            operations=tuple(
                OperationResult.from_json(op, data["operations"][op]) for op in OperationId
            ),
        )


@dataclass(frozen=True)
class RunResult:
    """All platforms of one run."""

    platforms: tuple[PlatformResult, ...] = field(default=())

    @property
    def passed(self) -> int:
        return sum(p.passed for p in self.platforms)

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self.platforms)

    @property
    def skipped(self) -> int:
        return sum(p.skipped for p in self.platforms)

    @property
    def any_evidence(self) -> bool:
        """False when no cell of any platform was decided: a gate must never pass on that."""
        return any(r.verdict != Verdict.untested for p in self.platforms for r in p.operations)
