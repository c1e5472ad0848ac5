"""`conformance matrix DIR ...`: read the matrices of one or more runs (e.g. one CI job per
platform), merge them, apply the gate, and build the cross-platform page.

Why a separate command: platforms are often tested in separate jobs, and product teams want one
page; the gate over the merged matrices is the same `conformance.gate.decide()` that `run` uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance import gate
from conformance.errors import UsageError
from conformance.gate import Decision, GateInputs
from conformance.render.html import render_matrix_page
from conformance.render.summary import render_summary
from conformance.results import PlatformResult, RunResult, load_matrices

DEFAULT_OUTPUT = "capability-matrix.html"


@dataclass(frozen=True)
class MatrixView:
    """The merged run, its gate decision, and what a reader should be warned about."""

    run: RunResult
    decision: Decision
    warnings: tuple[str, ...]

    def page(self, title: str | None = None) -> str:
        return render_matrix_page(self.run, self.decision, title)

    def summary(self) -> str:
        return render_summary(self.run, self.decision)


def merge(paths: Sequence[Path]) -> tuple[RunResult, tuple[str, ...]]:
    """All matrices under `paths`, in the order given; a platform may appear only once."""
    found: dict[str, tuple[PlatformResult, Path]] = {}
    for path in paths:
        for platform in load_matrices(path):
            if platform.name in found:
                raise UsageError(
                    f"platform {platform.name!r} is in {found[platform.name][1]} and {path}",
                    "give each platform's matrices once",
                )
            found[platform.name] = (platform, path)
    run = RunResult(tuple(p for p, _ in found.values()))
    return run, _version_warnings(run.platforms)


def _version_warnings(platforms: Iterable[PlatformResult]) -> tuple[str, ...]:
    """Matrices from different suite or contract versions are not strictly comparable."""
    warnings = []
    listed = list(platforms)
    for label, attr in (("suite", "suite_version"), ("contract", "contract_version")):
        versions = sorted({getattr(p.provenance, attr) for p in listed})
        if len(versions) > 1:
            warnings.append(
                f"the matrices come from different {label} versions: " + ", ".join(versions)
            )
    return tuple(warnings)


def build(
    paths: Sequence[Path],
    *,
    declared: Sequence[Path] = (),
    baseline: Path | None = None,
    expected: Path | None = None,
    fail_on: str | None = None,
) -> MatrixView:
    """Merge, re-annotate with whatever the flags give (else keep what the matrices hold), decide.

    Every input is read before anything is decided, so a bad flag is a usage error (exit 2).
    """
    policy = gate.parse_fail_on(fail_on) if fail_on else gate.DEFAULT_FAIL_ON
    run, warnings = merge(paths)
    if not run.platforms:
        raise UsageError("no capability matrices given", "pass a capability_matrices/ directory")
    inputs = GateInputs(
        manifests=gate.find_manifests(
            [(p.name, gate.profile_of(p)) for p in run.platforms], declared, None
        )
        if declared
        else {},
        baseline=gate.read_baseline(baseline) if baseline else None,
        expectations=gate.read_expectations(expected) if expected else None,
        replace_declared=False,
    )
    run = gate.annotate_run(run, inputs)
    if inputs.baseline is not None:
        warnings += gate.baseline_warnings(run, inputs.baseline)
    return MatrixView(run, gate.decide(run, policy), warnings)
