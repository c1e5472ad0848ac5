"""The release gate: declared capabilities, drift, baselines, expected failures and the one
decision that `conformance run`, `conformance matrix` and the pytest entry point all use.

Why one module: a gate computed in two places drifts apart. Annotations (declared claim, drift,
baseline change, expected failure) are facts about a cell and are stored in the matrix; the
decision depends on the policy (`--fail-on`) and is recomputed from the matrix by `decide()`.
Every renderer reads `Decision` and `cases()`, never its own rules.

Drift, declared (rows) vs observed (columns); inconclusive and untested are no evidence either
way, so they never drift:

    declared \\ observed  supported   partial     unsupported  failing
    supported            -           overclaim   overclaim    overclaim
    partial              underclaim  -           overclaim    overclaim
    unsupported          underclaim  underclaim  -            -  (failing gates on its own)

Baseline order, best first: supported > partial > unsupported > failing. A lower rank than the
baseline is `regressed`, a higher one `fixed`; a change to or from inconclusive / untested is
`unverified` (use `--fail-on inconclusive,untested` to be strict about missing evidence).

The gate fails (exit 1) on a cell whose verdict is in `--fail-on` (default: failing), an
overclaim, a regression, or a stale expected failure (listed as failing, now passing). An expected
failure that still holds waives that cell's verdict and its regression. A platform without any
decided cell is undecided: the run exits 2 when nothing failed but something was not decided, and
always when nothing at all was decided: no evidence is never green.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.config import read_toml
from conformance.contract import OperationId
from conformance.errors import ConfigError, UsageError
from conformance.findings import Finding
from conformance.results import (
    DECIDED,
    BaselineCell,
    Change,
    CheckResult,
    Claim,
    Declared,
    Drift,
    Expectation,
    OperationResult,
    PlatformResult,
    RunResult,
    load_matrices,
)
from conformance.verdicts import Verdict, reasons

MANIFEST_SUFFIX = ".declared.toml"
MATRIX_DIR = "capability_matrices"
REFERENCE_PREFIX = "reference:"
DEFAULT_FAIL_ON = frozenset({Verdict.failing})

_RANK = {Verdict.supported: 3, Verdict.partial: 2, Verdict.unsupported: 1, Verdict.failing: 0}
_CLAIM_RANK = {Claim.supported: 3, Claim.partial: 2, Claim.unsupported: 1}


# --------------------------------------------------------------------------- rules


def drift(claim: Claim, observed: Verdict) -> Drift | None:
    """The table in the module docstring."""
    if observed not in DECIDED:
        return None
    if claim == Claim.unsupported:
        return Drift.underclaim if observed in (Verdict.supported, Verdict.partial) else None
    rank = _RANK[observed]
    if rank < _CLAIM_RANK[claim]:
        return Drift.overclaim
    return Drift.underclaim if rank > _CLAIM_RANK[claim] else None


def change(before: Verdict | None, now: Verdict) -> Change:
    """How a cell moved since the baseline (order in the module docstring)."""
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


# --------------------------------------------------------------------------- manifests


@dataclass(frozen=True)
class Manifest:
    """A platform's declared capabilities (`<platform>.declared.toml`)."""

    platform: str | None
    source: str
    claims: Mapping[str, Declared]


def _operation(op: object, where: str) -> str:
    if op not in set(OperationId):
        raise ConfigError(
            f"{where}: unknown operation {op!r}", f"use one of {', '.join(OperationId)}"
        )
    return str(op)


def parse_manifest(data: dict[str, Any], source: str) -> Manifest:
    """Validate a manifest; a note is mandatory for every claim but `supported`."""
    unknown = sorted(set(data) - {"platform", "operations"})
    if unknown:
        raise ConfigError(f"manifest {source}: unknown keys {unknown}", "use platform, operations")
    platform = data.get("platform")
    if platform is not None and (not isinstance(platform, str) or not platform):
        raise ConfigError(f"manifest {source}: platform must be a name")
    rows = data.get("operations", {})
    if not isinstance(rows, dict):
        raise ConfigError(f"manifest {source}: [operations] must be a table")
    claims: dict[str, Declared] = {}
    for op, row in rows.items():
        where = f"manifest {source}, {op}"
        _operation(op, f"manifest {source}")
        if not isinstance(row, dict) or set(row) - {"status", "note"}:
            raise ConfigError(f"{where}: expected {{ status = ..., note = ... }}")
        try:
            status = Claim(str(row.get("status")))
        except ValueError:
            raise ConfigError(
                f"{where}: status {row.get('status')!r}", "use supported, partial or unsupported"
            ) from None
        note = row.get("note", "")
        if not isinstance(note, str) or (status != Claim.supported and not note.strip()):
            raise ConfigError(f"{where}: a {status.value} claim needs a note saying why")
        claims[op] = Declared(status, note.strip())
    return Manifest(platform, source, claims)


