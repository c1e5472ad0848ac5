"""The reference server's ASGI wrappers, in the Starlette middleware style: each takes the app it
wraps plus its settings, and acts on /api/ requests only.

RawPath     routes on the raw (still percent-encoded) path, so an id is one path segment even
            when it holds `/` (`%2F`); the dispatcher unquotes each path parameter.
BearerAuth  `Authorization: Bearer <token>` or 401.
Throttle    every N-th request is 429 RATE_LIMITED, without Retry-After (variation throttle).
UpstreamErrors  the 1st, (N+1)-th, ... request of each operation fails upstream: 503 with
            Retry-After: 0, then 502 without it, in turn; nothing is written (upstream-errors).
Latency     answers after a delay, as a store across the internet would.
Chunked     drops Content-Length and sends the body in several chunks (variation chunked).
"""

from __future__ import annotations

import asyncio
import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.reference.answers import Answers, ApiError

API_PREFIX = "/api/"


def _is_api(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope["path"]).startswith(API_PREFIX)


class RawPath:
    """Matches /api/ routes on `raw_path` (percent-encoding kept) instead of the decoded path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and _is_api(scope):
            path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
            scope = {**scope, "path": path}
        await self.app(scope, receive, send)


class BearerAuth:
    """Every /api/ request needs `Authorization: Bearer <token>`; anything else is 401."""

    def __init__(self, app: ASGIApp, token: str, answers: Answers) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is_api(scope):
            given = dict(scope["headers"]).get(b"authorization", b"")
            ok = hmac.compare_digest(given, self.expected)
            if not ok:
                err = ApiError("UNAUTHORIZED", "missing or invalid bearer token")
                response = self.answers.error(err, {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Throttle:
    """Every `every`-th /api/ request (all of them counted, refused ones too) is answered 429
    RATE_LIMITED with no Retry-After header; the next one is served."""

    def __init__(self, app: ASGIApp, every: int, answers: Answers) -> None:
        self.app = app
        self.every = every
        self.answers = answers
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is_api(scope):
            self.count += 1
            if self.count % self.every == 0:
                err = ApiError("RATE_LIMITED", "too many requests; try again")
                await self.answers.error(err)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Path segments that name a route; every other segment of an /api/ path is an id.
_ROUTE_WORDS = frozenset(
    {"api", "v2", "orders", "returns", "fulfillments", "cancel", "approve", "reject"}
)


def route_of(method: str, path: str) -> str:
    """`POST /api/v2/orders/*/returns/*/approve`: the operation a request is for, ids aside."""
    segments = [s if s in _ROUTE_WORDS else "*" for s in path.strip("/").split("/")]
    return f"{method} /{'/'.join(segments)}"


class UpstreamErrors:
    """The store behind the connector fails now and then: the 1st, (every+1)-th, ... request of
    each operation (route and method, ids aside) is answered 503 PLATFORM_ERROR with
    `Retry-After: 0`, and the next such one 502 PLATFORM_ERROR without Retry-After, in turn. The
    request never reaches the platform (nothing is written), so sending it again succeeds.
    Counting per operation makes every operation meet one, however few requests it gets."""

    def __init__(self, app: ASGIApp, every: int, answers: Answers) -> None:
        self.app = app
        self.every = every
        self.answers = answers
        self.counts: dict[str, int] = {}
        self.failed: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is_api(scope):
            route = route_of(str(scope["method"]), str(scope["path"]))
            count = self.counts[route] = self.counts.get(route, 0) + 1
            if count % self.every == 1:
                turn = self.failed[route] = self.failed.get(route, 0) + 1
                if turn % 2 == 1:
                    err = ApiError(
                        "PLATFORM_ERROR", "the store is unavailable; try again", status=503
                    )
                    response = self.answers.error(err, {"Retry-After": "0"})
                else:
                    err = ApiError("PLATFORM_ERROR", "the store did not answer; try again")
                    response = self.answers.error(err)
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


class Chunked:
    """Sends every answer without Content-Length, its body in `pieces` chunks: the server then
    uses Transfer-Encoding: chunked."""

    def __init__(self, app: ASGIApp, pieces: int = 3) -> None:
        self.app = app
        self.pieces = pieces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_chunked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                await send({**message, "headers": headers})
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            size = -(-len(body) // self.pieces) or 1
            chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
            for chunk in chunks[:-1]:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            more = bool(message.get("more_body", False))
            await send({"type": "http.response.body", "body": chunks[-1], "more_body": more})

        await self.app(scope, receive, send_chunked)
