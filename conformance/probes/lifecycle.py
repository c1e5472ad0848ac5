"""Write probes: create a return, drive it through the lifecycle, add a reverse shipment, and
check every effect through the reads (contract section 4: transitions, terminal states, quantity
rule, read-your-writes, isolation)."""

from __future__ import annotations

from typing import Any

from conformance.contract import lifecycle, operation
from conformance.discover import KnownReturn, OrderInfo, describe_items, same_items
from conformance.findings import Exchange
from conformance.probes.reads import UNKNOWN_ID, first_list, list_behaviour
from conformance.probes.session import Session
from conformance.repro import ACCEPTED, replayable
from conformance.target import Reply

ACTIONS = lifecycle().actions


def tracking_number(s: Session, n: int) -> str:
    return f"CONF-{s.settings.seed}-{n}"


def probe_lifecycle(s: Session) -> None:
    first = create_return(s)
    if first is not None:
        read_back(s, first)
    approve_flow(s, first)
    reject_flow(s)
    cancel_flow(s)
    terminal_states(s)
    fulfillment_flow(s)
    quantity_rule(s)
    for op, params in (("listReturns", {}), ("listOrderReturns", _busiest_order(s))):
        if s.is_open(op) and params is not None:
            s.settle()
            reply = first_list(s, op, params)
            if reply.ok:
                list_behaviour(s, op, params, reply)


def _busiest_order(s: Session) -> dict[str, str] | None:
    ours = s.inventory.returns_in(ours=True)
    if not ours:
        return None
    counts: dict[str, int] = {}
    for r in ours:
        counts[r.order_id] = counts.get(r.order_id, 0) + 1
    return {"orderId": max(counts, key=lambda k: counts[k])}


# ---- create ----


def pick_line(s: Session, quantity: int = 1) -> tuple[OrderInfo, str] | None:
    """An order line with at least `quantity` left to return."""
    for order in s.inventory.orders:
        for line in order.lines:
            if s.inventory.available(order, line) >= quantity:
                return order, line
    return None


def create_return(s: Session) -> KnownReturn | None:
    """Create a one-unit return; checks the answer carries what was asked."""
    op = "createReturn"
    if not s.is_open(op):
        return None
    picked = pick_line(s)
    if picked is None:
        if s.inventory.orders:
            s.finding(
                op, "no_test_data", "creates", "no order line with a returnable quantity was found"
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
            "unsupported_misreported",
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
        status in lifecycle().new,
        "data_mismatch",
        "new_status",
        f"a new return must be {' or '.join(lifecycle().new)}, not {status!r}",
        reply,
    )
    s.check(
        op,
        same_items(created, {line: 1}),
        "data_mismatch",
        "items_written",
        f"asked to return 1 × {line}, the answer says {describe_items(created)}",
        reply,
    )
    return s.inventory.returns.get(rid)


def get_return(s: Session, ret: KnownReturn) -> Reply:
    return s.call("getReturn", {"orderId": ret.order_id, "id": ret.id})


