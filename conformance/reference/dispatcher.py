"""The reference server's dispatcher: one HTTP request for a contract operation becomes a store
call and a JSON answer.

`handle` runs the steps in order, each its own method so that a wrapper (`defects.py`) can take
one over: `gate` (profile gating: 501 / 405 / 403), `parse` (the body as a JSON object),
`validate` (the contract's own schemas, then the platform's own limits, `limits.toml`) and `run`
(the store call and the answer's status, body and media type).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conformance import schemas
from conformance.contract import Operation, OperationId, discovery_operations, operations
from conformance.reference import limits
from conformance.reference.answers import Answers, ApiError
from conformance.reference.paging import list_query
from conformance.reference.profile import Profile
from conformance.reference.render import Renderer
from conformance.reference.store import Store

__all__ = ["MAX_BODY", "Dispatcher"]

log = logging.getLogger("conformance.reference")

MAX_BODY = 16 * 1024 * 1024


class Dispatcher:
    """Turns one HTTP request for a contract operation into a store call and a JSON answer."""

    def __init__(self, store: Store, answers: Answers) -> None:
        self.store = store
        self.profile: Profile = store.profile
        self.answers = answers
        self.methods: dict[str, dict[str, Operation]] = {}  # path → method → operation
        for op in (*operations(), *discovery_operations()):
            self.methods.setdefault(op.path, {})[op.method] = op

    def endpoint(self, ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            op = ops[request.method if request.method != "HEAD" else "GET"]
            try:
                return await self.handle(op, request)
            except ApiError as err:
                return self.answers.error(err)
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
        self.gate(op)
        params = {key: unquote(value) for key, value in request.path_params.items()}
        body = None
        if op.method == "POST":
            body = await self.parse(op, request)
            if body is None:  # no body at all, which only an action may send: nothing to check
                body = {}
            else:
                if self.profile.behaviour.optional_nulls == "absent":
                    body = schemas.without_nulls(body)  # a required one is then missing: 400
                self.validate(op, body)
        status, payload, media_type = self.run(op, params, request, body)
        return self.answers.ok(payload, status, media_type)

    def gate(self, op: Operation) -> None:
        """Refuse an operation the platform lacks (501 or 405) or keeps from sellers (403)."""
        if op.id not in self.profile.support:
            return
        support = self.profile.supports(op.id)
        behaviour = self.profile.behaviour
        if support == "not_supported" and op.is_write and behaviour.unsupported_write_status == 405:
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

    def allow(self, path: str) -> str:
        """The methods of `path` the platform has (HEAD with GET), for an Allow header."""
        methods = [
            method
            for method, op in sorted(self.methods[path].items())
            if self.profile.support.get(op.id, "ok") != "not_supported"
        ]
        return ", ".join(methods + (["HEAD"] if "GET" in methods else []))

    async def parse(self, op: Operation, request: Request) -> dict[str, Any] | None:
        """The request body as a JSON object, or None when there is none (400 for a create)."""
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError("INVALID_REQUEST", f"request body over {MAX_BODY} bytes")
        if not raw.strip():
            if op.kind == "create":
                raise ApiError(
                    "INVALID_REQUEST", f"{op.id} needs a JSON body under {op.body_key!r}"
                )
            return None
        try:
            body = json.loads(raw, parse_constant=_not_json)
            json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates: not UTF-8
        except (ValueError, RecursionError):
            raise ApiError("INVALID_REQUEST", "request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError("INVALID_REQUEST", "request body must be a JSON object")
        return body

    def validate(self, op: Operation, body: dict[str, Any]) -> None:
        """400 for a body that breaks the request schema, then for one beyond the platform's
        own limits."""
        assert op.request is not None
        problems = schemas.violations(op.request, body)
        if problems:
            details = [{"message": p} for p in problems]
            raise ApiError("INVALID_REQUEST", f"{op.id}: {problems[0]}", details)
        beyond = limits.violations(op.id, body, self.profile.behaviour)
        if beyond:
            first = beyond[0]
            message = f"{op.id}: {first['field']}: {first['message']}"
            raise ApiError("INVALID_REQUEST", message, list(beyond))

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
        if op.id in (OperationId.listReturns, OperationId.listOrderReturns):
            query = list_query(request.query_params, pager, with_filters=True)
            scope = order_id if op.id == OperationId.listOrderReturns else None
            found, nxt = store.list_returns(scope, query)
            listed = [render.return_(r, listed_globally=scope is None) for r in found]
            return 200, pager.body("returns", listed, nxt), None
        if op.id == OperationId.getReturn:
            rendered = render.return_(store.get_return(order_id, params["id"]))
            return 200, {"success": True, "return": rendered}, None
        if op.id == OperationId.createReturn:
            assert body is not None
            ret = store.create_return(order_id, body.get("return") or {"items": []})
            return created, {"success": True, "return": render.return_(ret)}, None
        if op.kind == "action":
            ret = store.get_return(order_id, params["id"])
            ret = store.act(ret, op.id)
            return 200, {"success": True, "return": render.return_(ret)}, None
        if op.id == OperationId.listReturnFulfillments:
            query = list_query(request.query_params, pager, with_filters=False)
            fuls, nxt = store.list_fulfillments(order_id, params["returnId"], query)
            listed = [render.fulfillment(f) for f in fuls]
            return 200, pager.body("returnFulfillments", listed, nxt), None
        if op.id == OperationId.getReturnFulfillment:
            ful = store.get_fulfillment(order_id, params["returnId"], params["id"])
            return 200, {"success": True, "returnFulfillment": render.fulfillment(ful)}, None
        if op.id == OperationId.createReturnFulfillment:
            assert body is not None
            ret = store.get_return(order_id, params["returnId"])
            ful = store.create_fulfillment(ret, body["returnFulfillment"])
            return created, {"success": True, "returnFulfillment": render.fulfillment(ful)}, None
        raise AssertionError(f"no handler for {op.id}")


def _not_json(constant: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are Python's extensions, not JSON (RFC 8259)."""
    raise ValueError(f"{constant} is not a JSON value")
