"""Schemathesis drift is a red test here, never only a note in a report.

The stage drives schemathesis internals (its engine, recorder and case metadata), pinned to the
minor they were checked against. In a conformance run a stage that cannot run is a note, and the
run goes on; these tests are where that note becomes a failure:

* the installed schemathesis is the pinned minor, and every internal the adapter uses is there;
* a missing internal raises :class:`SchemathesisDrift` (shown with a monkeypatched schemathesis);
* the stage runs cleanly on the reference server (no "could not run" note);
* the stage, with nothing else of the suite running, catches a seeded defect by itself.

No seeded defect is caught by schemathesis *only*: the suite's own probes, generated inputs and
state machine catch all of them (benchmarks/RESULTS.md, part b). So a broken stage would hide
behind the other stages' findings in any whole run. The honest test is therefore the stage alone:
``server_error_on_field_type`` (found by generated testing, the kind of defect the stage exists
for) on a server with no other defect, and no probe in the way.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from packaging.requirements import Requirement

from conformance.findings import Redactor
from conformance.generate.schemathesis_stage import (
    COULD_NOT_RUN,
    SchemathesisDrift,
    _Run,
    adapter,
    run_schemathesis,
)
from conformance.reference import create_app, load_profile
from conformance.target import Target

ROOT = Path(__file__).resolve().parents[2]


def _unsupported(profile: str) -> dict[str, str]:
    return {op: s for op, s in load_profile(profile).support.items() if s != "ok"}


def _known_ids(profile: str) -> dict[str, str]:
    """A seeded return with a reverse shipment, as discovery would pass it to the stage."""
    ret = next(r for r in load_profile(profile).returns if r.fulfillments)
    return {"orderId": ret.order, "id": ret.id, "fulfillmentId": ret.fulfillments[0].id}


def _schemathesis_requirement() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    [spec] = [d for d in project["dependencies"] if d.startswith("schemathesis")]
    return Requirement(spec)


def test_schemathesis_is_pinned_to_the_minor_the_adapter_was_checked_against() -> None:
    requirement = _schemathesis_requirement()
    assert requirement.specifier.contains(adapter.CHECKED_AGAINST)
    major, minor = adapter.MINOR
    # The pin admits patch releases of the checked minor and nothing else.
    assert not requirement.specifier.contains(f"{major}.{minor + 1}.0")
    assert not requirement.specifier.contains(f"{major}.{minor - 1}.0")
    assert requirement.specifier.contains(version("schemathesis")), version("schemathesis")


def test_every_schemathesis_internal_the_stage_uses_is_where_it_was() -> None:
    adapter.check_api()  # raises SchemathesisDrift, naming what moved


@pytest.mark.parametrize(
    "module, name",
    [
        ("schemathesis.engine.events", "ScenarioFinished"),
        ("schemathesis.engine", "from_schema"),
        ("schemathesis.core", "NotSet"),
    ],
)
def test_a_missing_internal_is_drift(
    module: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import import_module

    monkeypatch.delattr(import_module(module), name)
    with pytest.raises(SchemathesisDrift, match=name):
        adapter.check_api()
    result = run_schemathesis(
        "http://127.0.0.1:9",
        "secret-token-1234",
        allow_writes=False,
        seed=1,
        max_examples=1,
        unsupported={},
        timeout=1.0,
        max_time=5.0,
    )
    # In a conformance run the drift is a note (the run goes on), and it says what it is.
    assert result.findings == () and result.cases == 0
    [note] = result.notes
    assert note.startswith(f"{COULD_NOT_RUN}: SchemathesisDrift:") and name in note


def test_a_moved_failure_code_is_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    from schemathesis.openapi.checks import UndefinedStatusCode

    monkeypatch.setattr(UndefinedStatusCode, "code", "ST999")
    with pytest.raises(SchemathesisDrift, match="ST103"):
        adapter.check_api()


def test_a_recorder_of_another_shape_stops_the_stage() -> None:
    token = "secret-token-abcdef"
    run = _Run(
        base_url="http://x",
        token=token,
        allow_writes=True,
        seed=5,
        max_examples=1,
        unsupported={},
        known_ids={},
        timeout=1.0,
        max_time=1.0,
        consistency_window=0.0,
        redactor=Redactor([token]),
        resender=Target("http://x", token, allow_writes=True),
    )
    # A recorder without `interactions` (renamed in some future version).
    run.scenario(NS(phase=NS(value="stateful"), recorder=NS(cases={}, checks={})))
    assert isinstance(run.drift, SchemathesisDrift)
    assert "recorder" in str(run.drift)


def test_stage_runs_cleanly_on_the_reference_server(
    token: str, reference: Callable[..., Any]
) -> None:
    ref = reference("full-manual")
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=False,
        seed=21,
        max_examples=3,
        unsupported=_unsupported("full-manual"),
    )
    assert not [n for n in result.notes if n.startswith(COULD_NOT_RUN)], result.notes
    assert result.notes == ()
    assert result.cases > 0
    assert sum(result.passed_checks.values()) > 0


def test_stage_alone_catches_a_seeded_defect(token: str, serve_app: Callable[[Any], Any]) -> None:
    app = create_app(load_profile("full-manual"), token, frozenset({"server_error_on_field_type"}))
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=True,
        seed=1,
        max_examples=10,
        unsupported=_unsupported("full-manual"),
        known_ids=_known_ids("full-manual"),
    )
    found = [
        f
        for f in result.findings
        if (f.operation, f.reason) == ("createReturnFulfillment", "server_error")
    ]
    assert found, (
        "the schemathesis stage found nothing on server_error_on_field_type; "
        f"notes: {result.notes}, findings: {[(f.operation, f.reason) for f in result.findings]}"
    )
    assert all(f.check.startswith("schemathesis.") for f in found)
    assert not [n for n in result.notes if n.startswith(COULD_NOT_RUN)], result.notes
