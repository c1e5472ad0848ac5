"""Stage 1 of a run: find the test data — orders with returnable lines, and existing returns.

Only the forward-flow order reads are used here (they are not scored). Returns and fulfillments
are added to the inventory later by the probes of the list operations, and by creates when
writes are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.contract import operation
from conformance.errors import TargetError
from conformance.target import Reply, Target

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


@dataclass
class KnownReturn:
    id: str
    order_id: str
    status: str
    items: dict[str, int]  # returnItemId → quantity
    lines: dict[str, int]  # orderItemId → quantity
    created_by_suite: bool = False
    fulfillments: list[str] = field(default_factory=list)


@dataclass
class Inventory:
    """What the run knows exists on the target; grows as probes read and write."""

    orders: list[OrderInfo] = field(default_factory=list)
    returns: dict[str, KnownReturn] = field(default_factory=dict)

    def order(self, order_id: str) -> OrderInfo | None:
        return next((o for o in self.orders if o.id == order_id), None)

    def other_order(self, order_id: str) -> OrderInfo | None:
        return next((o for o in self.orders if o.id != order_id), None)

    def learn_return(self, body: Any, order_id: str | None, *, ours: bool = False) -> None:
        if not isinstance(body, dict):
            return
        rid, status = body.get("returnOrderId"), body.get("status")
        oid = body.get("orderId") or order_id
        if not isinstance(rid, str) or not isinstance(oid, str) or not isinstance(status, str):
            return
        items: dict[str, int] = {}
        lines: dict[str, int] = {}
        for item in body.get("returnItems") or []:
            if not isinstance(item, dict):
                continue
            quantity = as_int(item.get("quantity")) or 0
            if isinstance(item.get("returnItemId"), str):
                items[item["returnItemId"]] = quantity
            if isinstance(item.get("orderItemId"), str):
                lines[item["orderItemId"]] = lines.get(item["orderItemId"], 0) + quantity
        known = self.returns.get(rid)
        if known is None:
            self.returns[rid] = KnownReturn(rid, oid, status, items, lines, ours)
        else:
            known.status = status
            known.created_by_suite = known.created_by_suite or ours

    def returns_in(self, *statuses: str, ours: bool | None = None) -> list[KnownReturn]:
        return [
            r
            for r in self.returns.values()
            if (not statuses or r.status in statuses)
            and (ours is None or r.created_by_suite == ours)
        ]

    def available(self, order: OrderInfo, line: str) -> int:
        """Returnable quantity left on a line, as far as the known returns tell."""
        used = sum(
            r.lines.get(line, 0)
            for r in self.returns.values()
            if r.order_id == order.id and r.status not in ("rejected", "cancelled")
        )
        return order.lines[line] - used


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
    if reply.problem in ("connection_error", "timeout"):
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
