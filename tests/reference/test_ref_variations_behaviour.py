"""Named variations of the workflow, the lists and the requests (variations.toml), on every
platform each applies to: create status, repeated actions, cancel from approved, page tokens,
page objects, default page size, status filter, refused filters and pagination, long text,
unknown reasons, 405 for missing writes, read lag."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from refkit import (  # type: ignore[import-not-found]
    ENVELOPE_KEY,
    Api,
    collect,
    expect_error,
    expect_ok,
    tracking_body,
)
from varykit import cases, registry  # type: ignore[import-not-found]

from conformance.contract import operation, operations
from conformance.reference.paging import encode_page

CHECKS, check = registry()
ACTIONS = ("approveReturn", "rejectReturn", "cancelReturn")


def return_lists(api: Api) -> list[tuple[str, dict[str, str]]]:
    """The return lists the platform has, with the order of a seeded return (else the first)."""
    order = api.profile.returns[0].order if api.profile.returns else api.profile.orders[0].id
    found: list[tuple[str, dict[str, str]]] = []
    if api.supports("listReturns"):
        found.append(("listReturns", {}))
    if api.supports("listOrderReturns"):
        found.append(("listOrderReturns", {"orderId": order}))
    return found


def every_list(api: Api) -> list[tuple[str, dict[str, str]]]:
    found = [("listOrders", {}), *return_lists(api)]
    seeds = [s for s in api.profile.returns if s.fulfillments]
    if api.supports("listReturnFulfillments") and seeds:
        found.append(
            ("listReturnFulfillments", {"orderId": seeds[0].order, "returnId": seeds[0].id})
        )
    return found


@check("create-200")
def _create_200(api: Api) -> None:
    if api.supports("createReturn"):
        order = api.take_order()
        body = {"return": {"items": [{"id": order.lines[0].id, "quantity": 1, "reason": "color"}]}}
        expect_ok(api.call("createReturn", orderId=order.id, json=body), "createReturn", 200)
    if api.supports("createReturnFulfillment"):
        found = api.return_in("approved")
        assert found is not None
        response = api.call(
            "createReturnFulfillment", orderId=found[0], returnId=found[1], json=tracking_body()
        )
        expect_ok(response, "createReturnFulfillment", 200)


def _repeat(api: Api, status: int) -> None:
    checked = 0
    for op_id in ACTIONS:
        found = api.actionable(op_id) if api.supports(op_id) else None
        if found is None:
            continue
        first = api.act(op_id, *found)
        assert first["status"] == operation(op_id).to_status
        again = api.call(op_id, orderId=found[0], id=found[1])
        if status == 200:
            assert expect_ok(again, op_id)["return"] == first
        else:
            expect_error(again, 409, "INVALID_STATE")
        checked += 1
    assert checked


@check("repeat-200")
def _repeat_200(api: Api) -> None:
    _repeat(api, 200)


@check("repeat-409")
def _repeat_409(api: Api) -> None:
    _repeat(api, 409)


@check("cancel-approved-409")
def _cancel_approved_409(api: Api) -> None:
    found = api.return_in("approved")
    assert found is not None
    api.error("cancelReturn", 409, "INVALID_STATE", orderId=found[0], id=found[1])
    assert api.get_return(*found)["status"] == "approved"
    requested = api.return_in("requested")
    if requested is not None:  # cancel from requested still works
        assert api.act("cancelReturn", *requested)["status"] == "cancelled"


@check("opaque-page-tokens")
def _opaque_page_tokens(api: Api) -> None:
    for op_id, path in every_list(api):
        key = ENVELOPE_KEY[op_id]
        everything = api.ok(op_id, params={"limit": 250}, **path)[key]
        if len(everything) < 2:
            continue
        seen, params, tokens = [], {"limit": "1"}, []
        for _ in range(len(everything) + 1):
            body = api.ok(op_id, params=params, **path)
            seen += body[key]
            token = body["page"]["next"]
            if token is None:
                break
            tokens.append(token)
            params = {"limit": "1", "page": token}
        assert seen == everything, op_id
        assert tokens and all({"+", "/", "="} <= set(t) for t in tokens), tokens
        assert all(base64.b64decode(t, validate=True) for t in tokens)
        for forged in ("AAAAAAAA+/==", encode_page(1), tokens[0].replace("+", " ")):
            api.error(op_id, 400, "INVALID_REQUEST", params={"page": forged}, **path)


@check("no-page-on-last")
def _no_page_on_last(api: Api) -> None:
    for op_id, path in every_list(api):
        last = api.ok(op_id, params={"limit": 250}, **path)
        assert "page" not in last, (op_id, last.get("page"))
        if len(last[ENVELOPE_KEY[op_id]]) > 1:
            first = api.ok(op_id, params={"limit": 1}, **path)
            assert isinstance(first["page"]["next"], str)
            assert len(collect(api, op_id, {"limit": 1}, **path)) == len(last[ENVELOPE_KEY[op_id]])


@check("default-page-size")
def _default_page_size(api: Api) -> None:
    targets = return_lists(api)
    if api.supports("createReturn"):
        order = api.take_order()
        units = [line.id for line in order.lines for _ in range(line.quantity)]
        for line_id in units[:3]:
            api.create(order.id, [(line_id, 1)])
        if api.supports("listOrderReturns"):
            targets.append(("listOrderReturns", {"orderId": order.id}))
    checked = 0
    for op_id, path in targets:
        everything = api.ok(op_id, params={"limit": 250}, **path)["returns"]
        if len(everything) < 3:
            continue
        first = api.ok(op_id, **path)
        assert len(first["returns"]) == 2, first
        assert first["page"]["next"], first
        assert collect(api, op_id, {}, **path) == everything
        checked += 1
    assert checked, "no list of 3 returns or more"


def _unknown_status(api: Api, status: int) -> None:
    for op_id, path in return_lists(api):
        api.ok(op_id, params={"status": "requested"}, **path)
        response = api.call(op_id, params={"status": "not-a-status"}, **path)
        if status == 400:
            expect_error(response, 400, "INVALID_REQUEST")
        else:
            assert expect_ok(response, op_id)["returns"] == []


@check("unknown-status-400")
def _unknown_status_400(api: Api) -> None:
    _unknown_status(api, 400)


@check("unknown-status-empty")
def _unknown_status_empty(api: Api) -> None:
    _unknown_status(api, 200)


@check("filters-rejected")
def _filters_rejected(api: Api) -> None:
    for op_id, path in return_lists(api):
        assert api.ok(op_id, **path)["returns"] is not None
        for params in (
            {"status": "requested"},
            {"createdAt[from]": "2026-01-01T00:00:00Z"},
            {"createdAt[to]": "2026-12-31T00:00:00Z"},
            {"status": "approved", "limit": "2"},
        ):
            api.error(op_id, 400, "INVALID_REQUEST", params=params, **path)


@check("pagination-rejected")
def _pagination_rejected(api: Api) -> None:
    for op_id, path in every_list(api):
        for params in ({"limit": "1"}, {"limit": "250"}, {"page": encode_page(1)}):
            api.error(op_id, 400, "INVALID_REQUEST", params=params, **path)
        body = api.ok(op_id, **path)
        assert "page" not in body, body["page"]
        if op_id == "listOrders":
            assert len(body["orders"]) == len(api.profile.orders)


LONG = "x" * 5000


@check("long-text")
def _long_text(api: Api) -> None:
    if api.supports("createReturn"):
        order = api.take_order()
        item = {"id": order.lines[0].id, "quantity": 1, "reason": "other", "note": LONG}
        ret = api.ok(
            "createReturn", orderId=order.id, json={"return": {"items": [item], "note": LONG}}
        )
        assert ret["return"]["note"] == LONG
        assert ret["return"]["returnItems"][0]["note"] == LONG
    for op_id in ACTIONS:
        found = api.actionable(op_id) if api.supports(op_id) else None
        if found is not None:
            body = {"note": LONG, **({"reason": LONG} if op_id == "rejectReturn" else {})}
            api.act(op_id, *found, json=body)
    if api.supports("createReturnFulfillment"):
        found = api.return_in("approved")
        assert found is not None
        url = "https://tracking.example/" + "u" * 3000
        shipment = tracking_body(number="N" * 1000, package={"identifiers": ["I" * 1000] * 60})
        shipment["returnFulfillment"]["tracking"].update(url=url, company="C" * 1000)
        ful = api.ok("createReturnFulfillment", orderId=found[0], returnId=found[1], json=shipment)
        assert ful["returnFulfillment"]["tracking"] == {
            "number": "N" * 1000,
            "company": "C" * 1000,
            "url": url,
        }


@check("unknown-reasons-accepted")
def _unknown_reasons_accepted(api: Api) -> None:
    order = api.take_order()
    ret = api.create(order.id, [(order.lines[0].id, 1)], reason="BROKEN_ON_ARRIVAL")
    assert ret["returnItems"][0]["returnReason"] == "BROKEN_ON_ARRIVAL"
    item = {"id": order.lines[0].id, "quantity": 1, "reason": ""}
    api.error(
        "createReturn", 400, "INVALID_REQUEST", orderId=order.id, json={"return": {"items": [item]}}
    )


@check("missing-write-405")
def _missing_write_405(api: Api) -> None:
    checked = 0
    order = api.profile.orders[0].id
    for op in operations():
        path = {
            k: v
            for k, v in {"orderId": order, "id": "R", "returnId": "R"}.items()
            if "{" + k + "}" in op.path
        }
        response = api.call(op.id, json={}, **path)
        support = api.profile.support[op.id]
        if support == "not_supported" and op.is_write:
            expect_error(response, 405, "METHOD_NOT_ALLOWED")
            allow = {m.strip() for m in response.headers["Allow"].split(",") if m.strip()}
            others = [o for o in operations() if o.path == op.path and o is not op]
            has_get = any(api.profile.support[o.id] != "not_supported" for o in others)
            assert allow == ({"GET", "HEAD"} if has_get else set()), (op.id, allow)
            checked += 1
        elif support == "not_supported":
            expect_error(response, 501, "NOT_SUPPORTED")
        elif support == "not_allowed":
            expect_error(response, 403, "NOT_ALLOWED")
    assert checked


@check("read-lag")
def _read_lag(api: Api) -> None:
    lag = api.profile.behaviour.read_lag
    op_id = next(op for op in ACTIONS if api.supports(op))
    found = api.actionable(op_id)
    assert found is not None
    time.sleep(lag + 0.05)
    before = api.get_return(*found)
    written = time.monotonic()
    after = api.act(op_id, *found)
    assert after["status"] == operation(op_id).to_status  # the write's own answer is current
    shown = api.get_return(*found)
    if time.monotonic() - written < lag * 0.8:  # else this machine was too slow to tell
        assert shown == before
    time.sleep(lag + 0.05)
    assert api.get_return(*found) == after
    if api.supports("createReturn"):
        order = api.take_order()
        written = time.monotonic()
        made = api.create(order.id, [(order.lines[0].id, 1)])
        response = api.call("getReturn", orderId=order.id, id=made["returnOrderId"])
        if time.monotonic() - written < lag * 0.8:  # not there yet, a moment ago
            expect_error(response, 404, "NOT_FOUND")
        time.sleep(lag + 0.05)
        assert api.get_return(order.id, made["returnOrderId"]) == made


@pytest.mark.parametrize(("name", "platform"), cases(sorted(CHECKS)))
def test_behaviour_variation_on_the_wire(varied_api: Any, name: str, platform: str) -> None:
    CHECKS[name](varied_api(platform, [name]))


@check("null-as-absent")
def _null_as_absent(api: Api) -> None:
    """An optional field sent as null is served as if absent; a required one is still 400."""
    if api.supports("createReturn") and api.fresh_orders():
        order = api.take_order()
        line = order.lines[0].id
        item = {"id": line, "quantity": 1, "reason": "other", "note": None}
        made = api.ok("createReturn", orderId=order.id, json={"return": {"items": [item]}})
        assert made["return"]["returnItems"], made
        for broken in ({"items": None}, {"items": [{**item, "quantity": None}]}):
            api.error(
                "createReturn", 400, "INVALID_REQUEST", orderId=order.id, json={"return": broken}
            )
    found = api.return_in("approved") if api.supports("createReturnFulfillment") else None
    if found is not None:
        order_id, return_id = found
        shipped = {"returnFulfillment": {"tracking": {"number": "N-1"}, "items": None}}
        api.ok("createReturnFulfillment", orderId=order_id, returnId=return_id, json=shipped)
        broken = {"returnFulfillment": {"tracking": {"number": None}}}
        api.error(
            "createReturnFulfillment",
            400,
            "INVALID_REQUEST",
            orderId=order_id,
            returnId=return_id,
            json=broken,
        )
    if api.supports("rejectReturn"):
        ids = api.actionable("rejectReturn")
        if ids is not None:
            rejected = api.act("rejectReturn", *ids, json={"reason": None, "note": None})
            assert rejected["status"] == "rejected", rejected
