"""Negative probes: requests without valid auth, unknown ids, and invalid input.

Each must be refused with the contract's status: 401, 404, 400 (or 422 for a business rule).
Accepting one (2xx) or crashing on it (5xx) is failing on the operation that answered. Each
invalid input names the contract sentence that forbids accepting it (`Rule`, data/refusals.toml);
one that no sentence forbids (an empty tracking number) is a note when accepted.
"""

from __future__ import annotations

from typing import Any

from conformance.contract import Operation, OperationId, Rule, operations, refusal_rules
from conformance.discover import KnownReturn
from conformance.generate.mutations import EMPTY_TOLERATED
from conformance.probes.beyond import probe_beyond
from conformance.probes.lifecycle import ACTIONS
from conformance.probes.reads import UNKNOWN_ID
from conformance.probes.session import Session
from conformance.target import NO_BODY
from conformance.verdicts import ReasonCode


def probe_negative(s: Session) -> None:
    try:
        auth(s)
        unknown_ids(s)
        invalid_list_params(s)
    finally:
        s.drop_prefetched()
    if s.settings.allow_writes:
        invalid_create_bodies(s)
        invalid_action_bodies(s)
        invalid_fulfillment_bodies(s)
        probe_beyond(s)


def _params(s: Session, *, write: bool) -> dict[str, str]:
    """Path parameters naming real data where there is some, so only auth is wrong.

    A write never names a return the suite may not act on: if auth turned out to be ignored, the
    request would change a real customer's return.
    """
    order = s.inventory.orders[0].id if s.inventory.orders else UNKNOWN_ID
    allowed = [
        r
        for r in s.inventory.usable()
        if not write or r.created_by_suite or s.settings.act_on_existing
    ]
    ret: KnownReturn | None = next(iter(allowed), None)
    with_ful = next((r for r in allowed if r.fulfillments), None)
    if with_ful is not None:
        return {
            "orderId": with_ful.order_id,
            "id": with_ful.fulfillments[0],
            "returnId": with_ful.id,
        }
    if ret is not None:
        return {"orderId": ret.order_id, "id": ret.id, "returnId": ret.id}
    return {"orderId": order, "id": UNKNOWN_ID, "returnId": UNKNOWN_ID}


def _auth_params(s: Session, op: Operation) -> dict[str, str]:
    params = _params(s, write=op.is_write)
    if op.id in (
        OperationId.getReturn,
        OperationId.cancelReturn,
        OperationId.approveReturn,
        OperationId.rejectReturn,
    ):
        params["id"] = params["returnId"]
    return params


def auth(s: Session) -> None:
    """Every operation, without a token and with a wrong one, must answer 401.

    Reads first, sent side by side; then the writes, one at a time.
    """
    chosen = [op for op in operations() if s.settings.allow_writes or not op.is_write]
    chosen.sort(key=lambda op: op.is_write)
    s.prefetch(
        [
            (op.id, _auth_params(s, op), None, mode)
            for op in chosen
            if not op.is_write
            for mode in ("none", "invalid")
        ]
    )
    for op in chosen:
        params = _auth_params(s, op)
        body: Any = {}
        if op.body_key == "return":
            body = {"return": {"items": [{"id": UNKNOWN_ID, "quantity": 1, "reason": "other"}]}}
        elif op.body_key == "returnFulfillment":
            body = {"returnFulfillment": {"tracking": {"number": "CONF-NOAUTH"}}}
        for mode in ("none", "invalid"):
            reply = s.call(op.id, params, body=body if op.is_write else NO_BODY, auth=mode)
            if reply.problem:
                continue
            status = reply.status or 0
            if 200 <= status < 300:
                s.finding(
                    op.id,
                    ReasonCode.auth_not_enforced,
                    "auth",
                    f"a request with {'no' if mode == 'none' else 'a wrong'} token was "
                    f"served ({status})",
                    reply,
                )
            elif status == 401:
                s.seen.passed(op.id, "auth")
            elif status < 500:
                s.seen.note(
                    op.id,
                    f"without a valid token answered {status}; the contract says 401 UNAUTHORIZED",
                )


