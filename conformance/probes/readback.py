"""After a write timed out: did it happen? (issue 18; contract section 2)

A transient 5xx wrote nothing, but a timeout may have: the connector may have written to the
store and lost only the answer. Sending the write again blindly could make a second return the
suite does not know about. So the write is read back first: a return of the order that the
inventory does not know, with the suite's note and the items asked; an action's return now in
the status it leads to; a return fulfillment with the tracking number sent.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final

from conformance.contract import OperationId, operation
from conformance.discover import same_items
from conformance.statuses import return_status
from conformance.target import Reply
from conformance.verdicts import ReasonCode

if TYPE_CHECKING:
    from conformance.probes.session import Session


class _Unknown:
    """The read-back could not tell (it failed, or what it shows is ambiguous)."""


UNKNOWN: Final = _Unknown()
Found = dict[str, Any] | None | _Unknown


def find(s: Session, op_id: str, params: dict[str, str], body: Any) -> Found:
    """What the timed-out write made, None when it made nothing, UNKNOWN when no read tells."""
    if op_id == OperationId.createReturn:
        return _created_return(s, params, body)
    if op_id == OperationId.createReturnFulfillment:
        return _created_fulfillment(s, params, body)
    if operation(op_id).kind == "action":
        return _acted(s, op_id, params)
    return UNKNOWN


def adopted(timed_out: Reply, found: dict[str, Any], key: str | None = None) -> Reply:
    """The write as the suite sent it, with the answer the read-back gave in place of the one
    that never came: the probes go on with the resource that exists."""
    key = key or ("returnFulfillment" if "tracking" in found else "return")
    exchange = dataclasses.replace(
        timed_out.exchange,
        status=200,
        response_headers={"content-type": "application/json"},
        response_body={"success": True, key: found},
        error=None,
    )
    return Reply(exchange, {"success": True, key: found}, None, retried=(ReasonCode.timeout,))


def _read(s: Session, op_id: str, params: dict[str, str]) -> Reply | None:
    """One read through the target (not scored: it answers a question of the suite's own),
    with its retries recorded on the operation read."""
    op = operation(op_id)
    query = {"limit": "250"} if op.is_list and op_id not in s.limit_refused else None
    reply = s.target.call("GET", op.url_path(**params), params=query, route=op_id)
    s.seen.retried(op_id, reply.retried)
    return reply if reply.ok else None


def _created_return(s: Session, params: dict[str, str], body: Any) -> Found:
    asked_body = body.get("return") if isinstance(body, dict) else None
    if not isinstance(asked_body, dict):
        return UNKNOWN
    note = asked_body.get("note")
    asked: dict[str, int] = {}
    for item in asked_body.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            qty = item.get("quantity")
            if isinstance(qty, int) and not isinstance(qty, bool):
                asked[item["id"]] = asked.get(item["id"], 0) + qty
    if not isinstance(note, str) or not asked:
        return UNKNOWN  # nothing that tells the suite's return from another
    listed = _read(s, OperationId.listOrderReturns, {"orderId": params.get("orderId", "")})
    if listed is None:
        return UNKNOWN
    new = [
        r
        for r in listed.get("returns") or []
        if isinstance(r, dict) and str(r.get("returnOrderId")) not in s.inventory.returns
    ]
    ours = [r for r in new if _noted(r, note) and same_items(r, asked)]
    if len(ours) == 1:
        return ours[0]
    if ours or any(same_items(r, asked) and not _shows_a_note(r) for r in new):
        return UNKNOWN  # two candidates, or one that cannot show whose it is
    return None


def _created_fulfillment(s: Session, params: dict[str, str], body: Any) -> Found:
    sent = body.get("returnFulfillment") if isinstance(body, dict) else None
    tracking = sent.get("tracking") if isinstance(sent, dict) else None
    number = tracking.get("number") if isinstance(tracking, dict) else None
    if not isinstance(number, str):
        return UNKNOWN
    listed = _read(s, OperationId.listReturnFulfillments, params)
    if listed is None:
        return UNKNOWN
    known = s.inventory.returns.get(params.get("returnId", ""))
    seen = set(known.fulfillments) if known else set()
    matches = [
        f
        for f in listed.get("returnFulfillments") or []
        if isinstance(f, dict)
        and str(f.get("id")) not in seen
        and isinstance(f.get("tracking"), dict)
        and f["tracking"].get("number") == number
    ]
    if len(matches) > 1:
        return UNKNOWN
    return matches[0] if matches else None


def _acted(s: Session, op_id: str, params: dict[str, str]) -> Found:
    got = _read(s, OperationId.getReturn, params)
    ret = got.get("return") if got is not None else None
    if not isinstance(ret, dict):
        return UNKNOWN
    op = operation(op_id)
    status = return_status(ret.get("status"))  # CANCELED is cancelled; AWAITING_X tells nothing
    if status == op.to_status:
        return ret
    if status in op.from_status:
        return None  # still where it was: the action did not happen
    return UNKNOWN


def _noted(ret: dict[str, Any], note: str) -> bool:
    items = ret.get("returnItems") or []
    notes = [ret.get("note")] + [i.get("note") for i in items if isinstance(i, dict)]
    return note in notes


def _shows_a_note(ret: dict[str, Any]) -> bool:
    items = ret.get("returnItems") or []
    notes = [ret.get("note")] + [i.get("note") for i in items if isinstance(i, dict)]
    return any(isinstance(n, str) and n for n in notes)
