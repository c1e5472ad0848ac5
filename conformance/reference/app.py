"""The reference server: the whole Returns contract over HTTP, shaped by one platform profile.

Routes come from the contract's operation table, matched on the raw path (ids are percent-encoded
segments); auth, throttling, latency, gzip and chunked transfer are ASGI wrappers (`wire.py`);
profile gating (501 / 405 / 403) and request validation (the contract's own schemas, then the
platform's own limits, `limits.toml`) live in the dispatcher (`dispatcher.py`); the business
rules live in `store.py`, the resources' JSON in `render.py`, every answer leaves through
`answers.py`. The server reads only the profile's Behaviour (named variations set it:
`variations.py`). Seeded defects are wrappers around the store, the dispatcher and the auth check
(`defects.py`), composed here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.reference import defects as seeded
from conformance.reference.answers import Answers, ApiError
from conformance.reference.dispatcher import Dispatcher
from conformance.reference.profile import Profile
from conformance.reference.store import Store
from conformance.reference.wire import (
    BearerAuth,
    Chunked,
    Latency,
    RawPath,
    Throttle,
    UpstreamErrors,
)

__all__ = ["BearerAuth", "Dispatcher", "Latency", "create_app"]


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
    variations first: variations.with_variations); `defects` seed known bugs (defects.toml),
    each a wrapper from defects.py; `latency` (seconds) delays every answer, to imitate a
    remote store (the Behaviour's own `latency`, set by the variation slow, when larger)."""
    answers = Answers(profile)
    store = seeded.store_class(Store, defects)(profile)
    dispatcher = seeded.dispatcher_class(Dispatcher, defects)(store, answers)
    routes = [
        Route(path, dispatcher.endpoint(ops), methods=sorted(ops))
        for path, ops in dispatcher.methods.items()
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _router_errors(answers)})
    behaviour = profile.behaviour
    # add_middleware wraps: the last one added is the outermost
    if behaviour.upstream_errors_every:  # behind the auth check: only requests it lets through
        app.add_middleware(UpstreamErrors, every=behaviour.upstream_errors_every, answers=answers)
    app.add_middleware(BearerAuth, token=token, answers=answers)
    for wrapper in seeded.before_auth(defects):
        app.add_middleware(wrapper, token=token)
    if behaviour.throttle_every:
        app.add_middleware(Throttle, every=behaviour.throttle_every, answers=answers)
    delay = max(latency, behaviour.latency)
    if delay > 0:
        app.add_middleware(Latency, seconds=delay)
    if behaviour.gzip:
        app.add_middleware(GZipMiddleware, minimum_size=0)
    if behaviour.chunked:
        app.add_middleware(Chunked)
    app.add_middleware(RawPath)
    return app
