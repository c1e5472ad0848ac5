"""examples/reference-run/capability_matrices/ holds the reference platforms' committed matrices,
manifests and cross-platform page; they must say what a fresh run says.

A run's evidence carries a random loopback port, timestamps and durations, so the comparison is
on what a reader acts on: verdicts, reasons, notes, which check found what, declared claims and
drift. The `.md` files and `index.html` must be exactly what the committed JSON renders to.
The reports are not committed (examples/reference-run/reports/ is ignored), so the committed page
links to none: remove them before rendering it. Regenerate everything with (from the repository
root):

    cp conformance/reference/declared/*.declared.toml examples/reference-run/capability_matrices/
    conformance run --seed 2026 --output-dir examples/reference-run
    rm -r examples/reference-run/reports
    conformance matrix examples/reference-run/capability_matrices \
        --output examples/reference-run/capability_matrices/index.html
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from conformance import matrix
from conformance.reference import profile_names
from conformance.render.markdown import render_platform
from conformance.results import PlatformResult

COMMITTED = (
    Path(__file__).resolve().parents[2] / "examples" / "reference-run" / "capability_matrices"
)
REGENERATE = (
    "regenerate them (see tests/reports/test_committed_matrices.py): "
    "conformance run --seed 2026 --output-dir examples/reference-run && "
    "rm -r examples/reference-run/reports && conformance matrix "
    "examples/reference-run/capability_matrices "
    "--output examples/reference-run/capability_matrices/index.html"
)


def _load(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return data


def stable(data: dict[str, Any]) -> dict[str, Any]:
    """The parts of a matrix that do not change from run to run with the same seed."""
    prov = data["provenance"]
    return {
        "schemaVersion": data["schemaVersion"],
        "platform": data["platform"],
        "run": {
            k: prov[k]
            for k in (
                "suiteVersion",
                "contractVersion",
                "schemaHash",  # the committed matrices must describe the schemas as they are
                "seed",
                "writesAllowed",
                "maxExamples",
            )
        },
        "operations": {
            op: {
                "status": cell["status"],
                "reasons": cell["reasons"],
                "notes": cell.get("notes", []),
                "found": sorted({(f["check"], f["reason"]) for f in cell["findings"]}),
                "declared": cell.get("declared"),
                "drift": cell.get("drift"),
            }
            for op, cell in data["operations"].items()
        },
    }


def test_committed_files_are_all_there() -> None:
    names = sorted(profile_names())
    assert sorted(p.stem for p in COMMITTED.glob("*.json")) == names, REGENERATE
    assert sorted(p.stem for p in COMMITTED.glob("*.md")) == names, REGENERATE
    assert (
        sorted(p.name.removesuffix(".declared.toml") for p in COMMITTED.glob("*.declared.toml"))
        == names
    )
    assert (COMMITTED / "index.html").is_file(), REGENERATE


@pytest.mark.parametrize("name", profile_names())
def test_committed_matrix_matches_a_fresh_run(reference_run: Path, name: str) -> None:
    committed = stable(_load(COMMITTED, name))
    fresh = stable(_load(reference_run / "capability_matrices", name))
    assert committed == fresh, (
        f"{COMMITTED.relative_to(COMMITTED.parents[2])}/{name}.json drifted from a fresh run: "
        + REGENERATE
    )


@pytest.mark.parametrize("name", profile_names())
def test_committed_markdown_renders_the_committed_json(name: str) -> None:
    platform = PlatformResult.from_json(_load(COMMITTED, name))
    text = (COMMITTED / f"{name}.md").read_text(encoding="utf-8")
    assert text == render_platform(platform), REGENERATE


def test_committed_page_renders_the_committed_matrices() -> None:
    view = matrix.build([COMMITTED])
    assert view.decision.outcome.value == "passed"
    page = (COMMITTED / "index.html").read_text(encoding="utf-8")
    assert 'class="ev" href' not in page, "the committed page links to uncommitted reports"
    assert page == view.page(), REGENERATE  # no output given: no links, whatever is on disk


@pytest.mark.parametrize("name", profile_names())
def test_committed_manifests_are_the_packaged_ones(name: str) -> None:
    packaged = (
        resources.files("conformance.reference")
        .joinpath("declared", f"{name}.declared.toml")
        .read_text(encoding="utf-8")
    )
    assert (COMMITTED / f"{name}.declared.toml").read_text(encoding="utf-8") == packaged, (
        "copy conformance/reference/declared/*.declared.toml to capability_matrices/"
    )
