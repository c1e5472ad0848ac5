"""The reference server: the whole Returns contract over HTTP, shaped by one platform profile.

Routes come from the contract's operation table, matched on the raw path (ids are percent-encoded
segments); auth, throttling, latency, gzip and chunked transfer are ASGI wrappers (`wire.py`);
profile gating (501 / 405 / 403) and request validation (the contract's own schemas, then the
platform's own limits, `limits.toml`) live in the dispatcher; the business rules live in
`store.py`, the resources' JSON in `render.py`, every answer leaves through `answers.py`. The
server reads only the profile's Behaviour (named variations set it: `variations.py`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance import schemas
from conformance.contract import Operation, discovery_operations, operations
from conformance.reference import defects as seeded
from conformance.reference import limits
from conformance.reference.answers import Answers, ApiError
from conformance.reference.paging import list_query
from conformance.reference.profile import Profile
from conformance.reference.render import Renderer
from conformance.reference.store import Store
from conformance.reference.wire import BearerAuth, Chunked, Latency, RawPath, Throttle

__all__ = ["BearerAuth", "Dispatcher", "Latency", "create_app"]

log = logging.getLogger("conformance.reference")

MAX_BODY = 16 * 1024 * 1024


class SeededCrash(Exception):
    """A crash a defect switch asked for: answered 500 like an unhandled error, not logged."""


def _path_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


class Dispatcher:
    """Turns one HTTP request for a contract operation into a store call and a JSON answer."""

    def __init__(self, store: Store, answers: Answers, defects: frozenset[str]) -> None:
        self.store = store
        self.profile: Profile = store.profile
        self.defects = defects
        self.answers = answers
        self.methods: dict[str, dict[str, Operation]] = {}  # path → method → operation
        for op in (*operations(), *discovery_operations()):
            self.methods.setdefault(op.path, {})[op.method] = op

    def has(self, defect: str) -> bool:
        return defect in self.defects

    def endpoint(self, ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            op = ops[request.method if request.method != "HEAD" else "GET"]
            try:
                return await self.handle(op, request)
            except ApiError as err:
                return self.answers.error(err)
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
            behaviour = self.profile.behaviour
            if (
                support == "not_supported"
                and op.is_write
                and behaviour.unsupported_write_status == 405
            ):
                raise ApiError(
                    "METHOD_NOT_ALLOWED",
                    f"{self.profile.imitates} has no {op.id}: {op.method} is not allowed here",
                    headers={"Allow": self.allow(op.path)},
                )
            if support == "not_supported":
                raise ApiError("NOT_SUPPORTED", f"{self.profile.imitates} has no {op.id}")
            if support == "not_allowed":
                raise ApiError(
                    "NOT_ALLOWED",
                    f"on {self.profile.imitates} only the buyer or marketplace may do {op.id}",
                )
        params = {key: unquote(value) for key, value in request.path_params.items()}
        body = await self._body(op, request) if op.method == "POST" else None
        status, payload, media_type = self.run(op, params, request, body)
        return self.answers.ok(payload, status, media_type)

    def allow(self, path: str) -> str:
        """The methods of `path` the platform has (HEAD with GET), for an Allow header."""
        methods = [
            method
            for method, op in sorted(self.methods[path].items())
            if self.profile.support.get(op.id, "ok") != "not_supported"
        ]
        return ", ".join(methods + (["HEAD"] if "GET" in methods else []))

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
        beyond = limits.violations(op.id, body, self.profile.behaviour)
        if beyond:
            first = beyond[0]
            message = f"{op.id}: {first['field']}: {first['message']}"
            raise ApiError("INVALID_REQUEST", message, list(beyond))
        return body

    def run(
        self, op: Operation, params: dict[str, str], request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], str | None]:
        # read-lag: reads see the state of a moment ago; writes act on the current one
        store = self.store.reads() if op.method == "GET" else self.store
        render, pager = Renderer(store), store.pager
        order_id = params.get("orderId", "")
        created = self.profile.behaviour.create_status
        if op.id == "listOrders":
            query = list_query(request.query_params, pager, with_filters=False)
            page = pager.orders_page(list(store.orders.values()), query)
            return 200, pager.body("orders", [render.order(o) for o in page.items], page.next), None
        if op.id == "getOrder":
            return 200, {"success": True, "order": render.order(store.order(params["id"]))}, None
        if op.id in ("listReturns", "listOrderReturns"):
            query = list_query(request.query_params, pager, with_filters=True)
            scope = order_id if op.id == "listOrderReturns" else None
            found, nxt = store.list_returns(scope, query)
            listed = [render.return_(r, listed_globally=scope is None) for r in found]
            return 200, pager.body("returns", listed, nxt), None
        if op.id == "getReturn":
            if self.has("leak_across_orders") and order_id in store.orders:
                ret = store.returns.get(params["id"])
                order_id = ret.order_id if ret is not None else order_id
            rendered = render.return_(store.get_return(order_id, params["id"]))
            if self.has("missing_required_field"):
                rendered.pop("returnItems")
            return 200, {"success": True, "return": rendered}, None
        if op.id == "createReturn":
            assert body is not None
            ret = store.create_return(order_id, body.get("return") or {"items": []})
            return created, {"success": True, "return": render.return_(ret)}, None
        if op.kind == "action":
            assert op.to_status is not None
            ret = store.get_return(order_id, params["id"])
            ret = store.act(ret, op.to_status, op.from_status)
            return 200, {"success": True, "return": render.return_(ret)}, None
        if op.id == "listReturnFulfillments":
            query = list_query(request.query_params, pager, with_filters=False)
            fuls, nxt = store.list_fulfillments(order_id, params["returnId"], query)
            media = "text/plain" if self.has("wrong_content_type") else None
            listed = [render.fulfillment(f) for f in fuls]
            return 200, pager.body("returnFulfillments", listed, nxt), media
        if op.id == "getReturnFulfillment":
            ful = store.get_fulfillment(order_id, params["returnId"], params["id"])
            return 200, {"success": True, "returnFulfillment": render.fulfillment(ful)}, None
        if op.id == "createReturnFulfillment":
            assert body is not None
            ret = store.get_return(order_id, params["returnId"])
            ful = store.create_fulfillment(ret, body["returnFulfillment"])
            return created, {"success": True, "returnFulfillment": render.fulfillment(ful)}, None
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


def _router_errors(answers: Answers) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The router's own 404 (no such path) and 405 (no such method), in the contract's shape."""

    async def answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err = ApiError(
                "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed here",
                headers=dict(exc.headers or {}),
            )
        else:
            err = ApiError("NOT_FOUND", f"no such resource: {request.url.path}")
        return answers.error(err)

    return answer