def read_back(s: Session, ret: KnownReturn) -> None:
    """Read-your-writes: the created return is gettable with the same items, and listed."""
    if s.is_open("getReturn"):

        def gettable() -> tuple[bool, Reply]:
            got = get_return(s, ret)
            return got.ok and same_items(got.get("return"), ret.lines), got

        ok, reply = s.eventually(gettable)
        if reply.ok:
            s.seen.success("getReturn")
            s.check(
                "getReturn",
                ok,
                "data_mismatch",
                "items_round_trip",
                f"created with {ret.lines}, read back {describe_items(reply.get('return'))}",
                reply,
            )
        elif reply.status == 404:
            s.finding(
                "getReturn",
                "data_mismatch",
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
    for op, params in (("listOrderReturns", {"orderId": ret.order_id}), ("listReturns", {})):
        if not s.is_open(op):
            continue

        def listed(op: str = op, params: dict[str, str] = params) -> tuple[bool, Reply]:
            items, reply, complete = s.collect(op, params)
            match = [i for i in items if i.get("returnOrderId") == ret.id]
            ok = bool(match) and (op != "listReturns" or match[0].get("orderId") == ret.order_id)
            return ok or not complete, reply

        found, reply = s.eventually(listed)
        if reply.ok:
            s.check(
                op,
                found,
                "stale_list",
                "lists_created",
                f"return {ret.id}, just created on order {ret.order_id}, is not in the list "
                "(or has the wrong orderId)",
                reply,
            )


def isolation(s: Session, ret: KnownReturn) -> None:
    other = s.inventory.other_order(ret.order_id)
    if other is None:
        return
    reply = s.call("getReturn", {"orderId": other.id, "id": ret.id})
    s.check(
        "getReturn",
        not reply.ok,
        "leak_across_orders",
        "isolation",
        f"return {ret.id} of order {ret.order_id} was served under order {other.id}",
        reply,
    )
    s.check(
        "getReturn",
        reply.ok or reply.status == 404,
        "not_found_misreported",
        "isolation",
        f"a return under another order must be 404, got {reply.status}",
        reply,
    )


# ---- actions ----


def act(s: Session, op: str, ret: KnownReturn, body: Any = None) -> Reply:
    reply = s.call(
        op,
        {"orderId": ret.order_id, "id": ret.id},
        body=body if body is not None else {"note": s.tag},
    )
    if reply.ok:
        s.inventory.learn_return(reply.get("return"), ret.order_id)
    return reply


def actionable(s: Session, status: str, *, exclude: tuple[str, ...] = ()) -> KnownReturn | None:
    """A return in `status` the suite may act on: its own first, others with --act-on-existing."""
    ours = [r for r in s.inventory.returns_in(status, ours=True) if r.id not in exclude]
    if ours:
        return ours[0]
    if s.settings.act_on_existing:
        theirs = [r for r in s.inventory.returns_in(status, ours=False) if r.id not in exclude]
        if theirs:
            return theirs[0]
    return None


def requested_return(s: Session, *, exclude: tuple[str, ...] = ()) -> KnownReturn | None:
    found = actionable(s, "requested", exclude=exclude)
    if found is None and s.is_open("createReturn"):
        made = create_return(s)
        if made is not None and made.status == "requested":
            return made
    return found


def transition(s: Session, op: str, ret: KnownReturn) -> None:
    """Perform an action the lifecycle allows and check the answer and the stored effect."""
    to_status = operation(op).to_status
    before = ret.status
    reply = act(s, op, ret)
    if not s.is_open(op):
        return
    if reply.status == 409 and lifecycle().may_refuse(op, before):
        s.seen.note(op, f"refuses {op} from {before!r} (409), which the contract allows")
        return
    if reply.status == 409:
        s.finding(
            op,
            "transition_refused",
            "transition",
            f"{op} from {before!r} is allowed by the contract but answered 409",
            reply,
        )
        return
    if not reply.ok:
        return
    s.seen.success(op)
    s.check(
        op,
        reply.get("return", "status") == to_status,
        "data_mismatch",
        "answer_status",
        f"{op} answered status {reply.get('return', 'status')!r}, not {to_status!r}",
        reply,
    )
    if not s.is_open("getReturn"):
        return

    def stored() -> tuple[bool, Reply]:
        got = get_return(s, ret)
        return (got.get("return", "status") == to_status) or not got.ok, got

    ok, got = s.eventually(stored)
    if got.ok:
        s.check(
            op,
            ok,
            "effect_missing",
            "effect",
            f"{op} answered success, but getReturn still shows "
            f"{got.get('return', 'status')!r} instead of {to_status!r}",
            reply,
            got,
        )
        ret.status = str(got.get("return", "status"))


def _unsupported_probe(s: Session, op: str) -> None:
    """No return fits the action: still learn whether the platform has it at all."""
    some = next(iter(s.inventory.usable()), None)
    if some is not None and (some.created_by_suite or s.settings.act_on_existing):
        reply = act(s, op, some)
    elif s.inventory.orders:
        reply = s.call(
            op,
            {"orderId": s.inventory.orders[0].id, "id": UNKNOWN_ID},
            body={"note": s.tag},
        )
    else:
        return
    if s.is_open(op) and not reply.ok and op not in s.seen.succeeded:
        s.finding(
            op,
            "prerequisite_unavailable",
            "needs_data",
            f"no return in a status that allows {op} was available "
            + (
                ""
                if s.settings.act_on_existing
                else "(--act-on-existing allows using returns the suite did not create)"
            ),
            reply,
        )


def approve_flow(s: Session, first: KnownReturn | None) -> None:
    op = "approveReturn"
    if not s.is_open(op):
        return
    target = first if first is not None and first.status == "requested" else None
    target = target or requested_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)
    if s.is_open(op) and target.status == "approved":
        reply = act(s, op, target)  # repeating: 200 unchanged, or 409
        if reply.ok:
            s.check(
                op,
                reply.get("return", "status") == "approved",
                "illegal_transition_accepted",
                "repeat",
                "approving an approved return changed its status to "
                f"{reply.get('return', 'status')!r}",
                reply,
            )
        elif not reply.problem and (reply.status or 0) < 500:
            s.check(
                op,
                reply.status == 409,
                "undocumented_status",
                "repeat",
                f"approving an approved return must answer 200 or 409, got {reply.status}",
                reply,
            )


