"""A fresh run of the six reference platforms, shared by the report tests (it takes ~12 s).

It repeats the committed run (the seed and generated-example budget recorded in
examples/reference-run/capability_matrices/), so the same outputs serve the drift test, the JUnit
counts and the browser test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "examples" / "reference-run" / "capability_matrices"


def committed_settings() -> tuple[int, int]:
    """(seed, max examples) of the committed run; (1, 20) before anything is committed."""
    for path in sorted(COMMITTED.glob("*.json")):
        prov = json.loads(path.read_text(encoding="utf-8"))["provenance"]
        return int(prov["seed"]), int(prov.get("maxExamples", 20))
    return 1, 20


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output directory of `conformance run` over the six reference platforms."""
    out = tmp_path_factory.mktemp("reference-run")
    seed, examples = committed_settings()
    code = main(
        ["run", "--output-dir", str(out), "--seed", str(seed), "--max-examples", str(examples)]
    )
    assert code == 0
    return out
