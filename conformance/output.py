"""Which files a run writes, and writing them atomically: every file is complete or absent,
never half-written.

Per platform: `capability_matrices/<platform>.json` (the matrix) and `.md`,
`reports/<platform>/findings.json`, `junit.xml` and `report.html`; per run:
`reports/summary.md` (for `$GITHUB_STEP_SUMMARY`). Every file is rendered from the matrix as it
was serialised and read back (`PlatformResult.from_json(to_json())`), so the reports can never
say something the JSON does not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conformance import schemas
from conformance.errors import UsageError
from conformance.gate import Decision
from conformance.render import html, junit, markdown, summary
from conformance.render import json as json_render
from conformance.repro import REPRO_DIR, repro_files
from conformance.results import MATRIX_SCHEMA, PlatformResult, RunResult

MATRIX_DIR = "capability_matrices"
REPORT_DIR = "reports"
SUMMARY_FILE = "summary.md"
REFUSED_FILE = "matrix.refused.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_writable(output_dir: Path) -> None:
    """Fail before the run, not after it, when the outputs cannot be written."""
    try:
        for sub in (MATRIX_DIR, REPORT_DIR):
            (output_dir / sub).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output_dir / MATRIX_DIR):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot write to {output_dir}: {exc.strerror or exc.__class__.__name__}",
            "choose a writable --output-dir",
        ) from None


def check_names(names: list[str]) -> None:
    """Platform names become file names: refuse ones that would escape or collide."""
    for name in names:
        if not _SAFE_NAME.match(name) or ".." in name:
            raise UsageError(
                f"platform name {name!r} cannot be a file name",
                "use letters, digits, '.', '_' and '-'",
            )


@dataclass(frozen=True)
class Refused:
    """A platform whose matrix the suite could not write: its own schema refused it, or a
    renderer failed on it. Either is the suite's bug (exit 3); `file` keeps what it built."""

    platform: str
    problem: str
    file: Path | None = None

    def line(self) -> str:
        kept = f"; what it built is in {self.file}" if self.file else ""
        return f"{self.platform}: {self.problem}{kept}"


@dataclass(frozen=True)
class Plan:
    """Every file a run writes, and what could not be written (the suite's own failures)."""

    files: dict[Path, str]
    refused: tuple[Refused, ...] = ()


def reread(run: RunResult) -> RunResult:
    """The run as its matrices say it: what every report is rendered from."""
    return RunResult(
        tuple(PlatformResult.from_json(p.to_json(), source=p.name) for p in run.platforms)
    )


def _platform_files(
    platform: PlatformResult, output_dir: Path, decision: Decision
) -> dict[Path, str]:
    reports = output_dir / REPORT_DIR / platform.name
    files = {
        output_dir / MATRIX_DIR / f"{platform.name}.json": json_render.render_matrix(platform),
        output_dir / MATRIX_DIR / f"{platform.name}.md": markdown.render_platform(platform),
        reports / "findings.json": json_render.render_findings(platform),
        reports / "junit.xml": junit.render_platform(platform, decision),
        reports / "report.html": html.render_platform_report(platform, decision),
    }
    for name, text in repro_files(platform).items():
        files[reports / REPRO_DIR / name] = text
    return files


def plan(run: RunResult, output_dir: Path, decision: Decision) -> Plan:
    """Each platform's files, rendered from its matrix as read back. A matrix the schema
    refuses, or one a renderer fails on, loses only that platform's files: its JSON as built
    goes to reports/<platform>/matrix.refused.json (outside capability_matrices/, which
    `conformance matrix` reads), and the other platforms and the summary are still written."""
    files: dict[Path, str] = {}
    refused: list[Refused] = []
    shown: list[PlatformResult] = []
    for platform in run.platforms:
        data = platform.to_json()
        problems = schemas.violations(MATRIX_SCHEMA, data)
        try:
            if problems:
                raise ValueError(f"the matrix schema refuses it: {problems[0]}")
            read = PlatformResult.from_json(data, source=platform.name)
            files |= _platform_files(read, output_dir, decision)
            shown.append(read)
        except Exception as exc:  # the suite's bug: lose this platform's files, not the run
            kept = output_dir / REPORT_DIR / platform.name / REFUSED_FILE
            files[kept] = json.dumps(data, indent=2, ensure_ascii=False, default=repr) + "\n"
            refused.append(Refused(platform.name, f"{type(exc).__name__}: {exc}"[:300], kept))
            shown.append(platform)
    text = summary.render_summary(RunResult(tuple(shown)), decision)
    if refused:
        text += summary.render_refused([r.line() for r in refused])
    files[output_dir / REPORT_DIR / SUMMARY_FILE] = text
    return Plan(files, tuple(refused))


def planned_files(run: RunResult, output_dir: Path, decision: Decision) -> dict[Path, str]:
    """`plan(...).files`: for callers that report refusals their own way (or not at all)."""
    return plan(run, output_dir, decision).files


def error_summary(output_dir: Path, line: str) -> None:
    """`reports/summary.md` for a run that could not start (exit 2): a CI step that shows the
    summary must find why, not a missing file or an older run's summary. Best effort: when the
    directory cannot be written either, the one line on stderr is all there is."""
    with contextlib.suppress(UsageError):
        write_all({output_dir / REPORT_DIR / SUMMARY_FILE: summary.render_error(line)})


def _mode() -> int:
    """Files readable like any other the user creates (mkstemp alone would make them 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_all(files: dict[Path, str]) -> list[Path]:
    """Render everything first, then move each file into place with os.replace."""
    staged: list[tuple[Path, Path]] = []
    mode = _mode()
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            # backslashreplace: a target's text may hold lone surrogates (a JSON "\\ud800"
            # escape reads back as one), which UTF-8 cannot encode; they are written as
            # the same escape, so a JSON file still reads back as the target sent it.
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
                os.fchmod(handle.fileno(), mode)
            staged.append((Path(name), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write the outputs: {exc}", "check --output-dir") from None
    return [path for _, path in staged]
