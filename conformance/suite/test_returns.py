"""One pytest item per case of `conformance.gate.cases()`, decided by the session's one run.

The item reports what the gate decided for its case: failed and error cases fail with the
finding's text (evidence and a curl line), skipped ones skip with their reason, expected failures
xfail. Nothing is judged here.
"""

from __future__ import annotations

import pytest

from conformance.gate import Case, CaseStatus
from conformance.render.terminal import finding_text
from conformance.suite.plugin import suite_run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        done = suite_run(metafunc.config)
        cases = done.cases if done is not None else ()  # could not start: the plugin exits
        metafunc.parametrize(
            "case",
            cases,
            ids=[f"{c.platform}/{c.operation or 'platform'}/{c.name}" for c in cases],
        )


def test_returns(case: Case) -> None:
    if case.status in (CaseStatus.failed, CaseStatus.error):
        text = "\n\n".join(finding_text(f) for f in case.findings)
        pytest.fail(
            f"[{case.kind}] {case.message}" + (f"\n\n{text}" if text else ""), pytrace=False
        )
    if case.status == CaseStatus.skipped:
        pytest.skip(case.message)
    if case.status == CaseStatus.xfailed:
        pytest.xfail(case.message)
