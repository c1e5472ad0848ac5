"""The only place that talks HTTP: one httpx client per target, with auth, retries and redaction.

Probes see `Reply` objects; transport errors, throttling and timeouts are mapped to outcomes here
(at one boundary, as httpx does with httpcore's errors), never raised into the probes.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from conformance import interrupt
from conformance.errors import TargetError
from conformance.findings import Exchange, Redactor, clip
from conformance.verdicts import ReasonCode

Auth = Literal["valid", "none", "invalid"]
NO_BODY: Any = object()
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
MAX_RETRY_WAIT = 5.0


class WritesNotAllowed(RuntimeError):
    """A probe tried to POST in a read-only run: a bug in the suite, never sent."""


def display_url(url: str) -> str:
    """The URL without credentials, query or fragment: safe to print and to store."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def check_base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(
            f"invalid base URL {display_url(url)!r}",
            "give an http:// or https:// URL, e.g. --base-url https://connector.example.com",
        )
    if parts.username or parts.password:
        raise TargetError(
            "the base URL carries credentials", "pass the token with --token or CONFORMANCE_TOKEN"
        )
    return url.rstrip("/")


@dataclass(frozen=True)
class Reply:
    """What a probe gets back: the recorded exchange plus the parsed JSON body."""

    exchange: Exchange
    body: Any
    problem: str | None = None  # timeout | connection_error | rate_limited | invalid_json

    @property
    def status(self) -> int | None:
        return self.exchange.status

    @property
    def ok(self) -> bool:
        """A 2xx whose body arrived whole: only such an answer can pass or fail a behaviour
        check (a connection lost mid-body is a transport problem, not an answer)."""
        return self.problem is None and self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.exchange.response_headers.get("content-type", "")

    def get(self, *keys: str) -> Any:
        """Dig into the JSON body; None when any step is missing."""
        value = self.body
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value


class Target:
    """A connector's base URL and token; every request of a run goes through `call`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        allow_writes: bool,
        timeout: float = 10.0,
        retries: int = 3,
        max_requests: int | None = None,
        connections: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.display = display_url(base_url)
        self.allow_writes = allow_writes
        self.retries = retries
        self.max_requests = max_requests
        self.redactor = Redactor([token])
        self._token = token
        self.timeout = timeout
        self.requests_sent = 0
        self.connections = max(1, connections)
        self._budget = threading.Lock()
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=self.connections, max_keepalive_connections=self.connections
            ),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "returns-conformance"},
        )

    @property
    def token(self) -> str:
        """For the one other client that must authenticate (schemathesis); never printed."""
        return self._token

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = NO_BODY,
        auth: Auth = "valid",
        raw_body: bytes | None = None,
    ) -> Reply:
        interrupt.check()  # Ctrl-C in the main process: stop at the next request
        if method != "GET" and not self.allow_writes:
            raise WritesNotAllowed(f"{method} {path} in a run without --allow-writes")
        headers: dict[str, str] = {}
        if auth == "valid":
            headers["Authorization"] = f"Bearer {self._token}"
        elif auth == "invalid":
            headers["Authorization"] = "Bearer not-the-token-0000"
        content: bytes | None = raw_body
        if body is not NO_BODY:
            content = json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        if not self._reserve():
            return self._unsent(method, path, "budget")
        request = self._client.build_request(
            method, path, params=params, headers=headers, content=content
        )
        attempt = 0
        while True:
            reply, wait = self._send(request, body if body is not NO_BODY else raw_body)
            if wait is None:
                return reply
            if attempt >= self.retries or not self._reserve():
                # still throttled when the retries (or the request budget) ran out
                return Reply(reply.exchange, reply.body, ReasonCode.rate_limited)
            attempt += 1
            time.sleep(wait)
            interrupt.check()

    def call_many(self, gets: Sequence[tuple[str, dict[str, str] | None, Auth]]) -> list[Reply]:
        """Independent GETs (path, query, auth), at most `connections` in flight at once.

        Only reads: they change nothing, so their order at the server does not matter. The
        replies come back in the order asked, each exactly as `call` would have returned it.
        """
        if self.connections < 2 or len(gets) < 2:
            return [self.call("GET", path, params=query, auth=auth) for path, query, auth in gets]
        with ThreadPoolExecutor(max_workers=min(self.connections, len(gets))) as pool:
            return list(pool.map(lambda g: self.call("GET", g[0], params=g[1], auth=g[2]), gets))

    def _reserve(self) -> bool:
        """Count one request against `max_requests`; False when the budget is spent."""
        with self._budget:
            if self.max_requests is not None and self.requests_sent >= self.max_requests:
                return False
            self.requests_sent += 1
            return True

    def _unsent(self, method: str, path: str, problem: str) -> Reply:
        """A request the suite decided not to send (request budget spent)."""
        exchange = Exchange(
            method,
            self.redactor.text(self.base_url + path),
            {},
            None,
            None,
            {},
            None,
            error=problem,
        )
        return Reply(exchange, None, problem)

    def _send(self, request: httpx.Request, sent_body: Any) -> tuple[Reply, float | None]:
        started = time.perf_counter()
        status: int | None = None
        resp_headers: dict[str, str] = {}
        text = ""
        problem: str | None = None
        wait: float | None = None
        try:
            response = self._client.send(request, stream=True)
            try:
                status = response.status_code
                resp_headers = {k.lower(): v for k, v in response.headers.items()}
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        problem = "body_too_large"
                        break
                text = b"".join(chunks)[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
            finally:
                response.close()
            # 429 is throttling; 503 is throttling only when it says when to come back.
            if status == 429 or (status == 503 and "retry-after" in resp_headers):
                wait = _retry_after(resp_headers.get("retry-after"))
        except httpx.TimeoutException:
            problem = ReasonCode.timeout
        except httpx.HTTPError as exc:
            problem = ReasonCode.connection_error
            text = type(exc).__name__
        elapsed = (time.perf_counter() - started) * 1000
        parsed: Any = None
        if text and problem is None:
            try:
                parsed = json.loads(text)
            except ValueError:
                problem = "invalid_json"
        red = self.redactor
        if isinstance(sent_body, bytes):
            sent_body = sent_body.decode("utf-8", "replace")
        exchange = Exchange(
            method=request.method,
            url=red.text(str(request.url)),
            request_headers=red.headers(
                {
                    k.lower(): v
                    for k, v in request.headers.items()
                    if k.lower() in ("authorization", "content-type")
                }
            ),
            request_body=clip(red.value(sent_body)),
            status=status,
            response_headers=red.value(resp_headers),
            response_body=clip(red.value(parsed if parsed is not None else text or None)),
            error=problem
            if problem in (ReasonCode.timeout, ReasonCode.connection_error, "body_too_large")
            else None,
            elapsed_ms=elapsed,
        )
        return Reply(exchange, red.value(parsed), problem), wait


def _retry_after(value: str | None) -> float:
    """Seconds to wait before retrying a 429/503, bounded so a run always finishes."""
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_WAIT)
    return 0.5
