"""Replay scripts: a multi-step finding's script, run with `sh` against a FRESH reference server
with the same defect, shows the failure (exit 1); against a fresh server without the defect it
does not (exit 0). And every return the suite creates can be found by its note."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
from typing import ClassVar

import pytest

import conformance.reference.app as reference_app
from conformance import engine
from conformance.findings import Exchange, Finding
from conformance.reference import ReferenceServer
from conformance.reference.server import defect_catalogue
from conformance.reference.store import Store
from conformance.repro import repro_files

TOKEN = "replay-token-4242"
CATALOGUE = defect_catalogue()


def findings_with_scripts(defect: str, check: str) -> list[Finding]:
    spec = CATALOGUE[defect]
    result = engine.run_reference(spec["profile"], defects=frozenset({defect}), seed=1)
    cell = result.platforms[0].cell(spec["operation"])
    found = [f for f in cell.findings if f.reason == spec["reason"] and f.check == check]
    assert found, (defect, check, [(f.reason, f.check) for f in cell.findings])
    return found


def replay(script: str, profile: str, defects: frozenset[str]) -> subprocess.CompletedProcess[str]:
    with ReferenceServer(profile, TOKEN, defects) as server:
        env = {**os.environ, "BASE_URL": server.base_url, "CONFORMANCE_TOKEN": TOKEN}
        return subprocess.run(
            ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=120
        )


def assert_replays(script: str, profile: str, defect: str, where: str = "") -> None:
    """The script shows the failure on a fresh server with `defect` (exit 1) and not on a
    fresh correct one (exit 0)."""
    broken = replay(script, profile, frozenset({defect}))
    assert broken.returncode == 1, where + broken.stdout[-2000:] + broken.stderr[-2000:]
    assert "FAILURE SHOWN" in broken.stdout
    correct = replay(script, profile, frozenset())
    assert correct.returncode == 0, where + correct.stdout[-2000:] + correct.stderr[-2000:]
    assert "not shown" in correct.stdout


CASES = [
    ("over_quantity_across_returns", "quantity_rule"),
    ("reject_after_fulfillment", "state_machine"),
    ("status_filter_ignored", "state_machine"),
    ("pagination_drops_boundary_item", "state_machine"),
]


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """The state machine's time budget (machine_rules.Budget) protects a user from a slow target;
    here only its request budget may bound it, so what it finds does not depend on how loaded
    the machine is (on 2 busy cores it did not always reach the over-quantity sequence)."""
    import conformance.generate as generate
    from conformance.generate.machine import run_machine

    monkeypatch.setattr(generate, "run_machine", functools.partial(run_machine, seconds=3600.0))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the scripts call curl")
@pytest.mark.usefixtures("unhurried")
@pytest.mark.parametrize(("defect", "check"), CASES)
def test_script_shows_the_failure_on_fresh_data_and_only_with_the_defect(
    defect: str, check: str
) -> None:
    spec = CATALOGUE[defect]
    finding = findings_with_scripts(defect, check)[0]
    assert finding.script is not None, "a multi-step finding ships a script"
    assert len(finding.evidence) > 1
    assert TOKEN not in finding.script and "$CONFORMANCE_TOKEN" in finding.script
    assert_replays(finding.script, spec["profile"], defect)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the scripts call curl")
@pytest.mark.usefixtures("unhurried")
@pytest.mark.parametrize("defect", sorted(CATALOGUE))
def test_every_script_of_every_seeded_defect_replays(defect: str) -> None:
    """Beyond the cases above: every finding that ships a script, on every operation of a run
    with the defect, shows the failure on a fresh server with the defect and not without it.

    Which sequences the state machine reaches depends on the returns made before it, whose
    bodies come from schemathesis' generator; it draws differently with other modules loaded
    (the same seed gave 15, 17 or 19 distinct bodies), so e.g. its over-quantity finding is
    there in some processes only. Whatever it found here must replay."""
    spec = CATALOGUE[defect]
    result = engine.run_reference(spec["profile"], defects=frozenset({defect}), seed=1)
    scripted = [f for c in result.platforms[0].operations for f in c.findings if f.script]
    if not scripted:
        pytest.skip(f"{defect}: no multi-step finding (each finding's curl line is one request)")
    for finding in scripted:
        assert finding.script is not None
        where = f"{finding.operation} {finding.reason} ({finding.check}): "
        assert_replays(finding.script, spec["profile"], defect, where)


def test_ids_from_earlier_answers_are_read_not_copied() -> None:
    finding = findings_with_scripts("reject_after_fulfillment", "state_machine")[0]
    assert finding.script is not None
    created = finding.evidence[0].response_body["return"]["returnOrderId"]
    # The id the run's server assigned appears in the evidence, never in the requests the
    # script sends: it is captured from the create's answer.
    sent = [line for line in finding.script.splitlines() if line.startswith("status=$(curl")]
    assert len(sent) == len(finding.evidence) >= 4
    assert not any(created in line for line in sent), sent
    assert "pick " in finding.script and "python3" in finding.script
    assert "jq" not in finding.script.split()


def test_scripts_are_written_under_repro() -> None:
    spec = CATALOGUE["reject_after_fulfillment"]
    result = engine.run_reference(
        spec["profile"], defects=frozenset({"reject_after_fulfillment"}), seed=1
    ).platforms[0]
    files = repro_files(result)
    assert "rejectReturn-illegal_transition_accepted.sh" in files
    assert all(text.startswith("#!/bin/sh") for text in files.values())


class _Recorded(Store):
    made: ClassVar[list[Store]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _Recorded.made.append(self)


@pytest.mark.parametrize(
    ("profile", "defect"),
    [
        ("full-manual", None),
        ("full-manual", "invalid_input_accepted"),
        ("full-manual", "over_quantity_across_returns"),
        ("full-manual", "approve_no_effect"),
    ],
)
def test_every_return_the_suite_creates_carries_its_note(
    monkeypatch: pytest.MonkeyPatch, profile: str, defect: str | None
) -> None:
    """In the reference server's own store: each return made through the API carries the
    suite's note, or (when the probe broke the note itself) its items carry it and the run
    lists it in `created`."""
    _Recorded.made = []
    monkeypatch.setattr(reference_app, "Store", _Recorded)
    defects = frozenset({defect} if defect else set())
    result = engine.run_reference(profile, defects=defects, seed=3).platforms[0]
    (store,) = _Recorded.made
    tag = "created by the returns conformance suite (seed 3)"
    listed = {c.id for c in result.created if c.kind == "return"}
    made = [r for r in store.returns.values() if r.via_api]
    assert made, "the run created returns"
    marked = {c.id: c.marked for c in result.created if c.kind == "return"}
    assert {ret.id for ret in made} <= set(listed)
    for ret in made:
        # The reference server shows both notes: every return it holds shows the mark.
        assert marked[ret.id] is True, ret.id
        if isinstance(ret.note, str) and ret.note.startswith(tag):
            continue
        assert ret.lines and all(str(line.note).startswith(tag) for line in ret.lines), (
            ret.id,
            ret.note,
            [line.note for line in ret.lines],
        )


def test_returns_that_show_no_note_are_listed_as_unmarked() -> None:
    """A platform that keeps no note (`required-only`: neither the return's nor the items'):
    every return the run made is in `created` with `marked: false`, the Markdown matrix names
    them for the store owner, and the terminal says where the ids are (not for an embedded
    store, which is gone); the matrix JSON still validates."""
    from pathlib import Path

    from conformance.render.markdown import render_platform
    from conformance.render.terminal import unmarked_lines
    from conformance.results import PlatformResult, RunResult

    result = engine.run_reference(
        "full-manual", variations=frozenset({"required-only"}), seed=3, max_examples=0
    ).platforms[0]
    returns = [c for c in result.created if c.kind == "return"]
    assert returns, "the run created returns"
    assert all(c.marked is False for c in returns)
    again = PlatformResult.from_json(result.to_json())  # schema-checked on the way
    assert again.created == result.created
    page = render_platform(result)
    assert f"{len(returns)} of the {len(returns)} returns the run created show no note" in page
    assert f"`{returns[0].id}`" in page
    run = RunResult((result,))
    assert unmarked_lines(run, Path("out")) == []  # an embedded store: nothing left to find
    remote = dataclasses.replace(result, target="https://shop.example")
    (line,) = unmarked_lines(RunResult((remote,)), Path("out"))
    assert f"{len(returns)} returns the suite created show no note" in line
    assert "out/reports/full-manual/findings.json" in line
    fine = engine.run_reference("full-manual", seed=3, max_examples=0).platforms[0]
    assert all(c.marked for c in fine.created if c.kind == "return")
    assert "show no note" not in render_platform(fine)


def test_captured_values_are_spliced_into_paths_and_bodies() -> None:
    from conformance.findings import Exchange
    from conformance.repro import replayable

    create = Exchange(
        "POST",
        "http://127.0.0.1:1/api/v2/orders/O-1/returns",
        {"authorization": "Bearer [REDACTED]"},
        {"return": {"items": [{"id": "O-1-1", "quantity": 1, "reason": "other"}]}},
        201,
        {},
        {"return": {"returnOrderId": "R-77", "returnItems": [{"returnItemId": "RI-9"}]}},
    )
    ship = Exchange(
        "POST",
        "http://127.0.0.1:1/api/v2/orders/O-1/returns/R-77/fulfillments",
        {"authorization": "Bearer [REDACTED]"},
        {"returnFulfillment": {"items": [{"returnItemId": "RI-9", "quantity": 1}]}},
        201,
        {},
        {},
    )
    finding = replayable("createReturnFulfillment", "server_error", "x", "m", [create, ship])
    assert finding.script is not None
    sent = [line for line in finding.script.splitlines() if line.startswith("status=$(curl")]
    assert len(sent) == 2 and not any("R-77" in line or "RI-9" in line for line in sent), sent
    assert "/returns/${RETURNORDERID_1_URL}/fulfillments" in sent[1]
    assert '"returnItemId": "\'"$RETURNITEMID_2"\'"' in sent[1]
    assert "[REDACTED]" not in finding.script and "$CONFORMANCE_TOKEN" in sent[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the scripts call curl")
def test_an_id_only_the_check_names_is_read_from_the_answer_that_made_it() -> None:
    """A list that leaves out a return just made: no later request sends that return's id, only
    the check names it. The script reads it from the create's answer (fresh data numbers returns
    its own way), so it shows the failure with the defect and not without it (seen in a full
    run: the run's id stayed a literal, and a correct server "showed" the failure)."""
    from conformance.repro import replayable

    create = _write(
        "POST",
        "orders/SHOP-0001/returns",
        {"return": {"items": [{"id": "SHOP-0001-1", "quantity": 1, "reason": "other"}]}},
        201,
        {"success": True, "return": {"returnOrderId": "RET-000055", "status": "requested"}},
    )
    listed = _write("GET", "orders/SHOP-0001/returns", None, 200, {"returns": []})
    shows = "status == 200 and 'RET-000055' not in ids(body)"
    finding = replayable(
        "listOrderReturns", "stale_list", "state_machine", "m", [create, listed], shows=shows
    )
    assert finding.script is not None
    assert "'RET-000055'" not in finding.script
    assert_replays(finding.script, "full-manual", "list_missing_created")


def _write(method: str, path: str, body: object, status: int, answer: object) -> Exchange:
    headers = {"authorization": "Bearer [REDACTED]"}
    return Exchange(method, f"http://127.0.0.1:1/api/v2/{path}", headers, body, status, {}, answer)


def _made(order: str, rid: str, status: str = "approved") -> Exchange:
    body = {"return": {"items": [{"id": f"{order}-1", "quantity": 1, "reason": "other"}]}}
    answer = {"return": {"returnOrderId": rid, "status": status}}
    return _write("POST", f"orders/{order}/returns", body, 201, answer)


def _cancel(order: str, rid: str) -> Exchange:
    answer = {"return": {"returnOrderId": rid, "status": "cancelled"}}
    return _write("POST", f"orders/{order}/returns/{rid}/cancel", {"note": "n"}, 200, answer)


def test_setup_makes_again_the_returns_a_failing_list_read_needs() -> None:
    """The returns the run made before the failing sequence, in its order: for a status filter
    one in another status on the read's order; for pages every one; repeats left out."""
    from conformance.discover import Inventory
    from conformance.repro import SETUP_CAP, replayable, setup_for

    inventory = Inventory()
    kept = _made("O-1", "R-1")
    gone, cancel, again = _made("O-1", "R-2"), _cancel("O-1", "R-2"), _cancel("O-1", "R-2")
    elsewhere, elsewhere_cancel = _made("O-2", "R-3"), _cancel("O-2", "R-3")
    for exchange in (kept, gone, elsewhere):
        inventory.record_creation(exchange)
    inventory.record_write({"orderId": "O-1", "id": "R-2"}, cancel)
    inventory.record_write({"orderId": "O-1", "id": "R-2"}, again)
    inventory.record_write({"orderId": "O-2", "id": "R-3"}, elsewhere_cancel)
    mine = _made("O-1", "R-4")
    inventory.record_creation(mine)
    listed = {"returns": [{"returnOrderId": "R-4", "status": "approved"}], "page": {}}
    read = _write("GET", "orders/O-1/returns?limit=250&status=approved", None, 200, listed)
    sequence = [mine, read]

    assert setup_for("filter_ignored", sequence, inventory) == [gone, cancel]
    pages = _write("GET", "returns?limit=2", None, 200, listed)
    assert setup_for("pagination_broken", [mine, pages], inventory) == [
        kept,
        gone,
        elsewhere,
        cancel,
        elsewhere_cancel,
    ]  # in the order the run made them
    assert setup_for("stale_list", sequence, inventory) == []
    finding = replayable(
        "listOrderReturns", "filter_ignored", "state_machine", "m", sequence, inventory=inventory
    )
    assert finding.evidence == (gone, cancel, mine, read)
    assert finding.script is not None and "# Steps 1-2 make again" in finding.script
    assert "/returns/${RETURNORDERID_1_URL}/cancel" in finding.script

    crowded = Inventory()  # too many steps: no setup rather than an unbounded script
    for n in range(SETUP_CAP + 1):
        crowded.record_creation(_made("O-1", f"R-{n + 10}"))
    crowded.record_creation(mine)
    assert setup_for("pagination_broken", [mine, pages], crowded) == []
    crowded.writes.pop(0)
    assert len(setup_for("pagination_broken", [mine, pages], crowded)) == SETUP_CAP
