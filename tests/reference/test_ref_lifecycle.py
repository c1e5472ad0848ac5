"""Contract section 4 on every reference profile where the operations exist: the new return, the
lifecycle, terminal statuses, repeated actions, fulfillments only when approved, the quantity rule,
read-your-writes and isolation. Every test has a server of its own (state matters)."""

from __future__ import annotations

from typing import Any

import pytest
from refkit import Api, collect, profiles_where, tracking_body  # type: ignore[import-not-found]

from conformance.contract import operation

ACTIONS = ("approveReturn", "rejectReturn", "cancelReturn")
TERMINAL = ("rejected", "cancelled", "closed")
# Contract section 6 (new return column): the status a return made through the API starts in.
NEW_STATUS = {
    "full-manual": "requested",
    "auto-approve": "approved",
    "no-reverse-shipments": "requested",
}


def reads(client: Api, order_id: str, return_id: str) -> list[dict[str, Any]]:
    """The return as every supported read shows it: getReturn, listOrderReturns, listReturns."""
    seen = [client.get_return(order_id, return_id)]
    if client.supports("listOrderReturns"):
        listed = client.ok("listOrderReturns", orderId=order_id, params={"limit": 250})["returns"]
        seen += [r for r in listed if r["returnOrderId"] == return_id]
        assert len(seen) == 2, f"listOrderReturns lacks {return_id}"
    if client.supports("listReturns"):
        listed = collect(client, "listReturns", {"limit": 250})
        mine = [r for r in listed if r["returnOrderId"] == return_id]
        assert len(mine) == 1, f"listReturns shows {return_id} {len(mine)} times"
        seen += mine
    return seen


def assert_reads_show(client: Api, order_id: str, expected: dict[str, Any]) -> None:
    """Read-your-writes: every read answers exactly the return the write answered."""
    for seen in reads(client, order_id, expected["returnOrderId"]):
        assert seen == expected


def made(client: Api, status: str) -> tuple[str, str]:
    found = client.return_in(status)
    assert found is not None, f"{client.profile.name} has no return in status {status}"
    return found


# --------------------------------------------------------------------------- createReturn


@pytest.mark.parametrize("name", profiles_where("createReturn"))
def test_new_return_has_the_profile_status_and_the_requested_items(api: Any, name: str) -> None:
    client: Api = api(name)
    assert client.profile.behaviour.new_return_status == NEW_STATUS[name]
    order = client.take_order()
    first, second = order.lines[0], order.lines[1]
    want = [
        (first.id, min(2, first.quantity), "size_too_small", "too tight"),
        (second.id, 1, "damaged", None),
    ]
    items = [
        {"id": line, "quantity": q, "reason": reason, **({"note": note} if note else {})}
        for line, q, reason, note in want
    ]
    body = {"return": {"items": items, "note": "customer called"}}
    ret = client.ok("createReturn", orderId=order.id, json=body)["return"]
    assert ret["status"] == NEW_STATUS[name]
    assert ret["orderId"] == order.id
    got = [
        (x["orderItemId"], int(x["quantity"]), x["returnReason"], x.get("note"))
        for x in ret["returnItems"]
    ]
    assert got == want
    assert len({x["returnItemId"] for x in ret["returnItems"]}) == len(want)
    assert_reads_show(client, order.id, ret)


# --------------------------------------------------------------------------- transitions


@pytest.mark.parametrize("name", profiles_where(some=("approveReturn", "rejectReturn")))
def test_approve_and_reject_move_a_requested_return(api: Any, name: str) -> None:
    client: Api = api(name)
    tried = 0
    for op_id in ("approveReturn", "rejectReturn"):
        if not client.supports(op_id):
            continue
        order_id, return_id = made(client, "requested")
        ret = client.act(op_id, order_id, return_id)
        assert ret["status"] == operation(op_id).to_status
        assert_reads_show(client, order_id, ret)
        tried += 1
    assert tried, f"{name}: no requested return to approve or reject"