def unknown_ids(s: Session) -> None:
    """Ids that do not exist must be 404 NOT_FOUND, not 200 and not 5xx."""
    order = s.inventory.orders[0].id if s.inventory.orders else None
    ret = next(iter(s.inventory.usable()), None)
    cases: list[tuple[str, dict[str, str]]] = [
        (OperationId.listOrderReturns, {"orderId": UNKNOWN_ID}),
    ]
    if order is not None:
        cases.append((OperationId.getReturn, {"orderId": order, "id": UNKNOWN_ID}))
        cases.append(
            (OperationId.listReturnFulfillments, {"orderId": order, "returnId": UNKNOWN_ID})
        )
    if ret is not None:
        cases.append(
            (
                OperationId.getReturnFulfillment,
                {"orderId": ret.order_id, "returnId": ret.id, "id": UNKNOWN_ID},
            )
        )
    if s.settings.allow_writes and order is not None:
        for action in (
            OperationId.approveReturn,
            OperationId.rejectReturn,
            OperationId.cancelReturn,
        ):
            cases.append((action, {"orderId": order, "id": UNKNOWN_ID}))
    s.prefetch(
        [(op, params, None, "valid") for op, params in cases if s.is_open(op) and op not in ACTIONS]
    )
    for op, params in cases:
        if not s.is_open(op):
            continue
        body = {"note": s.tag} if op in ACTIONS else NO_BODY
        reply = s.call(op, params, body=body)
        if reply.problem or op in s.unsupported:
            continue
        s.check(
            op,
            not reply.ok,
            ReasonCode.not_found_misreported,
            "unknown_id",
            f"{op} with an id that does not exist answered {reply.status}",
            reply,
        )
        s.check(
            op,
            reply.ok or reply.status == 404 or (reply.status or 0) >= 500,
            ReasonCode.not_found_misreported,
            "unknown_id",
            f"{op} with an unknown id must answer 404, got {reply.status}",
            reply,
        )


def invalid_list_params(s: Session) -> None:
    """Malformed list parameters must be refused with 400 (contract section 2)."""
    cases = [
        ({"limit": "0"}, "limit=0", Rule.limit),
        ({"limit": "251"}, "limit=251", Rule.limit),
        ({"limit": "ten"}, "limit=ten", Rule.limit),
        ({"page": "%%not-a-token%%"}, "an unreadable page", Rule.page),
        ({"createdAt[from]": "yesterday"}, "createdAt[from]=yesterday", Rule.created_at),
    ]
    order = s.inventory.orders[0].id if s.inventory.orders else None
    ret = next((r for r in s.inventory.usable() if r.fulfillments), None)
    ret = ret or next(iter(s.inventory.usable()), None)
    lists: list[tuple[str, dict[str, str], list[tuple[dict[str, str], str, Rule]]]] = [
        (OperationId.listReturns, {}, cases),
        (OperationId.listOrderReturns, {"orderId": order} if order else {}, cases),
    ]
    if ret is not None:  # no filters on a return's fulfillments: only limit and page
        params = {"orderId": ret.order_id, "returnId": ret.id}
        lists.append((OperationId.listReturnFulfillments, params, cases[:4]))
    chosen = [
        (op, params, queries)
        for op, params, queries in lists
        if s.is_open(op) and op in s.seen.succeeded and (params or op == OperationId.listReturns)
    ]
    s.prefetch(
        [(op, params, query, "valid") for op, params, queries in chosen for query, _, _ in queries]
    )
    for op, params, queries in chosen:
        for query, what, rule in queries:
            reply = s.call(op, params, query=query, well_formed=False)
            s.refused(op, reply, what, rule=rule)


def _create_cases(line: str, tag: str) -> list[tuple[Any, str, Rule]]:
    """Each breaks one rule and carries the suite's note wherever the broken rule leaves room
    for it (the return's note, else its items' notes), so that whatever a platform wrongly
    accepts can be found in the store."""
    item = {"id": line, "quantity": 1, "reason": "damaged", "note": tag}
    return [
        (
            {"return": {"items": [{**item, "quantity": 0}], "note": tag}},
            "quantity 0",
            Rule.quantity,
        ),
        (
            {"return": {"items": [{**item, "quantity": -1}], "note": tag}},
            "quantity -1",
            Rule.quantity,
        ),
        (
            {"return": {"items": [{**item, "quantity": "one"}], "note": tag}},
            "quantity 'one'",
            Rule.wrong_type,
        ),
        ({"return": {"items": [], "note": tag}}, "an empty item list", Rule.no_items),
        ({"return": {"note": tag}}, "a return without items", Rule.required),
        (
            {"return": {"items": [{**item, "reason": 7}], "note": tag}},
            "a reason that is not a string",
            Rule.wrong_type,
        ),
        (
            {"return": {"items": [item], "note": 12345}},
            "a note that is not a string",
            Rule.wrong_type,
        ),
        ({"items": [item], "note": tag}, "a body without the `return` wrapper", Rule.wrapper),
        ([item], "a JSON array body", Rule.malformed),
    ]


