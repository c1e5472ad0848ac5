"""Each reference profile answers every operation as its data file says (contract section 6).

Expectations come from `load_profile(name).support`, so a data file and a behaviour that disagree
fail here; `test_behaviour_follows_altered_data` proves it by serving altered support tables.
The literal table of contract section 6 is checked against the data files separately.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from refkit import GATED, SUCCESS_STATUS, Api, expect_error, expect_ok, tracking_body  # type: ignore[import-not-found]

from conformance.contract import OperationId, operation, operations
from conformance.errors import UsageError
from conformance.reference import ReferenceServer, create_app, load_profile, profile_names
from conformance.reference.server import defect_catalogue

PROFILES = profile_names()
OPS = [op.id for op in operations()]

# Contract section 6, copied as literal expectations. Columns: listReturns, listOrderReturns,
# getReturn, createReturn, approveReturn, rejectReturn, cancelReturn, listReturnFulfillments,
# getReturnFulfillment, createReturnFulfillment.
COLUMNS = (
    "listReturns",
    "listOrderReturns",
    "getReturn",
    "createReturn",
    "approveReturn",
    "rejectReturn",
    "cancelReturn",
    "listReturnFulfillments",
    "getReturnFulfillment",
    "createReturnFulfillment",
)
OK, NA, NS = "ok", "not_allowed", "not_supported"
SECTION_6 = {
    "full-manual": (NS, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "auto-approve": (OK, OK, OK, OK, NS, NS, OK, OK, OK, OK),
    "seller-decides": (OK, NS, OK, NA, OK, OK, NA, OK, OK, OK),
    "marketplace-readonly": (OK, OK, OK, NA, NA, NA, NA, OK, OK, NA),
    "no-reverse-shipments": (OK, OK, OK, OK, OK, OK, OK, NS, NS, NS),
    "no-returns": (NS, NS, NS, NS, NS, NS, NS, NS, NS, NS),
}
NEW_RETURN_STATUS = {
    "full-manual": "requested",
    "auto-approve": "approved",
    "no-reverse-shipments": "requested",
    "seller-decides": "requested",
}


# --------------------------------------------------------------------------- the data files


def test_profile_names_are_the_six_of_section_6_in_order() -> None:
    assert tuple(SECTION_6) == PROFILES


@pytest.mark.parametrize("name", PROFILES)
def test_support_table_matches_section_6(name: str) -> None:
    profile = load_profile(name)
    assert set(profile.support) == set(OperationId)
    assert {op: profile.support[op] for op in COLUMNS} == dict(
        zip(COLUMNS, SECTION_6[name], strict=True)
    )
    if name in NEW_RETURN_STATUS:
        assert profile.behaviour.new_return_status == NEW_RETURN_STATUS[name]


@pytest.mark.parametrize("name", ["seller-decides", "marketplace-readonly"])
def test_profiles_that_cannot_create_have_returns_in_several_statuses(name: str) -> None:
    """Contract section 6: customer-made returns in several statuses, so every read is checked."""
    profile = load_profile(name)
    assert profile.support["createReturn"] != "ok"
    statuses = {seed.status for seed in profile.returns}
    assert {"requested", "approved", "closed"} <= statuses, statuses
    assert any(seed.fulfillments for seed in profile.returns)


# --------------------------------------------------------------------------- driving every op


def _requested(api: Api) -> tuple[str, str] | None:
    return api.return_in("requested")


def _cancellable(api: Api) -> tuple[str, str] | None:
    for status in (*api.profile.behaviour.cancel_from, "requested", "approved"):
        found = api.return_in(status)
        if found:
            return found
    return None


def _any_return(api: Api) -> tuple[str, str] | None:
    for seed in api.profile.returns:
        return seed.order, seed.id
    return api.return_in("requested") or api.return_in("approved")


def drive(api: Api, op_id: str) -> httpx.Response:
    """Send `op_id` as a well-formed request on valid data (or on placeholders where the profile
    has no data for it, which is only acceptable when the operation is not supported)."""
    wanted = api.supports(op_id)
    first = api.profile.orders[0]

    def need(found: Any, what: str) -> Any:
        if found is None:
            assert not wanted, f"{api.profile.name}: no {what} in the data to drive {op_id}"
        return found

    if op_id == "listReturns":
        return api.call(op_id)
    if op_id == "listOrderReturns":
        found = need(_any_return(api), "return")
        return api.call(op_id, orderId=found[0] if found else first.id)
    if op_id == "getReturn":
        order_id, return_id = need(_any_return(api), "return") or (first.id, "R-NONE")
        return api.call(op_id, orderId=order_id, id=return_id)
    if op_id == "createReturn":
        order = need(api.fresh_orders()[:1], "order without returns")
        order = order[0] if order else first
        body = {
            "return": {"items": [{"id": order.lines[0].id, "quantity": 1, "reason": "damaged"}]}
        }
        return api.call(op_id, orderId=order.id, json=body)
    if op_id in ("approveReturn", "rejectReturn"):
        order_id, return_id = need(_requested(api), "requested return") or (first.id, "R-NONE")
        return api.call(op_id, orderId=order_id, id=return_id, json={"note": "conformance"})
    if op_id == "cancelReturn":
        order_id, return_id = need(_cancellable(api), "cancellable return") or (first.id, "R-NONE")
        return api.call(op_id, orderId=order_id, id=return_id)
    if op_id in ("listReturnFulfillments", "getReturnFulfillment"):
        found = need(api.fulfillment(), "return fulfillment") or (first.id, "R-NONE", "F-NONE")
        order_id, return_id, ful_id = found
        if op_id == "listReturnFulfillments":
            return api.call(op_id, orderId=order_id, returnId=return_id)
        return api.call(op_id, orderId=order_id, returnId=return_id, id=ful_id)
    if op_id == "createReturnFulfillment":
        order_id, return_id = need(api.return_in("approved"), "approved return") or (
            first.id,
            "R-NONE",
        )
        return api.call(op_id, orderId=order_id, returnId=return_id, json=tracking_body())
    raise AssertionError(op_id)


def check_answer(api: Api, op_id: str, response: httpx.Response) -> None:
    """The answer the profile's data promises: success with a valid body, or 403 / 501."""
    support = api.profile.support[op_id]
    if support != "ok":
        expect_error(response, *GATED[support])
        return
    body = expect_ok(response, op_id)
    op = operation(op_id)
    if op.to_status is not None:
        assert body["return"]["status"] == op.to_status
    if op_id == "createReturn":
        assert body["return"]["status"] == api.profile.behaviour.new_return_status


