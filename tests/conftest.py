"""Shared fixtures: reference servers on loopback, each with an authorised httpx client.

`reference(platform, defects=())` starts one reference platform and answers
`Reference(base_url, client)`; `serve_app(app)` does the same for any ASGI app (e.g. one built by
`create_app` from an altered profile). Everything started is stopped at teardown:
`reference` / `serve_app` at the end of the test, `module_reference` at the end of the module.
A server stops in the background (uvicorn takes ~0.1 s to notice), and the session waits for all
of them at its end.
"""

from __future__ import annotations

import importlib.util
import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

if importlib.util.find_spec("conformance") is None:  # a source checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.reference import ReferenceServer
from conformance.reference.server import AppServer

TOKEN = "conformance-test-token"
_stopping: list[threading.Thread] = []


@cache
def _tls() -> ssl.SSLContext:
    """One context for every client: building one per client costs ~70 ms (CA bundle)."""
    return ssl.create_default_context()


class Reference(NamedTuple):
    """A running server: its base URL and a client that sends the right bearer token."""

    base_url: str
    client: httpx.Client


class _Servers:
    """Starts servers on demand and stops all of them at `close()`."""

    def __init__(self) -> None:
        self._running: list[tuple[AppServer, httpx.Client]] = []

    def _client(self, server: AppServer) -> Reference:
        client = httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
            verify=_tls(),
        )
        self._running.append((server, client))
        return Reference(server.base_url, client)

    def platform(self, platform: str, defects: Iterable[str] = ()) -> Reference:
        return self._client(ReferenceServer(platform, TOKEN, frozenset(defects)).start())

    def app(self, app: Any) -> Reference:
        return self._client(AppServer(app, name="test-app", log_level="warning").start())

    def close(self) -> None:
        for server, client in reversed(self._running):
            client.close()
            stopper = threading.Thread(target=server.stop, name="stop-server", daemon=True)
            stopper.start()
            _stopping.append(stopper)
        self._running.clear()


@pytest.fixture(scope="session", autouse=True)
def _servers_stopped() -> Iterator[None]:
    """Wait at the end of the session for every server stopped in the background."""
    yield
    for stopper in _stopping:
        stopper.join(timeout=10)


@pytest.fixture(scope="session")
def token() -> str:
    """The bearer token every server started by these fixtures expects."""
    return TOKEN


@pytest.fixture
def reference() -> Iterator[Callable[..., Reference]]:
    """Factory: `reference(platform, defects=())` → Reference, stopped after the test."""
    servers = _Servers()
    yield servers.platform
    servers.close()


@pytest.fixture(scope="module")
def module_reference() -> Iterator[Callable[..., Reference]]:
    """Like `reference`, but the servers live until the end of the module (shared state!)."""
    servers = _Servers()
    yield servers.platform
    servers.close()


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], Reference]]:
    """Factory: `serve_app(asgi_app)` → Reference on loopback, stopped after the test."""
    servers = _Servers()
    yield servers.app
    servers.close()
