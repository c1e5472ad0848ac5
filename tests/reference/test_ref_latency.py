"""`conformance serve --latency MS` delays every answer, without blocking other requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from conformance.reference.app import Latency, create_app
from conformance.reference.profile import load_profile

TOKEN = "latency-test-token"


def _waits(monkeypatch: pytest.MonkeyPatch, latency: float) -> list[float]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # awaited, so other requests could run meanwhile
        waits.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(Latency, "sleep", staticmethod(sleep))
    app = create_app(load_profile("full-manual"), TOKEN, latency=latency)

    async def two_requests() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
            ok = await client.get("/api/v2/orders", headers={"Authorization": f"Bearer {TOKEN}"})
            refused = await client.get("/api/v2/orders")
        return ok.status_code, refused.status_code

    assert asyncio.run(two_requests()) == (200, 401)
    return waits


def test_every_answer_waits_the_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _waits(monkeypatch, 0.05) == [0.05, 0.05]


def test_no_latency_no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _waits(monkeypatch, 0.0) == []


def test_the_variation_slow_sets_the_latency_and_serve_latency_still_wins_when_larger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conformance.reference.variations import with_variations

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(Latency, "sleep", staticmethod(sleep))
    slow = with_variations(load_profile("full-manual"), ["slow"])
    for latency, expected in ((0.0, slow.behaviour.latency), (0.5, 0.5)):
        waits.clear()
        app = create_app(slow, TOKEN, latency=latency)

        async def one(app: Any = app) -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
                auth = {"Authorization": f"Bearer {TOKEN}"}
                return (await client.get("/api/v2/orders", headers=auth)).status_code

        assert asyncio.run(one()) == 200
        assert waits == [expected]
