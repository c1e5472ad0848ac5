"""Hypothesis strategies derived from schemas/openapi.yaml through schemathesis' generator.

Schemathesis 4 generates from JSON Schema 2020-12 itself (hypothesis-jsonschema is neither used
nor compatible); we take its request bodies and put real ids in where the data must exist.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.reporting import with_reporter

from conformance import schemas
from conformance.contract import operation


@cache
def _openapi() -> Any:
    import schemathesis

    loaded = schemathesis.openapi.from_path(str(schemas.openapi_path()))
    # Generation only: nothing is sent through schemathesis here, but a base URL must be set
    # before operations are touched (they cache it).
    loaded.config.update(base_url="http://127.0.0.1:9")
    return loaded


def request_bodies(op_id: str) -> st.SearchStrategy[Any]:
    """Schema-valid bodies for an operation, from schemathesis' positive generation mode."""
    from schemathesis import GenerationMode

    op = operation(op_id)
    api_operation = _openapi()[op.path][op.method]
    strategy: st.SearchStrategy[Any] = api_operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE
    ).map(lambda case: case.body)
    return strategy


@cache
def valid_bodies(op_id: str, seed_: int, count: int) -> tuple[Any, ...]:
    """Up to ``count`` distinct schema-valid bodies for ``op_id``, drawn with ``seed_``.

    Schemathesis' generator spends ~25 ms on each body, and the bodies do not depend on the
    platform; so a worker that tests many platforms with one seed draws them once. Callers get
    the same tuple each time and must copy what they change. The same seed gives the same
    bodies in processes that loaded the same modules, but not across them: schemathesis'
    generator draws differently once other modules are loaded (seen: `import
    conformance.reference` first changes what it draws), so a replay goes by the recorded
    exchanges and scripts, not by the seed alone.
    """
    found: list[Any] = []

    @seed(seed_)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request_bodies(op_id))
    def collect(body: Any) -> None:
        if body not in found:
            found.append(body)

    with with_reporter(lambda _: None):
        collect()
    return tuple(found)