def invalid_create_bodies(s: Session) -> None:
    """Bodies that break the request schema, on the scratch order (see `Inventory.scratch_order`):
    a return the platform wrongly accepts is kept apart from the other checks' data."""
    op = OperationId.createReturn
    order = s.inventory.scratch_order()
    if order is None or not s.is_open(op):
        return
    line = next(iter(order.lines))
    for body, what, rule in _create_cases(line, s.probe_tag):
        reply = s.call(op, {"orderId": order.id}, body=body, well_formed=False)
        if reply.ok:
            s.inventory.learn_return(reply.get("return"), order.id, ours=True, probe=True)
        s.refused(op, reply, what, rule=rule)
    reply = s.call(op, {"orderId": order.id}, raw_body=b"{not json", well_formed=False)
    if reply.ok:
        s.inventory.learn_return(reply.get("return"), order.id, ours=True, probe=True)
    s.refused(op, reply, "a body that is not JSON", rule=Rule.malformed)
    unknown = {"id": UNKNOWN_ID, "quantity": 1, "reason": "damaged"}
    reply = s.call(
        op,
        {"orderId": order.id},
        body={"return": {"items": [unknown], "note": s.probe_tag}},
        well_formed=False,
    )
    if reply.ok:
        s.inventory.learn_return(reply.get("return"), order.id, ours=True, probe=True)
    if not reply.problem and op not in s.unsupported:
        s.check(
            op,
            not reply.ok,
            ReasonCode.invalid_input_accepted,
            "unknown_line",
            f"a line item the order does not have was accepted ({reply.status}); "
            f"{refusal_rules()[Rule.unknown_line]}",
            reply,
        )
        s.check(
            op,
            reply.ok or reply.status in (422, 400),
            ReasonCode.undocumented_status,
            "unknown_line",
            f"an unknown line item must answer 422, got {reply.status}",
            reply,
        )


def invalid_action_bodies(s: Session) -> None:
    ret = next((r for r in s.inventory.returns_in("requested", ours=True)), None)
    if ret is None:
        return
    for op in (OperationId.approveReturn, OperationId.cancelReturn):
        if not s.is_open(op):
            continue
        also = s.applicable_refusals(op, ret)
        reply = s.call(
            op, {"orderId": ret.order_id, "id": ret.id}, body={"note": 12345}, well_formed=False
        )
        if reply.ok:
            s.inventory.learn_return(reply.get("return"), ret.order_id)
        s.refused(op, reply, "a note that is not a string", also=also, rule=Rule.wrong_type)
        return


def invalid_fulfillment_bodies(s: Session) -> None:
    op = OperationId.createReturnFulfillment
    ret = next(iter(s.inventory.returns_in("approved", ours=True)), None)
    if ret is None and s.settings.act_on_existing:
        ret = next(iter(s.inventory.returns_in("approved")), None)
    if ret is None or not s.is_open(op):
        return
    params = {"orderId": ret.order_id, "returnId": ret.id}
    cases: list[tuple[Any, str, Rule | None]] = [
        ({"returnFulfillment": {}}, "a fulfillment without tracking", Rule.required),
        (
            {"returnFulfillment": {"tracking": {"number": 12345}}},
            "a tracking number not a string",
            Rule.wrong_type,
        ),
        # The contract asks for a tracking number (a string), not for a non-empty one: noted.
        ({"returnFulfillment": {"tracking": {"number": ""}}}, "an empty tracking number", None),
        (
            {"tracking": {"number": "CONF-X"}},
            "a body without the `returnFulfillment` wrapper",
            Rule.wrapper,
        ),
    ]
    for body, what, rule in cases:
        also = s.applicable_refusals(op, ret)
        reply = s.call(op, params, body=body, well_formed=False)
        if rule is None:
            s.tolerated(op, reply, what, EMPTY_TOLERATED, also=also)
        else:
            s.refused(op, reply, what, also=also, rule=rule)
