"""Stage 1 of a run: find the test data — orders with returnable lines, and existing returns.

Only the forward-flow order reads are used here (they are not scored). Returns and fulfillments
are added to the inventory later by the probes of the list operations, and by creates when
writes are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.contract import lifecycle, operation
from conformance.errors import TargetError
from conformance.findings import Exchange
from conformance.statuses import read_status
from conformance.target import Reply, Target
from conformance.verdicts import ReasonCode

MAX_ORDERS = 50
MAX_ORDER_PAGES = 3


def as_int(value: Any) -> int | None:
    """Quantities may be integers or digit strings (the API family's convention)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


@dataclass
class OrderInfo:
    id: str
    lines: dict[str, int]  # line item id → quantity fulfilled


def return_lines(body: Any) -> dict[str, int] | None:
    """A return's quantities per order line item, from the fields the answer carries.

    `orderItemId` is optional (contract section 3): the return items name it, else the extended
    `items` may; when neither names every line, None says "not known" (compare totals only).
    """
    if not isinstance(body, dict):
        return None
    for key in ("returnItems", "items"):
        entries = [i for i in body.get(key) or [] if isinstance(i, dict)]
        if entries and all(isinstance(i.get("orderItemId"), str) for i in entries):
            lines: dict[str, int] = {}
            for item in entries:
                line = item["orderItemId"]
                lines[line] = lines.get(line, 0) + (as_int(item.get("quantity")) or 0)
            return lines
    return None


def total_quantity(body: Any) -> int:
    """The units of all return items of a return body (0 when it has none)."""
    if not isinstance(body, dict):
        return 0
    return sum(
        as_int(item.get("quantity")) or 0
        for item in body.get("returnItems") or []
        if isinstance(item, dict)
    )


def same_items(ret: Any, asked: dict[str, int]) -> bool:
    """The return carries what was asked, compared through the fields it has: per order line
    when the answer names the lines (`orderItemId` is optional), else by the total quantity."""
    lines = return_lines(ret)
    if lines is not None:
        return lines == asked
    return total_quantity(ret) == sum(asked.values())


def describe_items(ret: Any) -> str:
    lines = return_lines(ret)
    if lines is not None:
        return str(lines)
    return f"{total_quantity(ret)} unit(s) on lines it does not name"


# The words every note the suite writes starts with (the seed follows): what a store owner, the
# run's clean-up and the `marked` flag of `created` look for.
MARK = "created by the returns conformance suite"


def shows_mark(ret: Any) -> bool:
    """Whether an answer's return shows the suite's note, on the return or on one of its items
    (the contract's Return has no `note`, a ReturnItem may keep one)."""
    if not isinstance(ret, dict):
        return False
    items = ret.get("returnItems")
    notes = [ret.get("note")] + [i.get("note") for i in items or [] if isinstance(i, dict)]
    return any(isinstance(note, str) and MARK in note for note in notes)


@dataclass
class KnownReturn:
    id: str
    order_id: str
    status: str
    items: dict[str, int]  # returnItemId → quantity
    lines: dict[str, int]  # orderItemId → quantity (empty when the answers do not say)
    created_by_suite: bool = False
    fulfillments: list[str] = field(default_factory=list)
    # Made by a probe of invalid or beyond-contract input: kept apart from the data the other
    # checks use, and nothing it carries is charged to another operation.
    probe: bool = False
    listed_by: set[str] = field(default_factory=set)  # the list operations that showed it
    # Some answer showed the suite's note on it (MARK): a store owner can find it by its note.
    # A return the suite made that never showed it is listed `marked: false` in `created`.
    marked: bool = False


@dataclass
class Inventory:
    """What the run knows exists on the target; grows as probes read and write."""

    orders: list[OrderInfo] = field(default_factory=list)
    returns: dict[str, KnownReturn] = field(default_factory=dict)
    # return id → the createReturn exchange that made it, in the order they were made: what a
    # replay script sends to put fresh data in the same state (conformance.repro).
    creations: dict[str, Exchange] = field(default_factory=dict)
    # Every write of the suite on a return it made that succeeded (its create, then actions and
    # return fulfillments), in the order they were made, with the return's id: how a replay
    # script brings one of those returns to the state the run left it in (conformance.repro).
    writes: list[tuple[str, Exchange]] = field(default_factory=list)

    def order(self, order_id: str) -> OrderInfo | None:
        return next((o for o in self.orders if o.id == order_id), None)

    def other_order(self, order_id: str) -> OrderInfo | None:
        return next((o for o in self.orders if o.id != order_id), None)

    def learn_return(
        self,
        body: Any,
        order_id: str | None,
        *,
        ours: bool = False,
        probe: bool = False,
        listed_by: str | None = None,
        asked: dict[str, int] | None = None,
    ) -> None:
        """Record a return from an answer; `asked` is what the suite requested when it created
        it: its order lines and quantities, whatever the answer echoes (reads are compared with
        what was written; the quantity rule counts what was asked)."""
        if not isinstance(body, dict):
            return
        # A platform's own spelling (REQUESTED) is kept as the status it stands for.
        rid, status = body.get("returnOrderId"), read_status(body.get("status"))
        oid = body.get("orderId") or order_id
        if not isinstance(rid, str) or not isinstance(oid, str) or not isinstance(status, str):
            return
        items: dict[str, int] = {}
        for item in body.get("returnItems") or []:
            if isinstance(item, dict) and isinstance(item.get("returnItemId"), str):
                items[item["returnItemId"]] = as_int(item.get("quantity")) or 0
        known = self.returns.get(rid)
        if known is None:
            # What the suite wrote (the request) is what later reads are compared with: an
            # answer that echoes it wrongly is its own operation's finding, never a read's.
            lines = dict(asked) if asked else return_lines(body) or {}
            known = KnownReturn(rid, oid, status, items, lines, ours)
            self.returns[rid] = known
        else:
            known.status = status
            known.created_by_suite = known.created_by_suite or ours
        known.probe = known.probe or probe
        known.marked = known.marked or shows_mark(body)
        if listed_by is not None:
            known.listed_by.add(listed_by)

    def record_creation(self, exchange: Exchange) -> None:
        """Keep the exchange of a createReturn that succeeded, under the id it answered."""
        body = exchange.response_body
        ret = body.get("return") if isinstance(body, dict) else None
        rid = ret.get("returnOrderId") if isinstance(ret, dict) else None
        if isinstance(rid, str) and rid not in self.creations:
            self.creations[rid] = exchange
            self.writes.append((rid, exchange))

    def record_write(self, params: dict[str, str], exchange: Exchange) -> None:
        """Keep an action or return fulfillment that succeeded on a return the suite made."""
        rid = params.get("id") or params.get("returnId")
        if rid in self.creations:
            self.writes.append((rid, exchange))

    def holding(self, order_id: str, line: str, but: str | None = None) -> list[Exchange]:
        """How the suite's returns that still hold units of a line were made, oldest first.

        Replayed on fresh data, they use up the line as it was used up when a quantity check
        ran; rejected and cancelled returns released their units and are left out.
        """
        made = []
        for rid, exchange in self.creations.items():
            known = self.returns.get(rid)
            if (
                rid != but
                and known is not None
                and known.created_by_suite
                and known.order_id == order_id
                and known.lines.get(line, 0) > 0
                and known.status not in lifecycle().releases_quantity
            ):
                made.append(exchange)
        return made

    def forget(self, return_id: str) -> None:
        """A listed return that cannot be read: nothing else is tested on it."""
        self.returns.pop(return_id, None)

    def usable(self) -> list[KnownReturn]:
        """The returns other checks may use: every known return but the probes' own."""
        return [r for r in self.returns.values() if not r.probe]

    def returns_in(
        self, *statuses: str, ours: bool | None = None, probes: bool = False
    ) -> list[KnownReturn]:
        return [
            r
            for r in self.returns.values()
            if (not statuses or r.status in statuses)
            and (ours is None or r.created_by_suite == ours)
            and (probes or not r.probe)
        ]

    def available(self, order: OrderInfo, line: str) -> int:
        """Returnable quantity left on a line, as far as the known returns tell."""
        used = sum(
            r.lines.get(line, 0)
            for r in self.returns.values()
            if r.order_id == order.id and r.status not in lifecycle().releases_quantity
        )
        return order.lines[line] - used

    def scratch_order(self) -> OrderInfo | None:
        """The order the probes of invalid and beyond-contract input use: the last one with
        returnable room, so that what they leave behind stays away from the other checks'."""
        for order in reversed(self.orders):
            if any(self.available(order, line) > 0 for line in order.lines):
                return order
        return None


def _order_info(body: Any) -> OrderInfo | None:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    lines = {}
    for item in body.get("items") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            quantity = as_int(item.get("quantity"))
            if quantity is not None:
                lines[item["id"]] = quantity
    return OrderInfo(body["id"], lines)


def _unreachable(reply: Reply, target: Target) -> None:
    if reply.problem in (ReasonCode.connection_error, ReasonCode.timeout):
        raise TargetError(
            f"the target at {target.display} did not answer ({reply.problem})",
            "check --base-url and that the connector is running",
        )
    if reply.status == 401:
        raise TargetError(
            f"the target at {target.display} refused the token (401)",
            "check --token / CONFORMANCE_TOKEN",
        )


def discover(target: Target, order_ids: tuple[str, ...] = ()) -> Inventory:
    """Orders from --order-id, else from listOrders (a few pages)."""
    inventory = Inventory()
    if order_ids:
        get_order = operation("getOrder")
        for order_id in order_ids:
            reply = target.call("GET", get_order.url_path(id=order_id))
            _unreachable(reply, target)
            info = _order_info(reply.get("order"))
            if info is not None:
                inventory.orders.append(info)
        return inventory
    list_orders = operation("listOrders")
    params: dict[str, str] = {}
    for _ in range(MAX_ORDER_PAGES):
        reply = target.call("GET", list_orders.path, params=params or None)
        _unreachable(reply, target)
        for body in reply.get("orders") or []:
            info = _order_info(body)
            if info is not None and len(inventory.orders) < MAX_ORDERS:
                inventory.orders.append(info)
        nxt = reply.get("page", "next")
        if not isinstance(nxt, str) or not nxt or len(inventory.orders) >= MAX_ORDERS:
            break
        params = {"page": nxt}
    return inventory
