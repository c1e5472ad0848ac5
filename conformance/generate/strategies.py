"""Hypothesis strategies derived from schemas/openapi.yaml through schemathesis' generator.

Schemathesis 4 generates from JSON Schema 2020-12 itself (hypothesis-jsonschema is neither used
nor compatible); we take its request bodies and put real ids in where the data must exist.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

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


def request_bodies(op_id: str, *, negative: bool = False) -> st.SearchStrategy[Any]:
    """Bodies for an operation, valid (positive) or invalid (negative) per its request schema."""
    from schemathesis import GenerationMode

    op = operation(op_id)
    mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
    api_operation = _openapi()[op.path][op.method]
    strategy: st.SearchStrategy[Any] = api_operation.as_strategy(generation_mode=mode).map(
        lambda case: case.body
    )
    return strategy
