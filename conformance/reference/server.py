"""Serve reference platforms over real HTTP on loopback, in a background thread.

The suite's embedded run and the tests use this; `conformance serve` runs the same app in the
foreground.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from conformance.errors import UsageError
from conformance.reference.app import create_app
from conformance.reference.defects import check_defects, defect_catalogue
from conformance.reference.profile import Profile, load_profile
from conformance.reference.variations import with_variations

__all__ = [
    "AppServer",
    "ReferenceServer",
    "check_defects",
    "defect_catalogue",
    "free_port",
]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class AppServer:
    """Any ASGI app under uvicorn on loopback, in a daemon thread; a context manager.

    The suite's embedded run and the tests serve apps this way: no subprocess, a free port, and
    a start that waits until the socket listens.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        name: str = "app",
        log_level: str = "error",
    ) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level=log_level,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=name)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise UsageError(
                    f"the server could not listen on {self.base_url}",
                    "run again (the free port may have been taken meanwhile); if it persists, "
                    f"check that this machine can listen on {self.host}",
                )
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ReferenceServer(AppServer):
    """One profile on `http://127.0.0.1:<free port>`, started and stopped as a context manager;
    `variations` (variations.toml) are applied to it first."""

    def __init__(
        self,
        platform: str | Profile,
        token: str,
        defects: frozenset[str] = frozenset(),
        host: str = "127.0.0.1",
        port: int | None = None,
        variations: frozenset[str] = frozenset(),
    ) -> None:
        check_defects(defects)
        base = load_profile(platform) if isinstance(platform, str) else platform
        self.profile = with_variations(base, variations)
        self.variations = frozenset(variations)
        app = create_app(self.profile, token, defects)
        super().__init__(app, host, port, name=f"reference-{self.profile.name}")