def read_manifest(path: Path, source: str | None = None) -> Manifest:
    return parse_manifest(read_toml(path, "manifest"), source or str(path))


def packaged_manifest(profile: str) -> Manifest | None:
    """The manifest shipped for a reference platform, if there is one."""
    file = resources.files("conformance.reference").joinpath("declared", profile + MANIFEST_SUFFIX)
    if not file.is_file():
        return None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:  # a packaging bug, but say so in one line
        raise ConfigError(f"packaged manifest {profile}: {exc}") from None
    return parse_manifest(data, f"packaged:{profile}")


def find_manifests(
    platforms: Sequence[tuple[str, str | None]], explicit: Sequence[Path], output_dir: Path | None
) -> dict[str, Manifest]:
    """Platform name → manifest: `--declared FILE` (its `platform` key says for whom, or the
    only platform), else `<output-dir>/capability_matrices/<name>.declared.toml`, else the
    packaged manifest of a reference platform (`platforms` pairs a name with its profile)."""
    names = [name for name, _ in platforms]
    found: dict[str, Manifest] = {}
    for path in explicit:
        given = read_manifest(path)
        name = given.platform
        if name is None:
            if len(names) != 1:
                raise ConfigError(
                    f"manifest {path} does not say which platform it is for",
                    'add platform = "<name>" at its top',
                )
            name = names[0]
        if name not in names:
            raise ConfigError(
                f"manifest {path} is for platform {name!r}, which is not in this run",
                f"this run has {', '.join(names)}",
            )
        found[name] = given
    for name, profile in platforms:
        if name in found:
            continue
        local = output_dir / MATRIX_DIR / f"{name}{MANIFEST_SUFFIX}" if output_dir else None
        manifest: Manifest | None = None
        if local is not None and local.is_file():
            manifest = read_manifest(local, f"{MATRIX_DIR}/{local.name}")
        elif profile is not None:
            manifest = packaged_manifest(profile)
        if manifest is not None:
            if manifest.platform not in (None, name, profile):
                raise ConfigError(
                    f"manifest {manifest.source} is for platform {manifest.platform!r}, "
                    f"not {name!r}",
                    "fix its platform key",
                )
            found[name] = manifest
    return found


def profile_of(platform: PlatformResult) -> str | None:
    """The reference profile a matrix was produced from, if any."""
    if platform.target.startswith(REFERENCE_PREFIX):
        return platform.target.removeprefix(REFERENCE_PREFIX)
    return None


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expectations:
    """An expected-failures file: (platform, operation) → why it is known to fail."""

    source: str
    entries: Mapping[tuple[str, str], Expectation]


def read_expectations(path: Path) -> Expectations:
    """`[[expected]]` tables with platform, operation, reason (mandatory) and optional codes."""
    data = read_toml(path, "expected-failures file")
    rows = data.get("expected", [])
    if set(data) - {"expected"} or not isinstance(rows, list):
        raise ConfigError(f"{path}: expected only [[expected]] tables")
    known = reasons()
    entries: dict[tuple[str, str], Expectation] = {}
    for index, row in enumerate(rows):
        where = f"{path} [[expected]] #{index + 1}"
        if not isinstance(row, dict) or set(row) - {"platform", "operation", "reason", "codes"}:
            raise ConfigError(f"{where}: keys are platform, operation, reason, codes")
        platform, reason = row.get("platform"), row.get("reason")
        if not isinstance(platform, str) or not platform:
            raise ConfigError(f"{where} needs a platform")
        operation = _operation(row.get("operation"), where)
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{where} ({platform} {operation}) has no reason",
                'every expected failure says why, e.g. reason = "JIRA-12: fix in 2.3"',
            )
        codes = row.get("codes", [])
        if not isinstance(codes, list) or any(
            not isinstance(c, str) or c not in known for c in codes
        ):
            raise ConfigError(f"{where}: codes must be reason codes from data/reasons.toml")
        if (platform, operation) in entries:
            raise ConfigError(f"{where}: {platform} {operation} is listed twice")
        entries[(platform, operation)] = Expectation(reason.strip(), tuple(codes))
    return Expectations(str(path), entries)


