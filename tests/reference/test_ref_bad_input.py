"""Bad input on every reference profile: the exact error (400 INVALID_REQUEST, or the profile's
403 / 501 gate), never a 5xx or a traceback, and never a change of state. Ends with a small
property-based run of random JSON bodies and random query strings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from refkit import GATED, Api, expect_error, expect_ok, tracking_body  # type: ignore[import-not-found]

from conformance.reference import profile_names
from conformance.schemas import violations

PROFILES = profile_names()
REASONS = (
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "size_too_small",
    "size_too_large",
    "color",
    "style",
    "unwanted",
    "other",
    "unknown",
)
ERROR_CODE = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "NOT_ALLOWED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "INVALID_STATE",
    422: "UNPROCESSABLE",
    501: "NOT_SUPPORTED",
}


def _item(**change: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "{line}", "quantity": 1, "reason": "damaged"}
    item.update(change)
    return {k: v for k, v in item.items() if v is not ...}


# (label, body): a dict/list/str is sent as JSON, bytes as they are. "{line}" is a valid line.
BAD_CREATE_BODIES: list[tuple[str, Any]] = [
    ("quantity 0", {"return": {"items": [_item(quantity=0)]}}),
    ("quantity negative", {"return": {"items": [_item(quantity=-1)]}}),
    ("quantity a string", {"return": {"items": [_item(quantity="1")]}}),
    ("quantity a fraction", {"return": {"items": [_item(quantity=1.5)]}}),
    ("quantity a boolean", {"return": {"items": [_item(quantity=True)]}}),
    ("quantity null", {"return": {"items": [_item(quantity=None)]}}),
    ("quantity huge", {"return": {"items": [_item(quantity=10**30)]}}),
    ("quantity missing", {"return": {"items": [_item(quantity=...)]}}),
    ("items empty", {"return": {"items": []}}),
    ("items missing", {"return": {"note": "no items"}}),
    ("items not a list", {"return": {"items": _item()}}),
    ("item not an object", {"return": {"items": ["{line}"]}}),
    ("reason unknown", {"return": {"items": [_item(reason="broken")]}}),
    ("reason not a string", {"return": {"items": [_item(reason=3)]}}),
    ("reason missing", {"return": {"items": [_item(reason=...)]}}),
    ("id missing", {"return": {"items": [_item(id=...)]}}),
    ("id empty", {"return": {"items": [_item(id="")]}}),
    ("id a number", {"return": {"items": [_item(id=1)]}}),
    ("item note not a string", {"return": {"items": [_item(note=5)]}}),
    ("note not a string", {"return": {"items": [_item()], "note": ["x"]}}),
    ("note too long", {"return": {"items": [_item()], "note": "x" * 501}}),
    ("return not an object", {"return": [_item()]}),
    ("return null", {"return": None}),
    ("missing return wrapper", {"items": [_item()]}),
    ("body a JSON array", [{"return": {"items": [_item()]}}]),
    ("body a JSON string", "return"),
    ("body JSON null", None),
    ("body empty", b""),
    ("body not JSON", b'{"return": {"items": ['),
    ("body form-encoded", b"return[items][0][id]=x&quantity=1"),
    ("body NaN", b'{"return": {"items": [{"id": "{line}", "quantity": NaN, "reason": "other"}]}}'),
    (
        "body NaN elsewhere",
        b'{"return": {"items": [{"id": "{line}", "quantity": 1, "reason": "other"}]}, "x": NaN}',
    ),
    (
        "lone surrogate in a note",
        b'{"return": {"items": [{"id": "{line}", "quantity": 1, '
        b'"reason": "other"}], "note": "\\ud800"}}',
    ),
    ("body not UTF-8", b'{"return": {"items": [{"id": "\xff", "quantity": 1}]}}'),
]

BAD_ACTION_BODIES: list[tuple[str, str, Any]] = [
    ("approveReturn", "note a number", {"note": 5}),
    ("approveReturn", "note too long", {"note": "x" * 501}),
    ("approveReturn", "body a JSON array", []),
    ("approveReturn", "body not JSON", b"{note"),
    ("rejectReturn", "reason a number", {"reason": 5}),
    ("rejectReturn", "note an object", {"note": {}}),
    ("rejectReturn", "body a string", "no"),
    ("cancelReturn", "note a list", {"note": ["x"]}),
    ("cancelReturn", "body JSON null", None),
    ("cancelReturn", "body NaN", b'{"note": NaN}'),
]

BAD_FULFILLMENT_BODIES: list[tuple[str, Any]] = [
    ("missing wrapper", {"tracking": {"number": "1Z"}}),
    ("no tracking", {"returnFulfillment": {}}),
    ("tracking number empty", {"returnFulfillment": {"tracking": {"number": ""}}}),
    ("tracking number a number", {"returnFulfillment": {"tracking": {"number": 5}}}),
    ("company a number", {"returnFulfillment": {"tracking": {"number": "1Z", "company": 5}}}),
    ("company an object", {"returnFulfillment": {"tracking": {"number": "1Z", "company": {}}}}),
    ("url not a URI", {"returnFulfillment": {"tracking": {"number": "1Z", "url": "not a uri"}}}),
    ("items empty", {"returnFulfillment": {"tracking": {"number": "1Z"}, "items": []}}),
    (
        "item quantity 0",
        {
            "returnFulfillment": {
                "tracking": {"number": "1Z"},
                "items": [{"returnItemId": "x", "quantity": 0}],
            }
        },
    ),
    (
        "document without type",
        {
            "returnFulfillment": {
                "tracking": {"number": "1Z"},
                "documents": [{"url": "https://x.example"}],
            }
        },
    ),
    (
        "document with NaN",
        b'{"returnFulfillment": {"tracking": {"number": "1Z"}, '
        b'"documents": [{"type": "label", "size": NaN}]}}',
    ),
    (
        "lone surrogate in the tracking number",
        b'{"returnFulfillment": {"tracking": {"number": "\\udfff"}}}',
    ),
    ("body a JSON array", [{"returnFulfillment": {"tracking": {"number": "1Z"}}}]),
    ("body empty", b""),
]


def send(client: Api, op_id: str, body: Any, line: str = "", **path: str) -> Any:
    """Send `body` (bytes as they are, anything else as JSON) with "{line}" filled in."""
    if isinstance(body, bytes):
        raw = body.replace(b"{line}", line.encode())
    else:
        raw = json.dumps(body).replace("{line}", line).encode()
    return client.call(op_id, content=raw, headers={"Content-Type": "application/json"}, **path)


def expected_error(client: Api, op_id: str, status: int = 400) -> tuple[int, str]:
    gate = GATED.get(client.profile.support[op_id])
    return gate if gate else (status, ERROR_CODE[status])


@pytest.mark.parametrize("name", PROFILES)
def test_bad_bodies_are_400_and_change_nothing(api: Any, name: str) -> None:
    client: Api = api(name)
    order = client.take_order()
    line = order.lines[0].id
    ready = {
        op: client.return_in(s)
        for op, s in (
            ("approveReturn", "requested"),
            ("rejectReturn", "requested"),
            ("cancelReturn", "requested"),
        )
    }
    if ready["cancelReturn"] is None or "requested" not in client.profile.behaviour.cancel_from:
        ready["cancelReturn"] = client.return_in("approved")
    approved = client.return_in("approved")
    before = client.snapshot()
    for label, body in BAD_CREATE_BODIES:
        response = send(client, "createReturn", body, line, orderId=order.id)
        status, code = expected_error(client, "createReturn")
        assert response.status_code == status, (label, response.text)
        expect_error(response, status, code)
    for op_id, label, body in BAD_ACTION_BODIES:
        found = ready[op_id]
        if found is None:
            assert client.profile.support[op_id] != "ok", f"no return for {op_id}"
            found = (order.id, "R-NONE")
        response = send(client, op_id, body, orderId=found[0], id=found[1])
        assert response.status_code == expected_error(client, op_id)[0], (op_id, label)
        expect_error(response, *expected_error(client, op_id))
    for label, body in BAD_FULFILLMENT_BODIES:
        order_id, return_id = approved or (order.id, "R-NONE")
        response = send(
            client, "createReturnFulfillment", body, orderId=order_id, returnId=return_id
        )
        assert response.status_code == expected_error(client, "createReturnFulfillment")[0], (
            label,
            response.text,
        )
        expect_error(response, *expected_error(client, "createReturnFulfillment"))
    assert client.snapshot() == before


@pytest.mark.parametrize("name", PROFILES)
def test_the_same_requests_done_right_succeed(api: Any, name: str) -> None:
    """Control for the test above: with the body fixed, the same calls are served."""
    client: Api = api(name)
    order = client.take_order()
    response = send(
        client,
        "createReturn",
        {"return": {"items": [_item()]}},
        order.lines[0].id,
        orderId=order.id,
    )
    if client.supports("createReturn"):
        expect_ok(response, "createReturn")
    else:
        expect_error(response, *expected_error(client, "createReturn"))
    approved = client.return_in("approved")
    if client.supports("createReturnFulfillment"):
        assert approved is not None
        expect_ok(
            send(
                client,
                "createReturnFulfillment",
                tracking_body(),
                orderId=approved[0],
                returnId=approved[1],
            ),
            "createReturnFulfillment",
        )


@pytest.mark.parametrize("name", PROFILES)
def test_bad_query_parameters_change_nothing(api: Any, name: str) -> None:
    client: Api = api(name)
    before = client.snapshot()
    order_id = (
        client.profile.returns[0].order if client.profile.returns else client.profile.orders[0].id
    )
    for params in (
        {"limit": "0"},
        {"limit": "x"},
        {"page": "zzz"},
        {"createdAt[from]": "now"},
        {"createdAt[to]": "2026-10-01"},
        {"limit": "251", "page": "?"},
    ):
        for op_id, path in (("listReturns", {}), ("listOrderReturns", {"orderId": order_id})):
            client.error(op_id, *expected_error(client, op_id), params=params, **path)
    assert client.snapshot() == before


# --------------------------------------------------------------------------- property-based

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


def near_valid(lines: list[str]) -> st.SearchStrategy[Any]:
    """Bodies shaped like a createReturn request, with random values in every field."""
    item = st.fixed_dictionaries(
        {
            "id": st.sampled_from(lines) | JSON,
            "quantity": st.integers(-2, 4) | JSON,
            "reason": st.sampled_from(REASONS) | JSON,
        },
        optional={"note": st.text(max_size=5) | JSON},
    )
    inner = st.fixed_dictionaries(
        {"items": st.lists(item, max_size=3) | JSON}, optional={"note": JSON}
    )
    return st.fixed_dictionaries({"return": inner | JSON}, optional={"extra": JSON})


FUZZ = settings(
    max_examples=50,
    database=None,
    deadline=None,
    derandomize=True,
    # the autouse server-error guard spans all examples on purpose
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def check_answer(response: Any, op_id: str, allowed: set[int]) -> None:
    # no 5xx, apart from the 501 of a profile that lacks the operation
    assert response.status_code < 500 or allowed == {501}, response.text[:300]
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = expect_error(response, response.status_code, ERROR_CODE[response.status_code])
        assert violations("error.schema.json", body) == []
    else:
        expect_ok(response, op_id, response.status_code)


@pytest.mark.parametrize("name", PROFILES)
def test_random_create_bodies_never_break_the_server(module_api: Any, name: str) -> None:
    client: Api = module_api(name)
    order = client.profile.orders[-1]
    lines = [line.id for line in order.lines]
    gate = GATED.get(client.profile.support["createReturn"])
    allowed = {gate[0]} if gate else {201, 400, 422}
    created: list[str] = []
    listing = client.supports("listOrderReturns")
    before = client.ok("listOrderReturns", orderId=order.id)["returns"] if listing else []

    @FUZZ
    @given(body=JSON | near_valid(lines))
    def run(body: Any) -> None:
        response = client.call("createReturn", json=body, orderId=order.id)
        check_answer(response, "createReturn", allowed)
        if response.status_code == 201:
            created.append(response.json()["return"]["returnOrderId"])

    run()
    if listing:  # only the accepted bodies changed anything
        after = client.ok("listOrderReturns", orderId=order.id)["returns"]
        assert [r for r in after if r["returnOrderId"] not in created] == before
        assert len(after) == len(before) + len(created)


# RFC 3339-shaped strings, valid or not (month 00, year 0000, second 60, offset 24:00 ...)
DATE_TIME_LIKE = st.from_regex(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,12})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"
)
QUERY_KEYS = st.sampled_from(
    ["limit", "page", "status", "createdAt[from]", "createdAt[to]", "other"]
)


@pytest.mark.parametrize("name", PROFILES)
def test_random_query_strings_never_break_the_server(module_api: Any, name: str) -> None:
    client: Api = module_api(name)
    seed = client.profile.returns[0] if client.profile.returns else None
    order_id = seed.order if seed else client.profile.orders[0].id
    targets = [("listReturns", {}), ("listOrderReturns", {"orderId": order_id})]
    if seed is not None:
        targets.append(("listReturnFulfillments", {"orderId": order_id, "returnId": seed.id}))
    before = client.snapshot()

    @FUZZ
    @given(
        params=st.dictionaries(QUERY_KEYS, st.text(max_size=30) | DATE_TIME_LIKE, max_size=4),
        target=st.sampled_from(targets),
    )
    def run(params: dict[str, str], target: tuple[str, dict[str, str]]) -> None:
        op_id, path = target
        gate = GATED.get(client.profile.support[op_id])
        response = client.call(op_id, params=params, **path)
        check_answer(response, op_id, {gate[0]} if gate else {200, 400})

    run()
    assert client.snapshot() == before
