"""`pytest --pyargs conformance.suite`: one item per case, with the verdicts the CLI reports.

Run in a subprocess from an empty directory, as a team that gates with pytest would run it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.reference import ReferenceServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "pytest-entry-token"


def _plugin_args() -> list[str]:
    """`-p conformance.suite.plugin`, unless an installed entry point already loads it."""
    for ep in importlib.metadata.entry_points(group="pytest11"):
        if ep.value == "conformance.suite.plugin":
            return []
    return ["-p", "conformance.suite.plugin"]


def pytest_suite(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    env.pop("CONFORMANCE_TOKEN", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *_plugin_args(),
            "--pyargs",
            "conformance.suite",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfs",
            "--conformance-max-examples",
            "0",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=240,
        check=False,
    )


def _outcomes(junit: Path) -> dict[str, str]:
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kind = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
        found[f"{case.get('classname')}.{case.get('name')}"] = kind
    return found


def test_embedded_platform_items_match_the_cli_junit(tmp_path: Path) -> None:
    proc = pytest_suite(
        [
            "--conformance-platform",
            "full-manual",
            "--conformance-output-dir",
            str(tmp_path),
            f"--junitxml={tmp_path / 'pytest.xml'}",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gate passed" in proc.stdout
    ours = _outcomes(tmp_path / "reports" / "full-manual" / "junit.xml")
    theirs = _outcomes(tmp_path / "pytest.xml")
    # pytest names items test_returns[<platform>/<operation>/<case>]
    mapped = {}
    for name, kind in theirs.items():
        inner = name.split("[", 1)[1].rstrip("]")
        _, op, case = inner.split("/")
        mapped[f"returns{'' if op == 'platform' else '.' + op}.{case}"] = kind
    assert mapped == ours
    assert "skipped" in ours.values()


def test_failing_connector_fails_the_item_with_evidence(tmp_path: Path) -> None:
    with ReferenceServer("full-manual", TOKEN, frozenset({"approve_no_effect"})) as server:
        proc = pytest_suite(
            [
                "--conformance-base-url",
                server.base_url,
                "--conformance-token",
                TOKEN,
                "--conformance-platform",
                "shop",
                "--conformance-allow-writes",
            ],
            tmp_path,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED" in proc.stdout and "shop/approveReturn/effect" in proc.stdout
    assert "[effect_missing]" in proc.stdout
    assert "curl -sS" in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr


def test_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = pytest_suite(["--conformance-fail-on", "sometimes"], tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "unknown verdict 'sometimes'" in proc.stderr


def test_refused_token_is_one_line_naming_the_plugins_option(tmp_path: Path) -> None:
    with ReferenceServer("full-manual", TOKEN) as server:
        proc = pytest_suite(
            [
                "--conformance-base-url",
                server.base_url,
                "--conformance-token",
                "not-the-token",
                "--conformance-platform",
                "shop",
            ],
            tmp_path,
        )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output and "raise " not in output
    errors = [line for line in output.splitlines() if "conformance: error:" in line]
    assert len(errors) == 1, output
    assert "--conformance-token" in errors[0]
    assert " --token" not in errors[0]
    assert "not-the-token" not in output


def test_the_plugin_sets_what_conformance_run_sets(tmp_path: Path) -> None:
    """Budget, connections and schemathesis reach the run: one request is all it may send."""
    with ReferenceServer("full-manual", TOKEN) as server:
        proc = pytest_suite(
            [
                "--conformance-base-url",
                server.base_url,
                "--conformance-token",
                TOKEN,
                "--conformance-platform",
                "shop",
                "--conformance-max-requests",
                "1",
                "--conformance-connections",
                "1",
                "--conformance-schemathesis",
                "off",
                "--conformance-output-dir",
                str(tmp_path / "out"),
            ],
            tmp_path,
        )
    output = proc.stdout + proc.stderr
    data = json.loads((tmp_path / "out" / "capability_matrices" / "shop.json").read_text())
    reasons = {r for cell in data["operations"].values() for r in cell["reasons"]}
    assert "budget_exhausted" in reasons, output