@pytest.mark.parametrize("name", profiles_where("cancelReturn", "getReturn"))
def test_cancel_follows_cancel_from(api: Any, name: str) -> None:
    client: Api = api(name)
    cancel_from = client.profile.behaviour.cancel_from
    tried = 0
    for status in ("requested", "approved"):
        found = client.return_in(status)
        if found is None:
            continue
        order_id, return_id = found
        before = client.get_return(order_id, return_id)
        response = client.call("cancelReturn", orderId=order_id, id=return_id)
        if status in cancel_from:
            ret = client.ok_of(response, "cancelReturn")["return"]
            assert ret["status"] == "cancelled"
            assert_reads_show(client, order_id, ret)
        else:
            client.error_of(response, 409, "INVALID_STATE")
            assert client.get_return(order_id, return_id) == before
        tried += 1
    assert tried, f"{name}: no requested or approved return to cancel"


@pytest.mark.parametrize("name", profiles_where("rejectReturn"))
def test_reject_of_an_approved_return_is_409(api: Any, name: str) -> None:
    client: Api = api(name)
    order_id, return_id = made(client, "approved")
    before = client.get_return(order_id, return_id)
    client.error("rejectReturn", 409, "INVALID_STATE", orderId=order_id, id=return_id)
    assert client.get_return(order_id, return_id) == before


@pytest.mark.parametrize("name", profiles_where("getReturn", some=ACTIONS))
def test_terminal_statuses_refuse_every_action(api: Any, name: str) -> None:
    """Rejected, cancelled and closed returns refuse every action with 409, apart from repeating
    the action that produced the status on an idempotent platform (200, unchanged)."""
    client: Api = api(name)
    actions = [op for op in ACTIONS if client.supports(op)]
    idempotent = client.profile.behaviour.repeat_action == "idempotent"
    tried = set()
    for status in TERMINAL:
        for op_id in actions:
            found = client.return_in(status)
            if found is None:
                continue
            order_id, return_id = found
            before = client.get_return(order_id, return_id)
            assert before["status"] == status
            response = client.call(op_id, orderId=order_id, id=return_id)
            if idempotent and operation(op_id).to_status == status:
                assert client.ok_of(response, op_id)["return"] == before
            else:
                client.error_of(response, 409, "INVALID_STATE")
            assert client.get_return(order_id, return_id) == before
            tried.add(status)
    assert "closed" in tried or not any(s.status == "closed" for s in client.profile.returns)
    assert tried, f"{name}: no terminal return to act on"


@pytest.mark.parametrize("name", profiles_where(some=ACTIONS))
def test_repeating_the_last_action(api: Any, name: str) -> None:
    """Repeating the action that produced the status: 200 unchanged (idempotent) or 409."""
    client: Api = api(name)
    idempotent = client.profile.behaviour.repeat_action == "idempotent"
    tried = 0
    for op_id in ACTIONS:
        if not client.supports(op_id):
            continue
        found = client.actionable(op_id)
        if found is None:
            continue
        order_id, return_id = found
        done = client.act(op_id, order_id, return_id)
        response = client.call(op_id, orderId=order_id, id=return_id)
        if idempotent:
            assert client.ok_of(response, op_id)["return"] == done
        else:
            client.error_of(response, 409, "INVALID_STATE")
        assert client.get_return(order_id, return_id) == done
        tried += 1
    assert tried, f"{name}: no return to act on twice"


# --------------------------------------------------------------------------- fulfillments


@pytest.mark.parametrize("name", profiles_where("createReturnFulfillment", "getReturn"))
def test_return_fulfillment_only_when_approved(api: Any, name: str) -> None:
    client: Api = api(name)
    for status in ("requested", "rejected", "cancelled", "closed"):
        found = client.return_in(status)
        if found is None:
            continue
        order_id, return_id = found
        before = client.get_return(order_id, return_id)
        listed = client.ok("listReturnFulfillments", orderId=order_id, returnId=return_id)
        client.error(
            "createReturnFulfillment",
            409,
            "INVALID_STATE",
            orderId=order_id,
            returnId=return_id,
            json=tracking_body(),
        )
        assert client.get_return(order_id, return_id) == before
        assert client.ok("listReturnFulfillments", orderId=order_id, returnId=return_id) == listed
    order_id, return_id = made(client, "approved")
    ret = client.get_return(order_id, return_id)
    first_item = ret["returnItems"][0]
    body = tracking_body(
        number="RF-RYW-1",
        items=[{"returnItemId": first_item["returnItemId"], "quantity": 1}],
        documents=[{"type": "label", "url": "https://labels.example/1.pdf", "format": "pdf"}],
    )
    ful = client.ok("createReturnFulfillment", orderId=order_id, returnId=return_id, json=body)[
        "returnFulfillment"
    ]
    assert ful["tracking"]["number"] == "RF-RYW-1"
    assert ful["status"] == client.profile.behaviour.fulfillment_status
    assert [(x["returnItemId"], int(x["quantity"])) for x in ful["items"]] == [
        (first_item["returnItemId"], 1)
    ]
    got = client.ok("getReturnFulfillment", orderId=order_id, returnId=return_id, id=ful["id"])[
        "returnFulfillment"
    ]
    assert got == ful
    listed = client.ok("listReturnFulfillments", orderId=order_id, returnId=return_id)[
        "returnFulfillments"
    ]
    assert [f for f in listed if f["id"] == ful["id"]] == [ful]
    after = client.get_return(order_id, return_id)
    assert after["status"] == "approved"
    assert after["returnFulfillmentOrderId"] is not None
    if client.supports("rejectReturn"):  # a shipped-back return is still approved: no reject
        client.error("rejectReturn", 409, "INVALID_STATE", orderId=order_id, id=return_id)
        assert client.get_return(order_id, return_id) == after


