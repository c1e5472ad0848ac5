"""The HTML pages in a real browser (headless Chromium from the distribution).

The matrix page of the six reference platforms shows every cell, visibly, with its symbol and
word (unsupported as "absent" or "not allowed"), a footnote on every cell that is not supported,
a link from every cell to its operation's anchor in the platform's report, the legend with every
verdict in plain words, and a header with the date, suite and contract versions. A seeded defect
run puts the failing platform first, and the verdict and platform filters hide what they leave
out. Drift and baseline marks show; roll-ups fit their column; the platform report has an anchor
per operation and findings with a curl line.

The pages themselves have no JavaScript; the test adds a probe script to a copy of each page,
which ticks filters, measures the laid-out elements and writes the result into the DOM that
--dump-dom prints.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from reportkit import chromium, platform, quick_run, run_of  # type: ignore[import-not-found]

from conformance import __version__, gate, matrix
from conformance.contract import contract_version, operations
from conformance.gate import GateInputs
from conformance.reference import profile_names
from conformance.render.html import render_matrix_page
from conformance.render.style import ABSENCE_STYLES, MEANINGS, STYLES
from conformance.results import Absence, Claim, Declared, PlatformResult
from conformance.verdicts import Verdict

WIDTH, HEIGHT = 1500, 1300

PROBE = """
<script>
(() => {
  const seen = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    let clipped = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ps = getComputedStyle(p);
      if (ps.overflowX !== 'visible' || ps.overflowY !== 'visible') {
        const pr = p.getBoundingClientRect();
        if (r.left < pr.left - 1 || r.right > pr.right + 1) clipped = true;
      }
    }
    const x = r.left + r.width / 2, y = r.top + Math.min(r.height / 2, 10);
    const hit = document.elementFromPoint(x, y);
    return {w: r.width, h: r.height, visibility: s.visibility, display: s.display,
            opacity: s.opacity, clipped, onTop: !!hit && (hit === el || el.contains(hit)),
            text: el.innerText.trim()};
  };
  const shown = () => {
    const rows = [], cells = [];
    document.querySelectorAll('tr.prow').forEach(tr => {
      if (getComputedStyle(tr).display === 'none') return;
      rows.push(tr.dataset.platform);
      tr.querySelectorAll('[data-cell]').forEach(td => {
        const c = td.querySelector('.c');
        if (getComputedStyle(c).visibility === 'visible') cells.push(td.dataset.cell);
      });
    });
    return {rows, cells};
  };
  const out = {cells: {}, legend: null, legendItems: [], marks: [], curls: [], overflowing: [],
               pageWidth: document.documentElement.scrollWidth, rows: [], rollups: {},
               unscoped: [], meta: null, footnotes: {}, anchors: [], steps: []};
  document.querySelectorAll('th, td').forEach(el => {
    if (el.scrollWidth > el.clientWidth + 1) out.overflowing.push(el.innerText.slice(0, 60));
  });
  document.querySelectorAll('thead th:not([scope="col"]), tbody th:not([scope="row"])')
    .forEach(el => out.unscoped.push(el.innerText.slice(0, 40)));
  document.querySelectorAll('[data-cell]').forEach(el => {
    const refs = [...el.querySelectorAll('sup.fn a')].map(a => {
      const target = document.getElementById(a.getAttribute('href').slice(1));
      return {ref: a.innerText, ok: !!target && !!target.closest('#footnotes'),
              text: target ? target.innerText.trim() : ''};
    });
    const ev = el.querySelector('a.ev');
    out.cells[el.dataset.cell] = Object.assign(seen(el), {
      verdict: el.dataset.verdict, kind: el.dataset.kind, refs,
      href: ev ? ev.href : null, bg: getComputedStyle(el).backgroundColor});
  });
  document.querySelectorAll('#footnotes li').forEach(li => out.footnotes[li.id] = li.innerText);
  document.querySelectorAll('tr.prow').forEach(tr => out.rows.push(tr.dataset.platform));
  out.gated = [...document.querySelectorAll('tr.prow th .gated')]
    .map(e => e.closest('tr').dataset.platform);
  document.querySelectorAll('[data-rollup]').forEach(td => {
    const r = td.getBoundingClientRect();
    const spill = [...td.querySelectorAll('.tier, .tier > *')].some(c => {
      const cr = c.getBoundingClientRect();
      return cr.right > r.right + 0.5 || cr.left < r.left - 0.5;
    });
    out.rollups[td.dataset.rollup] = {text: td.innerText, spill,
      overflow: td.scrollWidth > td.clientWidth + 1};
  });
  document.querySelectorAll('section.op[id]').forEach(s => out.anchors.push(s.id));
  const legend = document.getElementById('legend');
  if (legend) {
    out.legend = Object.assign(seen(legend), {items: legend.children.length});
    legend.querySelectorAll('[data-verdict]').forEach(d => out.legendItems.push(
      {verdict: d.dataset.verdict, text: d.innerText.replace(/\\s+/g, ' ').trim()}));
  }
  const meta = document.getElementById('meta');
  if (meta) out.meta = meta.innerText;
  document.querySelectorAll('.mark').forEach(el => out.marks.push(seen(el)));
  document.querySelectorAll('pre.curl').forEach(el => out.curls.push(seen(el)));
  const form = document.getElementById('filters');
  (window.PROBE_STEPS || []).forEach(step => {
    form.reset();
    step.forEach(selector => document.querySelector(selector).click());
    out.steps.push(shown());
  });
  if (form && window.PROBE_STEPS) {  // the reset button shows everything again
    form.querySelector('button[type="reset"]').click();
    out.steps.push(shown());
  }
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def probe(
    page: Path, tmp_path: Path, height: int = 4000, steps: list[list[str]] | None = None
) -> dict[str, Any]:
    """Lay the page out in Chromium (tall window: everything in view) and measure it; each of
    `steps` ticks the filter checkboxes it names (CSS selectors) and records what is shown."""
    copy = page.with_name(f"probe-{page.name}")
    script = f"<script>window.PROBE_STEPS = {json.dumps(steps or [])};</script>" + PROBE
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    try:
        dom = chromium(
            copy, f"--window-size={WIDTH},{height}", "--virtual-time-budget=2000", "--dump-dom"
        )
    finally:
        copy.unlink()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    result: dict[str, Any] = json.loads(
        found.group(1)
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )
    return result


