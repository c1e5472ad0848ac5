"""The one results model of a run. Every output (JSON matrix, Markdown, JUnit, HTML, terminal)
renders it, and the views every renderer shows (checks per operation, tier roll-ups, what was
decided) live here so that no renderer computes anything of its own.

`PlatformResult.to_json()` is the capability matrix format (schemas/capability-matrix.schema.json)
and `from_json()` reads one back, validating it first, so a truncated or foreign file is an error
rather than a silently wrong report. A cell also carries what the gate compares it with (the
connector's declared claim and its drift, the baseline's verdict, an expected failure): those are
filled in by `conformance.gate`, stored in the matrix, and read back like everything else.

The cell and its checks are in `conformance.cells`, the gate's annotations in
`conformance.annotations`; both are importable from here as before.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import schemas
from conformance.annotations import (
    BaselineCell,
    Change,
    Claim,
    Declared,
    Drift,
    Expectation,
)
from conformance.cells import Absence, CheckResult, OperationResult
from conformance.contract import OperationId, lifecycle, operations
from conformance.errors import UsageError
from conformance.statuses import return_status
from conformance.verdicts import DECIDED, WORKING, Verdict

__all__ = [
    "DECIDED",
    "MATRIX_SCHEMA",
    "SCHEMA_VERSION",
    "TIERS",
    "WORKING",
    "Absence",
    "BaselineCell",
    "Change",
    "CheckResult",
    "Claim",
    "Declared",
    "Drift",
    "Expectation",
    "OperationResult",
    "PlatformResult",
    "Provenance",
    "RunResult",
    "TierRollup",
    "load_matrices",
    "load_matrix_files",
]

SCHEMA_VERSION = "1.1"
MATRIX_SCHEMA = "capability-matrix.schema.json"

TIERS = ("read", "write", "workflow")


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
    declared_source: str | None = None  # where the manifest came from; None: no manifest
    baseline_source: str | None = None  # the baseline compared with; None: no baseline
    baseline_generated_at: str | None = None
    expected_failures_source: str | None = None
    interrupted: bool = False  # Ctrl-C cut the run short: untried cells are untested

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
            "declaredSource": self.declared_source,
            "baselineSource": self.baseline_source,
            "baselineGeneratedAt": self.baseline_generated_at,
            "expectedFailuresSource": self.expected_failures_source,
        } | ({"interrupted": True} if self.interrupted else {})

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
            declared_source=data.get("declaredSource"),
            baseline_source=data.get("baselineSource"),
            baseline_generated_at=data.get("baselineGeneratedAt"),
            expected_failures_source=data.get("expectedFailuresSource"),
            interrupted=bool(data.get("interrupted", False)),
        )


@dataclass(frozen=True)
class TierRollup:
    """One tier of a platform's roll-up: operations usable (supported or partial) of the tier;
    `total` leaves out those the platform does not need (`not_needed`)."""

    tier: str
    working: int
    total: int
    failing: int
    not_needed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Created:
    """Something the run created on the target, as the findings JSON lists it under `created`."""

    kind: str  # "return" or "returnFulfillment"
    id: str
    order_id: str
    status: str  # when the run ended: an open return is one the platform would not cancel
    # A return: whether an answer showed the suite's note on it. False: the platform kept no
    # note, so only this id tells a store owner the suite made it. None for a fulfillment.
    marked: bool | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "id": self.id,
            "orderId": self.order_id,
            "status": self.status,
        }
        if self.marked is not None:
            data["marked"] = self.marked
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Created:
        return cls(data["kind"], data["id"], data["orderId"], data["status"], data.get("marked"))


@dataclass(frozen=True)
class PlatformResult:
    """One platform's capability matrix."""

    name: str
    imitates: str | None
    target: str
    provenance: Provenance
    operations: tuple[OperationResult, ...]
    created: tuple[Created, ...] = ()
    # lifecycle.newReturnStatus: the status createReturn gave the returns the run created
    # ("requested" / "approved"); None when none was created, or in an older matrix.
    new_return_status: str | None = None

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

    @property
    def decided(self) -> bool:
        """At least one cell is evidence; a platform without any must never pass a gate."""
        return any(r.decided for r in self.operations)

    @property
    def unresolved(self) -> int:
        """Cells a reader must look at: failing or inconclusive."""
        c = self.counts()
        return c[Verdict.failing] + c[Verdict.inconclusive]

    def with_drift(self, drift: Drift) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.operations if r.drift == drift)

    def created_returns(self) -> tuple[Created, ...]:
        return tuple(c for c in self.created if c.kind == "return")

    def still_open(self) -> tuple[Created, ...]:
        """Returns the run made that the platform would not cancel: left for the store owner."""
        return tuple(
            c for c in self.created_returns() if return_status(c.status) in lifecycle().open()
        )

    def unmarked(self) -> tuple[Created, ...]:
        """Returns the run made that show no note: only their ids say the suite made them."""
        return tuple(c for c in self.created_returns() if c.marked is False)

    def not_needed(self) -> dict[str, str]:
        """Operations the platform lacks but does not need, with why (operation -> reason).

        Where new returns come back approved (`new_return_status`), there is no seller decision
        to make: an unsupported approveReturn / rejectReturn is by design, not a gap. Which
        actions a new return can never reach is read from the lifecycle table. Any other
        verdict of those cells (supported, failing, ...) counts as usual.
        """
        new = return_status(self.new_return_status)  # APPROVED stands for approved
        if new not in lifecycle().new:  # none created, or a platform's own value: no claim
            return {}
        table = lifecycle()
        unreachable = [op for op in table.actions if new not in table.from_status(op)]
        steps = " or ".join(op.removesuffix("Return") for op in unreachable)
        why = f"new returns come back {new}: there is no {steps} step"
        return {
            r.operation: why
            for r in self.operations
            if r.operation in unreachable and r.verdict == Verdict.unsupported
        }

    def rollup(self) -> tuple[TierRollup, ...]:
        """Read / write / workflow: how many operations of each tier a client can use, out of
        those the platform needs."""
        tier_of = {op.id: op.tier for op in operations()}
        skip = self.not_needed()
        rows = []
        for tier in TIERS:
            cells = [r for r in self.operations if tier_of.get(r.operation) == tier]
            needed = [r for r in cells if r.operation not in skip]
            rows.append(
                TierRollup(
                    tier,
                    working=sum(r.verdict in WORKING for r in needed),
                    total=len(needed),
                    failing=sum(r.verdict == Verdict.failing for r in needed),
                    not_needed=tuple(r.operation for r in cells if r.operation in skip),
                )
            )
        return tuple(rows)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        summary = {v.value: counts[v] for v in Verdict}
        summary |= {"passed": self.passed, "failed": self.failed}
        data: dict[str, Any] = {
            "schemaVersion": SCHEMA_VERSION,
            "platform": {"name": self.name, "imitates": self.imitates, "target": self.target},
            "provenance": self.provenance.to_json(),
            "summary": summary,
            "operations": {r.operation: r.to_json() for r in self.operations},
            "created": [entry.to_json() for entry in self.created],
        }
        if self.new_return_status is not None:  # only when known: older readers stay happy
            data["lifecycle"] = {"newReturnStatus": self.new_return_status}
        return data

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
            created=tuple(Created.from_json(c) for c in data.get("created", [])),
            new_return_status=(data.get("lifecycle") or {}).get("newReturnStatus"),
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
        return any(p.decided for p in self.platforms)

    def counts(self) -> Counter[Verdict]:
        total: Counter[Verdict] = Counter()
        for platform in self.platforms:
            total.update(platform.counts())
        return total

    def platform(self, name: str) -> PlatformResult:
        for result in self.platforms:
            if result.name == name:
                return result
        raise KeyError(name)

    def generated_span(self) -> tuple[str, str] | None:
        """The earliest and latest `generatedAt` of the matrices (RFC 3339 UTC, as written)."""
        stamps = sorted(p.provenance.generated_at for p in self.platforms)
        return (stamps[0], stamps[-1]) if stamps else None

    def versions(self, kind: str) -> dict[str, tuple[str, ...]]:
        """`suite` or `contract` version -> the platforms whose matrices carry it, by version."""
        attr = {"suite": "suite_version", "contract": "contract_version"}[kind]
        found: dict[str, list[str]] = {}
        for platform in self.platforms:
            found.setdefault(getattr(platform.provenance, attr), []).append(platform.name)
        return {version: tuple(found[version]) for version in sorted(found)}


def load_matrices(path: Path) -> tuple[PlatformResult, ...]:
    """Matrices from one file, or from every `*.json` directly inside a directory.

    Every file must be a valid matrix: a truncated or foreign JSON file there is an error, not
    something to skip, because a gate that quietly reads fewer platforms is a wrong gate.
    """
    return tuple(platform for platform, _ in load_matrix_files(path))


def load_matrix_files(path: Path) -> tuple[tuple[PlatformResult, Path], ...]:
    """`load_matrices`, with the file each matrix was read from (to find the run's reports)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if path.is_dir() and not files:
        raise UsageError(
            f"{path} holds no capability matrices (*.json)",
            "point at the capability_matrices/ directory of a run",
        )
    found = []
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"{file} does not exist", "check the path") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(
                f"{file} is not readable JSON: {exc}", "regenerate it with `conformance run`"
            ) from None
        found.append((PlatformResult.from_json(data, source=str(file)), file))
    return tuple(found)
