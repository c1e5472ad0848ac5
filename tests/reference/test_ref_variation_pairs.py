"""Every pair of variations that can be combined, on full-manual: a create / approve / get round
trip (plus a fulfillment and a list) answers no 5xx (a transient 502/503/504 is sent again, as a
client does) and only schema-valid bodies. In process, through httpx's ASGI transport, to keep a
few hundred platforms cheap."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from refkit import ENVELOPE_KEY, expect_ok  # type: ignore[import-not-found]

from conformance.contract import operation
from conformance.reference import create_app, load_profile, variation_catalogue
from conformance.reference.variations import applies, with_variations
from conformance.statuses import return_status

PLATFORM = "full-manual"
TRANSIENT = (502, 503, 504)  # the store behind the connector failed; nothing was written
TOKEN = "pairs-token"


def pairs() -> list[Any]:
    profile = load_profile(PLATFORM)
    catalogue = variation_catalogue()
    names = [n for n in catalogue if applies(n, profile)]
    return [
        pytest.param(a, b, id=f"{a}+{b}")
        for a, b in itertools.combinations(names, 2)
        if b not in catalogue[a].conflicts
    ]


def path(op_id: str, **ids: str) -> str:
    url = operation(op_id).path
    for name, value in ids.items():
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


async def round_trip(app: Any, extra: bool) -> list[int]:
    """create → approve → fulfil → get → list; answers the statuses seen (all checked)."""
    statuses: list[int] = []
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://ref", headers=headers) as c:

        async def call(op_id: str, body: Any = None, **ids: str) -> dict[str, Any] | None:
            op = operation(op_id)
            response = await c.request(op.method, path(op_id, **ids), json=body)
            for _ in range(3):  # upstream-errors: sent again, as contract section 2 says
                if response.status_code not in TRANSIENT:
                    break
                statuses.append(response.status_code)
                response = await c.request(op.method, path(op_id, **ids), json=body)
            assert response.status_code < 500, response.text[:300]
            statuses.append(response.status_code)
            if response.status_code == 404 and op.method == "GET":
                return None  # read-lag: a return made a moment ago is not there yet
            if response.status_code == 429:
                return None  # throttle
            return expect_ok(response, op_id, response.status_code, extra)

        orders = await call("listOrders")
        assert orders is not None
        order = orders["orders"][-1]  # ids come from the answers: variations may rename them
        items = [{"id": order["items"][0]["id"], "quantity": 1, "reason": "damaged", "note": "n"}]
        created = await call("createReturn", {"return": {"items": items}}, orderId=order["id"])
        assert created is not None
        ret = created["return"]["returnOrderId"]
        approved = await call("approveReturn", {"note": "ok"}, orderId=order["id"], id=ret)
        assert approved is not None and return_status(approved["return"]["status"]) == "approved"
        body = {"returnFulfillment": {"tracking": {"number": "1Z", "url": "https://t.example"}}}
        await call("createReturnFulfillment", body, orderId=order["id"], returnId=ret)
        await call("getReturn", orderId=order["id"], id=ret)
        listed = await call("listOrderReturns", orderId=order["id"])
        if listed is not None:
            assert isinstance(listed[ENVELOPE_KEY["listOrderReturns"]], list)
    return statuses


@pytest.mark.parametrize(("first", "second"), pairs())
def test_two_variations_together_serve_a_round_trip(first: str, second: str) -> None:
    profile = with_variations(load_profile(PLATFORM), [first, second])
    app = create_app(profile, TOKEN)
    statuses = asyncio.run(round_trip(app, profile.behaviour.extra_fields))
    assert all(s < 500 or s in TRANSIENT for s in statuses), statuses
    if "upstream-errors" in (first, second):  # each operation met its store failure
        assert any(s in TRANSIENT for s in statuses), statuses
