"""Fixtures of the reference-server tests.

`api(platform)` / `module_api(platform)` start a reference platform (per test / per module) and
answer a `refkit.Api`; `varied_api(platform, variations)` does the same for a platform with
named variations (variations.toml). An autouse guard fails any test during which the reference
server logged an error (an unexpected 500, with its traceback in the server log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from refkit import Api  # type: ignore[import-not-found]

from conformance.reference import create_app, load_profile, with_variations


@pytest.fixture
def api(reference: Callable[..., Any]) -> Callable[..., Api]:
    """Factory: `api(platform, defects=())` → Api on a server of its own for this test."""

    def start(platform: str, defects: tuple[str, ...] = ()) -> Api:
        ref = reference(platform, defects)
        return Api(ref.base_url, ref.client, load_profile(platform))

    return start


@pytest.fixture
def varied_api(serve_app: Callable[..., Any], token: str) -> Callable[..., Api]:
    """Factory: `varied_api(platform, variations, defects=())` → Api on a server of its own,
    serving the profile with those variations applied."""

    def start(platform: str, variations: Iterable[str], defects: Iterable[str] = ()) -> Api:
        profile = with_variations(load_profile(platform), variations)
        ref = serve_app(create_app(profile, token, frozenset(defects)))
        return Api(ref.base_url, ref.client, profile)

    return start


@pytest.fixture(scope="module")
def module_api(module_reference: Callable[..., Any]) -> Callable[..., Api]:
    """Factory like `api`, one server per platform shared by the whole module (state is shared)."""
    started: dict[str, Api] = {}

    def start(platform: str) -> Api:
        if platform not in started:
            ref = module_reference(platform)
            started[platform] = Api(ref.base_url, ref.client, load_profile(platform))
        return started[platform]

    return start


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_server_errors() -> Iterator[None]:
    """Fail the test if the reference server logged an error (an unexpected 500) during it."""
    handler = _Collect()
    logger = logging.getLogger("conformance.reference")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]
