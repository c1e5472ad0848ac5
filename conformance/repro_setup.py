"""The setup a replay script needs before a failing list read: the returns the run made before
the failing sequence began (from the Inventory's write log), which the read listed.

Apart from repro.py (which turns exchanges into a script) because choosing the data is its own
rule: for a status filter, one return in another status; for pagination, every return made
before, so the pages match the run's. At most SETUP_CAP steps; more means no setup at all.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence

from conformance.discover import Inventory
from conformance.findings import Exchange
from conformance.statuses import read_status
from conformance.verdicts import ReasonCode

API_PREFIX = "/api/v2/"  # every contract path starts here (schemas/openapi.yaml)
SETUP_CAP = 30
"""At most this many steps put the data a failing list read needs on fresh data (`setup_for`)."""
SETUP_REASONS = (ReasonCode.filter_ignored, ReasonCode.pagination_broken)


def _status(history: Sequence[Exchange]) -> str | None:
    """The status a return's last write left it in, from the answers that carry it."""
    status = None
    for exchange in history:
        body = exchange.response_body
        ret = body.get("return") if isinstance(body, dict) else None
        if isinstance(ret, dict) and isinstance(ret.get("status"), str):
            status = read_status(ret["status"])  # REQUESTED is requested (statuses.py)
    return status


def _repeat(last: Exchange, exchange: Exchange) -> bool:
    """`exchange` repeats the action `last` on the same return, and left its status as it was."""
    same = (last.method, last.url, last.request_body) == (
        exchange.method,
        exchange.url,
        exchange.request_body,
    )
    return same and _status([last]) is not None and _status([last]) == _status([exchange])


def setup_for(reason: str, steps: Sequence[Exchange], inventory: Inventory) -> list[Exchange]:
    """The writes that make again, on fresh data, the returns the failing list read of `steps`
    (the last one) answered but the sequence itself did not make: the run's earlier checks made
    them, and the read's answer depends on them.

    `filter_ignored`: one return in another status than the filter asked (the one made in the
    fewest steps). `pagination_broken`: every such return, so that the list has as many items,
    and the same pages, as in the run. The returns are read from the run's writes, not from the
    list's answer (evidence bodies are clipped): those the suite made before the sequence began,
    on the read's order (or any, for a list across orders). Each comes with its history (its
    create, then the actions and return fulfillments made on it before the sequence began),
    merged in the order the run made them: the returns holding a line are then never more than
    in the run, so each write succeeds as it did there. None when no such return is known, or
    when more than SETUP_CAP steps would be needed.
    """
    if reason not in SETUP_REASONS or not steps:
        return []
    ours = {id(e) for e in steps}
    start = next(
        (i for i, (_, e) in enumerate(inventory.writes) if id(e) in ours), len(inventory.writes)
    )
    read, query = split_url(steps[-1].url)
    history: dict[str, list[Exchange]] = {}
    before: list[tuple[str, Exchange]] = []
    for rid, exchange in inventory.writes[:start]:
        made = history.setdefault(rid, [])
        if made and _repeat(made[-1], exchange):
            continue  # the same action again, which changed nothing: not needed
        made.append(exchange)
        before.append((rid, exchange))
    # a list of one order's returns (its path is createReturn's) or of all returns
    scoped = "/orders/" in read
    history = {
        rid: made
        for rid, made in history.items()
        if not scoped or split_url(made[0].url)[0] == read
    }
    chosen = set(history)
    if reason == ReasonCode.filter_ignored:
        wanted = read_status(dict(query).get("status"))

        def cost(rid: str) -> tuple[bool, int]:
            known = inventory.returns.get(rid)
            return (known is not None and known.probe, len(history[rid]))

        other = [rid for rid, made in history.items() if _status(made) not in (None, wanted)]
        chosen = {min(other, key=cost)} if wanted is not None and other else set()
    if not chosen or sum(len(history[rid]) for rid in chosen) > SETUP_CAP:
        return []
    return [exchange for rid, exchange in before if rid in chosen]


def split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The contract path (from /api/v2/ on) and the query pairs of a recorded URL."""
    parsed = urllib.parse.urlsplit(url)
    at = parsed.path.rfind(API_PREFIX)
    path = parsed.path[at:] if at >= 0 else parsed.path
    return path, urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
