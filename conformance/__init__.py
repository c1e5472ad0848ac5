"""Conformance test suite for connectors that speak the unified Returns API.

The public entry point (docs/entry-points.md, "As a library"):

    from conformance import GateInputs, build, run
    completed = run(build(base_url="https://…", token="…"), GateInputs())
    completed.decision.outcome, completed.result.platforms
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Completed", "GateInputs", "RunConfig", "__version__", "build", "run"]

if TYPE_CHECKING:
    from conformance.config import RunConfig, build
    from conformance.gate import GateInputs
    from conformance.runner import Completed, run

_LAZY = {
    "Completed": "conformance.runner",
    "run": "conformance.runner",
    "GateInputs": "conformance.gate",
    "RunConfig": "conformance.config",
    "build": "conformance.config",
}


def __getattr__(name: str) -> Any:
    """The entry point is imported on first use: `import conformance.reference` (the server)
    must not pull in the whole engine, Hypothesis and schemathesis."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