# --------------------------------------------------------------------------- annotation


@dataclass(frozen=True)
class Baseline:
    """Earlier matrices, by platform name."""

    source: str
    platforms: Mapping[str, PlatformResult]


def read_baseline(path: Path) -> Baseline:
    """A matrix file or a directory of them."""
    return Baseline(str(path), {p.name: p for p in load_matrices(path)})


def baseline_warnings(run: RunResult, baseline: Baseline) -> tuple[str, ...]:
    """A baseline from another contract or suite version compares only roughly: say so."""
    found = []
    for label, attr in (("contract", "contract_version"), ("suite", "suite_version")):
        old = {getattr(p.provenance, attr) for p in baseline.platforms.values()}
        new = {getattr(p.provenance, attr) for p in run.platforms}
        if old and new and old != new:
            found.append(
                f"the baseline is from {label} {', '.join(sorted(old))}, "
                f"this run from {', '.join(sorted(new))}"
            )
    return tuple(found)


@dataclass(frozen=True)
class GateInputs:
    """Everything a cell is compared with, loaded (and validated) before the run starts."""

    manifests: Mapping[str, Manifest] = dataclasses.field(default_factory=dict)
    baseline: Baseline | None = None
    expectations: Expectations | None = None
    replace_declared: bool = True  # False: keep what the matrix already holds when no manifest


def annotate(platform: PlatformResult, inputs: GateInputs) -> PlatformResult:
    """The platform with declared claims, drift, baseline changes and expectations filled in."""
    manifest = inputs.manifests.get(platform.name)
    before = inputs.baseline.platforms.get(platform.name) if inputs.baseline else None
    cells = []
    for cell in platform.operations:
        declared = cell.declared
        if manifest is not None or inputs.replace_declared:
            declared = manifest.claims.get(cell.operation) if manifest else None
        baseline = cell.baseline
        if inputs.baseline is not None:
            old = before.cell(cell.operation) if before else None
            baseline = BaselineCell(
                old.verdict if old else None,
                old.reasons if old else (),
                change(old.verdict if old else None, cell.verdict),
            )
        expected = cell.expected
        if inputs.expectations is not None:
            expected = inputs.expectations.entries.get((platform.name, cell.operation))
        cells.append(
            dataclasses.replace(
                cell,
                declared=declared,
                drift=drift(declared.status, cell.verdict) if declared else None,
                baseline=baseline,
                expected=expected,
            )
        )
    prov = platform.provenance
    if manifest is not None or inputs.replace_declared:
        prov = dataclasses.replace(prov, declared_source=manifest.source if manifest else None)
    if inputs.baseline is not None:
        prov = dataclasses.replace(
            prov,
            baseline_source=inputs.baseline.source,
            baseline_generated_at=before.provenance.generated_at if before else None,
        )
    if inputs.expectations is not None:
        prov = dataclasses.replace(prov, expected_failures_source=inputs.expectations.source)
    return dataclasses.replace(platform, operations=tuple(cells), provenance=prov)


def annotate_run(run: RunResult, inputs: GateInputs) -> RunResult:
    return RunResult(tuple(annotate(p, inputs) for p in run.platforms))


# --------------------------------------------------------------------------- decision


class Outcome(StrEnum):
    """The gate's answer; cli.py maps it to an exit code."""

    passed = "passed"
    """Something was decided and nothing the policy cares about went wrong."""
    failed = "failed"
    """A failing cell (per --fail-on), an overclaim, a regression or a stale expectation."""
    undecided = "undecided"
    """Nothing failed, but a platform (or the whole run) has no decided cell."""


class Problem(StrEnum):
    """Why a cell fails the gate."""

    verdict = "verdict"
    """Its verdict is one of --fail-on."""
    overclaim = "overclaim"
    """Declared better than observed."""
    regression = "regression"
    """Worse than the baseline."""
    stale = "stale_expectation"
    """Listed as an expected failure, but it passes now: the list must be kept true."""


