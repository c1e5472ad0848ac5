"""Contract section 2 on every reference profile: auth, methods, envelopes, content type, list
parameters, unknown fields and parameters, not found."""

from __future__ import annotations

from typing import Any

import pytest
from refkit import GATED, Api, expect_error, tracking_body  # type: ignore[import-not-found]

from conformance.contract import operation
from conformance.reference import profile_names

PROFILES = profile_names()
ALL_OPS = [
    "listReturns",
    "listOrderReturns",
    "getReturn",
    "createReturn",
    "cancelReturn",
    "approveReturn",
    "rejectReturn",
    "listReturnFulfillments",
    "getReturnFulfillment",
    "createReturnFulfillment",
    "listOrders",
    "getOrder",
]
LISTS = ["listReturns", "listOrderReturns", "listReturnFulfillments"]
FILTERED_LISTS = ["listReturns", "listOrderReturns"]

# Contract section 1: the methods of every path (HEAD comes free with GET).
PATH_METHODS = {
    "/api/v2/returns": {"GET"},
    "/api/v2/orders": {"GET"},
    "/api/v2/orders/{orderId}": {"GET"},
    "/api/v2/orders/{orderId}/returns": {"GET", "POST"},
    "/api/v2/orders/{orderId}/returns/{id}": {"GET"},
    "/api/v2/orders/{orderId}/returns/{id}/cancel": {"POST"},
    "/api/v2/orders/{orderId}/returns/{id}/approve": {"POST"},
    "/api/v2/orders/{orderId}/returns/{id}/reject": {"POST"},
    "/api/v2/orders/{orderId}/returns/{id}/fulfillments": {"GET", "POST"},
    "/api/v2/orders/{orderId}/returns/{id}/fulfillments/{fid}": {"GET"},
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def known_ids(api: Api) -> dict[str, str]:
    """Existing ids from the profile's data: a seeded fulfillment's, else a seeded return's."""
    profile = api.profile
    ids = {"orderId": profile.orders[0].id, "returnId": "R-NONE", "fulfillmentId": "F-NONE"}
    for seed in sorted(profile.returns, key=lambda s: not s.fulfillments):
        ids.update(orderId=seed.order, returnId=seed.id)
        if seed.fulfillments:
            ids["fulfillmentId"] = seed.fulfillments[0].id
        break
    return ids


def path_params(op_id: str, ids: dict[str, str]) -> dict[str, str]:
    path = operation(op_id).path
    if op_id == "getOrder":
        return {"id": ids["orderId"]}
    params = {"orderId": ids["orderId"]}
    if "{returnId}" in path:
        params["returnId"] = ids["returnId"]
        if path.endswith("{id}"):
            params["id"] = ids["fulfillmentId"]
    elif path.endswith("{id}") or operation(op_id).kind == "action":
        params["id"] = ids["returnId"]
    return params


def well_formed_body(op_id: str, api: Api) -> Any:
    if op_id == "createReturn":
        line = api.profile.orders[0].lines[0].id
        return {"return": {"items": [{"id": line, "quantity": 1, "reason": "other"}]}}
    if op_id == "createReturnFulfillment":
        return tracking_body()
    return {} if operation(op_id).method == "POST" else None


def gate_or(api: Api, op_id: str) -> tuple[int, str] | None:
    """The 403 / 501 the profile answers before anything else, or None when the op is ok."""
    support = api.profile.support.get(op_id, "ok")
    return GATED.get(support)


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize("op_id", ALL_OPS)
@pytest.mark.parametrize("name", PROFILES)
def test_missing_or_wrong_token_is_401(module_api: Any, name: str, op_id: str) -> None:
    api: Api = module_api(name)
    params = path_params(op_id, known_ids(api))
    body = well_formed_body(op_id, api)
    token = api.client.headers["Authorization"].removeprefix("Bearer ")
    for authorization in (
        None,
        "Bearer wrong-token",
        "wrong",
        f"Basic {token}",
        "Bearer",
        f"Bearer {token}x",
        f"Token {token}",
        token,
    ):
        response = api.call_as(authorization, op_id, json=body, **params)
        expect_error(response, 401, "UNAUTHORIZED")
    if gate_or(api, op_id) is None and operation(op_id).method == "GET":
        api.ok(op_id, **params)  # the same request with the right token is served


def test_unauthorised_write_changes_nothing(api: Any) -> None:
    client: Api = api("full-manual")
    order = client.take_order()
    ret = client.create(order.id, [(order.lines[0].id, 1)])
    before = client.snapshot()
    client.error_of(
        client.call_as(None, "approveReturn", orderId=order.id, id=ret["returnOrderId"]),
        401,
        "UNAUTHORIZED",
    )
    client.error_of(
        client.call_as(
            "Bearer nope",
            "createReturn",
            orderId=order.id,
            json=well_formed_body("createReturn", client),
        ),
        401,
        "UNAUTHORIZED",
    )
    assert client.snapshot() == before


# --------------------------------------------------------------------------- methods


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("path", list(PATH_METHODS))
def test_wrong_method_is_405_with_allow(module_api: Any, name: str, path: str) -> None:
    api: Api = module_api(name)
    ids = known_ids(api)
    url = (
        path.replace("{orderId}", ids["orderId"])
        .replace("{id}", ids["returnId"])
        .replace("{fid}", ids["fulfillmentId"])
    )
    allowed = PATH_METHODS[path]
    for method in METHODS:
        if method in allowed:
            continue
        response = api.client.request(method, url)
        expect_error(response, 405, "METHOD_NOT_ALLOWED")
        allow = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= allow <= allowed | {"HEAD"}, (method, url, allow)


@pytest.mark.parametrize("name", PROFILES)
def test_unknown_path_is_404(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    api.error_of(api.client.get("/api/v2/no-such-resource"), 404, "NOT_FOUND")


# --------------------------------------------------------------------------- envelopes


@pytest.mark.parametrize("name", PROFILES)
def test_order_reads_answer_their_envelopes(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    orders = api.ok("listOrders", params={"limit": 250})["orders"]
    assert orders
    order = api.ok("getOrder", id=orders[0]["id"])["order"]
    assert order == orders[0]
    api.error("getOrder", 404, "NOT_FOUND", id="NO-SUCH-ORDER")


# --------------------------------------------------------------------------- unknown fields


@pytest.mark.parametrize("name", PROFILES)
def test_unknown_body_fields_are_ignored(api: Any, name: str) -> None:
    client: Api = api(name)
    if client.supports("createReturn"):
        order = client.take_order()
        line = order.lines[0].id
        body = {
            "return": {
                "items": [
                    {
                        "id": line,
                        "quantity": 1,
                        "reason": "color",
                        "colour": "mauve",
                        "extra": {"x": [1]},
                    }
                ],
                "unexpected": True,
            },
            "also": None,
        }
        ret = client.ok("createReturn", orderId=order.id, json=body)["return"]
        assert [
            (x["orderItemId"], int(x["quantity"]), x["returnReason"]) for x in ret["returnItems"]
        ] == [(line, 1, "color")]
    for op_id, body in (
        ("approveReturn", {"note": "ok", "priority": 9}),
        ("rejectReturn", {"reason": "late", "note": "n", "code": [1]}),
        ("cancelReturn", {"note": "n", "by": {"who": "seller"}}),
    ):
        if not client.supports(op_id):
            continue
        found = client.actionable(op_id)
        assert found is not None, f"no return to {op_id}"
        ret = client.act(op_id, *found, json=body)
        assert ret["status"] == operation(op_id).to_status
    if client.supports("createReturnFulfillment"):
        found = client.return_in("approved")
        assert found is not None
        body = tracking_body(number="TRK-UNKNOWN-FIELDS", weight="2kg")
        body["returnFulfillment"]["tracking"]["service"] = "ground"
        body["label"] = {"x": 1}
        ful = client.ok("createReturnFulfillment", orderId=found[0], returnId=found[1], json=body)[
            "returnFulfillment"
        ]
        assert ful["tracking"]["number"] == "TRK-UNKNOWN-FIELDS"


@pytest.mark.parametrize("name", PROFILES)
def test_unknown_query_parameters_are_ignored(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    ids = known_ids(api)
    extra = {"foo": "bar", "expand": "everything", "limit_": "-1", "createdAt[at]": "x"}
    for op_id in (
        "listReturns",
        "listOrderReturns",
        "getReturn",
        "listReturnFulfillments",
        "getReturnFulfillment",
        "listOrders",
        "getOrder",
    ):
        if gate_or(api, op_id) is not None:
            continue
        params = path_params(op_id, ids)
        plain = api.ok(op_id, **params)
        assert api.ok(op_id, params=extra, **params) == plain


# --------------------------------------------------------------------------- list parameters


BAD_LIMITS = [
    "0",
    "251",
    "-1",
    "1000",
    "abc",
    "1.5",
    "",
    " 5",
    "5 ",
    "1e2",
    "0x10",
    "+5",
    "99999999999999999999",
]
BAD_PAGES = [
    "garbage",
    "!!!",
    "cGcxOi0x",
    "eyJvZmZzZXQiOjJ9",
    "pg1:1",
    "%%%",
    "\u00e9t\u00e9",
    "cGcxOmFiYw",
    "cGcxOjEyMzQ1Njc4OTAxMjM0",
]
BAD_TIMES = [
    "yesterday",
    "2026-10-01",
    "2026-10-01 08:00:00Z",
    "2026-10-01T08:00:00",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-10-01T24:00:00Z",
    "2026-10-01T08:00:00+25:00",
    "1696147200",
    "",
    "2026-10-01T08:00Z",
    "2026-06-30T12:00:60Z",
]
# RFC 3339 allows all of these: lower-case t and z, any fraction, a leap second at 23:59 UTC,
# year 0000 and offsets that move the instant past year 9999.
GOOD_TIMES = [
    "2026-10-01T08:30:00Z",
    "2026-10-01t08:30:00z",
    "2026-10-01T10:30:00.5+02:00",
    "2026-12-31T23:59:60Z",
    "2026-10-01T08:30:00.123456789-00:00",
    "2026-12-31T18:59:60-05:00",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:60Z",
    "9999-12-31T23:59:59-23:59",
]


def list_targets(api: Api, ops: list[str]) -> list[tuple[str, dict[str, str]]]:
    ids = known_ids(api)
    targets = []
    for op_id in ops:
        if not api.supports(op_id):
            continue
        if op_id == "listReturnFulfillments" and ids["fulfillmentId"] == "F-NONE":
            continue
        targets.append((op_id, path_params(op_id, ids)))
    return targets


@pytest.mark.parametrize("name", PROFILES)
def test_limit_outside_1_to_250_is_400(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    for op_id, params in list_targets(api, LISTS):
        for limit in BAD_LIMITS:
            api.error(op_id, 400, "INVALID_REQUEST", params={"limit": limit}, **params)
        for limit in ("1", "250", "007"):
            body = api.ok(op_id, params={"limit": limit}, **params)
            assert len(body[api_key(op_id)]) <= int(limit)


def api_key(op_id: str) -> str:
    return "returnFulfillments" if op_id == "listReturnFulfillments" else "returns"


@pytest.mark.parametrize("name", PROFILES)
def test_unreadable_page_token_is_400(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    for op_id, params in list_targets(api, LISTS):
        for page in BAD_PAGES:
            api.error(op_id, 400, "INVALID_REQUEST", params={"page": page}, **params)


@pytest.mark.parametrize("name", PROFILES)
def test_malformed_created_at_is_400_and_rfc3339_is_accepted(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    for op_id, params in list_targets(api, FILTERED_LISTS):
        for key in ("createdAt[from]", "createdAt[to]"):
            for value in BAD_TIMES:
                api.error(op_id, 400, "INVALID_REQUEST", params={key: value}, **params)
            for value in GOOD_TIMES:
                api.ok(op_id, params={key: value}, **params)


@pytest.mark.parametrize("name", PROFILES)
def test_gated_lists_answer_the_gate_before_checking_parameters(module_api: Any, name: str) -> None:
    """A platform without the operation says so (501 / 403) whatever the parameters."""
    api: Api = module_api(name)
    ids = known_ids(api)
    for op_id in LISTS:
        gate = gate_or(api, op_id)
        if gate is None:
            continue
        api.error(op_id, *gate, params={"limit": "0", "page": "x"}, **path_params(op_id, ids))


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize("name", PROFILES)
def test_unknown_order_return_fulfillment_is_404(module_api: Any, name: str) -> None:
    api: Api = module_api(name)
    ids = known_ids(api)
    bodies = {op_id: well_formed_body(op_id, api) for op_id in ALL_OPS}
    variants = [
        {**ids, "orderId": "NO-SUCH-ORDER"},
        {**ids, "returnId": "NO-SUCH-RETURN"},
        {**ids, "fulfillmentId": "NO-SUCH-FULFILLMENT"},
    ]
    checked = 0
    for op_id in ALL_OPS[:10]:
        gate = gate_or(api, op_id)
        for variant in variants:
            params = path_params(op_id, variant)
            if params == path_params(op_id, ids) or op_id == "listReturns":
                continue  # this variant changes nothing this operation names
            if op_id == "listReturnFulfillments" and ids["returnId"] == "R-NONE":
                continue
            response = api.call(op_id, json=bodies[op_id], **params)
            if gate:
                expect_error(response, *gate)
            else:
                expect_error(response, 404, "NOT_FOUND")
                checked += 1
    assert checked or not any(api.supports(op) for op in ALL_OPS[1:10])


# --------------------------------------------------------------------------- ids in paths


@pytest.mark.parametrize("name", PROFILES)
def test_an_id_is_one_percent_encoded_path_segment(module_api: Any, name: str) -> None:
    """Ids are opaque: each is one percent-encoded segment, `%2F` included (routing is on the
    raw path), and an error that echoes an odd id still answers in the contract's shape."""
    api: Api = module_api(name)
    order = api.profile.orders[0].id
    every_byte = "".join(f"%{b:02X}" for b in order.encode())
    found = api.ok_of(api.client.get(f"/api/v2/orders/{every_byte}"), "getOrder")["order"]
    assert found["id"] == order
    for odd in ("a/b", "gid://x/Order/1", "x?y#z", "50% off", "%2F"):
        body = api.error("getOrder", 404, "NOT_FOUND", id=odd)
        assert repr(odd) in body["message"], body
        for op_id, params in (
            ("listOrderReturns", {"orderId": odd}),
            ("getReturn", {"orderId": order, "id": odd}),
        ):
            expected = gate_or(api, op_id) or (404, "NOT_FOUND")
            api.error(op_id, *expected, **params)
