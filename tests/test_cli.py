"""The command line as a user meets it: exit codes, one-line errors, files written, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import schemas
from conformance.cli import main
from conformance.reference import ReferenceServer, profile_names

SECRET = "s3cr3t-token-for-leak-checks"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in folder.rglob("*") if p.is_file())


def test_default_run_writes_six_valid_matrices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["run", "--output-dir", str(tmp_path), "--seed", "11"], capsys)
    assert code == 0, err
    # pytest's words, before the list of files (no finding to show on a passing run)
    assert out.rstrip().splitlines()[-2] == "36 passed, 24 skipped (unsupported), 0 failed"
    for name in profile_names():
        data = json.loads((tmp_path / "capability_matrices" / f"{name}.json").read_text())
        assert schemas.violations("capability-matrix.schema.json", data) == []
        assert data["provenance"]["seed"] == 11
        assert data["platform"]["target"] == f"reference:{name}"
        assert (tmp_path / "capability_matrices" / f"{name}.md").read_text().startswith("# ")
        report = json.loads((tmp_path / "reports" / name / "findings.json").read_text())
        assert set(report["findings"]) == set(data["operations"])
    assert not list(tmp_path.rglob("*.tmp")), "no half-written files left behind"


def test_failing_operation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        [
            "run",
            "--platform",
            "full-manual",
            "--defect",
            "approve_no_effect",
            "--output-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 1
    lines = out.rstrip().splitlines()
    # the untested cell (no approved return to ship back) is counted, not dropped
    assert "7 passed, 1 skipped (unsupported), 1 skipped (untested), 1 failed" in lines
    # What broke, after the table: the cell, its reason and message, a curl line, the report.
    failed = lines.index("FAILED full-manual approveReturn: failing (effect_missing)")
    assert lines[failed + 1].startswith("  effect_missing: approveReturn answered success")
    assert lines[failed + 2].startswith("    curl -sS -X GET http://127.0.0.1:")
    report = tmp_path / "reports" / "full-manual" / "report.html"
    assert f"  evidence: {report}#op-approveReturn" in lines
    # The run's server is gone: the line that brings the same one back, on the curl's port.
    port = lines[failed + 2].split("http://127.0.0.1:")[1].split("/")[0]
    serve = "conformance serve --platform full-manual --defect approve_no_effect --port " + port
    assert f"  the same server again: {serve}  # token from $CONFORMANCE_TOKEN" in lines
    assert (tmp_path / "reports" / "full-manual" / "report.html").exists()
    data = json.loads((tmp_path / "capability_matrices" / "full-manual.json").read_text())
    assert data["operations"]["approveReturn"]["status"] == "failing"
    assert data["operations"]["approveReturn"]["reasons"] == ["effect_missing"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--base-url", "not a url"], "invalid base URL"),
        (["run", "--base-url", "ftp://example.com"], "invalid base URL"),
        (["run", "--platform", "nope"], "unknown platform 'nope'"),
        (["run", "--config", "/nonexistent/conformance.toml"], "does not exist"),
        (["run", "--defect", "no_such_defect"], "unknown defect"),
        (["run", "--seed", "abc"], "invalid int value"),
        (["run", "--timeout", "-1"], "--timeout must be positive"),
        (["run", "--connections", "0"], "--connections must be a whole number from 1 to 64"),
        (["run", "--connections", "65"], "--connections must be a whole number from 1 to 64"),
        (["serve", "--latency", "-5"], "--latency must be from 0 to 10000 ms"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code, out, err = run_cli([*args], capsys)
    except SystemExit as exit_:  # argparse exits itself
        code = int(exit_.code or 0)
        out, err = capsys.readouterr()
    assert code == 2
    assert says in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err + out


def test_no_token_for_a_url_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONFORMANCE_TOKEN", raising=False)
    code, _, err = run_cli(["run", "--base-url", "http://127.0.0.1:9"], capsys)
    assert code == 2 and "no token" in err and "CONFORMANCE_TOKEN" in err


def test_unreachable_target_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.reference.server import free_port

    monkeypatch.setenv("CONFORMANCE_TOKEN", SECRET)
    code, out, err = run_cli(
        ["run", "--base-url", f"http://127.0.0.1:{free_port()}", "--output-dir", str(tmp_path)],
        capsys,
    )
    assert code == 2 and "did not answer" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "capability_matrices" / "target.json").exists()
    assert SECRET not in out + err


def test_refused_token_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceServer("full-manual", "the-right-token") as server:
        monkeypatch.setenv("CONFORMANCE_TOKEN", SECRET)
        code, out, err = run_cli(
            ["run", "--base-url", server.base_url, "--output-dir", str(tmp_path)], capsys
        )
    assert code == 2 and "refused the token" in err
    assert SECRET not in out + err


def test_unwritable_output_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = run_cli(
        ["run", "--platform", "no-returns", "--output-dir", str(blocker / "sub")], capsys
    )
    assert code == 2 and "cannot write" in err


def test_token_never_written_or_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against a target whose findings carry full evidence, including auth headers."""
    with ReferenceServer("full-manual", SECRET, frozenset({"leak_across_orders"})) as server:
        monkeypatch.setenv("CONFORMANCE_TOKEN", SECRET)
        code, out, err = run_cli(
            [
                "run",
                "--base-url",
                server.base_url,
                "--platform",
                "shop",
                "--allow-writes",
                "--output-dir",
                str(tmp_path),
            ],
            capsys,
        )
        code2, out2, err2 = run_cli(
            [
                "run",
                "--base-url",
                server.base_url,
                "--platform",
                "shop2",
                "--token",
                SECRET,
                "--output-dir",
                str(tmp_path),
            ],
            capsys,
        )
    assert code == 1 and code2 == 0, err + err2
    written = all_text(tmp_path)
    assert "[REDACTED]" in written  # evidence was recorded, with the token taken out
    assert SECRET not in written + out + err + out2 + err2
    data = json.loads((tmp_path / "capability_matrices" / "shop2.json").read_text())
    assert "--token '[REDACTED]'" in data["provenance"]["command"]
    assert data["platform"]["target"] == server.base_url


