"""Create a return and read it back (contract section 4: read-your-writes, isolation).

Split from `lifecycle.py` so the lifecycle's first step, which the actions and the quantity rule
build on, reads on its own.
"""

from __future__ import annotations

from conformance.contract import OperationId, lifecycle
from conformance.discover import KnownReturn, OrderInfo, describe_items, same_items
from conformance.probes.session import Session
from conformance.statuses import return_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode


def pick_line(s: Session, quantity: int = 1) -> tuple[OrderInfo, str] | None:
    """An order line with at least `quantity` left to return."""
    for order in s.inventory.orders:
        for line in order.lines:
            if s.inventory.available(order, line) >= quantity:
                return order, line
    return None


def create_return(s: Session) -> KnownReturn | None:
    """Create a one-unit return; checks the answer carries what was asked."""
    op = OperationId.createReturn
    if not s.is_open(op):
        return None
    picked = pick_line(s)
    if picked is None:
        if s.inventory.orders:
            s.finding(
                op,
                ReasonCode.no_test_data,
                "creates",
                "no order line with a returnable quantity was found",
            )
        return None
    order, line = picked
    body = {
        "return": {"items": [{"id": line, "quantity": 1, "reason": "defective"}], "note": s.tag}
    }
    reply = s.call(op, {"orderId": order.id}, body=body)
    if reply.status == 404:
        s.finding(
            op,
            ReasonCode.unsupported_misreported,
            "unsupported_answered",
            f"order {order.id} exists but createReturn answered 404",
            reply,
        )
    if not reply.ok:
        return None
    created = reply.get("return")
    s.inventory.learn_return(created, order.id, ours=True, asked={line: 1})
    rid = reply.get("return", "returnOrderId")
    if not isinstance(rid, str):
        return None
    s.seen.success(op)
    status = reply.get("return", "status")
    if isinstance(status, str):
        s.new_return_statuses.add(status)
    s.check(
        op,
        # A value outside the vocabulary (REQUESTED, AWAITING_REVIEW) is the platform's own:
        # the wire check notes it (nonnormalized_value, partial); only a status that stands
        # for a normalized one that is not new (closed, CANCELED...) breaks the contract.
        # CANCELED stands for cancelled (conformance.statuses): the spelling is noted, the
        # status it stands for is judged.
        return_status(status) in lifecycle().new or unmappable(status),
        ReasonCode.data_mismatch,
        "new_status",
        f"a new return must be {' or '.join(lifecycle().new)}, not {status!r}",
        reply,
    )
    s.check(
        op,
        same_items(created, {line: 1}),
        ReasonCode.data_mismatch,
        "items_written",
        f"asked to return 1 × {line}, the answer says {describe_items(created)}",
        reply,
    )
    return s.inventory.returns.get(rid)


def get_return(s: Session, ret: KnownReturn) -> Reply:
    return s.call(OperationId.getReturn, {"orderId": ret.order_id, "id": ret.id})


def read_back(s: Session, ret: KnownReturn) -> None:
    """Read-your-writes: the created return is gettable with the same items, and listed."""
    if s.is_open(OperationId.getReturn):

        def gettable() -> tuple[bool, Reply]:
            got = get_return(s, ret)
            return got.ok and same_items(got.get("return"), ret.lines), got

        ok, reply = s.eventually(gettable)
        if reply.ok:
            s.seen.success(OperationId.getReturn)
            s.check(
                OperationId.getReturn,
                ok,
                ReasonCode.data_mismatch,
                "items_round_trip",
                f"created with {ret.lines}, read back {describe_items(reply.get('return'))}",
                reply,
            )
        elif reply.status == 404:
            s.finding(
                OperationId.getReturn,
                ReasonCode.data_mismatch,
                "created_is_gettable",
                f"return {ret.id} was just created but getReturn answered 404"
                + (
                    f" (asked again for {s.settings.consistency_window:g} s)"
                    if s.settings.consistency_window
                    else ""
                ),
                reply,
            )
        isolation(s, ret)
    for op, params in (
        (OperationId.listOrderReturns, {"orderId": ret.order_id}),
        (OperationId.listReturns, {}),
    ):
        if not s.is_open(op):
            continue

        def listed(op: str = op, params: dict[str, str] = params) -> tuple[bool, Reply]:
            items, reply, complete = s.collect(op, params)
            match = [i for i in items if i.get("returnOrderId") == ret.id]
            ok = bool(match) and (
                op != OperationId.listReturns or match[0].get("orderId") == ret.order_id
            )
            return ok or not complete, reply

        found, reply = s.eventually(listed)
        if reply.ok:
            s.check(
                op,
                found,
                ReasonCode.stale_list,
                "lists_created",
                f"return {ret.id}, just created on order {ret.order_id}, is not in the list "
                "(or has the wrong orderId)",
                reply,
            )


def isolation(s: Session, ret: KnownReturn) -> None:
    other = s.inventory.other_order(ret.order_id)
    if other is None:
        return
    reply = s.call(OperationId.getReturn, {"orderId": other.id, "id": ret.id})
    s.check(
        OperationId.getReturn,
        not reply.ok,
        ReasonCode.leak_across_orders,
        "isolation",
        f"return {ret.id} of order {ret.order_id} was served under order {other.id}",
        reply,
    )
    s.check(
        OperationId.getReturn,
        reply.ok or reply.status == 404,
        ReasonCode.not_found_misreported,
        "isolation",
        f"a return under another order must be 404, got {reply.status}",
        reply,
    )
