"""The only place that talks HTTP: one httpx client per target, with auth, retries and redaction.

Probes see `Reply` objects; transport errors, throttling and timeouts are mapped to outcomes here
(at one boundary, as httpx does with httpcore's errors), never raised into the probes.

Transient answers (contract section 2: 429, and 502 / 503 / 504 when the store behind the
connector failed and nothing was written) are sent again here, after a pause, within a retry
budget; `Reply.retried` tells which answers a request got before its reply, so nothing is
swallowed. After the budget, a 429 is `rate_limited` and a 5xx `platform_error` (undecided),
unless the same request got the same 5xx every time while the requests around it succeeded:
then the last 5xx is handed on as the answer (a 5xx on that input, which the wire checks fail).
"""

from __future__ import annotations

import dataclasses
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
MAX_RETRY_WAIT = 5.0  # seconds: the longest single pause, whatever Retry-After asks
MAX_TOTAL_WAIT = 20.0  # seconds: the most one request waits over all its retries
DEFAULT_RETRY_PAUSE = 0.5  # seconds: the first pause without Retry-After, doubled each retry
# The answers that say "send it again later" (contract section 2).
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
MAX_UNSENT_URL = 2000  # characters of an unsent request's URL kept in its evidence
UNSENDABLE = "unsendable"
"""Reply.problem of a request no URL can carry (an id from the target too long for one):
nothing was asked, so nothing is decided by it (inconclusive, like a connection that failed)."""


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
    # The transient answers (contract section 2) this request got before this reply, one per
    # retry, oldest first: "429", "502", "503", "504" or "timeout". Empty: answered at once.
    retried: tuple[str, ...] = ()

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
        retry_pause: float = DEFAULT_RETRY_PAUSE,
        max_requests: int | None = None,
        connections: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.display = display_url(base_url)
        self.allow_writes = allow_writes
        self.retries = retries
        self.retry_pause = max(0.0, retry_pause)
        self.max_requests = max_requests
        self.redactor = Redactor([token])
        self._token = token
        self.timeout = timeout
        self.requests_sent = 0
        self.connections = max(1, connections)
        self._budget = threading.Lock()
        # The requests around a failing one (shared by call_many's threads, hence the lock),
        # per pool (`_pool`): how many answers were 2xx so far, and the last read that got one.
        self._state = threading.Lock()
        self._successes: dict[str, int] = {}
        self._last_read: dict[str, tuple[str, dict[str, str] | None]] = {}
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
        route: str | None = None,
    ) -> Reply:
        """Send one request, again after transient answers (module docstring). `route` names
        the operation it belongs to (an operation id): the requests around a failing one are
        judged among the same operation's reads, or for a write among the operations' reads,
        so that a part of the API that is down is never taken for a 5xx on one input."""
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
        try:
            request = self._client.build_request(
                method, path, params=params, headers=headers, content=content
            )
        except httpx.InvalidURL:  # e.g. an id from the target longer than any URL may be
            return self._unsent(method, path, UNSENDABLE)
        sent_body = body if body is not NO_BODY else raw_body
        pool = _pool(method, route)
        successes_before = self._count_successes(pool)
        answers: list[str] = []
        waited = 0.0
        while True:
            reply, retry_after = self._send(request, sent_body)
            answer = _transient(reply, method, answers)
            if answer is None:
                if reply.ok:
                    self._succeeded(method, path, params, auth, route)
                return dataclasses.replace(reply, retried=tuple(answers))
            pause = self._pause(retry_after, len(answers))
            if (
                len(answers) >= self.retries
                or waited + pause > MAX_TOTAL_WAIT
                or not self._reserve()
            ):
                return self._ran_out(reply, answers, pool, successes_before, (path, params))
            answers.append(answer)
            time.sleep(pause)
            waited += pause
            interrupt.check()

    def _pause(self, retry_after: float | None, retry: int) -> float:
        """The wait before the next retry: the Retry-After when given (bounded), else an
        exponential backoff from `retry_pause`."""
        if retry_after is not None:
            return retry_after
        return min(self.retry_pause * 2.0**retry, MAX_RETRY_WAIT)

    def _ran_out(
        self,
        reply: Reply,
        answers: list[str],
        pool: str,
        successes_before: int,
        this: tuple[str, dict[str, str] | None],
    ) -> Reply:
        """The retry budget is spent and the last answer is still transient: say why the
        request got no usable answer, or hand on a 5xx that belongs to this request."""
        retried = tuple(answers)
        if reply.problem == ReasonCode.timeout:
            return dataclasses.replace(reply, retried=retried)
        if reply.status == 429:
            return dataclasses.replace(reply, problem=ReasonCode.rate_limited, retried=retried)
        final = str(reply.status)
        same = all(answer == final for answer in answers)
        if same and successes_before > 0 and self._store_answers(pool, successes_before, this):
            return dataclasses.replace(reply, retried=retried)  # a 5xx on this input
        return dataclasses.replace(reply, problem=ReasonCode.platform_error, retried=retried)

    def _store_answers(
        self, pool: str, successes_before: int, this: tuple[str, dict[str, str] | None]
    ) -> bool:
        """Whether other requests of its pool succeed now, after this one kept failing: one
        that ran meanwhile (side by side) got a 2xx, or the pool's last read that succeeded
        succeeds again (sent once more, unscored; a read, so it changes nothing)."""
        with self._state:
            if self._successes.get(pool, 0) > successes_before:
                return True
            control = self._last_read.get(pool)
        if control is None or control == this or not self._reserve():
            return False
        path, params = control
        request = self._client.build_request(
            "GET", path, params=params, headers={"Authorization": f"Bearer {self._token}"}
        )
        reply, _ = self._send(request, None)
        return reply.ok

    def _count_successes(self, pool: str) -> int:
        with self._state:
            return self._successes.get(pool, 0)

    def _succeeded(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        auth: Auth,
        route: str | None,
    ) -> None:
        """A 2xx: counted in every pool it belongs to (its operation's, every operation's
        reads and writes, and the whole target's); a read also becomes the pool's control."""
        pools = [ANY] + ([route, OPERATIONS] if route is not None else [])
        with self._state:
            for pool in pools:
                self._successes[pool] = self._successes.get(pool, 0) + 1
                if method == "GET" and auth == "valid":
                    self._last_read[pool] = (path, dict(params) if params else None)

    def call_many(
        self,
        gets: Sequence[tuple[str, dict[str, str] | None, Auth]],
        routes: Sequence[str | None] | None = None,
    ) -> list[Reply]:
        """Independent GETs (path, query, auth), at most `connections` in flight at once;
        `routes`: the operation each belongs to (see `call`), None for none.

        Only reads: they change nothing, so their order at the server does not matter. The
        replies come back in the order asked, each exactly as `call` would have returned it.
        """
        named = list(routes) if routes is not None else [None] * len(gets)
        asks = [(*g, r) for g, r in zip(gets, named, strict=True)]
        if self.connections < 2 or len(gets) < 2:
            return [
                self.call("GET", path, params=query, auth=auth, route=route)
                for path, query, auth, route in asks
            ]
        with ThreadPoolExecutor(max_workers=min(self.connections, len(gets))) as pool:
            return list(
                pool.map(lambda a: self.call("GET", a[0], params=a[1], auth=a[2], route=a[3]), asks)
            )

    def _reserve(self) -> bool:
        """Count one request against `max_requests`; False when the budget is spent."""
        with self._budget:
            if self.max_requests is not None and self.requests_sent >= self.max_requests:
                return False
            self.requests_sent += 1
            return True

    def _unsent(self, method: str, path: str, problem: str) -> Reply:
        """A request the suite did not send: the request budget was spent, or it could not be
        built (UNSENDABLE)."""
        url = self.base_url + path
        if len(url) > MAX_UNSENT_URL:
            url = f"{url[:MAX_UNSENT_URL]}… ({len(url)} characters)"
        exchange = Exchange(
            method,
            self.redactor.text(url),
            {},
            None,
            None,
            {},
            None,
            error=problem,
        )
        return Reply(exchange, None, problem)

    def _send(self, request: httpx.Request, sent_body: Any) -> tuple[Reply, float | None]:
        """One exchange, recorded and redacted; with the Retry-After it asked for, if any."""
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
            if status in TRANSIENT_STATUSES and "retry-after" in resp_headers:
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
                if "\\u" in text:  # only an escape can make a lone surrogate
                    parsed = without_lone_surrogates(parsed)
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


