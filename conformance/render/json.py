"""JSON outputs: the capability matrix (schemas/capability-matrix.schema.json) and the report."""

from __future__ import annotations

import json

from conformance.results import PlatformResult


def render_matrix(result: PlatformResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def render_findings(result: PlatformResult) -> str:
    """Every finding with its evidence, by operation: what a connector developer debugs from."""
    data = result.to_json()
    report = {
        "platform": data["platform"],
        "provenance": data["provenance"],
        "findings": {op: cell["findings"] for op, cell in data["operations"].items()},
        "created": data["created"],
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
