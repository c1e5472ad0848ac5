"""Whatever a target answers, the run ends with a matrix its own schema accepts (contract
section 5): a value the suite did not expect is evidence about that operation, never a reason to
lose the run. Once a run has started, it never exits 2; a matrix the suite builds and its own
schema refuses is the suite's bug, exit 3, with every other file written.

The property test runs `conformance run` in-process, as the CLI does (`main(argv, transport=)`),
against the reference server with one operation's answers rewritten (answers.py). By default it
runs FUZZ_EXAMPLES examples, derandomized; `CONFORMANCE_FUZZ_EXAMPLES=N` runs N examples with a
random seed (printed by Hypothesis on failure) for a longer search.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from answers import BREAKS, Mutation, Rewriting
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import engine
from conformance.cli import main
from conformance.contract import OperationId
from conformance.errors import TargetError
from conformance.results import PlatformResult

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "capability-matrix.schema.json").read_text())
FUZZ_EXAMPLES = 20
EXAMPLES = int(os.environ.get("CONFORMANCE_FUZZ_EXAMPLES") or FUZZ_EXAMPLES)
PLATFORM = "full-manual"  # writes allowed, every operation but listReturns answers 2xx


def run_cli(out: Path, *extra: str, transport: Any = None) -> tuple[int, str]:
    """`conformance run` in-process, as the command line runs it: (exit code, stderr)."""
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        code = main(
            ["run", "--max-examples", "0", "--output-dir", str(out), "--seed", "7", *extra],
            transport=transport,
        )
    return code, err.getvalue()


def valid_matrix(out: Path, platform: str) -> dict[str, Any]:
    """The platform's matrix, checked against the schema file itself (not the suite's code),
    and its JUnit file parsed as XML."""
    data = json.loads((out / "capability_matrices" / f"{platform}.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    ElementTree.parse(out / "reports" / platform / "junit.xml")
    for name in ("report.html", "findings.json"):
        assert (out / "reports" / platform / name).stat().st_size > 0
    assert (out / "capability_matrices" / f"{platform}.md").stat().st_size > 0
    assert (out / "reports" / "summary.md").stat().st_size > 0
    return data


def test_upper_case_new_status_is_partial_and_the_matrix_validates(tmp_path: Path) -> None:
    """The issue's case: createReturn answers REQUESTED. Before, the matrix's own
    lifecycle.newReturnStatus enum refused it after every probe had run: exit 2, no matrix."""
    rewriting = Rewriting(OperationId.createReturn, Mutation.enum_case)
    code, err = run_cli(tmp_path, "--platform", PLATFORM, transport=rewriting)
    assert rewriting.rewritten > 0
    assert code in (0, 1), err
    assert "Traceback" not in err and "could not start" not in err
    data = valid_matrix(tmp_path, PLATFORM)
    assert data["lifecycle"]["newReturnStatus"] == "REQUESTED"
    cell = data["operations"][OperationId.createReturn]
    assert cell["status"] == "partial", cell["reasons"]
    assert cell["reasons"] == ["nonnormalized_value"]
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert "could not start" not in summary


def test_a_matrix_its_own_schema_refuses_is_exit_3_with_everything_else_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite's own bug, forced: one platform's matrix breaks the schema. Exit 3 (never 2),
    the other platform's files and the summary are written, and what was built is kept."""
    to_json = PlatformResult.to_json

    def broken(self: PlatformResult) -> dict[str, Any]:
        data = to_json(self)
        if self.name == "no-returns":
            data["lifecycle"] = {"newReturnStatus": 7}
        return data

    monkeypatch.setattr(PlatformResult, "to_json", broken)
    code, err = run_cli(tmp_path)  # every reference platform
    assert code == 3, err
    assert "internal error" in err and "no-returns" in err and "could not start" not in err
    for other in ("full-manual", "auto-approve", "seller-decides", "no-reverse-shipments"):
        valid_matrix(tmp_path, other)
    assert not (tmp_path / "capability_matrices" / "no-returns.json").exists()
    kept = json.loads((tmp_path / "reports" / "no-returns" / "matrix.refused.json").read_text())
    assert kept["lifecycle"] == {"newReturnStatus": 7}
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert "matrix.refused.json" in summary and "could not start" not in summary