@pytest.mark.parametrize("op_id", OPS)
@pytest.mark.parametrize("name", PROFILES)
def test_operation_answers_as_the_profile_says(api: Any, name: str, op_id: str) -> None:
    client = api(name)
    check_answer(client, op_id, drive(client, op_id))


ALTERATIONS = {
    "full-manual": {"listReturns": OK, "approveReturn": NA, "createReturnFulfillment": NS},
    "marketplace-readonly": {"createReturn": OK, "getReturn": NS, "listReturnFulfillments": NA},
    "no-returns": dict.fromkeys(COLUMNS, OK),
}


@pytest.mark.parametrize("name", list(ALTERATIONS))
def test_behaviour_follows_altered_data(serve_app: Any, token: str, name: str) -> None:
    """An app built from a profile whose support table was changed answers the changed table:
    the checks above read the data, so a file that disagrees with the server cannot pass."""
    original = load_profile(name)
    change = ALTERATIONS[name]
    assert all(original.support[op] != value for op, value in change.items())
    behaviour = original.behaviour
    if behaviour.new_return_status is None:
        behaviour = dataclasses.replace(behaviour, new_return_status="requested")
    altered = dataclasses.replace(
        original, support={**original.support, **change}, behaviour=behaviour
    )
    for op_id in OPS:
        ref = serve_app(create_app(altered, token))
        client = Api(ref.base_url, ref.client, altered)
        response = drive(client, op_id)
        check_answer(client, op_id, response)
        if op_id in change:  # ... which breaks the unaltered file's promise
            was = original.support[op_id]
            assert response.status_code != (SUCCESS_STATUS[op_id] if was == OK else GATED[was][0])


# --------------------------------------------------------------------------- quantities


def _quantities(ret: dict[str, Any]) -> list[Any]:
    return [x["quantity"] for x in ret["returnItems"]] + [x["quantity"] for x in ret["items"]]


@pytest.mark.parametrize("name", PROFILES)
def test_quantity_format_follows_the_profile(api: Any, name: str) -> None:
    client: Api = api(name)
    fmt = client.profile.behaviour.quantity_format
    assert fmt == ("string" if name == "marketplace-readonly" else "integer")
    expected_type = str if fmt == "string" else int

    def check(values: list[Any]) -> None:
        assert values
        for value in values:
            assert type(value) is expected_type, (name, values)
            assert int(value) >= 1
            if fmt == "string":
                assert value.isdigit()

    order = client.profile.orders[0]
    check([x["quantity"] for x in client.ok("getOrder", id=order.id)["order"]["items"]])
    if not client.supports("getReturn"):
        return
    found = client.fulfillment()
    if found is not None and client.supports("getReturnFulfillment"):
        order_id, return_id, ful_id = found
        ful = client.ok("getReturnFulfillment", orderId=order_id, returnId=return_id, id=ful_id)
        check([x["quantity"] for x in ful["returnFulfillment"]["items"]])
    else:
        order_id, return_id = _any_return(client) or ("", "")
    check(_quantities(client.get_return(order_id, return_id)))
    if client.supports("createReturn"):
        target = client.take_order()
        made = client.create(target.id, [(target.lines[0].id, 1)])
        check(_quantities(made))


# --------------------------------------------------------------------------- defect switches


@pytest.mark.parametrize("defect", sorted(defect_catalogue()))
def test_every_catalogued_defect_is_accepted(reference: Any, defect: str) -> None:
    profile = defect_catalogue()[defect]["profile"]
    assert profile in PROFILES
    ref = reference(profile, (defect,))
    assert ref.client.get("/api/v2/orders").status_code == 200


def test_unknown_defect_is_a_usage_error(token: str) -> None:
    with pytest.raises(UsageError, match="no_such_defect"):
        ReferenceServer("full-manual", token, frozenset({"no_such_defect"}))
