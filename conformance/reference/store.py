"""The reference platform's state and business rules (contract section 4).

The store knows nothing about HTTP: it takes validated values, applies the lifecycle, the quantity
rule and isolation, and raises `ApiError` with the contract's error code where a rule says no. The
ids it makes follow the profile's id scheme (`ids.py`); with read-lag it keeps the state after each
write, stamped, and reads see the newest one old enough (`reads()`).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.contract import OperationId, lifecycle, vocabularies
from conformance.reference.answers import ApiError
from conformance.reference.clock import now, parse_time
from conformance.reference.ids import IdScheme
from conformance.reference.paging import ListQuery, Pager
from conformance.reference.profile import Profile

__all__ = ["ApiError", "Fulfillment", "Return", "ReturnLine", "Store", "parse_time"]


@dataclass
class ReturnLine:
    id: str
    line_id: str
    quantity: int
    reason: str
    note: str | None = None


@dataclass
class Fulfillment:
    id: str
    return_id: str
    tracking: dict[str, Any]
    status: str | None
    items: list[tuple[str, int]]
    documents: list[dict[str, Any]]
    identifiers: list[str]
    created_at: str


@dataclass
class Return:
    id: str
    order_id: str
    status: str
    lines: list[ReturnLine]
    created_at: str
    updated_at: str
    note: str | None = None
    via_api: bool = False
    fulfillments: list[Fulfillment] = field(default_factory=list)
    rfo: str = ""  # the id of its return fulfillment order (shown once it exists)
    package_id: str = ""

    @property
    def rfo_id(self) -> str | None:
        """The reverse fulfillment order exists once the return has been approved."""
        if self.status in ("approved", "closed") or self.fulfillments:
            return self.rfo
        return None

    @property
    def active(self) -> bool:
        """Rejected and cancelled returns release their quantity (the lifecycle table)."""
        return self.status not in lifecycle().releases_quantity


class Store:
    """One platform's data, mutated only through the contract's operations."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.behaviour = profile.behaviour
        self.ids = IdScheme(self.behaviour.ids)
        self.pager = Pager(self.behaviour)
        self.orders = {order.id: order for order in profile.orders}
        self.lines = {line.id: (order.id, line) for order in profile.orders for line in order.lines}
        self.returns: dict[str, Return] = {}
        self._counter = 0
        for seed in profile.returns:
            ret = Return(
                id=seed.id,
                order_id=seed.order,
                status=seed.status,
                created_at=seed.created_at,
                updated_at=seed.created_at,
                lines=[
                    ReturnLine(self.ids.child("item", seed.id, i), x.line, x.quantity, x.reason)
                    for i, x in enumerate(seed.lines, start=1)
                ],
                rfo=self.ids.child("rfo", seed.id),
                package_id=self.ids.child("package", seed.id),
            )
            ret.fulfillments = [
                Fulfillment(
                    id=f.id,
                    return_id=seed.id,
                    tracking={"number": f.tracking_number, "company": f.company, "url": f.url},
                    status=f.status or profile.behaviour.fulfillment_status,
                    items=[(x.id, x.quantity) for x in ret.lines],
                    documents=[],
                    identifiers=[],
                    created_at=f.created_at,
                )
                for f in seed.fulfillments
            ]
            self.returns[ret.id] = ret
        # read-lag: the state after each write, stamped; reads see the newest one old enough
        self._history: list[tuple[float, dict[str, Return]]] = []
        if self.behaviour.read_lag > 0:
            self._history.append((-math.inf, copy.deepcopy(self.returns)))

    def _next_id(self, kind: Literal["return", "fulfillment"]) -> str:
        self._counter += 1
        return self.ids.new(kind, self._counter)

    def _now(self) -> str:
        return now(precise=self.behaviour.timestamps == "offset")

    # ---- read-lag ----

    def reads(self) -> Store:
        """The store as a read sees it: itself, or with read-lag the state as it was
        `read_lag` seconds ago (writes and their own answers always use the current state)."""
        if not self._history:
            return self
        cutoff = time.monotonic() - self.behaviour.read_lag
        while len(self._history) > 1 and self._history[1][0] <= cutoff:
            self._history.pop(0)
        view = copy.copy(self)
        view.returns = self._history[0][1]
        return view

    def _written(self, ret: Return) -> None:
        """Record the state after a write to `ret` (read-lag only): a copy of what changed."""
        if self._history:
            latest = dict(self._history[-1][1])
            latest[ret.id] = copy.deepcopy(ret)
            self._history.append((time.monotonic(), latest))

    # ---- lookups (isolation: a return exists only under its own order) ----

    def order(self, order_id: str) -> Any:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError("NOT_FOUND", f"order {order_id!r} not found")
        return order

    def get_return(self, order_id: str, return_id: str) -> Return:
        """The return under its own order."""
        self.order(order_id)
        ret = self.returns.get(return_id)
        if ret is None or ret.order_id != order_id:
            raise ApiError("NOT_FOUND", f"return {return_id!r} not found on order {order_id!r}")
        return ret

    def get_fulfillment(self, order_id: str, return_id: str, fulfillment_id: str) -> Fulfillment:
        ret = self.get_return(order_id, return_id)
        for ful in ret.fulfillments:
            if ful.id == fulfillment_id:
                return ful
        raise ApiError(
            "NOT_FOUND", f"fulfillment {fulfillment_id!r} not found on return {ret.id!r}"
        )

    # ---- lists ----

    def list_returns(
        self, order_id: str | None, query: ListQuery
    ) -> tuple[list[Return], str | None]:
        if order_id is not None:
            self.order(order_id)
        items = self.listed(order_id)
        if query.status is not None:
            # The platform's own spelling (platform-statuses: REQUESTED) filters as the
            # normalized value does.
            spelled = {v: k for k, v in self.behaviour.return_status_names.items()}
            status = spelled.get(query.status, query.status)
            unknown = status not in vocabularies().return_status
            if unknown and self.behaviour.unknown_status_filter == "reject":
                raise ApiError("INVALID_REQUEST", f"unknown status {query.status!r}")
            items = self.with_status(items, status, order_id)
        if query.created_from is not None:
            items = [r for r in items if parse_time(r.created_at) >= query.created_from]
        if query.created_to is not None:
            items = [r for r in items if parse_time(r.created_at) <= query.created_to]
        items.sort(key=lambda r: (parse_time(r.created_at), r.id))
        page = self.pager.page(items, query)
        return page.items, page.next

    def listed(self, order_id: str | None) -> list[Return]:
        """The returns a list starts from: those of `order_id`, or all of them (None)."""
        return [r for r in self.returns.values() if order_id is None or r.order_id == order_id]

    def with_status(self, items: list[Return], status: str, order_id: str | None) -> list[Return]:
        """The status filter of a list of `order_id`'s returns (None: of all orders)."""
        return [r for r in items if r.status == status]

    def list_fulfillments(
        self, order_id: str, return_id: str, query: ListQuery
    ) -> tuple[list[Fulfillment], str | None]:
        ret = self.get_return(order_id, return_id)
        page = self.pager.page(list(ret.fulfillments), query)
        return page.items, page.next

    # ---- writes ----

    def create_return(self, order_id: str, body: dict[str, Any]) -> Return:
        order = self.order(order_id)
        own_lines = {line.id: line for line in order.lines}
        wanted: dict[str, int] = {}
        details = []
        for i, item in enumerate(body["items"]):
            if item["id"] not in own_lines:
                details.append({"field": f"/return/items/{i}/id", "message": "unknown line item"})
            wanted[item["id"]] = wanted.get(item["id"], 0) + int(item["quantity"])
        if details:
            raise ApiError("UNPROCESSABLE", "the order has no such line item", details)
        for line_id, quantity in wanted.items():
            available = own_lines[line_id].quantity - self.returned(order_id, line_id)
            if quantity > available:
                raise ApiError(
                    "UNPROCESSABLE",
                    f"line item {line_id!r}: {quantity} requested, {max(available, 0)} returnable",
                    [{"field": "/return/items", "message": "more than the returnable quantity"}],
                )
        return_id = self._next_id("return")
        stamp = self._now()
        status = self.behaviour.new_return_status or "requested"
        ret = Return(
            id=return_id,
            order_id=order_id,
            status=status,
            created_at=stamp,
            updated_at=stamp,
            note=body.get("note"),
            via_api=True,
            rfo=self.ids.child("rfo", return_id),
            package_id=self.ids.child("package", return_id),
            lines=[
                ReturnLine(
                    id=self.ids.child("item", return_id, i),
                    line_id=item["id"],
                    quantity=int(item["quantity"]),
                    reason=item["reason"],
                    note=item.get("note"),
                )
                for i, item in enumerate(body["items"], start=1)
            ],
        )
        self.returns[return_id] = ret
        self._written(ret)
        return ret

    def returned(self, order_id: str, line_id: str) -> int:
        """Units of the line that the order's active returns already hold."""
        return sum(
            x.quantity
            for r in self.returns.values()
            if r.active and r.order_id == order_id
            for x in r.lines
            if x.line_id == line_id
        )

    def act(self, ret: Return, action: str) -> Return:
        """Apply approve / reject / cancel; 409 where the lifecycle table does not allow it, and
        for cancel also where the profile's `cancel_from` (a part of the table's) does not."""
        table = lifecycle()
        to_status, current = table.to_status(action), ret.status
        allowed = table.from_status(action)
        if action == OperationId.cancelReturn:
            allowed = tuple(s for s in allowed if s in self.behaviour.cancel_from)
        if current == to_status and self.behaviour.repeat_action == "idempotent":
            return ret
        if not self.may_move(ret, to_status, allowed):
            raise ApiError(
                "INVALID_STATE",
                f"cannot move a return from {current!r} to {to_status!r}",
                [{"field": "status", "message": f"current status is {current}"}],
            )
        return self.move(ret, to_status)

    def may_move(self, ret: Return, to_status: str, allowed: tuple[str, ...]) -> bool:
        """Whether the lifecycle lets `ret` move to `to_status` (from one of `allowed`)."""
        return ret.status in allowed

    def move(self, ret: Return, to_status: str) -> Return:
        """Move `ret` to `to_status` (a legal move): the return as the answer shows it."""
        ret.status = to_status
        ret.updated_at = self._now()
        self._written(ret)
        return ret

    def create_fulfillment(self, ret: Return, body: dict[str, Any]) -> Fulfillment:
        if ret.status not in lifecycle().fulfillment_from:
            raise ApiError(
                "INVALID_STATE",
                f"a return fulfillment needs an approved return; this one is {ret.status!r}",
            )
        own = {x.id: x for x in ret.lines}
        items: list[tuple[str, int]] = []
        for i, item in enumerate(body.get("items") or []):
            line = own.get(item["returnItemId"])
            if line is None:
                raise ApiError(
                    "UNPROCESSABLE",
                    f"the return has no item {item['returnItemId']!r}",
                    [{"field": f"/returnFulfillment/items/{i}/returnItemId", "message": "unknown"}],
                )
            if int(item["quantity"]) > line.quantity:
                raise ApiError(
                    "UNPROCESSABLE",
                    f"item {line.id!r}: {item['quantity']} shipped back, {line.quantity} returned",
                    [{"field": f"/returnFulfillment/items/{i}/quantity", "message": "too many"}],
                )
            items.append((line.id, int(item["quantity"])))
        tracking = body["tracking"]
        ful = Fulfillment(
            id=self._next_id("fulfillment"),
            return_id=ret.id,
            tracking={
                "number": tracking["number"],
                "company": tracking.get("company"),
                "url": tracking.get("url"),
            },
            status=self.behaviour.fulfillment_status,
            items=items or [(x.id, x.quantity) for x in ret.lines],
            documents=list(body.get("documents") or []),
            identifiers=list((body.get("package") or {}).get("identifiers") or []),
            created_at=self._now(),
        )
        ret.fulfillments.append(ful)
        ret.updated_at = ful.created_at
        self._written(ret)
        return ful
