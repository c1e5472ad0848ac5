"""The lifecycle of contract section 4 lives in one table (conformance/data/lifecycle.toml).

Each test fails when a second copy appears: the reference store, the state machine, the profiles
and the matrix schema must agree with the table for every (action, status) pair, and no module
in conformance/ may list return statuses of its own.
"""

from __future__ import annotations

import ast
import json
from itertools import product
from pathlib import Path

import pytest

from conformance import schemas
from conformance.contract import OperationId, lifecycle, operation, vocabularies
from conformance.generate import machine
from conformance.probes import lifecycle as lifecycle_probes
from conformance.reference.answers import ApiError
from conformance.reference.profile import Behaviour, load_profile, profile_names
from conformance.reference.store import Return, Store

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"

# Lists of return statuses that are not a lifecycle rule, each with why. Keep this short.
NOT_RULES = {
    ("reference/store.py", ("approved", "closed")): "the reference renders an RFO id once approved",
    ("probes/reads.py", ("approved", "closed")): "a search order: such returns likely have RFOs",
    (
        "reference/defects.py",
        ("rejected", "cancelled"),
    ): "the seeded defect breaks the rule on purpose",
}


def _statuses() -> list[str]:
    return sorted(vocabularies().return_status)


def _store_with(status: str) -> tuple[Store, Return]:
    store = Store(load_profile("full-manual"))
    ret = next(iter(store.returns.values()))
    ret.status = status
    ret.fulfillments = []
    return store, ret


@pytest.mark.parametrize(
    ("action", "status"), list(product(lifecycle().actions, sorted(vocabularies().return_status)))
)
def test_reference_store_follows_the_table(action: str, status: str) -> None:
    """full-manual may cancel from every status the table allows, so it must act exactly
    where the table says and move the return to the table's `to` status."""
    store, ret = _store_with(status)
    assert store.behaviour.cancel_from == lifecycle().from_status("cancelReturn")
    assert store.behaviour.repeat_action == "conflict"
    try:
        done = store.act(ret, action)
    except ApiError as refused:
        assert not lifecycle().allowed(action, status), f"{action} from {status}: {refused}"
        return
    assert lifecycle().allowed(action, status), f"{action} from {status} was accepted"
    assert done.status == lifecycle().to_status(action)


@pytest.mark.parametrize("status", _statuses())
def test_reference_fulfillments_follow_the_table(status: str) -> None:
    store, ret = _store_with(status)
    line = ret.lines[0]
    body = {"items": [{"returnItemId": line.id, "quantity": 1}], "tracking": {"number": "T-1"}}
    try:
        store.create_fulfillment(ret, body)
    except ApiError:
        assert status not in lifecycle().fulfillment_from
        return
    assert status in lifecycle().fulfillment_from


def test_the_machine_models_the_table() -> None:
    """The state machine's views are the table's, action by action and status by status."""
    table = lifecycle()
    for action, status in product(table.actions, _statuses()):
        assert (status in machine.LEGAL_FROM[action]) == table.allowed(action, status)
        assert machine.ACTIONS[action] == table.to_status(action)
    assert set(machine.ACTIONS) == set(table.actions)
    assert table.actions == lifecycle_probes.ACTIONS


def test_operations_read_the_table() -> None:
    for op_id in OperationId:
        step = lifecycle().transitions.get(op_id)
        assert operation(op_id).to_status == (step.to_status if step else None)
        assert operation(op_id).from_status == (step.from_status if step else ())
    assert set(lifecycle().actions) == {
        op.id for op in map(operation, OperationId) if op.kind == "action"
    }


def test_the_table_says_what_the_contract_says() -> None:
    """Contract section 4, spelled out once more on purpose: this is the test's oracle."""
    table = lifecycle()
    assert table.from_status("approveReturn") == ("requested",)
    assert table.from_status("rejectReturn") == ("requested",)
    assert table.from_status("cancelReturn") == ("requested", "approved")
    assert table.may_refuse("cancelReturn", "approved")
    assert not table.must_succeed("cancelReturn", "approved")
    assert table.must_succeed("cancelReturn", "requested")
    assert set(table.terminal) == {"rejected", "cancelled", "closed"}
    assert not any(table.allowed(a, s) for a in table.actions for s in table.terminal)


def test_profiles_stay_inside_the_table() -> None:
    allowed = set(lifecycle().from_status("cancelReturn"))
    assert set(Behaviour().cancel_from) == allowed
    for name in profile_names():
        profile = load_profile(name)
        assert set(profile.behaviour.cancel_from) <= allowed, name
        new = profile.behaviour.new_return_status
        assert new is None or new in lifecycle().new, name


def test_the_matrix_schema_takes_any_new_status_and_names_the_normalized_ones() -> None:
    """newReturnStatus carries the target's value (contract section 5: any string keeps the
    matrix valid); its description names the lifecycle's new statuses, which a reader acts on."""
    path = schemas.schema_dir() / "capability-matrix.schema.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))["properties"]["lifecycle"]
    field = recorded["properties"]["newReturnStatus"]
    assert field["type"] == ["string", "null"] and "enum" not in field
    assert all(status in field["description"] for status in lifecycle().new)


def _status_lists(source: str) -> list[tuple[int, tuple[str, ...]]]:
    """Every tuple, list or set literal of two or more return statuses in `source`."""
    statuses = vocabularies().return_status
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and all(v in statuses for v in values):
                found.append((node.lineno, tuple(str(v) for v in values)))
    return found


def test_no_module_lists_statuses_of_its_own() -> None:
    """A second copy of a lifecycle rule starts as a literal list of statuses; the table is
    read through contract.lifecycle() instead."""
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for line, values in _status_lists(path.read_text(encoding="utf-8")):
            if (where, values) not in NOT_RULES:
                copies.append(f"conformance/{where}:{line} {values}")
    assert not copies, "lifecycle rules restated outside data/lifecycle.toml: " + "; ".join(copies)


def test_the_copy_detector_can_fail() -> None:
    assert _status_lists('ALLOWED = ("requested", "approved")\nx = ["a", "approved"]') == [
        (1, ("requested", "approved"))
    ]
