"""Seeded defects: each turns one correct behaviour of the reference server into a known bug, so
that the suite's own tests can check it is caught at the right operation for the right reason.

`defects.toml` is the catalogue (what each defect does and where the suite must catch it). Here
each defect is one wrapper, registered under its catalogue name with `@defect`:

- a `Store` subclass that takes over one step of the business rules (`listed`, `with_status`,
  `returned`, `may_move`, `move`, `list_returns`) and hands the rest to `super()`;
- a `Dispatcher` subclass that takes over one step (`handle`, `validate`, `run`) for one
  operation: it rewrites that operation's request or its answer;
- an ASGI wrapper in front of the bearer-token check (`BeforeAuth`), in the Starlette middleware
  style of `wire.py`.

`create_app` mixes the chosen wrappers over the real classes (`store_class`, `dispatcher_class`)
and adds the ASGI ones (`before_auth`). The store, the dispatcher and the app name no defect.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance import schemas
from conformance.contract import Operation, OperationId, operation
from conformance.errors import UsageError
from conformance.reference.answers import ApiError
from conformance.reference.dispatcher import Dispatcher
from conformance.reference.paging import ListQuery
from conformance.reference.store import Return, Store

__all__ = [
    "WRAPPERS",
    "BeforeAuth",
    "before_auth",
    "check_defects",
    "defect_catalogue",
    "dispatcher_class",
    "store_class",
]


@cache
def defect_catalogue() -> dict[str, dict[str, Any]]:
    """The seeded defects the reference server can switch on (defects.toml)."""
    text = resources.files("conformance.reference").joinpath("defects.toml").read_text("utf-8")
    return tomllib.loads(text)


def check_defects(defects: Iterable[str]) -> None:
    unknown = sorted(set(defects) - set(defect_catalogue()))
    if unknown:
        raise UsageError(
            f"unknown defect {', '.join(unknown)}",
            f"choose from: {', '.join(defect_catalogue())}",
        )


class BeforeAuth:
    """An ASGI wrapper that sees each request before the bearer-token check does."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.credentials = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


WRAPPERS: dict[str, type[Store] | type[Dispatcher] | type[BeforeAuth]] = {}
"""Each defect's wrapper, by its catalogue name."""

W = TypeVar("W", bound=type[Store] | type[Dispatcher] | type[BeforeAuth])


def defect(name: str) -> Callable[[W], W]:
    """Register the decorated class as the wrapper of the defect `name` (one wrapper each)."""

    def register(wrapper: W) -> W:
        if name in WRAPPERS:
            raise ValueError(f"defect {name!r} has two wrappers: {WRAPPERS[name]} and {wrapper}")
        WRAPPERS[name] = wrapper
        return wrapper

    return register


T = TypeVar("T", Store, Dispatcher)


def _mixed(base: type[T], kind: type[T], defects: Iterable[str]) -> type[T]:
    """`base` with the wrappers of `defects` that are `kind`s mixed over it, in name order."""
    check_defects(defects)
    chosen: list[str] = sorted(n for n in defects if issubclass(WRAPPERS[n], kind))
    if not chosen:
        return base
    bases: tuple[type, ...] = (*(WRAPPERS[n] for n in chosen), base)
    return cast("type[T]", type(f"{base.__name__}[{','.join(chosen)}]", bases, {}))


def store_class(base: type[Store], defects: Iterable[str]) -> type[Store]:
    """The store class with the store wrappers of `defects` over `base`."""
    return _mixed(base, Store, defects)


def dispatcher_class(base: type[Dispatcher], defects: Iterable[str]) -> type[Dispatcher]:
    """The dispatcher class with the dispatcher wrappers of `defects` over `base`."""
    return _mixed(base, Dispatcher, defects)


def before_auth(defects: Iterable[str]) -> list[type[BeforeAuth]]:
    """The ASGI wrappers of `defects` that go in front of the bearer-token check."""
    check_defects(defects)
    chosen = [WRAPPERS[n] for n in sorted(defects)]
    return [w for w in chosen if issubclass(w, BeforeAuth)]


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


# ---- the dispatcher: one operation's request or answer ----


def _crash() -> Response:
    """The answer of a server that crashed: 500, as an unhandled error, not the contract's."""
    return JSONResponse({"error": "Internal Server Error"}, status_code=500)


async def _served_body(dispatcher: Dispatcher, op: Operation, request: Request) -> Any:
    """The JSON body of a request the platform serves (None when `op` is gated or it has no
    body); a body that is not a JSON object is refused (400) as the dispatcher refuses it."""
    try:
        dispatcher.gate(op)
    except ApiError:
        return None  # the dispatcher (or a wrapper under this one) answers
    return await dispatcher.parse(op, request)