class Expected(StrEnum):
    """What became of an expected failure."""

    held = "expected"
    """The cell fails as listed: its failure is waived."""
    stale = "stale"
    """The cell passes now."""
    unmatched = "unmatched"
    """The cell fails with reason codes the entry does not list: not waived."""
    unverified = "unverified"
    """The cell is inconclusive or untested: no evidence either way."""


@dataclass(frozen=True)
class CellGate:
    """The gate's view of one cell."""

    platform: str
    operation: str
    verdict: Verdict
    problems: tuple[Problem, ...]
    expected: Expected | None
    waived: bool  # a failure (verdict or regression) waived by an expectation that held

    @property
    def fails(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class Decision:
    """The gate over a whole run: one per run, read by the CLI and every renderer."""

    outcome: Outcome
    fail_on: frozenset[Verdict]
    cells: tuple[CellGate, ...]
    undecided: tuple[str, ...]  # platforms without any decided cell

    def cell(self, platform: str, operation: str) -> CellGate:
        for gate in self.cells:
            if gate.platform == platform and gate.operation == operation:
                return gate
        raise KeyError((platform, operation))

    def failures(self, kind: Problem | None = None) -> tuple[CellGate, ...]:
        return tuple(c for c in self.cells if c.fails and (kind is None or kind in c.problems))

    def problem_counts(self) -> dict[Problem, int]:
        return {kind: len(self.failures(kind)) for kind in Problem}

    def headline(self) -> str:
        """One parseable line: what the gate decided and why."""
        if self.outcome == Outcome.passed:
            waived = sum(c.waived for c in self.cells)
            return "gate passed" + (f" ({waived} expected failures)" if waived else "")
        parts = [
            f"{n} {_PROBLEM_WORDS[kind][n != 1]}" for kind, n in self.problem_counts().items() if n
        ]
        if self.undecided:
            parts.append("nothing decided for " + ", ".join(self.undecided))
        return f"gate {self.outcome.value}: " + "; ".join(parts)


_PROBLEM_WORDS = {
    Problem.verdict: ("cell with a gated verdict", "cells with a gated verdict"),
    Problem.overclaim: ("overclaim", "overclaims"),
    Problem.regression: ("regression", "regressions"),
    Problem.stale: ("stale expected failure", "stale expected failures"),
}


def expectation(cell: OperationResult, fail_on: frozenset[Verdict]) -> Expected | None:
    if cell.expected is None:
        return None
    if cell.verdict in fail_on:
        covered = not cell.expected.codes or set(cell.reasons) <= set(cell.expected.codes)
        return Expected.held if covered else Expected.unmatched
    return Expected.stale if cell.decided else Expected.unverified


def _cell_gate(platform: str, cell: OperationResult, fail_on: frozenset[Verdict]) -> CellGate:
    outcome = expectation(cell, fail_on)
    waived = outcome == Expected.held
    problems: list[Problem] = []
    if cell.verdict in fail_on and not waived:
        problems.append(Problem.verdict)
    if cell.drift == Drift.overclaim:
        problems.append(Problem.overclaim)
    regressed = cell.baseline is not None and cell.baseline.change == Change.regressed
    if regressed and not waived:
        problems.append(Problem.regression)
    if outcome == Expected.stale:
        problems.append(Problem.stale)
    return CellGate(platform, cell.operation, cell.verdict, tuple(problems), outcome, waived)


def decide(run: RunResult, fail_on: Iterable[Verdict] = DEFAULT_FAIL_ON) -> Decision:
    """The one gate decision (module docstring)."""
    policy = frozenset(fail_on)
    cells = tuple(_cell_gate(p.name, cell, policy) for p in run.platforms for cell in p.operations)
    undecided = tuple(p.name for p in run.platforms if not p.decided)
    if not run.any_evidence:
        outcome = Outcome.undecided
    elif any(c.fails for c in cells):
        outcome = Outcome.failed
    else:
        outcome = Outcome.undecided if undecided else Outcome.passed
    return Decision(outcome, policy, cells, undecided)


# --------------------------------------------------------------------------- cases


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
    known = reasons()
    return known[finding.reason].verdict if finding.reason in known else cell.verdict


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