def test_a_conformance_error_after_the_start_is_exit_3_not_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ConformanceError in a stage after discovery is the suite's trouble: the cells it had
    not decided are inconclusive (suite_error), the matrix is written, exit 3."""

    def gone(session: object) -> None:
        raise TargetError("the target went away", "check that it is running")

    monkeypatch.setattr(engine, "probe_reads", gone)
    code, err = run_cli(tmp_path, "--platform", PLATFORM)
    assert code == 3, err
    assert "could not start" not in err
    data = valid_matrix(tmp_path, PLATFORM)
    assert any("suite_error" in cell["reasons"] for cell in data["operations"].values()), data[
        "operations"
    ]


@pytest.mark.parametrize(
    ("operation", "mutation", "pick", "verdict"),
    [
        # A fulfillment's package status (OPEN) was never checked against its vocabulary.
        (OperationId.listReturnFulfillments, Mutation.enum_case, 0, "partial"),
        # createReturn echoing DEFECTIVE for defective: the reason was taken for one the suite
        # sent itself (a return with its note it had not learned yet), so it stayed supported.
        (OperationId.createReturn, Mutation.enum_case, 1, "partial"),
        # A well-formed createReturn's own answer breaking its schema (returnItems an object)
        # was excused as schemathesis' return (the suite's note, not learned yet): supported.
        (OperationId.createReturn, Mutation.wrong_type, 4, "failing"),
        # ...and with returnReason an object, the vocabulary check then crashed (unhashable).
        (OperationId.createReturn, Mutation.wrong_type, 7, "failing"),
        # A lone surrogate (a JSON "\\ud800" escape) could not be written as UTF-8: exit 3.
        (OperationId.getReturn, Mutation.odd_string, 0, None),
        # An id 200,000 characters long made the next URL unbuildable: suite_error, exit 3.
        (OperationId.listReturnFulfillments, Mutation.huge_string, 0, None),
    ],
)
def test_answers_that_lost_the_run(
    tmp_path: Path, operation: OperationId, mutation: Mutation, pick: int, verdict: str | None
) -> None:
    """Regressions the property test found: each once ended in exit 3 or a crashed check."""
    rewriting = Rewriting(operation, mutation, pick)
    code, err = run_cli(tmp_path, "--platform", PLATFORM, transport=rewriting)
    assert rewriting.rewritten > 0
    assert code in (0, 1), err
    assert "internal error" not in err and "Traceback" not in err, err
    data = valid_matrix(tmp_path, PLATFORM)
    for name, cell in data["operations"].items():
        assert "suite_error" not in cell["reasons"], (name, cell["findings"])
    if verdict is not None:
        assert data["operations"][operation]["status"] == verdict


@settings(
    max_examples=EXAMPLES,
    derandomize="CONFORMANCE_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    operation=st.sampled_from(list(OperationId)),
    mutation=st.sampled_from(list(Mutation)),
    pick=st.integers(min_value=0, max_value=50),
)
def test_any_answer_ends_in_a_matrix_the_schema_accepts(
    operation: OperationId, mutation: Mutation, pick: int
) -> None:
    rewriting = Rewriting(operation, mutation, pick)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        code, err = run_cli(out, "--platform", PLATFORM, transport=rewriting)
        assert code in (0, 1), f"exit {code}: {err}"
        assert "Traceback" not in err and "internal error" not in err, err
        data = valid_matrix(out, PLATFORM)
    cell = data["operations"][operation]
    if mutation in BREAKS and rewriting.rewritten:
        assert cell["status"] != "supported", (operation, mutation, cell)
