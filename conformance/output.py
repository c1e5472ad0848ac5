"""Writes a run's files atomically: every file is complete or absent, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conformance.errors import UsageError
from conformance.render import json as json_render
from conformance.render import markdown
from conformance.results import RunResult

MATRIX_DIR = "capability_matrices"
REPORT_DIR = "reports"


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


def planned_files(run: RunResult, output_dir: Path) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for platform in run.platforms:
        files[output_dir / MATRIX_DIR / f"{platform.name}.json"] = json_render.render_matrix(
            platform
        )
        files[output_dir / MATRIX_DIR / f"{platform.name}.md"] = markdown.render_platform(platform)
        files[output_dir / REPORT_DIR / platform.name / "findings.json"] = (
            json_render.render_findings(platform)
        )
    return files


def write_all(files: dict[Path, str]) -> list[Path]:
    """Render everything first, then move each file into place with os.replace."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            staged.append((Path(name), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write the outputs: {exc}", "check --output-dir") from None
    return [path for _, path in staged]