def assert_visible(box: dict[str, Any], what: str) -> None:
    assert box["w"] > 20 and box["h"] > 10, (what, box)
    assert box["visibility"] == "visible" and box["display"] != "none", (what, box)
    assert float(box["opacity"]) == 1.0, (what, box)
    assert not box["clipped"], f"{what} is cut off by its container: {box}"
    assert box["onTop"], f"{what} is covered by another element: {box}"


def assert_cells_readable(seen: dict[str, Any]) -> None:
    """Every cell visible, with its symbol and word; every non-supported one with a footnote
    that resolves; nothing spills out of a cell, no roll-up overflows, every header scoped."""
    assert seen["pageWidth"] <= WIDTH, "the matrix fits the window without a horizontal scroll"
    assert seen["overflowing"] == [], "text spills out of its table cell"
    assert seen["unscoped"] == [], "column headers need scope=col, row headers scope=row"
    for name, cell in seen["cells"].items():
        assert_visible(cell, name)
        kind = cell["kind"]
        style = ABSENCE_STYLES[Absence(kind)] if kind in Absence.__members__ else None
        style = style or STYLES[Verdict(cell["verdict"])]
        assert cell["text"].startswith(style.symbol) and style.label in cell["text"], cell
        if cell["verdict"] != "supported":
            assert cell["refs"], f"{name} is {cell['verdict']} but has no footnote saying why"
        for ref in cell["refs"]:
            assert ref["ok"] and ref["text"], f"{name}: footnote {ref['ref']} does not resolve"
    for name, rollup in seen["rollups"].items():
        assert not rollup["overflow"] and not rollup["spill"], f"roll-up of {name}: {rollup}"


def assert_links_reach_anchors(seen: dict[str, Any]) -> None:
    """Every cell links to `report.html#op-<operation>` of its platform, and the anchor is there."""
    reports: dict[Path, str] = {}
    for name, cell in seen["cells"].items():
        platform_name, operation = name.split("/")
        assert cell["href"], f"{name} does not link to its evidence"
        url = urlparse(cell["href"])
        path = Path(unquote(url.path))
        assert path.parts[-2:] == (platform_name, "report.html"), cell["href"]
        assert url.fragment == f"op-{operation}", cell["href"]
        text = reports.setdefault(path, path.read_text(encoding="utf-8"))
        assert f'id="{url.fragment}"' in text, f"{cell['href']}: no such anchor in the report"


