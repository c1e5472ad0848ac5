"""`conformance matrix DIR ...`: read the matrices of one or more runs (e.g. one CI job per
platform), merge them, apply the gate, and build the cross-platform page.

Why a separate command: platforms are often tested in separate jobs, and product teams want one
page; the gate over the merged matrices is the same `conformance.gate.decide()` that `run` uses.

Each cell of the page links to the evidence in its platform's report. A run writes its matrices
to `<output-dir>/capability_matrices/<platform>.json` and its reports to
`<output-dir>/reports/<platform>/report.html`, so the report of a matrix is found next to where
the matrix was read, and linked relative to where the page is written. A report is linked only if
it is there and was written with that very matrix (its `conformance-report` meta names the
platform and the matrix's generation time): never a dead link, never another run's evidence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from conformance import gate
from conformance.errors import UsageError
from conformance.gate import Decision, GateInputs
from conformance.output import REPORT_DIR
from conformance.render.html import render_matrix_page, report_stamp
from conformance.render.summary import render_summary
from conformance.results import PlatformResult, RunResult, load_matrix_files
from conformance.runner import complete

DEFAULT_OUTPUT = "capability-matrix.html"
REPORT_FILE = "report.html"
_STAMP_BYTES = 4096  # the meta is in the report's <head>


@dataclass(frozen=True)
class MatrixView:
    """The merged run, its gate decision, and what a reader should be warned about."""

    run: RunResult
    decision: Decision
    warnings: tuple[str, ...]
    sources: Mapping[str, Path] = field(default_factory=dict)  # platform -> its matrix file

    def page(self, title: str | None = None, output: Path | None = None) -> str:
        """The HTML page; with `output` (where it will be written), cells link to the reports.

        Without `output` the page cannot know where the reports are relative to it, so it
        links none (rather than links that might lead nowhere).
        """
        links = report_links(self.run, self.sources, output) if output else {}
        return render_matrix_page(self.run, self.decision, title, links)

    def summary(self) -> str:
        return render_summary(self.run, self.decision)


def report_links(run: RunResult, sources: Mapping[str, Path], output: Path) -> dict[str, str]:
    """Platform -> URL of its report.html relative to the page at `output`, for every platform
    whose report sits beside its matrix and belongs to it (module docstring)."""
    links = {}
    for platform in run.platforms:
        source = sources.get(platform.name)
        if source is None:
            continue
        report = source.parent.parent / REPORT_DIR / platform.name / REPORT_FILE
        try:
            with report.open("rb") as handle:
                head = handle.read(_STAMP_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        if report_stamp(platform) not in head:
            continue
        relative = os.path.relpath(os.path.abspath(report), os.path.abspath(output.parent))
        links[platform.name] = quote(Path(relative).as_posix())
    return links


def merge(paths: Sequence[Path]) -> tuple[RunResult, tuple[str, ...]]:
    """All matrices under `paths`, in the order given; a platform may appear only once."""
    run, warnings, _ = _merge(paths)
    return run, warnings


def _merge(paths: Sequence[Path]) -> tuple[RunResult, tuple[str, ...], dict[str, Path]]:
    found: dict[str, tuple[PlatformResult, Path, Path]] = {}
    for path in paths:
        for platform, file in load_matrix_files(path):
            if platform.name in found:
                raise UsageError(
                    f"platform {platform.name!r} is in {found[platform.name][1]} and {path}",
                    "give each platform's matrices once",
                )
            found[platform.name] = (platform, path, file)
    run = RunResult(tuple(p for p, _, _ in found.values()))
    sources = {name: file for name, (_, _, file) in found.items()}
    return run, _version_warnings(run), sources


def _version_warnings(run: RunResult) -> tuple[str, ...]:
    """Matrices from different suite or contract versions are not strictly comparable."""
    warnings = []
    for label in ("suite", "contract"):
        versions = run.versions(label)
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
    run, warnings, sources = _merge(paths)
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
        fail_on=policy,
    )
    done = complete(run, inputs)
    return MatrixView(done.result, done.decision, (*warnings, *done.warnings), sources)