def test_config_file_runs_several_platforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReferenceServer("auto-approve", SECRET) as server:
        monkeypatch.setenv("SHOP_TOKEN", SECRET)
        cfg = tmp_path / "conformance.toml"
        cfg.write_text(
            f'seed = 9\nallow_writes = true\noutput_dir = "{tmp_path / "out"}"\n'
            f'[[platform]]\nname = "walmart-connector"\nbase_url = "{server.base_url}"\n'
            'token_env = "SHOP_TOKEN"\n'
            '[[platform]]\nname = "ref"\nreference = "no-returns"\n'
        )
        code, out, err = run_cli(["run", "--config", str(cfg)], capsys)
    assert code == 0, err
    out_dir = tmp_path / "out" / "capability_matrices"
    walmart = json.loads((out_dir / "walmart-connector.json").read_text())
    assert walmart["provenance"]["seed"] == 9
    assert walmart["operations"]["approveReturn"]["status"] == "unsupported"
    assert walmart["operations"]["createReturn"]["status"] == "supported"
    ref = json.loads((out_dir / "ref.json").read_text())
    assert ref["summary"]["unsupported"] == 10
    assert SECRET not in all_text(tmp_path / "out") + out + err


def test_module_entry_point_has_no_traceback_on_bad_input(tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": root}
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--base-url", "nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("conformance: error: invalid base URL")
    assert "Traceback" not in proc.stderr


def _cells(folder: Path) -> dict[tuple[str, str], tuple[str, list[str]]]:
    found = {}
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        for op, cell in data["operations"].items():
            found[(data["platform"]["name"], op)] = (cell["status"], cell["reasons"])
    return found


def test_shards_merged_by_matrix_equal_the_whole_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three CI jobs (`--shard I/3`) merged by `conformance matrix`: the same cells as one job,
    and the same gate verdict, passing and failing."""
    common = ["run", "--seed", "3", "--max-examples", "0", "--defect", "approve_no_effect"]
    whole = tmp_path / "whole"
    assert run_cli([*common, "--output-dir", str(whole)], capsys)[0] == 1  # full-manual fails
    shards = [tmp_path / f"shard-{i}" for i in (1, 2, 3)]
    for i, out in enumerate(shards, 1):
        run_cli([*common, "--shard", f"{i}/3", "--output-dir", str(out)], capsys)
    dirs = [str(out / "capability_matrices") for out in shards]
    names = [sorted(p.stem for p in Path(d).glob("*.json")) for d in dirs]
    assert sorted(n for part in names for n in part) == sorted(profile_names())
    assert _cells(whole / "capability_matrices") == {
        key: value for d in dirs for key, value in _cells(Path(d)).items()
    }
    page = tmp_path / "merged.html"
    code, _, _ = run_cli(["matrix", *dirs, "--output", str(page)], capsys)
    assert code == 1 and "full-manual" in page.read_text("utf-8")
    clean = [tmp_path / f"clean-{i}" for i in (1, 2)]
    for i, out in enumerate(clean, 1):
        args = ["run", "--seed", "3", "--max-examples", "0", "--shard", f"{i}/2"]
        assert run_cli([*args, "--output-dir", str(out)], capsys)[0] == 0
    merged = [str(out / "capability_matrices") for out in clean]
    assert run_cli(["matrix", *merged, "--output", str(tmp_path / "clean.html")], capsys)[0] == 0


def test_rerun_line_repeats_every_flag_that_changes_what_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = tmp_path / "full-manual.declared.toml"
    declared.write_text(
        (
            Path(__file__).parents[1] / "conformance/reference/declared/full-manual.declared.toml"
        ).read_text()
    )
    args = [
        "run",
        "--defect",
        "approve_no_effect",
        "--max-examples",
        "3",
        "--no-schemathesis",
        "--declared",
        str(declared),
        "--token",
        SECRET,
        "--output-dir",
        str(tmp_path / "out"),
    ]
    code, _, _ = run_cli(args, capsys)
    assert code == 1
    data = json.loads((tmp_path / "out" / "capability_matrices" / "full-manual.json").read_text())
    rerun = data["operations"]["approveReturn"]["reproduce"]
    seed = data["provenance"]["seed"]
    assert rerun == (
        "conformance run --defect approve_no_effect --max-examples 3 --no-schemathesis "
        f"--declared {declared} --output-dir {tmp_path / 'out'} "
        f"--platform full-manual --seed {seed}"
    )
    assert SECRET not in all_text(tmp_path / "out")


def test_the_table_fits_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    code, out, _ = run_cli(["run", "--max-examples", "0", "--output-dir", str(tmp_path)], capsys)
    assert code == 0
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) > 10
    assert max(len(line) for line in table) <= 90


@pytest.mark.parametrize("secret", ["Q", "Q7z", "Q7zX"])
def test_a_short_token_is_never_written_or_printed_in_a_header(
    secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The redactor leaves secrets under 4 characters in free text (they would match anywhere),
    but the Authorization header of every recorded exchange is `Bearer [REDACTED]` and every
    reproduction sends `Bearer $CONFORMANCE_TOKEN`, whatever the token's length."""
    with ReferenceServer("full-manual", secret, frozenset({"leak_across_orders"})) as server:
        monkeypatch.setenv("CONFORMANCE_TOKEN", secret)
        code, out, err = run_cli(
            [
                "run",
                "--base-url",
                server.base_url,
                "--platform",
                "shop",
                "--allow-writes",
                "--max-examples",
                "2",
                "--output-dir",
                str(tmp_path),
            ],
            capsys,
        )
    assert code == 1, err
    written = all_text(tmp_path)
    for text in (written, out, err):
        assert f"Bearer {secret}" not in text
        assert f"Authorization: {secret}" not in text
    assert "Bearer [REDACTED]" in written
    assert "Authorization: Bearer $CONFORMANCE_TOKEN" in written
    data = json.loads((tmp_path / "capability_matrices" / "shop.json").read_text())
    headers = [
        e["request"]["headers"].get("authorization")
        for op in data["operations"].values()
        for f in op.get("findings", [])
        for e in f.get("evidence", [])
    ]
    assert headers and f"Bearer {secret}" not in headers, headers
