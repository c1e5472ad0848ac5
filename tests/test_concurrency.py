"""Concurrency where it is safe: independent reads side by side, within the connection limit;
writes alone and in order; the same verdicts and findings whatever the limit.

The requests are watched at the transport, between the suite and a real reference server on
loopback, with a short pause per request so that requests which may overlap do.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import engine
from conformance.config import build
from conformance.discover import discover
from conformance.probes import Session, Settings
from conformance.reference import ReferenceServer
from conformance.target import Target

PAUSE = 0.01  # seconds per request: long enough for overlapping requests to meet


@dataclass
class Watch:
    """Counts requests in flight; remembers how many were in flight when each one started."""

    pause: float = PAUSE
    in_flight: int = 0
    peak: int = 0
    started: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.BaseTransport:
        watch, inner = self, httpx.HTTPTransport()

        class Watched(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                with watch.lock:
                    watch.in_flight += 1
                    watch.peak = max(watch.peak, watch.in_flight)
                    watch.started.append((request.method, request.url.path, watch.in_flight))
                try:
                    time.sleep(watch.pause)
                    response = inner.handle_request(request)
                    response.read()
                    return response
                finally:
                    with watch.lock:
                        watch.in_flight -= 1

            def close(self) -> None:
                inner.close()

        return Watched()


@pytest.fixture
def server() -> Iterator[tuple[str, str]]:
    token = secrets.token_urlsafe(16)
    with ReferenceServer("full-manual", token) as running:
        yield running.base_url, token


def _target(server: tuple[str, str], watch: Watch, **kwargs: Any) -> Target:
    url, token = server
    return Target(url, token, allow_writes=True, transport=watch.transport(), **kwargs)


def test_call_many_overlaps_reads_within_the_limit_and_keeps_their_order(
    server: tuple[str, str],
) -> None:
    watch = Watch()
    target = _target(server, watch, connections=3)
    paths = [f"/api/v2/orders/ord_unknown_{i}/returns" for i in range(9)]
    replies = target.call_many([(path, None, "valid") for path in paths])
    target.close()
    assert [r.exchange.url.split("/api/v2/orders/")[1] for r in replies] == [
        f"ord_unknown_{i}/returns" for i in range(9)
    ]
    assert all(r.status == 404 for r in replies)
    assert 2 <= watch.peak <= 3, watch.peak
    assert target.requests_sent == 9


def test_one_connection_means_one_request_at_a_time(server: tuple[str, str]) -> None:
    watch = Watch()
    target = _target(server, watch, connections=1)
    target.call_many([("/api/v2/orders", None, "valid")] * 5)
    target.close()
    assert watch.peak == 1 and len(watch.started) == 5


def test_the_request_budget_holds_under_concurrency(server: tuple[str, str]) -> None:
    watch = Watch()
    target = _target(server, watch, connections=4, max_requests=3)
    replies = target.call_many([("/api/v2/orders", None, "valid")] * 8)
    target.close()
    assert len(watch.started) == 3 and target.requests_sent == 3
    assert sorted(r.problem or "sent" for r in replies) == ["budget"] * 5 + ["sent"] * 3


def _session(server: tuple[str, str], watch: Watch, connections: int) -> Session:
    target = _target(server, watch, connections=connections)
    settings = Settings(allow_writes=True, act_on_existing=True, seed=1)
    return Session(target, discover(target, ()), settings)


def test_prefetched_reads_are_taken_by_the_same_calls_and_a_write_drops_them(
    server: tuple[str, str],
) -> None:
    watch = Watch()
    s = _session(server, watch, connections=4)
    order = s.inventory.orders[0].id
    reads = [("listOrderReturns", {"orderId": order}, {"limit": str(n)}, "valid") for n in (1, 2)]
    s.prefetch(reads)  # type: ignore[arg-type]
    sent = len(watch.started)
    assert s.call("listOrderReturns", {"orderId": order}, query={"limit": "1"}).ok
    assert len(watch.started) == sent, "the prefetched reply was used, nothing sent again"
    s.call("cancelReturn", {"orderId": order, "id": "conformance-unknown-id-0"}, body={})
    assert s.call("listOrderReturns", {"orderId": order}, query={"limit": "2"}).ok
    assert len(watch.started) == sent + 2, "after a write the read is sent anew"
    with pytest.raises(ValueError, match="only reads"):
        s.prefetch([("createReturn", {"orderId": order}, None, "valid")])
    s.target.close()


def _run_watched(
    monkeypatch: pytest.MonkeyPatch, connections: int, tmp_path: Path, defects: frozenset[str]
) -> tuple[Watch, Any]:
    watch = Watch(pause=0.003)

    class WatchedTarget(Target):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("transport", None)  # the engine's seam (None here): the watch replaces it
            super().__init__(*args, **kwargs, transport=watch.transport())

    monkeypatch.setattr(engine, "Target", WatchedTarget)
    config = build(
        platform="full-manual",
        output_dir=str(tmp_path),
        seed=5,
        max_examples=0,
        connections=connections,
        defects=defects,
    )
    return watch, engine.run(config).platforms[0]


def _outcome(result: Any) -> dict[str, Any]:
    return {
        cell.operation: (
            cell.verdict,
            cell.reasons,
            [(f.reason, f.check, f.message) for f in cell.findings],
            cell.by_check,
        )
        for cell in result.operations
    }


@pytest.mark.parametrize("defects", [frozenset(), frozenset({"status_filter_ignored"})])
def test_a_whole_platform_overlaps_reads_only_and_decides_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, defects: frozenset[str]
) -> None:
    alone, one_by_one = _run_watched(monkeypatch, 1, tmp_path / "one", defects)
    watch, together = _run_watched(monkeypatch, 4, tmp_path / "four", defects)
    assert alone.peak == 1
    assert 2 <= watch.peak <= 4, "independent reads went out side by side, within the limit"
    overlapping_writes = [(m, p, n) for m, p, n in watch.started if m != "GET" and n > 1]
    assert not overlapping_writes, "a write never shares the wire with another request"
    assert _outcome(together) == _outcome(one_by_one)
    assert sorted((m, p) for m, p, _ in watch.started) == sorted(
        (m, p) for m, p, _ in alone.started
    ), "the same requests, only some of them at the same time"