def reject_flow(s: Session) -> None:
    op = "rejectReturn"
    if not s.is_open(op):
        return
    target = requested_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)


def cancel_flow(s: Session) -> None:
    op = "cancelReturn"
    if not s.is_open(op):
        return
    target = requested_return(s)
    if target is None:
        target = actionable(s, "approved")
        if target is None and s.is_open("createReturn"):
            target = create_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)


def terminal_states(s: Session) -> None:
    """Every action on a rejected, cancelled or closed return must answer 409."""
    for status in lifecycle().terminal:
        ret = actionable(s, status)
        if ret is None:
            continue
        for op in ACTIONS:
            if not s.is_open(op):
                continue
            to_status = operation(op).to_status
            reply = act(s, op, ret)
            if to_status == status and reply.ok:
                s.check(
                    op,
                    reply.get("return", "status") == status,
                    "illegal_transition_accepted",
                    "repeat",
                    f"repeating {op} changed the status",
                    reply,
                )
                continue
            if not s.check(
                op,
                not reply.ok,
                "illegal_transition_accepted",
                "terminal",
                f"{op} on a {status} return was accepted",
                reply,
            ):
                break  # its status changed: further actions on it test nothing terminal
            s.check(
                op,
                reply.ok or reply.status == 409,
                "undocumented_status",
                "terminal",
                f"{op} on a {status} return must answer 409, got {reply.status}",
                reply,
            )
    approved = actionable(s, "approved")
    if approved is not None and s.is_open("rejectReturn"):
        reply = act(s, "rejectReturn", approved)
        s.check(
            "rejectReturn",
            not reply.ok,
            "illegal_transition_accepted",
            "from_approved",
            "rejecting an approved return was accepted (reject is only from requested)",
            reply,
        )


# ---- fulfillments ----


def fulfillment_flow(s: Session) -> None:
    op = "createReturnFulfillment"
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
                "transition_refused",
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
        "data_mismatch",
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
            "illegal_transition_accepted",
            "needs_approved",
            f"a fulfillment was created on a {other.status} return",
            bad,
        )


def _unsupported_rf(s: Session) -> None:
    op = "createReturnFulfillment"
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
            "prerequisite_unavailable",
            "needs_data",
            "no approved return was available to ship back",
            reply,
        )