@pytest.fixture(scope="module")
def reference_page(reference_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page of the reference run, written away from the run: it links across directories."""
    page = tmp_path_factory.mktemp("page") / "site" / "index.html"
    page.parent.mkdir()
    page.write_text(matrix.build([reference_run / "capability_matrices"]).page(output=page))
    return page


def test_reference_matrix_renders_every_cell_and_the_legend(
    reference_page: Path, reference_run: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "matrix.png"
    chromium(reference_page, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    seen = probe(reference_page, tmp_path)
    expected = {f"{p}/{op.id}" for p in profile_names() for op in operations()}
    assert set(seen["cells"]) == expected
    assert_cells_readable(seen)
    assert_links_reach_anchors(seen)
    assert {c["kind"] for c in seen["cells"].values()} >= {"absent", "not_allowed"}
    colours = {c["verdict"]: c["bg"] for c in seen["cells"].values()}
    assert len(set(colours.values())) == len(colours), "each verdict has its own colour"

    assert seen["legend"] is not None
    assert_visible(seen["legend"], "legend")
    items = {(i["verdict"], i["text"]) for i in seen["legendItems"]}
    for verdict in Verdict:
        if verdict == Verdict.unsupported:
            continue
        style = STYLES[verdict]
        assert any(
            v == verdict.value and style.label in t and MEANINGS[verdict] in t for v, t in items
        ), f"the legend does not define {verdict.value}"
    for absence, style in ABSENCE_STYLES.items():
        assert any(
            v == "unsupported" and style.symbol in t and style.label in t and MEANINGS[absence] in t
            for v, t in items
        ), absence
    assert "501" in MEANINGS[Absence.absent] and "403" in MEANINGS[Absence.not_allowed]

    generated = max(
        json.loads(p.read_text())["provenance"]["generatedAt"]
        for p in (reference_run / "capability_matrices").glob("*.json")
    )
    meta = seen["meta"]
    assert generated[:10] in meta and generated[11:16] in meta, meta
    assert f"suite {__version__}" in meta and f"contract {contract_version()}" in meta, meta


@pytest.fixture(scope="module")
def defect_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs in two directories: auto-approve and no-returns clean, full-manual with two
    seeded defects (so it fails the gate though its name sorts after auto-approve)."""
    root = tmp_path_factory.mktemp("defects")
    assert quick_run(root / "clean", "auto-approve") == 0
    assert quick_run(root / "clean", "no-returns") == 0
    assert quick_run(root / "broken", "full-manual", "approve_no_effect", "leak_across_orders") == 1
    page = root / "page.html"
    view = matrix.build(
        [root / "clean" / "capability_matrices", root / "broken" / "capability_matrices"]
    )
    assert view.decision.outcome.value == "failed"
    page.write_text(view.page(output=page))
    return page


def test_failing_platform_first_and_the_filters_hide_the_rest(
    defect_page: Path, tmp_path: Path
) -> None:
    rows = ["full-manual", "auto-approve", "no-returns"]  # gate failure first, then by name
    fp = {name: f"#fp-{i}" for i, name in enumerate(rows)}  # the platform boxes, in row order
    seen = probe(
        defect_page,
        tmp_path,
        steps=[
            [],
            ["#fv-failing"],
            [fp["auto-approve"]],
            ["#fv-failing", "#fv-supported"],
            ["#fv-supported", fp["no-returns"]],
        ],
    )
    assert seen["rows"] == rows
    assert seen["gated"] == ["full-manual"], "the failing platform says so in its row header"
    assert_cells_readable(seen)
    assert_links_reach_anchors(seen)
    everything = sorted(seen["cells"])
    failing = sorted(n for n, c in seen["cells"].items() if c["verdict"] == "failing")
    assert failing == ["full-manual/approveReturn", "full-manual/getReturn"]
    nothing, only_failing, one_platform, two_verdicts, supported_no_returns, reset = seen["steps"]
    assert nothing["rows"] == rows and sorted(nothing["cells"]) == everything
    assert only_failing["rows"] == ["full-manual"], "rows without a failing cell are hidden"
    assert sorted(only_failing["cells"]) == failing, "cells of other verdicts are blanked"
    assert one_platform["rows"] == ["auto-approve"]
    assert sorted(one_platform["cells"]) == sorted(n for n in everything if n.startswith("auto-"))
    assert two_verdicts["rows"] == ["full-manual", "auto-approve"]  # no-returns has neither
    assert {seen["cells"][n]["verdict"] for n in two_verdicts["cells"]} == {"failing", "supported"}
    assert supported_no_returns["rows"] == [], "filters combine: no-returns has no supported cell"
    assert reset["rows"] == rows and sorted(reset["cells"]) == everything


def test_drift_and_baseline_marks_show(tmp_path: Path) -> None:
    ops = [op.id for op in operations()]
    shop = platform(
        "shop",
        {
            ops[0]: Verdict.unsupported,
            ops[1]: Verdict.failing,
            ops[2]: Verdict.partial,
            ops[3]: Verdict.inconclusive,
            ops[4]: Verdict.untested,
        },
    )
    run = gate.annotate_run(
        run_of(shop, platform("other")),
        GateInputs(
            manifests={
                "shop": gate.Manifest(
                    "shop",
                    "m",
                    {
                        ops[0]: Declared(Claim.supported),
                        ops[3]: Declared(Claim.supported),
                        ops[5]: Declared(Claim.unsupported, "modest"),
                    },
                )
            },
            baseline=gate.Baseline("base", {"shop": platform("shop")}),
        ),
    )
    page = tmp_path / "marks.html"
    page.write_text(render_matrix_page(run, gate.decide(run)))
    seen = probe(page, tmp_path)
    assert len(seen["cells"]) == 20
    assert_cells_readable(seen)
    assert all(c["href"] is None for c in seen["cells"].values()), "no report: no link"
    texts = [m["text"] for m in seen["marks"]]
    assert any("overclaim" in t for t in texts) and any("underclaim" in t for t in texts)
    assert any("regressed" in t for t in texts)
    assert any(t.startswith("◇ declared") and "supported" in t for t in texts), (
        "a claim that differs from an inconclusive verdict (no drift) is still shown"
    )
    for mark in seen["marks"]:
        assert_visible(mark, mark["text"])
    chromium(page, f"--screenshot={tmp_path / 'marks.png'}", f"--window-size={WIDTH},900")


def _auto_approving(name: str, **verdicts: Verdict) -> PlatformResult:
    """A platform whose new returns come back approved, approve/reject answering 501."""
    base = platform(
        name,
        {"approveReturn": Verdict.unsupported, "rejectReturn": Verdict.unsupported, **verdicts},
    )
    return dataclasses.replace(base, new_return_status="approved")


def test_rollups_fit_and_leave_out_what_a_platform_does_not_need(tmp_path: Path) -> None:
    worst = {op.id: Verdict.failing for op in operations()}  # the widest roll-up text
    run = run_of(
        _auto_approving("auto"),
        _auto_approving("auto-broken", cancelReturn=Verdict.failing, getReturn=Verdict.failing),
        dataclasses.replace(platform("manual", {"approveReturn": Verdict.unsupported})),
        platform("everything-fails-with-a-long-platform-name", worst),
    )
    page = tmp_path / "rollups.html"
    page.write_text(render_matrix_page(run, gate.decide(run)))
    seen = probe(page, tmp_path)
    assert_cells_readable(seen)
    rollups = {n: " ".join(r["text"].split()) for n, r in seen["rollups"].items()}
    assert "workflow 1/1" in rollups["auto"], rollups["auto"]  # cancelReturn of cancel only
    assert "workflow 0/1 1✘" in rollups["auto-broken"], rollups["auto-broken"]
    assert "workflow 2/3" in rollups["manual"], "a platform that needs approval misses it"
    note = next(t for t in seen["footnotes"].values() if "not needed" in t)
    assert "approved" in note
    refs = {r["text"] for r in seen["cells"]["auto/approveReturn"]["refs"]}
    assert note in refs, "the cell says why it is not counted too"


def test_header_says_when_versions_disagree(tmp_path: Path) -> None:
    old = platform("old")
    old = dataclasses.replace(
        old,
        provenance=dataclasses.replace(
            old.provenance, suite_version="0.0.9", generated_at="2026-11-20T09:00:00Z"
        ),
    )
    run = run_of(platform("new"), old)
    page = tmp_path / "versions.html"
    page.write_text(render_matrix_page(run, gate.decide(run)))
    meta = probe(page, tmp_path)["meta"]
    assert "suite versions differ: 0.0.9 (old); 0.1.0 (new)" in meta, meta
    assert "contract 1.0" in meta and "2026-11-20 09:00 UTC – 2026-11-26 10:00 UTC" in meta, meta


def test_platform_report_has_an_anchor_per_operation_and_findings_with_curl(
    reference_run: Path, tmp_path: Path
) -> None:
    seen = probe(reference_run / "reports" / "no-returns" / "report.html", tmp_path)
    assert len(seen["cells"]) == len(operations())
    assert sorted(seen["anchors"]) == sorted(f"op-{op.id}" for op in operations())
    assert seen["unscoped"] == []
    assert seen["curls"], "findings come with a curl line"
    for curl in seen["curls"]:
        assert "curl -sS" in curl["text"]
        assert curl["w"] > 100 and curl["visibility"] == "visible"