def create_app(
    profile: Profile, token: str, defects: frozenset[str] = frozenset(), latency: float = 0.0
) -> Starlette:
    """An ASGI app serving one reference platform, as its Behaviour says (apply the named
    variations first: variations.with_variations); `defects` seed known bugs (defects.toml);
    `latency` (seconds) delays every answer, to imitate a remote store."""
    answers = Answers(profile)
    dispatcher = Dispatcher(seeded.store_class(Store, defects)(profile), answers, defects)
    routes = [
        Route(path, dispatcher.endpoint(ops), methods=sorted(ops))
        for path, ops in dispatcher.methods.items()
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _router_errors(answers)})
    list_order_returns = _path_regex("/api/v2/orders/{orderId}/returns")

    def exempt(method: str, path: str) -> bool:
        return (
            "auth_ignored" in defects and method == "GET" and bool(list_order_returns.match(path))
        )

    behaviour = profile.behaviour
    # add_middleware wraps: the last one added is the outermost
    app.add_middleware(BearerAuth, token=token, exempt=exempt, answers=answers)
    if behaviour.throttle_every:
        app.add_middleware(Throttle, every=behaviour.throttle_every, answers=answers)
    if latency > 0:
        app.add_middleware(Latency, seconds=latency)
    if behaviour.gzip:
        app.add_middleware(GZipMiddleware, minimum_size=0)
    if behaviour.chunked:
        app.add_middleware(Chunked)
    app.add_middleware(RawPath)
    return app
