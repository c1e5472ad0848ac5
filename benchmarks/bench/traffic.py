"""The requests of one suite run, recorded through `Target`'s transport seam, and two replays.

`RecordingTransport` wraps httpx's own transport and is handed to the engine
(`engine.run_platform(..., transport=...)`): it sees every request the suite sends, on the wire,
without patching anything of the suite. The recorded requests are then replayed in order against
fresh servers, once through the suite's `Target.call` and once through a bare `httpx.Client`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import SEED, new_token, reference_server
from conformance.target import Auth

INVALID_TOKEN = "not-the-token-0000"  # the one Target sends for auth="invalid"


@dataclass
class Recorded:
    method: str
    path: str  # path and query, exactly as sent
    content: bytes | None
    auth: Auth  # valid | none | invalid, as `Target.call` takes it
    stage: str
    status: int | None = None
    seconds: float = 0.0  # on the wire: from the transport's send to the end of the body


class _TimedStream(httpx.SyncByteStream):
    """The response body as httpx reads it; closing it ends the request's time on the wire."""

    def __init__(self, inner: httpx.SyncByteStream, started: float, record: Recorded) -> None:
        self.inner, self.started, self.record = inner, started, record

    def __iter__(self) -> Iterator[bytes]:
        yield from self.inner

    def close(self) -> None:
        self.inner.close()
        self.record.seconds = time.perf_counter() - self.started


class RecordingTransport(httpx.BaseTransport):
    """httpx's HTTP transport, recording every request: what was sent, in which stage, the
    status, and the time on the wire. `stage[0]` is the stage the run is in."""

    def __init__(self, token: str, stage: list[str], connections: int = 1) -> None:
        # A client given a transport does not apply its own `limits`: the same ones here.
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.inner = httpx.HTTPTransport(limits=limits)
        self.token = token
        self.stage = stage
        self.records: list[Recorded] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        header = request.headers.get("authorization")
        auth: Auth = "none"
        if header is not None:
            auth = "valid" if header == f"Bearer {self.token}" else "invalid"
        record = Recorded(
            request.method,
            request.url.raw_path.decode("ascii"),
            request.content if "content-type" in request.headers else None,
            auth,
            self.stage[0],
        )
        self.records.append(record)
        response = self.inner.handle_request(request)
        record.status = response.status_code
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TimedStream(response.stream, started, record),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


# The sub-stages of generated testing, when `conformance.generate` has them. The engine reports
# whole stages only, so these are labelled by wrapping the module's functions: the one patch left,
# for the stage table, and optional (names may change).
SUB_STAGES = ("generated_list_params", "invalid_bodies", "generated_creates", "run_machine")


def record_suite(
    profile: str, examples: int, work: Path, tag: str
) -> tuple[list[Recorded], float, list[tuple[str, float]]]:
    """Run the engine in this process against a server process, recording every request."""
    from conformance import config as cconfig
    from conformance import engine, schemas
    from conformance import generate as cgenerate
    from conformance.generate import strategies as cstrategies

    stage = ["connect"]
    marks: list[tuple[str, float]] = []

    def progress(_platform: str, label: str) -> None:
        stage[0] = label
        marks.append((label, time.perf_counter()))

    patched: dict[str, Any] = {}
    for name in SUB_STAGES:
        fn = getattr(cgenerate, name, None)
        if not callable(fn):
            continue

        def sub(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            outer = stage[0]
            progress("", f"generated testing: {_name}")
            try:
                return _fn(*args, **kwargs)
            finally:
                progress("", outer)

        patched[name] = fn
        setattr(cgenerate, name, sub)

    token = new_token()
    cfg = work / "c-suite.toml"
    cfg.write_text("schemathesis = false\n", "utf-8")
    here = Path.cwd()
    transport = RecordingTransport(token, stage, connections=1)
    with reference_server(profile, token, work) as url:
        run_config = cconfig.build(
            base_url=url,
            platform=profile,
            token=token,
            allow_writes=True,
            output_dir=str(work / f"{tag}-out"),
            seed=SEED,
            config_file=str(cfg),
            max_examples=examples,
            connections=1,  # one request at a time, like the loops it is compared with
        )
        # A fresh run each repetition: nothing left over from the previous one in this process
        # (generated bodies are kept per process, for the many platforms of one run).
        clear = getattr(getattr(cstrategies, "valid_bodies", None), "cache_clear", None)
        if callable(clear):
            clear()
        os.chdir(work)  # Hypothesis' example database, if any, goes to the scratch directory
        try:
            started = time.perf_counter()
            marks.append(("connect", started))
            schemas.registry()  # as engine.run does first
            engine.run_platform(run_config.platforms[0], run_config, progress, transport=transport)
            wall = time.perf_counter() - started
            marks.append(("end", time.perf_counter()))
        finally:
            for name, fn in patched.items():
                setattr(cgenerate, name, fn)
            os.chdir(here)
    return transport.records, wall, marks


@dataclass
class Replay:
    seconds: float  # the whole loop
    each: list[float]  # per request
    statuses: list[int | None]

    def same(self, records: Sequence[Recorded]) -> Counter[bool]:
        return Counter(r.status == s for r, s in zip(records, self.statuses, strict=True))


def replay_suite(records: Sequence[Recorded], profile: str, work: Path) -> Replay:
    """The same requests through the suite's `Target.call` (building, sending, reading with a
    size cap, JSON parsing, redaction, evidence) against a fresh server; no retries, so one
    request per record."""
    from conformance.target import Target

    token = new_token()
    with reference_server(profile, token, work) as url:
        target = Target(url, token, allow_writes=True, retries=0, connections=1)
        try:
            each: list[float] = []
            statuses: list[int | None] = []
            started = time.perf_counter()
            for r in records:
                one = time.perf_counter()
                reply = target.call(r.method, r.path, raw_body=r.content, auth=r.auth)
                each.append(time.perf_counter() - one)
                statuses.append(reply.status)
            seconds = time.perf_counter() - started
        finally:
            target.close()
    return Replay(seconds, each, statuses)


def replay_bare(records: Sequence[Recorded], profile: str, work: Path) -> Replay:
    """The same requests through a bare httpx.Client loop against a fresh server: the ceiling
    for this client library and this server."""
    token = new_token()
    with (
        reference_server(profile, token, work) as url,
        httpx.Client(
            base_url=url,
            timeout=10.0,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "bare-httpx-loop"},
        ) as client,
    ):
        each: list[float] = []
        statuses: list[int | None] = []
        started = time.perf_counter()
        for r in records:
            one = time.perf_counter()
            headers = {}
            if r.auth == "valid":
                headers["Authorization"] = f"Bearer {token}"
            elif r.auth != "none":
                headers["Authorization"] = f"Bearer {INVALID_TOKEN}"
            if r.content is not None:
                headers["Content-Type"] = "application/json"
            response = client.request(r.method, r.path, headers=headers, content=r.content)
            response.read()
            each.append(time.perf_counter() - one)
            statuses.append(response.status_code)
        seconds = time.perf_counter() - started
    return Replay(seconds, each, statuses)