# --------------------------------------------------------------------------- quantity rule


def releasing_action(client: Api) -> str | None:
    """An action that takes a new return to a status that releases its quantity."""
    new = client.profile.behaviour.new_return_status
    if new == "requested" and client.supports("rejectReturn"):
        return "rejectReturn"
    if client.supports("cancelReturn") and new in client.profile.behaviour.cancel_from:
        return "cancelReturn"
    return None


@pytest.mark.parametrize("name", profiles_where("createReturn"))
def test_quantity_rule_across_returns(api: Any, name: str) -> None:
    client: Api = api(name)
    order = client.take_order()
    line = max(order.lines, key=lambda x: x.quantity)
    assert line.quantity >= 2, "the profile needs an order line with quantity >= 2"
    snapshot = client.snapshot()

    def over(items: list[tuple[str, int]]) -> None:
        body = {
            "return": {"items": [{"id": i, "quantity": q, "reason": "other"} for i, q in items]}
        }
        client.error("createReturn", 422, "UNPROCESSABLE", orderId=order.id, json=body)

    over([(line.id, line.quantity + 1)])
    over([(line.id, line.quantity), (line.id, 1)])  # one request, the same line twice
    assert client.snapshot() == snapshot
    first = client.create(order.id, [(line.id, 1)])
    second = client.create(order.id, [(line.id, line.quantity - 1)])
    over([(line.id, 1)])
    release = releasing_action(client)
    if release is None:
        return
    client.act(release, order.id, first["returnOrderId"])
    third = client.create(order.id, [(line.id, 1)])  # the released unit is returnable again
    over([(line.id, 1)])
    client.act(release, order.id, second["returnOrderId"])
    client.act(release, order.id, third["returnOrderId"])
    client.create(order.id, [(line.id, line.quantity)])


@pytest.mark.parametrize("name", profiles_where("createReturn"))
def test_seeded_returns_hold_quantity_unless_rejected_or_cancelled(api: Any, name: str) -> None:
    client: Api = api(name)
    lines = {
        line.id: (order.id, line.quantity)
        for order in client.profile.orders
        for line in order.lines
    }
    held: dict[str, int] = {}
    for seed in client.profile.returns:
        for x in seed.lines:
            if seed.status not in ("rejected", "cancelled"):
                held[x.line] = held.get(x.line, 0) + x.quantity
            else:
                held.setdefault(x.line, 0)
    assert held, f"{name} has no seeded return to check the rule against"
    for line_id, used in held.items():
        order_id, quantity = lines[line_id]
        free = quantity - used
        body = {"return": {"items": [{"id": line_id, "quantity": free + 1, "reason": "other"}]}}
        client.error("createReturn", 422, "UNPROCESSABLE", orderId=order_id, json=body)
        if free:
            client.create(order_id, [(line_id, free)])


@pytest.mark.parametrize("name", profiles_where("createReturn"))
def test_unknown_line_item_is_422(api: Any, name: str) -> None:
    client: Api = api(name)
    order, other = client.take_order(), client.take_order()
    before = client.snapshot()
    for line_id in ("NO-SUCH-LINE", other.lines[0].id):
        body = {
            "return": {
                "items": [
                    {"id": order.lines[0].id, "quantity": 1, "reason": "other"},
                    {"id": line_id, "quantity": 1, "reason": "other"},
                ]
            }
        }
        client.error("createReturn", 422, "UNPROCESSABLE", orderId=order.id, json=body)
    assert client.snapshot() == before


