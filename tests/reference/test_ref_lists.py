"""Lists on every reference profile (contract sections 2 and 4): `limit`, `page`, `status` and
`createdAt[from]` / `createdAt[to]` (inclusive), on data in several statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from refkit import ENVELOPE_KEY, Api, collect, profiles_where, tracking_body  # type: ignore[import-not-found]

STATUSES = ("requested", "approved", "rejected", "cancelled", "closed")
LISTS = ("listReturns", "listOrderReturns", "listReturnFulfillments")


def populate(client: Api) -> None:
    """Returns in several statuses on one order, and several fulfillments on one return, where
    the profile lets the seller make them (the others come with seeded data)."""
    profile = client.profile
    if not client.supports("createReturn"):
        return
    order = client.take_order()
    units = [(line.id, n) for line in order.lines for n in range(line.quantity)]
    made = [client.create(order.id, [(line_id, 1)])["returnOrderId"] for line_id, _ in units]
    plan = ["approveReturn", "rejectReturn", "cancelReturn"]
    for return_id, op_id in zip(made, plan, strict=False):
        status = client.get_return(order.id, return_id)["status"]
        allowed = {
            "approveReturn": ("requested",),
            "rejectReturn": ("requested",),
            "cancelReturn": profile.behaviour.cancel_from,
        }[op_id]
        if client.supports(op_id) and status in allowed:
            client.act(op_id, order.id, return_id)


def fulfillment_lists(client: Api) -> list[dict[str, str]]:
    """Path parameters of returns with fulfillments; makes five on one return where it can."""
    targets = [
        {"orderId": s.order, "returnId": s.id} for s in client.profile.returns if s.fulfillments
    ]
    if client.supports("createReturnFulfillment"):
        found = client.return_in("approved")
        assert found is not None
        for n in range(5):
            client.ok(
                "createReturnFulfillment",
                orderId=found[0],
                returnId=found[1],
                json=tracking_body(number=f"TRK-LIST-{n}"),
            )
        targets.append({"orderId": found[0], "returnId": found[1]})
    return targets


@pytest.fixture(scope="module", params=profiles_where(some=LISTS))
def lists(request: Any, module_api: Any) -> tuple[Api, list[tuple[str, dict[str, str]]]]:
    """A populated platform and every list it supports: (operation id, path parameters)."""
    client: Api = module_api(request.param)
    populate(client)
    targets: list[tuple[str, dict[str, str]]] = []
    if client.supports("listReturns"):
        targets.append(("listReturns", {}))
    if client.supports("listOrderReturns"):
        orders = {r["orderId"] for r in all_returns(client)} or {client.profile.orders[0].id}
        for order_id in sorted(orders):
            targets.append(("listOrderReturns", {"orderId": order_id}))
    if client.supports("listReturnFulfillments"):
        targets += [("listReturnFulfillments", p) for p in fulfillment_lists(client)]
    assert targets, f"{client.profile.name} supports a list, yet none could be listed"
    return client, targets


def all_returns(client: Api) -> list[dict[str, Any]]:
    """Every return the platform can show (listReturns, else the seeded and created ones)."""
    if client.supports("listReturns"):
        return collect(client, "listReturns", {"limit": 250})
    found = []
    for order in client.profile.orders:
        if client.supports("listOrderReturns"):
            found += client.ok("listOrderReturns", orderId=order.id, params={"limit": 250})[
                "returns"
            ]
    return found


def ident(op_id: str, item: dict[str, Any]) -> str:
    return str(item["id"] if op_id == "listReturnFulfillments" else item["returnOrderId"])


def test_the_lists_have_enough_data(lists: Any) -> None:
    client, targets = lists
    sizes = {op_id: 0 for op_id, _ in targets}
    for op_id, params in targets:
        sizes[op_id] = max(sizes[op_id], len(collect(client, op_id, {"limit": 250}, **params)))
    # Paging is only checked where a list has several items: at least one list of returns
    # (marketplace-readonly's seeded orders hold one return each, so its listReturns carries it).
    returns = [size for op_id, size in sizes.items() if op_id != "listReturnFulfillments"]
    assert max(returns) >= 3, sizes
    assert sizes.get("listReturnFulfillments", 1) >= 1, sizes
    if client.supports("createReturnFulfillment"):
        assert sizes["listReturnFulfillments"] >= 5, sizes


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_limit_and_page_walk_every_item_once(lists: Any, limit: int) -> None:
    client, targets = lists
    for op_id, params in targets:
        everything = [
            ident(op_id, x)
            for x in client.ok(op_id, params={"limit": 250}, **params)[ENVELOPE_KEY[op_id]]
        ]
        seen: list[str] = []
        query: dict[str, Any] = {"limit": limit}
        for _ in range(len(everything) + 2):
            body = client.ok(op_id, params=query, **params)
            page = body[ENVELOPE_KEY[op_id]]
            assert len(page) <= limit, (op_id, limit, len(page))
            seen += [ident(op_id, x) for x in page]
            token = body["page"]["next"]
            if token is None:
                break
            assert page, "an empty page that is not the last"
            query = {"limit": limit, "page": token}
        else:
            raise AssertionError(f"{op_id}: page.next never became null")
        assert len(seen) == len(set(seen)), f"{op_id}: an item twice {seen}"
        assert sorted(seen) == sorted(everything), f"{op_id}: an item lost"


@pytest.mark.parametrize("status", STATUSES)
def test_status_filter_answers_only_that_status(lists: Any, status: str) -> None:
    client, targets = lists
    for op_id, params in targets:
        if op_id == "listReturnFulfillments":
            continue
        everything = collect(client, op_id, {"limit": 250}, **params)
        filtered = collect(client, op_id, {"status": status, "limit": 2}, **params)
        assert {r["status"] for r in filtered} <= {status}
        assert sorted(r["returnOrderId"] for r in filtered) == sorted(
            r["returnOrderId"] for r in everything if r["status"] == status
        )


def test_status_filter_covers_every_status_and_unknown_values(lists: Any) -> None:
    client, targets = lists
    present: set[str] = set()
    for op_id, params in targets:
        if op_id == "listReturnFulfillments":
            continue
        everything = collect(client, op_id, {"limit": 250}, **params)
        present |= {r["status"] for r in everything}
        response = client.call(op_id, params={"status": "not-a-status"}, **params)
        if client.profile.behaviour.unknown_status_filter == "reject":
            client.error_of(response, 400, "INVALID_REQUEST")
        else:
            assert client.ok_of(response, op_id)["returns"] == []
    if any(op != "listReturnFulfillments" for op, _ in targets):
        assert len(present) >= 3, present  # the filter is checked on several statuses


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_created_at_bounds_are_inclusive(lists: Any) -> None:
    client, targets = lists
    checked = 0
    for op_id, params in targets:
        if op_id == "listReturnFulfillments":
            continue
        everything = collect(client, op_id, {"limit": 250}, **params)
        if not everything:
            continue
        times = sorted({r["createdAt"] for r in everything}, key=_parse)
        pivot = times[len(times) // 2]
        moment = _parse(pivot)
        # the same instant in another offset: the bounds are times, not strings
        shifted = moment.astimezone(timezone(timedelta(hours=2))).isoformat()

        def ids(
            query: dict[str, str], op_id: str = op_id, params: dict[str, str] = params
        ) -> list[str]:
            found = collect(client, op_id, {"limit": 2, **query}, **params)
            return sorted(r["returnOrderId"] for r in found)

        def expect(keep: Any, everything: list[dict[str, Any]] = everything) -> list[str]:
            return sorted(r["returnOrderId"] for r in everything if keep(_parse(r["createdAt"])))

        for bound in (pivot, shifted):
            assert ids({"createdAt[from]": bound}) == expect(lambda t, m=moment: t >= m)
            assert ids({"createdAt[to]": bound}) == expect(lambda t, m=moment: t <= m)
            same = ids({"createdAt[from]": bound, "createdAt[to]": bound})
            assert same == expect(lambda t, m=moment: t == m)
            assert same, "the inclusive bounds lost the item created at that instant"
        later = (moment + timedelta(microseconds=1000)).isoformat()
        assert ids({"createdAt[from]": later, "createdAt[to]": pivot}) == []
        checked += 1
    assert checked, f"{client.profile.name}: no list of returns to check"


def test_created_at_bounds_at_the_ends_of_time(lists: Any) -> None:
    """Year 0000 is before every return and 9999-12-31T23:59:60Z after every one."""
    client, targets = lists
    for op_id, params in targets:
        if op_id == "listReturnFulfillments":
            continue
        everything = sorted(r["returnOrderId"] for r in collect(client, op_id, {}, **params))
        for early in ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):
            assert (
                sorted(
                    r["returnOrderId"]
                    for r in collect(client, op_id, {"createdAt[from]": early}, **params)
                )
                == everything
            )
            assert collect(client, op_id, {"createdAt[to]": early}, **params) == []
        for late in ("9999-12-31T23:59:60Z", "9999-12-31T23:59:59-23:59"):
            assert (
                sorted(
                    r["returnOrderId"]
                    for r in collect(client, op_id, {"createdAt[to]": late}, **params)
                )
                == everything
            )
            assert collect(client, op_id, {"createdAt[from]": late}, **params) == []
