"""What the matrix page is built from, without a browser: the two kinds of unsupported, roll-ups
that leave out what a platform does not need (and the optional `lifecycle` field that says so),
links from cells to the reports only where a report of that very matrix exists, and the Markdown
renderings of the same things."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from reportkit import platform, run_of  # type: ignore[import-not-found]

from conformance import gate, matrix
from conformance.errors import UsageError
from conformance.output import planned_files, write_all
from conformance.render.markdown import render_platform
from conformance.render.style import ABSENCE_STYLES, MEANINGS
from conformance.render.summary import render_summary
from conformance.results import Absence, OperationResult, PlatformResult
from conformance.verdicts import Verdict

COMMITTED = (
    Path(__file__).resolve().parents[2] / "examples" / "reference-run" / "capability_matrices"
)


def _with_reason(cell: OperationResult, code: str) -> OperationResult:
    return dataclasses.replace(cell, reasons=(code,))


def _shop() -> PlatformResult:
    """absent listReturns (501), not-allowed createReturn (403), failing getReturn."""
    base = platform(
        "shop",
        {
            "listReturns": Verdict.unsupported,
            "createReturn": Verdict.unsupported,
            "getReturn": Verdict.failing,
        },
    )
    cells = tuple(
        _with_reason(c, "not_allowed") if c.operation == "createReturn" else c
        for c in base.operations
    )
    return dataclasses.replace(base, operations=cells)


def test_unsupported_has_two_kinds() -> None:
    shop = _shop()
    assert shop.cell("listReturns").absence == Absence.absent
    assert shop.cell("createReturn").absence == Absence.not_allowed
    assert shop.cell("getReturn").absence is None
    assert shop.cell("cancelReturn").absence is None


def test_the_markdown_shows_the_two_kinds_like_the_page() -> None:
    run = run_of(_shop())
    summary = render_summary(run, gate.decide(run))
    absent, allowed = ABSENCE_STYLES[Absence.absent], ABSENCE_STYLES[Absence.not_allowed]
    assert f"{absent.symbol} {absent.label} `not_supported`" in summary
    assert f"{allowed.symbol} {allowed.label} `not_allowed`" in summary
    assert MEANINGS[Absence.absent] in summary and MEANINGS[Absence.not_allowed] in summary
    assert all(MEANINGS[v] in summary for v in Verdict if v != Verdict.unsupported)
    table = render_platform(run.platforms[0])
    assert "| `listReturns` | — absent |" in table
    assert "| `createReturn` | ⊘ not allowed |" in table


def _auto(**extra: Verdict) -> PlatformResult:
    verdicts = {"approveReturn": Verdict.unsupported, "rejectReturn": Verdict.unsupported}
    return dataclasses.replace(platform("auto", verdicts | extra), new_return_status="approved")


def test_rollup_leaves_out_what_an_auto_approving_platform_does_not_need() -> None:
    workflow = {t.tier: t for t in _auto().rollup()}["workflow"]
    assert (workflow.working, workflow.total) == (1, 1)
    assert workflow.not_needed == ("approveReturn", "rejectReturn")
    assert set(_auto().not_needed()) == {"approveReturn", "rejectReturn"}
    # a decision step it does offer counts, and a broken one is a failure like any other
    offered = {t.tier: t for t in _auto(approveReturn=Verdict.supported).rollup()}["workflow"]
    assert (offered.working, offered.total, offered.not_needed) == (2, 2, ("rejectReturn",))
    broken = {t.tier: t for t in _auto(rejectReturn=Verdict.failing).rollup()}["workflow"]
    assert (broken.working, broken.total, broken.failing) == (1, 2, 1)
    # new returns that wait for the seller: approve and reject are missing
    waits = dataclasses.replace(_auto(), new_return_status="requested")
    assert {t.tier: t for t in waits.rollup()}["workflow"].total == 3
    assert "workflow 1/1 (approveReturn, rejectReturn not needed)" in render_platform(_auto())


def test_lifecycle_round_trips_and_old_matrices_still_load() -> None:
    data = _auto().to_json()
    assert data["lifecycle"] == {"newReturnStatus": "approved"}
    assert PlatformResult.from_json(data).new_return_status == "approved"
    assert "lifecycle" not in platform("plain").to_json()  # unknown: not written at all
    for path in sorted(COMMITTED.glob("*.json")):  # written before the field existed
        old = json.loads(path.read_text(encoding="utf-8"))
        old.pop("lifecycle", None)
        assert PlatformResult.from_json(old, str(path)).new_return_status is None
    own = data | {"lifecycle": {"newReturnStatus": "REQUESTED"}}  # the platform's own value
    assert PlatformResult.from_json(own).new_return_status == "REQUESTED"
    with pytest.raises(UsageError, match="not a capability matrix"):
        PlatformResult.from_json(data | {"lifecycle": {"newReturnStatus": 5}})


@pytest.fixture()
def written(tmp_path: Path) -> Path:
    """A run's output directory, written the way `conformance run` writes it."""
    run = run_of(_shop(), platform("calm"))
    write_all(planned_files(run, tmp_path / "run", gate.decide(run)))
    return tmp_path / "run"


def test_cells_link_to_the_report_relative_to_the_page(written: Path, tmp_path: Path) -> None:
    view = matrix.build([written / "capability_matrices"])
    away = tmp_path / "site" / "index.html"
    page = view.page(output=away)
    assert 'href="../run/reports/shop/report.html#op-getReturn"' in page
    assert 'href="../run/reports/calm/report.html#op-listReturns"' in page
    beside = view.page(output=written / "capability_matrices" / "index.html")
    assert 'href="../reports/shop/report.html#op-createReturn"' in beside
    report = (written / "reports" / "shop" / "report.html").read_text(encoding="utf-8")
    assert all(f'id="op-{c.operation}"' in report for c in _shop().operations)
    assert 'class="ev" href' not in view.page(), "no output given: nothing to link relative to"
    assert view.page(output=away) == page, "the page is a function of its inputs"


def test_no_link_to_a_missing_or_foreign_report(written: Path, tmp_path: Path) -> None:
    (written / "reports" / "calm" / "report.html").unlink()
    shop_report = written / "reports" / "shop" / "report.html"
    text = shop_report.read_text(encoding="utf-8")
    stamp = "2026-11-26T10:00:12Z"
    assert stamp in text
    shop_report.write_text(text.replace(stamp, "2026-01-01T00:00:00Z"))  # another run's report
    page = matrix.build([written / "capability_matrices"]).page(output=tmp_path / "p.html")
    assert "report.html#op-" not in page
