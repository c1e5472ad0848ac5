"""Return fulfillments: ship an approved return back, read the shipment back, and check it
is refused on returns that are not approved (contract section 4). Split from `lifecycle.py`.
"""

from __future__ import annotations

from typing import Any

from conformance.contract import OperationId
from conformance.discover import KnownReturn
from conformance.probes.actions import actionable
from conformance.probes.reads import UNKNOWN_ID
from conformance.probes.session import Session
from conformance.target import Reply
from conformance.verdicts import ReasonCode


def tracking_number(s: Session, n: int) -> str:
    return f"CONF-{s.settings.seed}-{n}"


def fulfillment_flow(s: Session) -> None:
    op = OperationId.createReturnFulfillment
    if not s.is_open(op):
        return
    ret = actionable(s, "approved")
    if ret is None:
        _unsupported_rf(s)
        return
    n = len(s.seen.findings) + 1
    item_id = next(iter(ret.items), None)
    body: dict[str, Any] = {
        "tracking": {
            "number": tracking_number(s, n),
            "company": "UPS",
            "url": "https://tracking.example/CONF",
        }
    }
    if item_id is not None:
        body["items"] = [{"returnItemId": item_id, "quantity": 1}]
    params = {"orderId": ret.order_id, "returnId": ret.id}
    reply = s.call(op, params, body={"returnFulfillment": body})
    if not reply.ok:
        if reply.status == 409:
            s.finding(
                op,
                ReasonCode.transition_refused,
                "approved_allows",
                f"return {ret.id} is approved, yet creating a fulfillment answered 409",
                reply,
            )
        return
    s.seen.success(op)
    ful_id = reply.get("returnFulfillment", "id")
    number = reply.get("returnFulfillment", "tracking", "number")
    s.check(
        op,
        number == body["tracking"]["number"],
        ReasonCode.data_mismatch,
        "tracking_written",
        f"sent tracking number {body['tracking']['number']!r}, answer says {number!r}",
        reply,
    )
    if not isinstance(ful_id, str):
        return
    ret.fulfillments.append(ful_id)
    fulfillment_read_back(s, ret, ful_id, body["tracking"]["number"])
    not_approved = [
        r
        for r in (actionable(s, "requested"), actionable(s, "rejected"), actionable(s, "cancelled"))
        if r is not None
    ]
    for other in not_approved[:2]:
        bad = s.call(
            op, {"orderId": other.order_id, "returnId": other.id}, body={"returnFulfillment": body}
        )
        s.check(
            op,
            not bad.ok,
            ReasonCode.illegal_transition_accepted,
            "needs_approved",
            f"a fulfillment was created on a {other.status} return",
            bad,
        )


def _unsupported_rf(s: Session) -> None:
    op = OperationId.createReturnFulfillment
    some = next(iter(s.inventory.usable()), None)
    order = some.order_id if some else (s.inventory.orders[0].id if s.inventory.orders else None)
    if order is None:
        return
    rid = (
        some.id
        if some is not None and (some.created_by_suite or s.settings.act_on_existing)
        else UNKNOWN_ID
    )
    reply = s.call(
        op,
        {"orderId": order, "returnId": rid},
        body={"returnFulfillment": {"tracking": {"number": tracking_number(s, 0)}}},
    )
    if s.is_open(op) and not reply.ok and op not in s.seen.succeeded:
        s.finding(
            op,
            ReasonCode.prerequisite_unavailable,
            "needs_data",
            "no approved return was available to ship back",
            reply,
        )


def fulfillment_read_back(s: Session, ret: KnownReturn, ful_id: str, number: str) -> None:
    params = {"orderId": ret.order_id, "returnId": ret.id}
    if s.is_open(OperationId.getReturnFulfillment):

        def gettable() -> tuple[bool, Reply]:
            got = s.call(OperationId.getReturnFulfillment, {**params, "id": ful_id})
            return got.ok and got.get("returnFulfillment", "tracking", "number") == number, got

        ok, got = s.eventually(gettable)
        if got.ok:
            s.seen.success(OperationId.getReturnFulfillment)
            s.check(
                OperationId.getReturnFulfillment,
                ok,
                ReasonCode.data_mismatch,
                "tracking_round_trip",
                f"tracking number read back differs from {number!r}",
                got,
            )
        elif got.status == 404:
            s.finding(
                OperationId.getReturnFulfillment,
                ReasonCode.data_mismatch,
                "created_is_gettable",
                f"fulfillment {ful_id} was just created but answered 404",
                got,
            )
        usable = [r for r in s.inventory.usable() if r.id != ret.id]
        other = next((r for r in usable if r.order_id == ret.order_id), None)
        other = other or next(iter(usable), None)
        if other is not None:
            leak = s.call(
                OperationId.getReturnFulfillment,
                {"orderId": other.order_id, "returnId": other.id, "id": ful_id},
            )
            s.check(
                OperationId.getReturnFulfillment,
                not leak.ok,
                ReasonCode.leak_across_orders,
                "isolation",
                f"fulfillment {ful_id} of return {ret.id} was served under return {other.id}",
                leak,
            )
    if s.is_open(OperationId.listReturnFulfillments):

        def listed() -> tuple[bool, Reply]:
            items, reply, complete = s.collect(OperationId.listReturnFulfillments, params)
            return ful_id in [i.get("id") for i in items] or not complete, reply

        found, reply = s.eventually(listed)
        if reply.ok:
            s.seen.success(OperationId.listReturnFulfillments)
            s.check(
                OperationId.listReturnFulfillments,
                found,
                ReasonCode.stale_list,
                "lists_created",
                f"fulfillment {ful_id}, just created, is not listed",
                reply,
            )
        other_order = s.inventory.other_order(ret.order_id)
        if other_order is not None:
            leak = s.call(
                OperationId.listReturnFulfillments, {"orderId": other_order.id, "returnId": ret.id}
            )
            s.check(
                OperationId.listReturnFulfillments,
                not leak.ok,
                ReasonCode.leak_across_orders,
                "isolation",
                f"return {ret.id}'s fulfillments were listed under order {other_order.id}",
                leak,
            )
