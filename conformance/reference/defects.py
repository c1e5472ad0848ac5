"""Seeded defects: each turns one correct behaviour of the reference server into a known bug, so
that the suite's own tests can check it is caught at the right operation for the right reason.

`defects.toml` is the catalogue (what each defect does and where the suite must catch it). Here
each defect of the store is one wrapper, registered under its catalogue name with `@defect`: a
`Store` subclass that takes over one step of the business rules (`listed`, `with_status`,
`returned`, `may_move`, `move`, `list_returns`) and hands the rest to `super()`. `create_app`
mixes the chosen wrappers over the real class (`store_class`); the store names no defect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from conformance.reference.paging import ListQuery
from conformance.reference.store import Return, Store

__all__ = ["WRAPPERS", "store_class"]

WRAPPERS: dict[str, type[Store]] = {}
"""Each defect's wrapper, by its catalogue name."""

W = TypeVar("W", bound=type[Store])


def defect(name: str) -> Callable[[W], W]:
    """Register the decorated class as the wrapper of the defect `name` (one wrapper each)."""

    def register(wrapper: W) -> W:
        if name in WRAPPERS:
            raise ValueError(f"defect {name!r} has two wrappers: {WRAPPERS[name]} and {wrapper}")
        WRAPPERS[name] = wrapper
        return wrapper

    return register


T = TypeVar("T", bound=Store)


def store_class(base: type[T], defects: Iterable[str]) -> type[T]:
    """`base` with the store wrappers of `defects` mixed over it, in name order."""
    chosen: list[str] = sorted(n for n in defects if n in WRAPPERS)
    if not chosen:
        return base
    bases: tuple[type, ...] = (*(WRAPPERS[n] for n in chosen), base)
    return cast("type[T]", type(f"{base.__name__}[{','.join(chosen)}]", bases, {}))


# ---- the store's business rules ----


@defect("approve_no_effect")
class ApproveNoEffect(Store):
    """approveReturn answers the return approved, but the stored one stays as it was."""

    def move(self, ret: Return, to_status: str) -> Return:
        if to_status != "approved":
            return super().move(ret, to_status)
        fulfillments = list(ret.fulfillments)
        return Return(**{**ret.__dict__, "status": to_status, "fulfillments": fulfillments})


@defect("illegal_transition_accepted")
class IllegalTransitionAccepted(Store):
    """approveReturn also approves a rejected or cancelled return."""

    def may_move(self, ret: Return, to_status: str, allowed: tuple[str, ...]) -> bool:
        if to_status == "approved" and ret.status in ("rejected", "cancelled"):
            return True
        return super().may_move(ret, to_status, allowed)


@defect("reject_after_fulfillment")
class RejectAfterFulfillment(Store):
    """rejectReturn also rejects an approved return that has a return fulfillment."""

    def may_move(self, ret: Return, to_status: str, allowed: tuple[str, ...]) -> bool:
        if to_status == "rejected" and ret.status == "approved" and ret.fulfillments:
            return True
        return super().may_move(ret, to_status, allowed)


@defect("over_quantity_across_returns")
class OverQuantityAcrossReturns(Store):
    """createReturn forgets the units other returns already hold."""

    def returned(self, order_id: str, line_id: str) -> int:
        return 0


@defect("list_missing_created")
class ListMissingCreated(Store):
    """listOrderReturns leaves out the returns created through the API."""

    def listed(self, order_id: str | None) -> list[Return]:
        found = super().listed(order_id)
        return found if order_id is None else [r for r in found if not r.via_api]


@defect("status_filter_ignored")
class StatusFilterIgnored(Store):
    """listOrderReturns checks the status filter, then ignores it."""

    def with_status(self, items: list[Return], status: str, order_id: str | None) -> list[Return]:
        return items if order_id is not None else super().with_status(items, status, order_id)


@defect("pagination_drops_boundary_item")
class PaginationDropsBoundaryItem(Store):
    """listReturns starts every page after the first one item too late."""

    def list_returns(
        self, order_id: str | None, query: ListQuery
    ) -> tuple[list[Return], str | None]:
        if order_id is None and query.offset > 0:
            query = dataclasses.replace(query, offset=query.offset + 1)
        return super().list_returns(order_id, query)
