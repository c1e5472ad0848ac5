"""The reference server: the whole Returns contract over HTTP, shaped by one platform profile.

Routes come from the contract's operation table; auth is one ASGI wrapper; profile gating (501 /
403), request validation (the contract's own schemas) and the error bodies live in the dispatcher;
the business rules live in `store.py`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance import schemas
from conformance.contract import Operation, discovery_operations, operations
from conformance.reference.profile import Profile
from conformance.reference.render import render_fulfillment, render_order, render_return
from conformance.reference.store import (
    ApiError,
    ListQuery,
    Store,
    decode_page,
    paginate,
    parse_time,
)

log = logging.getLogger("conformance.reference")

MAX_BODY = 16 * 1024 * 1024
MAX_LIMIT = 250


class SeededCrash(Exception):
    """A crash a defect switch asked for: answered 500 like an unhandled error, not logged."""


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


class BearerAuth:
    """Every /api/ request needs `Authorization: Bearer <token>`; anything else is 401."""

    def __init__(self, app: ASGIApp, token: str, exempt: Callable[[str, str], bool]) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            given = dict(scope["headers"]).get(b"authorization", b"")
            ok = hmac.compare_digest(given, self.expected)
            if not ok and not self.exempt(scope["method"], scope["path"]):
                err = ApiError("UNAUTHORIZED", "missing or invalid bearer token")
                headers = {"WWW-Authenticate": "Bearer"}
                response = JSONResponse(err.body(), status_code=401, headers=headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Latency:
    """Answers after `seconds`, as a store across the internet would; others wait meanwhile
    only for their own delay, so requests sent side by side overlap as they would there."""

    sleep = staticmethod(asyncio.sleep)

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.sleep(self.seconds)
        await self.app(scope, receive, send)


def _path_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


class Dispatcher:
    """Turns one HTTP request for a contract operation into a store call and a JSON answer."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.profile: Profile = store.profile
        self.defects = store.defects

    def has(self, defect: str) -> bool:
        return defect in self.defects

    def endpoint(self, ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            op = ops[request.method if request.method != "HEAD" else "GET"]
            try:
                return await self.handle(op, request)
            except ApiError as err:
                return error_response(err)
            except SeededCrash:
                return JSONResponse({"error": "Internal Server Error"}, status_code=500)
            except Exception:  # a bug here must still answer in the contract's shape
                log.exception("reference server error in %s", op.id)
                body = {
                    "success": False,
                    "code": 500,
                    "error": "INTERNAL_ERROR",
                    "message": "the reference server failed; this is a bug, please report it",
                }
                return JSONResponse(body, status_code=500)

        return handle

    async def handle(self, op: Operation, request: Request) -> Response:
        if op.id in self.profile.support:
            support = self.profile.supports(op.id)
            if support != "ok" and self.has("unsupported_answers_200"):
                return JSONResponse({"success": True})
            if support == "not_supported":
                raise ApiError("NOT_SUPPORTED", f"{self.profile.imitates} has no {op.id}")
            if support == "not_allowed":
                raise ApiError(
                    "NOT_ALLOWED",
                    f"on {self.profile.imitates} only the buyer or marketplace may do {op.id}",
                )
        params = request.path_params
        body = await self._body(op, request) if op.method == "POST" else None
        status, payload, media_type = self.run(op, params, request, body)
        return JSONResponse(payload, status_code=status, media_type=media_type)

    async def _body(self, op: Operation, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError("INVALID_REQUEST", f"request body over {MAX_BODY} bytes")
        if not raw.strip():
            if op.kind == "create":
                raise ApiError(
                    "INVALID_REQUEST", f"{op.id} needs a JSON body under {op.body_key!r}"
                )
            return {}
        try:
            body = json.loads(raw, parse_constant=_not_json)
            json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates: not UTF-8
        except (ValueError, RecursionError):
            raise ApiError("INVALID_REQUEST", "request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError("INVALID_REQUEST", "request body must be a JSON object")
        if self.has("server_error_on_field_type") and op.id == "createReturnFulfillment":
            tracking = body.get("returnFulfillment")
            tracking = tracking.get("tracking") if isinstance(tracking, dict) else None
            company = tracking.get("company") if isinstance(tracking, dict) else None
            if company is not None and not isinstance(company, str):
                raise SeededCrash(op.id)  # the seeded bug: assumes a string and crashes
        assert op.request is not None
        problems = schemas.violations(op.request, body)
        if problems:
            if self.has("server_error_on_invalid_input") and op.id == "createReturn":
                raise SeededCrash(op.id)
            if not (self.has("invalid_input_accepted") and _only_bad_quantities(op, body)):
                details = [{"message": p} for p in problems]
                raise ApiError("INVALID_REQUEST", f"{op.id}: {problems[0]}", details)
        return body

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        store = self.store
        qfmt = self.profile.behaviour.quantity_format
        order_id = params.get("orderId", "")
        if op.id == "listOrders":
            query = list_query(request, with_filters=False)
            orders, nxt = paginate(list(store.orders.values()), query, 50, False)
            return (
                200,
                {
                    "success": True,
                    "orders": [render_order(o, qfmt) for o in orders],
                    "page": {"next": nxt},
                },
                None,
            )
        if op.id == "getOrder":
            return (
                200,
                {"success": True, "order": render_order(store.order(params["id"]), qfmt)},
                None,
            )
        if op.id in ("listReturns", "listOrderReturns"):
            query = list_query(request, with_filters=True)
            scope = order_id if op.id == "listOrderReturns" else None
            found, nxt = store.list_returns(scope, query)
            listed = [render_return(r, store) for r in found]
            return 200, {"success": True, "returns": listed, "page": {"next": nxt}}, None
        if op.id == "getReturn":
            ret = store.get_return(order_id, params["id"])
            rendered = render_return(ret, store)
            if self.has("missing_required_field"):
                rendered.pop("returnItems")
            return 200, {"success": True, "return": rendered}, None
        if op.id == "createReturn":
            assert body is not None
            ret = store.create_return(order_id, body.get("return") or {"items": []})
            return 201, {"success": True, "return": render_return(ret, store)}, None
        if op.kind == "action":
            assert op.to_status is not None
            ret = store.get_return(order_id, params["id"])
            ret = store.act(ret, op.to_status, op.from_status)
            return 200, {"success": True, "return": render_return(ret, store)}, None
        if op.id == "listReturnFulfillments":
            query = list_query(request, with_filters=False)
            fuls, nxt = store.list_fulfillments(order_id, params["returnId"], query)
            media = "text/plain" if self.has("wrong_content_type") else None
            payload = {
                "success": True,
                "returnFulfillments": [render_fulfillment(f, store) for f in fuls],
                "page": {"next": nxt},
            }
            return 200, payload, media
        if op.id == "getReturnFulfillment":
            ful = store.get_fulfillment(order_id, params["returnId"], params["id"])
            return 200, {"success": True, "returnFulfillment": render_fulfillment(ful, store)}, None
        if op.id == "createReturnFulfillment":
            assert body is not None
            ret = store.get_return(order_id, params["returnId"])
            ful = store.create_fulfillment(ret, body["returnFulfillment"])
            return 201, {"success": True, "returnFulfillment": render_fulfillment(ful, store)}, None
        raise AssertionError(f"no handler for {op.id}")


def _not_json(constant: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are Python's extensions, not JSON (RFC 8259)."""
    raise ValueError(f"{constant} is not a JSON value")


def _only_bad_quantities(op: Operation, body: dict[str, Any]) -> bool:
    """For the `invalid_input_accepted` defect: the body is fine apart from quantities/emptiness."""
    items = (body.get("return") or {}).get("items")
    if op.id != "createReturn" or not isinstance(items, list):
        return False
    fixed = {
        "return": {
            "items": [
                {**i, "quantity": 1} if isinstance(i.get("quantity"), int) else i
                for i in items
                if isinstance(i, dict)
            ]
            or [{"id": "x", "quantity": 1, "reason": "other"}]
        }
    }
    return not schemas.violations(op.request or "", fixed)


def list_query(request: Request, *, with_filters: bool) -> ListQuery:
    """Validate `limit`, `page`, `status`, `createdAt[from]`, `createdAt[to]` (contract §2)."""
    q = request.query_params
    limit = None
    if "limit" in q:
        raw = q["limit"]
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError("INVALID_REQUEST", f"limit must be an integer from 1 to {MAX_LIMIT}")
        limit = int(raw)
    offset = decode_page(q["page"]) if "page" in q else 0
    if not with_filters:
        return ListQuery(limit=limit, offset=offset)
    bounds = []
    for key in ("createdAt[from]", "createdAt[to]"):
        value = q.get(key)
        if value is not None and not schemas.FORMAT_CHECKER.conforms(value, "date-time"):
            raise ApiError("INVALID_REQUEST", f"{key} must be an RFC 3339 date-time")
        bounds.append(parse_time(value) if value is not None else None)
    return ListQuery(
        limit=limit,
        offset=offset,
        status=q.get("status"),
        created_from=bounds[0],
        created_to=bounds[1],
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        err = ApiError(
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed here",
            headers=dict(exc.headers or {}),
        )
    else:
        err = ApiError("NOT_FOUND", f"no such resource: {request.url.path}")
    return error_response(err)


def create_app(
    profile: Profile, token: str, defects: frozenset[str] = frozenset(), latency: float = 0.0
) -> Starlette:
    """An ASGI app serving one reference platform; `defects` seed known bugs (defects.toml);
    `latency` (seconds) delays every answer, to imitate a remote store."""
    dispatcher = Dispatcher(Store(profile, defects))
    by_path: dict[str, dict[str, Operation]] = {}
    for op in (*operations(), *discovery_operations()):
        by_path.setdefault(op.path, {})[op.method] = op
    routes = [
        Route(path, dispatcher.endpoint(ops), methods=sorted(ops)) for path, ops in by_path.items()
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    list_order_returns = _path_regex("/api/v2/orders/{orderId}/returns")

    def exempt(method: str, path: str) -> bool:
        return (
            "auth_ignored" in defects and method == "GET" and bool(list_order_returns.match(path))
        )

    app.add_middleware(BearerAuth, token=token, exempt=exempt)
    if latency > 0:
        app.add_middleware(Latency, seconds=latency)
    return app