def without_lone_surrogates(value: Any) -> Any:
    """The JSON value with every lone surrogate (a valid JSON escape such as "\\ud800", but no
    character) replaced by U+FFFD: such a string cannot be written as UTF-8, and every report
    the suite writes is UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    return value


def _retry_after(value: str | None) -> float | None:
    """Seconds a transient answer asks to wait, bounded so a run always finishes; None when
    its Retry-After is not a number of seconds (the backoff decides then)."""
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_WAIT)
    return None


ANY = "*"  # pool: every request of the target (requests that name no operation)
OPERATIONS = "operations"  # pool: the scored operations' requests (a write's neighbours)


def _pool(method: str, route: str | None) -> str:
    """Where to look for the requests around a failing one: a read among its own operation's
    reads (a part of the API that is down stays down for all of them), a write among every
    operation's reads (a write is never sent again just to compare), the rest anywhere."""
    if route is None:
        return ANY
    return route if method == "GET" else OPERATIONS


def _transient(reply: Reply, method: str, before: list[str]) -> str | None:
    """The name of a transient answer worth sending again ("429", "502", "503", "504", or
    "timeout" for a read that timed out the first time), else None. A write that timed out
    may have happened: the session reads it back before sending it again (never here)."""
    if reply.problem == ReasonCode.timeout:
        return ReasonCode.timeout if method == "GET" and ReasonCode.timeout not in before else None
    if reply.problem in (None, "invalid_json") and reply.status in TRANSIENT_STATUSES:
        return str(reply.status)
    return None
