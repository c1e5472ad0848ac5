"""The gate through the command line: `conformance run` and `conformance matrix` exit with the
same decision (0 passed, 1 failed or nothing decided) and write it into the matrices."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from reportkit import cli, platform, run_of  # type: ignore[import-not-found]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance.output import MATRIX_DIR, write_all
from conformance.reference.server import free_port
from conformance.render import json as json_render
from conformance.verdicts import Verdict

QUICK = ["--platform", "full-manual", "--max-examples", "0", "--seed", "3"]


def matrix(out: Path, name: str = "full-manual") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / MATRIX_DIR / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """full-manual, quickly (no generated testing): the gate passes."""
    out = tmp_path_factory.mktemp("clean")
    from conformance.cli import main

    assert main(["run", *QUICK, "--output-dir", str(out)]) == 0
    return out


def test_overclaim_and_underclaim_are_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "shop.declared.toml"
    manifest.write_text(
        "[operations]\n"
        'listReturns = { status = "supported", note = "we think we list" }\n'
        'createReturn = { status = "unsupported", note = "we think we cannot" }\n'
    )
    code, out, _ = cli(
        ["run", *QUICK, "--output-dir", str(tmp_path), "--declared", str(manifest)], capsys
    )
    assert code == 1
    assert "full-manual listReturns: unsupported (overclaim)" in out
    cells = matrix(tmp_path)["operations"]
    assert cells["listReturns"]["drift"] == "overclaim"
    assert cells["listReturns"]["declared"] == {"status": "supported", "note": "we think we list"}
    assert cells["createReturn"]["drift"] == "underclaim"
    assert cells["getReturn"]["declared"] is None  # not in this manifest
    assert matrix(tmp_path)["provenance"]["declaredSource"] == str(manifest)
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert summary.index("Drift") < summary.index("### Matrix")
    assert "▲ overclaim" in summary and "▽ underclaim" in summary


def test_underclaim_alone_passes_in_matrix(
    clean_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        'platform = "full-manual"\n[operations]\n'
        'createReturn = { status = "unsupported", note = "modest" }\n'
    )
    page = tmp_path / "page.html"
    code, out, _ = cli(
        ["matrix", str(clean_run / MATRIX_DIR), "--declared", str(manifest), "--output", str(page)],
        capsys,
    )
    assert code == 0, out
    assert "underclaim" in page.read_text()


def test_regression_against_a_baseline_exits_1(
    clean_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The baseline says listReturns was supported; it is unsupported now."""
    baseline = matrix(clean_run)
    baseline["operations"]["listReturns"].update(status="supported", reasons=[], findings=[])
    base_file = tmp_path / "baseline.json"
    base_file.write_text(json.dumps(baseline))

    code, out, _ = cli(
        ["run", *QUICK, "--output-dir", str(tmp_path / "out"), "--baseline", str(base_file)], capsys
    )
    assert code == 1
    assert "listReturns: unsupported (regression)" in out
    cell = matrix(tmp_path / "out")["operations"]["listReturns"]
    assert cell["baseline"] == {"status": "supported", "reasons": [], "change": "regressed"}
    assert matrix(tmp_path / "out")["operations"]["getReturn"]["baseline"]["change"] == "unchanged"

    # the same decision from the matrix command, and none against an honest baseline
    code, _, _ = cli(
        [
            "matrix",
            str(clean_run / MATRIX_DIR),
            "--baseline",
            str(base_file),
            "--output",
            str(tmp_path / "m.html"),
        ],
        capsys,
    )
    assert code == 1
    code, _, _ = cli(
        [
            "matrix",
            str(clean_run / MATRIX_DIR),
            "--baseline",
            str(clean_run / MATRIX_DIR),
            "--output",
            str(tmp_path / "m.html"),
        ],
        capsys,
    )
    assert code == 0