# --------------------------------------------------------------------------- read-your-writes


@pytest.mark.parametrize(
    "name", profiles_where("getReturn", some=("createReturn", *ACTIONS, "createReturnFulfillment"))
)
def test_read_your_writes_after_every_write(api: Any, name: str) -> None:
    client: Api = api(name)
    writes = 0
    if client.supports("createReturn"):
        order = client.take_order()
        ret = client.create(order.id, [(order.lines[0].id, 1)], reason="color")
        assert_reads_show(client, order.id, ret)
        writes += 1
    for op_id in ACTIONS:
        if not client.supports(op_id):
            continue
        found = client.actionable(op_id)
        if found is None:
            continue
        ret = client.act(op_id, *found)
        assert_reads_show(client, found[0], ret)
        writes += 1
    if client.supports("createReturnFulfillment"):
        order_id, return_id = made(client, "approved")
        ful = client.ok(
            "createReturnFulfillment", orderId=order_id, returnId=return_id, json=tracking_body()
        )["returnFulfillment"]
        listed = collect(
            client, "listReturnFulfillments", {"limit": 1}, orderId=order_id, returnId=return_id
        )
        assert [f for f in listed if f["id"] == ful["id"]] == [ful]
        assert_reads_show(client, order_id, client.get_return(order_id, return_id))
        writes += 1
    assert writes, f"{name}: no write was possible"


# --------------------------------------------------------------------------- isolation


@pytest.mark.parametrize("name", profiles_where("getReturn"))
def test_return_is_404_under_another_order(api: Any, name: str) -> None:
    client: Api = api(name)
    found = client.return_in("requested") or client.return_in("approved")
    assert found is not None
    order_id, return_id = found
    other = next(o.id for o in client.profile.orders if o.id != order_id)
    before = client.get_return(order_id, return_id)
    client.error("getReturn", 404, "NOT_FOUND", orderId=other, id=return_id)
    for op_id in ACTIONS:
        if client.supports(op_id):
            client.error(op_id, 404, "NOT_FOUND", orderId=other, id=return_id)
    if client.supports("listReturnFulfillments"):
        client.error("listReturnFulfillments", 404, "NOT_FOUND", orderId=other, returnId=return_id)
    if client.supports("createReturnFulfillment"):
        client.error(
            "createReturnFulfillment",
            404,
            "NOT_FOUND",
            orderId=other,
            returnId=return_id,
            json=tracking_body(),
        )
    if client.supports("listOrderReturns"):
        listed = client.ok("listOrderReturns", orderId=other, params={"limit": 250})["returns"]
        assert return_id not in {r["returnOrderId"] for r in listed}
        assert {r["orderId"] for r in listed} <= {other}
    assert client.get_return(order_id, return_id) == before


@pytest.mark.parametrize("name", profiles_where("getReturnFulfillment"))
def test_fulfillment_is_404_under_another_return(api: Any, name: str) -> None:
    client: Api = api(name)
    order_a, return_a, ful_a = client.fulfillment() or pytest.fail("no fulfillment")
    client.ok("getReturnFulfillment", orderId=order_a, returnId=return_a, id=ful_a)
    others = []
    if client.supports("createReturn"):  # another return of the same order
        line = next(x for x in client.profile.orders if x.id == order_a).lines
        free = [x for x in line if x.quantity >= 2] or line
        ret = client.create(order_a, [(free[-1].id, 1)])
        others.append((order_a, ret["returnOrderId"]))
    b = client.fulfillment()  # a return of another order, with a fulfillment of its own
    if b is not None:
        others.append((b[0], b[1]))
        client.error(
            "getReturnFulfillment", 404, "NOT_FOUND", orderId=order_a, returnId=return_a, id=b[2]
        )
    assert others
    for order_id, return_id in others:
        client.error(
            "getReturnFulfillment", 404, "NOT_FOUND", orderId=order_id, returnId=return_id, id=ful_a
        )
        listed = client.ok("listReturnFulfillments", orderId=order_id, returnId=return_id)[
            "returnFulfillments"
        ]
        assert ful_a not in {f["id"] for f in listed}
