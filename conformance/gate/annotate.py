"""Facts about each cell, stored in the matrix: declared claim, drift, baseline change and
expected failure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from conformance.gate.inputs import Baseline, Expectations, Manifest
from conformance.gate.rules import DEFAULT_FAIL_ON, change, drift
from conformance.results import (
    BaselineCell,
    PlatformResult,
    RunResult,
)
from conformance.verdicts import Verdict


@dataclass(frozen=True)
class GateInputs:
    """Everything a cell is compared with, loaded (and validated) before the run starts, and
    the policy: which verdicts fail the gate (`--fail-on`)."""

    manifests: Mapping[str, Manifest] = dataclasses.field(default_factory=dict)
    baseline: Baseline | None = None
    expectations: Expectations | None = None
    replace_declared: bool = True  # False: keep what the matrix already holds when no manifest
    fail_on: frozenset[Verdict] = DEFAULT_FAIL_ON


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
