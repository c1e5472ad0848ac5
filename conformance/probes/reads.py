"""Read probes on existing data: the list operations (with pagination and filters), getReturn,
and the return fulfillment reads. They also fill the inventory with what exists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance.contract import OperationId, vocabularies
from conformance.discover import KnownReturn
from conformance.probes.session import Read, Session
from conformance.probes.wire import DATA_KEY
from conformance.schemas import parse_instant
from conformance.statuses import read_status, return_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode

MAX_PAGES = 60
PAGE_LIMIT = 2
UNKNOWN_ID = "conformance-unknown-id-0"


def probe_reads(s: Session) -> None:
    try:
        list_returns(s)
        list_order_returns(s)
        get_returns(s)
        fulfillment_reads(s)
    finally:
        s.drop_prefetched()


ID_KEY = {"returns": "returnOrderId", "returnFulfillments": "id"}


def _ids(reply: Reply, key: str = "returns") -> list[Any]:
    items = reply.get(key)
    if not isinstance(items, list):
        return []
    return [i.get(ID_KEY[key]) for i in items if isinstance(i, dict)]


def first_list(s: Session, op: str, params: dict[str, str]) -> Reply:
    """The operation's first page with `limit=250`; if `limit` is refused with 400, the same
    request without it, so that the list still counts as working (`partial`, not undecided)."""
    reply = s.call(op, params, query=s.list_query(op))
    if reply.status != 400 or op in s.limit_refused:
        return reply
    plain = s.call(op, params)
    if plain.ok:
        s.limit_refused.add(op)
        s.finding(
            op,
            ReasonCode.pagination_rejected,
            "pagination",
            "limit=250 was rejected with 400 (the same request without limit succeeded)",
            reply,
        )
    return plain


def list_returns(s: Session) -> None:
    op = OperationId.listReturns
    reply = first_list(s, op, {})
    if s.unsupported.get(op):
        return
    if reply.status == 404:
        s.finding(
            op,
            ReasonCode.unsupported_misreported,
            "unsupported_answered",
            "listReturns has no parameters, so 404 cannot mean 'not found': an operation "
            "the platform lacks must answer 501",
            reply,
        )
        return
    if not reply.ok:
        return
    s.seen.success(op)
    for body in reply.get("returns") or []:
        s.inventory.learn_return(body, None, listed_by=op)
    list_behaviour(s, op, {}, reply)


def list_order_returns(s: Session) -> None:
    op = OperationId.listOrderReturns
    best: tuple[int, str, Reply] | None = None
    orders = s.inventory.orders[:10]
    for index, order in enumerate(orders):
        reply = first_list(s, op, {"orderId": order.id}) if index == 0 else None
        if reply is None:
            reply = s.call(op, {"orderId": order.id}, query=s.list_query(op))
        if not s.is_open(op):
            return
        if index == 0 and reply.ok:  # it answers: ask for the other orders side by side
            s.prefetch([(op, {"orderId": o.id}, s.list_query(op), "valid") for o in orders[1:]])
        if reply.status == 404:
            s.finding(
                op,
                ReasonCode.unsupported_misreported,
                "unsupported_answered",
                f"order {order.id} exists (the order reads list it) but listing its "
                "returns answered 404",
                reply,
            )
            return
        if not reply.ok:
            continue
        s.seen.success(op)
        found = reply.get("returns") or []
        for body in found:
            s.inventory.learn_return(body, order.id, listed_by=op)
        if best is None or len(found) > best[0]:
            best = (len(found), order.id, reply)
    if best is not None:
        list_behaviour(s, op, {"orderId": best[1]}, best[2])
    if not s.inventory.orders:
        s.call(op, {"orderId": UNKNOWN_ID})


def _instant(value: Any) -> datetime | None:
    return parse_instant(value) if isinstance(value, str) else None


def _filter_status(everything: list[dict[str, Any]]) -> str | None:
    """The status the filter check asks for: the first normalized status some listed return
    stands for (`status=requested`, whatever the platform's spelling); where none stands for
    one, the platform's own first value, as it answered it."""
    statuses = [str(i["status"]) for i in everything if isinstance(i.get("status"), str)]
    normalized = sorted({n for n in map(return_status, statuses) if n is not None})
    return normalized[0] if normalized else min(statuses, default=None)


def status_filter(
    s: Session, op: str, params: dict[str, str], everything: list[dict[str, Any]], wanted: str
) -> None:
    """`status=wanted` lists only returns of that status, and all of them (contract section 4).

    Statuses are compared as what they stand for (conformance.statuses): REQUESTED is
    requested. A listed return whose own status stands for no normalized one cannot be judged
    against a normalized filter: a note. A platform that spells the status its own way may not
    know the normalized value: an empty answer is asked again with its own spelling.
    """
    reply = s.call(op, params, query=s.list_query(op, status=wanted))
    spelled = sorted(
        {
            str(i["status"])
            for i in everything
            if read_status(i.get("status")) == wanted and i.get("status") != wanted
        }
    )
    expected = {
        i.get("returnOrderId") for i in everything if read_status(i.get("status")) == wanted
    }
    if (
        reply.ok
        and spelled
        and expected
        and not reply.get("returns")
        and not reply.get("page", "next")
    ):
        s.seen.note(
            op,
            f"status={wanted} answered no returns; the platform spells it {spelled[0]!r}, "
            "so the filter was asked again with that value",
        )
        reply = s.call(op, params, query=s.list_query(op, status=spelled[0]))
    if reply.status == 400:
        s.finding(
            op,
            ReasonCode.filter_rejected,
            "status_filter",
            "the status filter was rejected with 400",
            reply,
        )
        return
    if not reply.ok:
        return
    got = [i for i in reply.get("returns") or [] if isinstance(i, dict)]
    judged = wanted in vocabularies().return_status
    unknown = sorted({str(i.get("status")) for i in got if judged and unmappable(i.get("status"))})
    if unknown:
        s.seen.note(
            op,
            f"status={wanted} listed returns in the platform's own statuses {unknown[:5]}; the "
            "suite cannot tell which normalized status they are",
        )
    wrong = [
        i.get("returnOrderId")
        for i in got
        if read_status(i.get("status")) != wanted and not (judged and unmappable(i.get("status")))
    ]
    s.check(
        op,
        not wrong,
        ReasonCode.filter_ignored,
        "status_filter",
        f"status={wanted} returned returns of other statuses: {wrong[:5]}",
        reply,
    )
    if not reply.get("page", "next"):
        missing = expected - {i.get("returnOrderId") for i in got}
        s.check(
            op,
            not missing,
            ReasonCode.filter_ignored,
            "status_filter",
            f"status={wanted} left out matching returns: {sorted(map(str, missing))[:5]}",
            reply,
        )


def list_behaviour(s: Session, op: str, params: dict[str, str], full: Reply) -> None:
    """limit, page, status and createdAt against the full list (contract section 4)."""
    s.settle()  # the answers compared with each other must all show the last write
    everything = [i for i in full.get("returns") or [] if isinstance(i, dict)]
    if full.get("page", "next"):
        s.collect(op, params)  # more than one page (or endless): follow it, bounded
        return
    wanted = _filter_status(everything)
    stamps = [str(i["createdAt"]) for i in everything if _instant(i.get("createdAt"))]
    status_query = s.list_query(op, status=wanted) if wanted else {}
    window = {"createdAt[from]": stamps[0], "createdAt[to]": stamps[0]} if stamps else {}
    # The first page and both filters are independent reads: they go out side by side.
    ahead: list[Read] = [(op, params, {"limit": str(PAGE_LIMIT)}, "valid")]
    if wanted:
        ahead.append((op, params, status_query, "valid"))
    if stamps:
        ahead.append((op, params, window, "valid"))
    s.prefetch(ahead)
    pagination(s, op, params, [i.get("returnOrderId") for i in everything])
    if wanted:
        status_filter(s, op, params, everything, wanted)
    if stamps:
        stamp = stamps[0]
        moment = _instant(stamp)
        reply = s.call(op, params, query=window)
        if reply.status == 400:
            s.finding(
                op,
                ReasonCode.filter_rejected,
                "created_at_filter",
                "the createdAt filter was rejected with 400",
                reply,
            )
        elif reply.ok:
            got = [i for i in reply.get("returns") or [] if isinstance(i, dict)]
            outside = [
                i.get("returnOrderId") for i in got if _instant(i.get("createdAt")) != moment
            ]
            hit = any(_instant(i.get("createdAt")) == moment for i in got)
            s.check(
                op,
                hit and not outside,
                ReasonCode.filter_ignored,
                "created_at_filter",
                f"createdAt[from]=createdAt[to]={stamp} (inclusive) should return exactly "
                f"the returns created then; got {len(got)}, outside: {outside[:5]}",
                reply,
            )


def pagination(
    s: Session, op: str, params: dict[str, str], all_ids: list[Any], limit: int = PAGE_LIMIT
) -> None:
    """Follow page.next with a small limit: at most `limit` per page, nothing twice or lost."""
    key = DATA_KEY[op]
    seen: list[Any] = []
    query = {"limit": str(limit)}
    for _ in range(MAX_PAGES):
        reply = s.call(op, params, query=query)
        if reply.status == 400:
            s.finding(
                op,
                ReasonCode.pagination_rejected,
                "pagination",
                f"limit={query['limit']}"
                + (" with a page token" if "page" in query else "")
                + " was rejected with 400",
                reply,
            )
            return
        if not reply.ok:
            return
        page = _ids(reply, key)
        if not s.check(
            op,
            len(page) <= limit,
            ReasonCode.pagination_broken,
            "limit",
            f"limit={limit} answered {len(page)} items",
            reply,
        ):
            return
        seen += page
        nxt = reply.get("page", "next")
        if not isinstance(nxt, str) or not nxt:
            break
        if not s.endless_check(op, page, nxt, query.get("page"), reply):
            return
        query = {"limit": str(limit), "page": nxt}
    else:
        s.finding(
            op,
            ReasonCode.pagination_broken,
            "pagination",
            f"page.next was still set after {MAX_PAGES} pages of {limit}",
            reply,
        )
        return
    twice = sorted({str(i) for i in seen if seen.count(i) > 1})
    lost = sorted(str(i) for i in set(all_ids) - set(seen))
    s.check(
        op,
        not twice and not lost,
        ReasonCode.pagination_broken,
        "pagination",
        f"following page.next with limit={limit}: repeated {twice[:5]}, "
        f"lost {lost[:5]} of {len(all_ids)}",
        reply,
    )


def not_found_after_listing(s: Session, op: str, ret: KnownReturn, reply: Reply) -> None:
    """A listed return answered 404: charge the list that named it when its order is unknown
    to the order reads, else `op`; either way, nothing more is tested on that return."""
    s.inventory.forget(ret.id)
    lists = sorted(ret.listed_by) or ["an earlier answer"]
    named = " and ".join(lists)
    if (
        s.inventory.order(ret.order_id) is None
        and OperationId.listOrderReturns not in ret.listed_by
    ):
        order = s.call("getOrder", {"id": ret.order_id})
        if order.status == 404 or not order.ok:
            for list_op in ret.listed_by or {OperationId.listReturns}:
                s.finding(
                    list_op,
                    ReasonCode.data_mismatch,
                    "listed_exists",
                    f"{list_op} names return {ret.id} on order {ret.order_id}, but that order "
                    f"does not exist (getOrder answered {order.status}) and {op} answered 404",
                    reply,
                )
            return
    s.finding(
        op,
        ReasonCode.data_mismatch,
        "listed_is_gettable",
        f"return {ret.id} is listed by {named} on order {ret.order_id}, but {op} answered 404",
        reply,
    )


def get_returns(s: Session) -> None:
    op = OperationId.getReturn
    known = s.inventory.usable()[:3]
    for index, ret in enumerate(known):
        reply = s.call(op, {"orderId": ret.order_id, "id": ret.id})
        if not s.is_open(op):
            return
        if index == 0 and reply.ok:
            s.prefetch(
                [(op, {"orderId": r.order_id, "id": r.id}, None, "valid") for r in known[1:]]
            )
        if reply.status == 404:
            not_found_after_listing(s, op, ret, reply)
        elif reply.ok:
            s.seen.success(op)
            s.check(
                op,
                reply.get("return", "returnOrderId") == ret.id,
                ReasonCode.data_mismatch,
                "same_id",
                f"asked for {ret.id}, got {reply.get('return', 'returnOrderId')!r}",
                reply,
            )
    if not s.inventory.usable() and s.inventory.orders:
        s.call(op, {"orderId": s.inventory.orders[0].id, "id": UNKNOWN_ID})


def fulfillment_reads(s: Session) -> None:
    """List fulfillments of existing returns (approved or closed first), get one, and page
    through a return's fulfillments."""
    candidates = sorted(s.inventory.usable(), key=lambda r: r.status not in ("approved", "closed"))[
        :4
    ]
    for ret in candidates:
        ids = list_fulfillments(s, ret)
        if ids is None:
            break
        ret.fulfillments = [i for i in ids if isinstance(i, str)]
        if ret.fulfillments:
            get_fulfillment(s, ret.order_id, ret.id, ret.fulfillments[0])
            fulfillment_pagination(s, ret)
            break
    if not candidates and s.inventory.orders:
        order = s.inventory.orders[0].id
        s.call(OperationId.listReturnFulfillments, {"orderId": order, "returnId": UNKNOWN_ID})
        s.call(
            OperationId.getReturnFulfillment,
            {"orderId": order, "returnId": UNKNOWN_ID, "id": UNKNOWN_ID},
        )


def fulfillment_pagination(s: Session, ret: KnownReturn) -> None:
    """listReturnFulfillments honours `limit` and `page` like the return lists."""
    op = OperationId.listReturnFulfillments
    if not s.is_open(op) or op in s.limit_refused or not ret.fulfillments:
        return
    s.settle()
    pagination(s, op, {"orderId": ret.order_id, "returnId": ret.id}, list(ret.fulfillments), 1)


def list_fulfillments(s: Session, ret: KnownReturn) -> list[Any] | None:
    op = OperationId.listReturnFulfillments
    params = {"orderId": ret.order_id, "returnId": ret.id}
    reply = first_list(s, op, params)
    if not s.is_open(op):
        return None
    if not reply.ok:
        if reply.status == 404:
            not_found_after_listing(s, op, ret, reply)
        return []
    s.seen.success(op)
    if reply.get("page", "next"):
        items, _, _ = s.collect(op, params)
        return [i.get("id") for i in items]
    return _ids(reply, "returnFulfillments")


def get_fulfillment(s: Session, order_id: str, return_id: str, ful_id: str) -> Reply | None:
    op = OperationId.getReturnFulfillment
    reply = s.call(op, {"orderId": order_id, "returnId": return_id, "id": ful_id})
    if not s.is_open(op):
        return None
    if reply.status == 404:
        s.finding(
            op,
            ReasonCode.data_mismatch,
            "listed_is_gettable",
            f"fulfillment {ful_id} is listed by listReturnFulfillments on return {return_id} "
            "but answered 404",
            reply,
        )
    elif reply.ok:
        s.seen.success(op)
        s.check(
            op,
            reply.get("returnFulfillment", "id") == ful_id,
            ReasonCode.data_mismatch,
            "same_id",
            f"asked for {ful_id}, got {reply.get('returnFulfillment', 'id')!r}",
            reply,
        )
    return reply