@defect("unsupported_answers_200")
class UnsupportedAnswers200(Dispatcher):
    """Operations the platform lacks, or keeps from sellers, answer 200 {"success": true}."""

    async def handle(self, op: Operation, request: Request) -> Response:
        if self.profile.support.get(op.id, "ok") != "ok":
            return JSONResponse({"success": True})
        return await super().handle(op, request)


@defect("server_error_on_field_type")
class ServerErrorOnFieldType(Dispatcher):
    """createReturnFulfillment takes tracking.company for a string, and crashes when not."""

    async def handle(self, op: Operation, request: Request) -> Response:
        if op.id == OperationId.createReturnFulfillment:
            body = await _served_body(self, op, request)
            tracking = body.get("returnFulfillment") if isinstance(body, dict) else None
            tracking = tracking.get("tracking") if isinstance(tracking, dict) else None
            company = tracking.get("company") if isinstance(tracking, dict) else None
            if company is not None and not isinstance(company, str):
                return _crash()
        return await super().handle(op, request)


@defect("server_error_on_invalid_input")
class ServerErrorOnInvalidInput(Dispatcher):
    """createReturn crashes on a body that breaks the request schema, instead of a 400."""

    async def handle(self, op: Operation, request: Request) -> Response:
        if op.id == OperationId.createReturn:
            body = await _served_body(self, op, request)
            if body is not None and schemas.violations(op.request or "", body):
                return _crash()
        return await super().handle(op, request)


@defect("invalid_input_accepted")
class InvalidInputAccepted(Dispatcher):
    """createReturn lets quantities <= 0 and empty item lists through, unchecked."""

    def validate(self, op: Operation, body: dict[str, Any]) -> None:
        broken = op.id == OperationId.createReturn and schemas.violations(op.request or "", body)
        if not (broken and _only_bad_quantities(op, body)):
            super().validate(op, body)


def _only_bad_quantities(op: Operation, body: dict[str, Any]) -> bool:
    """The createReturn body is fine apart from its quantities or the emptiness of its items."""
    wrapped = body.get("return")
    if not isinstance(wrapped, dict):
        return False
    items = wrapped.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return False  # any other garbage is refused as usual: the defect is not a crash
    fixed = {
        "return": {
            **wrapped,
            "items": [
                {**i, "quantity": 1}
                if isinstance(i.get("quantity"), int) and not isinstance(i.get("quantity"), bool)
                else i
                for i in items
            ]
            or [{"id": "x", "quantity": 1, "reason": "other"}],
        }
    }
    return not schemas.violations(op.request or "", fixed)


@defect("leak_across_orders")
class LeakAcrossOrders(Dispatcher):
    """getReturn finds a return under any order that exists: it looks under the return's own."""

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        if op.id == OperationId.getReturn and params["orderId"] in self.store.orders:
            ret = self.store.returns.get(params["id"])
            if ret is not None:
                params = {**params, "orderId": ret.order_id}
        return super().run(op, params, request, body)


@defect("missing_required_field")
class MissingRequiredField(Dispatcher):
    """getReturn answers the return without its returnItems."""

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        status, payload, media_type = super().run(op, params, request, body)
        if op.id == OperationId.getReturn:
            payload["return"].pop("returnItems")
        return status, payload, media_type


@defect("create_echo_wrong_quantity")
class CreateEchoWrongQuantity(Dispatcher):
    """createReturn answers one unit more per return item than it stored (and was asked)."""

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        status, payload, media_type = super().run(op, params, request, body)
        if op.id == OperationId.createReturn:
            ret = payload["return"]
            for key in ("returnItems", "items"):
                for item in ret.get(key) or []:
                    quantity = item.get("quantity")
                    if isinstance(quantity, int):
                        item["quantity"] = quantity + 1
                    elif isinstance(quantity, str) and quantity.isdigit():
                        item["quantity"] = str(int(quantity) + 1)
        return status, payload, media_type


@defect("wrong_content_type")
class WrongContentType(Dispatcher):
    """listReturnFulfillments answers its JSON as text/plain."""

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        status, payload, media_type = super().run(op, params, request, body)
        if op.id == OperationId.listReturnFulfillments:
            media_type = "text/plain"
        return status, payload, media_type


# ---- the wire, in front of the bearer-token check ----


def _path_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


@defect("auth_ignored")
class AuthIgnored(BeforeAuth):
    """listOrderReturns (GET) is served without a valid token: it is let in as if it had one."""

    path = _path_regex(operation(OperationId.listOrderReturns).path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.path.match(scope["path"]):
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", self.credentials)]}
        await self.app(scope, receive, send)
