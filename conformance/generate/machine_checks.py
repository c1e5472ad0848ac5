"""The lifecycle machine's read checks: what getReturn, the return lists, their pages and the
fulfillment list must show of the modelled returns (contract section 4, read-your-writes).

Split from `machine.py`: each check judges the answers it is given and returns a `Problem` (or
None), so the machine can ask again within the consistency window before it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.contract import OperationId
from conformance.discover import describe_items, same_items
from conformance.generate.machine_model import Modelled, Problem
from conformance.statuses import return_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode


def list_problem(op: str, reply: Reply, status: str | None, mine: list[Modelled]) -> Problem | None:
    """A one-page list (filtered by `status`, if given) shows each of `mine` in its status."""
    if not reply.ok or reply.get("page", "next"):
        return None
    items = [i for i in reply.get("returns") or [] if isinstance(i, dict)]
    # Statuses are compared as what they stand for (REQUESTED is requested); a platform's own
    # status that stands for none cannot be judged (the probes of the lists note those).
    if status is not None:
        wrong = [
            i.get("returnOrderId")
            for i in items
            if return_status(i.get("status")) != status and not unmappable(i.get("status"))
        ]
        if wrong:
            return (
                op,
                ReasonCode.filter_ignored,
                f"status={status} listed returns of other statuses: {wrong[:3]}",
                reply,
                f"status == 200 and any(s != {status!r} for s in ids(body, field='status'))",
            )
    listed = {i.get("returnOrderId"): i.get("status") for i in items}
    told = {rid: return_status(value) for rid, value in listed.items()}
    for ret in mine:
        if status is not None and ret.status != status:
            continue
        if ret.id not in listed:
            message = f"return {ret.id} ({ret.status}) is not listed"
            shows = f"status == 200 and {ret.id!r} not in ids(body)"
            return op, ReasonCode.stale_list, message, reply, shows
        if told[ret.id] != ret.status and not unmappable(listed[ret.id]):
            message = f"return {ret.id} is listed as {listed[ret.id]!r}, but it is {ret.status!r}"
            shows = (
                f"status == 200 and dict(zip(ids(body), ids(body, field='status')))"
                f".get({ret.id!r}) != {ret.status!r}"
            )
            return op, ReasonCode.stale_list, message, reply, shows
    return None


def pages_problem(call: Callable[[dict[str, str]], Reply], pages: int) -> Problem | None:
    """Following page.next through listReturns (about `pages` pages) repeats and loses nothing
    of the full list; `call` sends listReturns with the given query."""
    op = OperationId.listReturns
    full = call({"limit": "250"})
    if not full.ok or full.get("page", "next"):
        return None
    everything = [i.get("returnOrderId") for i in full.get("returns") or [] if isinstance(i, dict)]
    limit = max(1, -(-len(everything) // pages))  # a page boundary inside the list
    seen: list[Any] = []
    query = {"limit": str(limit)}
    reply = full
    calls = 0
    for _ in range(len(everything) // limit + 3):
        reply = call(query)
        calls += 1
        if not reply.ok:
            return None
        page = [i.get("returnOrderId") for i in reply.get("returns") or [] if isinstance(i, dict)]
        if len(page) > limit:
            return op, ReasonCode.pagination_broken, f"limit={limit} gave {len(page)}", reply
        seen += page
        nxt = reply.get("page", "next")
        if not isinstance(nxt, str) or not nxt:
            break
        query = {"limit": str(limit), "page": nxt}
    twice = {str(i) for i in seen if seen.count(i) > 1}
    lost = set(everything) - set(seen)
    if twice or lost:
        n = calls + 1  # the full list, then the pages: the last n answers
        shows = (
            f"len(statuses) > {n - 1} and (lambda pages: bool("
            f"set(ids(bodies[-{n}])) - set(pages) or len(pages) > len(set(pages))))"
            f"([i for b in bodies[-{n - 1}:] for i in ids(b)])"
        )
        return (
            op,
            ReasonCode.pagination_broken,
            f"following page.next with limit={limit}: "
            f"repeated {sorted(twice)[:3]}, lost {sorted(map(str, lost))[:3]} "
            f"of {len(everything)}",
            full,
            reply,
            shows,
        )
    return None


def fulfillments_problem(ret: Modelled, reply: Reply) -> Problem | None:
    """A one-page listReturnFulfillments of `ret` shows every fulfillment made on it."""
    op = OperationId.listReturnFulfillments
    if not reply.ok or reply.get("page", "next"):
        return None
    ids = {i.get("id") for i in reply.get("returnFulfillments") or [] if isinstance(i, dict)}
    missing = [f for f in ret.fulfillments if f not in ids]
    if missing:
        shows = (
            f"status == 200 and any(f not in ids(body, 'returnFulfillments', 'id') "
            f"for f in {missing!r})"
        )
        return op, ReasonCode.stale_list, f"fulfillments {missing} are not listed", reply, shows
    return None


def read_back_problem(ret: Modelled, reply: Reply) -> Problem | None:
    """getReturn shows the modelled status and items, or the last action had no effect."""
    if not reply.ok:
        if reply.status == 404:
            message = f"return {ret.id} exists but answered 404"
            return OperationId.getReturn, ReasonCode.data_mismatch, message, reply, "status == 404"
        return None
    got = reply.get("return", "status")
    shows = f"status == 200 and dig(body, 'return', 'status') != {ret.status!r}"
    if return_status(got) != ret.status and not unmappable(got):
        if ret.last_action is not None:
            return (
                ret.last_action,
                ReasonCode.effect_missing,
                f"after {ret.last_action} succeeded, getReturn shows {got!r}, not {ret.status!r}",
                reply,
                shows,
            )
        message = f"getReturn shows {got!r}, the return is {ret.status!r}"
        return OperationId.getReturn, ReasonCode.data_mismatch, message, reply, shows
    if not same_items(reply.get("return"), ret.lines):
        message = f"created with {ret.lines}, reads back {describe_items(reply.get('return'))}"
        total = sum(ret.lines.values())
        shows = (
            "status == 200 and sum(int(i.get('quantity') or 0) for i in "
            f"dig(body, 'return', 'returnItems') or []) != {total}"
        )
        return OperationId.getReturn, ReasonCode.data_mismatch, message, reply, shows
    return None