def test_stale_expected_failure_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = tmp_path / "expected.toml"
    expected.write_text(
        '[[expected]]\nplatform = "full-manual"\noperation = "approveReturn"\n'
        'reason = "SHOP-12: approve is applied asynchronously"\n'
    )
    code, out, _ = cli(
        ["run", *QUICK, "--output-dir", str(tmp_path), "--expected-failures", str(expected)], capsys
    )
    assert code == 1
    assert "approveReturn: supported (stale_expectation)" in out
    junit = (tmp_path / "reports" / "full-manual" / "junit.xml").read_text()
    assert 'type="xpass_strict"' in junit


def test_expected_failure_that_holds_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A known failure, listed with its reason and code, does not fail the gate; the manifest
    here leaves approveReturn undeclared so that no overclaim is involved."""
    expected = tmp_path / "expected.toml"
    expected.write_text(
        '[[expected]]\nplatform = "full-manual"\noperation = "approveReturn"\n'
        'reason = "SHOP-12: approve is applied asynchronously"\n'
        'codes = ["effect_missing"]\n'
    )
    manifest = tmp_path / "m.toml"
    manifest.write_text('[operations]\ngetReturn = { status = "supported" }\n')
    code, out, err = cli(
        [
            "run",
            *QUICK,
            "--defect",
            "approve_no_effect",
            "--output-dir",
            str(tmp_path),
            "--expected-failures",
            str(expected),
            "--declared",
            str(manifest),
        ],
        capsys,
    )
    assert code == 0, out + err
    assert "gate passed (1 expected failures)" in out
    cell = matrix(tmp_path)["operations"]["approveReturn"]
    assert cell["status"] == "failing"
    assert cell["expected"] == {
        "reason": "SHOP-12: approve is applied asynchronously",
        "codes": ["effect_missing"],
    }
    assert 'type="xfail"' in (tmp_path / "reports" / "full-manual" / "junit.xml").read_text()


def test_zero_evidence_fails_the_gate_from_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_of(platform("quiet", default=Verdict.untested))
    write_all({tmp_path / "quiet.json": json_render.render_matrix(run.platforms[0])})
    code, _, err = cli(["matrix", str(tmp_path), "--output", str(tmp_path / "p.html")], capsys)
    assert code == 1
    assert "nothing could be decided for quiet" in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "p.html").exists()  # the page still says what was (not) seen


@pytest.fixture
def throttled_target() -> Iterator[str]:
    """A connector that answers 429 to everything (and says to retry at once)."""

    async def throttled(request: Request) -> JSONResponse:
        return JSONResponse(
            {"success": False, "code": 429, "error": "RATE_LIMITED", "message": "slow down"},
            status_code=429,
            headers={"Retry-After": "0"},
        )

    app = Starlette(routes=[Route("/{path:path}", throttled, methods=["GET", "POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_zero_evidence_fails_the_gate_from_run_never_exit_2(
    throttled_target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONFORMANCE_TOKEN", "token-for-the-throttled-target")
    code, _, err = cli(
        [
            "run",
            "--base-url",
            throttled_target,
            "--platform",
            "throttled",
            "--max-examples",
            "0",
            "--output-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 1  # the run started: never 2 (that is for a run that could not start)
    assert "nothing could be decided for throttled" in err
    cells = matrix(tmp_path, "throttled")["operations"].values()
    assert {c["status"] for c in cells} <= {"inconclusive", "untested"}


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--fail-on", "failing,broken"], "unknown verdict 'broken'"),
        (["--baseline", "/nonexistent/base.json"], "does not exist"),
        (["--expected-failures", "/nonexistent/x.toml"], "does not exist"),
        (["--declared", "/nonexistent/m.toml"], "does not exist"),
    ],
)
def test_bad_gate_input_is_one_line_and_exit_2_before_the_run(
    extra: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["run", *QUICK, "--output-dir", str(tmp_path), *extra], capsys)
    assert code == 2 and says in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / MATRIX_DIR / "full-manual.json").exists()


def test_matrix_refuses_a_platform_twice_and_a_broken_file(
    clean_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(clean_run / MATRIX_DIR)
    code, _, err = cli(["matrix", d, d], capsys)
    assert code == 2 and "full-manual" in err
    (tmp_path / "broken.json").write_text('{"schemaVersion": "1.1"')
    code, _, err = cli(["matrix", str(tmp_path)], capsys)
    assert code == 2 and "not readable JSON" in err
