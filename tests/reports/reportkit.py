"""Helpers for the report and gate tests: synthetic results, CLI calls, a headless browser.

Synthetic `PlatformResult`s let the gate and the renderers be tested on any mix of verdicts
without running the engine; `chromium()` drives the real browser the HTML must render in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.contract import operations
from conformance.findings import Exchange, Finding
from conformance.results import OperationResult, PlatformResult, Provenance, RunResult
from conformance.verdicts import Verdict, reasons

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"  # ./setup-tests honours it too
REASON_FOR = {
    Verdict.partial: "nonnormalized_value",
    Verdict.unsupported: "not_supported",
    Verdict.failing: "effect_missing",
    Verdict.inconclusive: "rate_limited",
    Verdict.untested: "writes_not_allowed",
}


def provenance(seed: int = 7) -> Provenance:
    return Provenance(
        suite_version="0.1.0",
        contract_version="1.0",
        schema_hash="sha256:" + "0" * 64,
        seed=seed,
        generated_at="2026-11-26T10:00:12Z",
        target="https://connector.example.com",
        started_at="2026-11-26T10:00:00Z",
        duration_seconds=12.0,
        writes_allowed=True,
        act_on_existing=False,
        max_examples=20,
        command="conformance run --seed 7",
    )


def exchange(status: int, body_size: int = 200) -> Exchange:
    return Exchange(
        "POST",
        "https://connector.example.com/api/v2/orders/O-1/returns/R-1/approve",
        {"authorization": "Bearer [REDACTED]"},
        {"note": "x" * 40},
        status,
        {"content-type": "application/json"},
        {"success": True, "return": {"status": "requested", "pad": "y" * body_size}},
    )


def cell(op: str, verdict: Verdict, *, big: bool = False, **extra: object) -> OperationResult:
    """A cell with the verdict; non-supported cells get a finding with evidence."""
    if verdict == Verdict.supported:
        return OperationResult(op, verdict, (), (), 3, 3, by_check=(("succeeds", 3, 3),), **extra)  # type: ignore[arg-type]
    code = REASON_FOR[verdict]
    finding = Finding(
        op,
        code,
        "effect",
        f"{op}: {reasons()[code].title} " + ("z" * 300 if big else ""),
        evidence=(exchange(200, 3000 if big else 100), exchange(200, 3000 if big else 100)),
        steps=("POST approve -> 200", "GET return -> 200"),
        seed=7,
    )
    return OperationResult(
        op,
        verdict,
        (code,),
        (finding,),
        4,
        3,
        by_check=(("effect", 1, 0), ("succeeds", 3, 3)),
        rerun="conformance run --seed 7",
        **extra,
    )  # type: ignore[arg-type]


def platform(
    name: str,
    verdicts: dict[str, Verdict] | None = None,
    *,
    big: bool = False,
    default: Verdict = Verdict.supported,
) -> PlatformResult:
    verdicts = verdicts or {}
    return PlatformResult(
        name,
        None,
        "https://connector.example.com",
        provenance(),
        tuple(cell(op.id, verdicts.get(op.id, default), big=big) for op in operations()),
    )


def run_of(*platforms: PlatformResult) -> RunResult:
    return RunResult(tuple(platforms))


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`conformance ARGS` in process: exit code, stdout, stderr (argparse exits are caught)."""
    try:
        code = main(args)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def quick_run(out: Path, name: str, *defects: str) -> int:
    """`conformance run` of one reference platform into `out`, quickly (no generated testing),
    with seeded defects switched on; the exit code."""
    args = ["run", "--platform", name, "--max-examples", "0", "--seed", "3"]
    args += [arg for defect in defects for arg in ("--defect", defect)]
    return main([*args, "--output-dir", str(out)])


def chromium(page: Path, *args: str) -> str:
    """Run headless Chromium on a local page; stdout (the DOM for --dump-dom).

    Fails, never skips, when the browser is missing: ./setup-tests (the set-up half of the
    README's test command, which .ci/run runs) installs it.
    """
    if shutil.which(CHROMIUM) is None and shutil.which("chromium") is None:
        pytest.fail(
            "chromium is not installed, so the HTML cannot be checked in a browser: "
            "run ./setup-tests, which installs it, or set CHROMIUM=/path/to/chromium"
        )
    binary = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