def fulfillment_read_back(s: Session, ret: KnownReturn, ful_id: str, number: str) -> None:
    params = {"orderId": ret.order_id, "returnId": ret.id}
    if s.is_open("getReturnFulfillment"):

        def gettable() -> tuple[bool, Reply]:
            got = s.call("getReturnFulfillment", {**params, "id": ful_id})
            return got.ok and got.get("returnFulfillment", "tracking", "number") == number, got

        ok, got = s.eventually(gettable)
        if got.ok:
            s.seen.success("getReturnFulfillment")
            s.check(
                "getReturnFulfillment",
                ok,
                "data_mismatch",
                "tracking_round_trip",
                f"tracking number read back differs from {number!r}",
                got,
            )
        elif got.status == 404:
            s.finding(
                "getReturnFulfillment",
                "data_mismatch",
                "created_is_gettable",
                f"fulfillment {ful_id} was just created but answered 404",
                got,
            )
        usable = [r for r in s.inventory.usable() if r.id != ret.id]
        other = next((r for r in usable if r.order_id == ret.order_id), None)
        other = other or next(iter(usable), None)
        if other is not None:
            leak = s.call(
                "getReturnFulfillment",
                {"orderId": other.order_id, "returnId": other.id, "id": ful_id},
            )
            s.check(
                "getReturnFulfillment",
                not leak.ok,
                "leak_across_orders",
                "isolation",
                f"fulfillment {ful_id} of return {ret.id} was served under return {other.id}",
                leak,
            )
    if s.is_open("listReturnFulfillments"):

        def listed() -> tuple[bool, Reply]:
            items, reply, complete = s.collect("listReturnFulfillments", params)
            return ful_id in [i.get("id") for i in items] or not complete, reply

        found, reply = s.eventually(listed)
        if reply.ok:
            s.seen.success("listReturnFulfillments")
            s.check(
                "listReturnFulfillments",
                found,
                "stale_list",
                "lists_created",
                f"fulfillment {ful_id}, just created, is not listed",
                reply,
            )
        other_order = s.inventory.other_order(ret.order_id)
        if other_order is not None:
            leak = s.call("listReturnFulfillments", {"orderId": other_order.id, "returnId": ret.id})
            s.check(
                "listReturnFulfillments",
                not leak.ok,
                "leak_across_orders",
                "isolation",
                f"return {ret.id}'s fulfillments were listed under order {other_order.id}",
                leak,
            )


# ---- quantity rule ----


def quantity_rule(s: Session) -> None:
    """More than the returnable quantity → 422, across several returns of one line."""
    op = "createReturn"
    if not s.is_open(op) or op not in s.seen.succeeded:
        return
    for order in s.inventory.orders:
        for line in order.lines:
            left = s.inventory.available(order, line)
            if left < 1:
                continue
            holding = s.inventory.holding(order.id, line)
            item = {"id": line, "quantity": left + 1, "reason": "unwanted"}
            reply = s.call(
                op,
                {"orderId": order.id},
                body={"return": {"items": [item], "note": s.probe_tag}},
                well_formed=False,
            )
            if reply.ok:
                s.inventory.learn_return(
                    reply.get("return"), order.id, ours=True, probe=True, asked={line: left + 1}
                )
            _over_quantity(
                s,
                reply,
                holding,
                "quantity_rule",
                f"{left + 1} units of {line} were accepted, only {left} were returnable",
            )
            s.check(
                op,
                reply.ok or reply.status == 422,
                "undocumented_status",
                "quantity_rule",
                f"over-quantity must answer 422, got {reply.status}",
                reply,
            )
            if left >= 2:
                split(s, order, line, left)
            return


def split(s: Session, order: OrderInfo, line: str, left: int) -> None:
    """Two returns that fit alone but exceed the line together: the second must be 422."""
    op = "createReturn"
    item = {"id": line, "quantity": left - 1, "reason": "unwanted"}
    first = s.call(op, {"orderId": order.id}, body={"return": {"items": [item], "note": s.tag}})
    if not first.ok:
        return
    s.inventory.learn_return(first.get("return"), order.id, ours=True, asked={line: left - 1})
    holding = s.inventory.holding(order.id, line)  # the first return among them
    second = s.call(
        op,
        {"orderId": order.id},
        body={"return": {"items": [{**item, "quantity": 2}], "note": s.probe_tag}},
        well_formed=False,
    )
    if second.ok:
        s.inventory.learn_return(
            second.get("return"), order.id, ours=True, probe=True, asked={line: 2}
        )
    _over_quantity(
        s,
        second,
        holding,
        "quantity_rule_across_returns",
        f"after returning {left - 1} of {left} returnable units of {line}, another 2 were accepted",
    )


def _over_quantity(
    s: Session, reply: Reply, holding: list[Exchange], check: str, message: str
) -> None:
    """Over-quantity must be refused. The finding replays how the suite's returns used up the
    line first (`holding`): on fresh data the last request alone would fit."""
    op = "createReturn"
    if not reply.ok:
        s.seen.passed(op, check)
        return
    s.seen.failed(
        replayable(
            op,
            "over_quantity_accepted",
            check,
            message,
            [*holding, reply.exchange],
            shows=ACCEPTED,
            seed=s.settings.seed,
        )
    )
