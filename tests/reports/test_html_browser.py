"""The HTML pages in a real browser (headless Chromium from the distribution): the matrix page of
the six reference platforms shows every cell, visibly, with its symbol and word and a reason on
every non-supported cell, and the legend; drift and baseline marks show; the platform report
shows findings with a curl line.

The pages themselves have no JavaScript; the test adds a probe script to a copy of each page,
which measures the laid-out elements and writes the result into the DOM that --dump-dom prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from reportkit import chromium, platform, run_of  # type: ignore[import-not-found]

from conformance import gate
from conformance.cli import main
from conformance.contract import operations
from conformance.gate import GateInputs
from conformance.reference import profile_names
from conformance.render.html import render_matrix_page
from conformance.render.style import STYLES
from conformance.results import Claim, Declared
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
  const out = {cells: {}, legend: null, marks: [], curls: [], overflowing: [],
               pageWidth: document.documentElement.scrollWidth};
  document.querySelectorAll('th, td').forEach(el => {
    if (el.scrollWidth > el.clientWidth + 1) out.overflowing.push(el.innerText.slice(0, 60));
  });
  document.querySelectorAll('[data-cell]').forEach(el => {
    out.cells[el.dataset.cell] = Object.assign(seen(el), {
      verdict: el.dataset.verdict,
      why: (el.querySelector('.why') || {innerText: ''}).innerText.trim(),
      bg: getComputedStyle(el).backgroundColor});
  });
  const legend = document.getElementById('legend');
  if (legend) out.legend = Object.assign(seen(legend), {items: legend.children.length});
  document.querySelectorAll('.mark').forEach(el => out.marks.push(seen(el)));
  document.querySelectorAll('pre.curl').forEach(el => out.curls.push(seen(el)));
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def probe(page: Path, tmp_path: Path, height: int = 4000) -> dict[str, Any]:
    """Lay the page out in Chromium (tall window: everything in view) and measure it."""
    copy = tmp_path / f"probe-{page.name}"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    dom = chromium(
        copy, f"--window-size={WIDTH},{height}", "--virtual-time-budget=2000", "--dump-dom"
    )
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


@pytest.fixture(scope="module")
def reference_page(reference_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("page") / "index.html"
    assert main(["matrix", str(reference_run / "capability_matrices"), "--output", str(page)]) == 0
    return page


def test_reference_matrix_renders_every_cell_and_the_legend(
    reference_page: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "matrix.png"
    chromium(reference_page, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    seen = probe(reference_page, tmp_path)
    expected = {f"{p}/{op.id}" for p in profile_names() for op in operations()}
    assert set(seen["cells"]) == expected
    assert seen["pageWidth"] <= WIDTH, "the matrix fits the window without a horizontal scroll"
    assert seen["overflowing"] == [], "text spills out of its table cell"
    for name, cell in seen["cells"].items():
        assert_visible(cell, name)
        style = STYLES[Verdict(cell["verdict"])]
        assert cell["text"].startswith(style.symbol) and style.label in cell["text"], cell
        if cell["verdict"] != "supported":
            assert cell["why"], f"{name} is {cell['verdict']} but says not why"
    colours = {c["verdict"]: c["bg"] for c in seen["cells"].values()}
    assert len(set(colours.values())) == len(colours), "each verdict has its own colour"
    assert seen["legend"] is not None
    assert_visible(seen["legend"], "legend")
    assert seen["legend"]["items"] >= len(STYLES)
    for style in STYLES.values():
        assert style.label in seen["legend"]["text"]


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
    assert seen["overflowing"] == [], "text spills out of its table cell"
    for name, cell in seen["cells"].items():
        assert_visible(cell, name)
    texts = [m["text"] for m in seen["marks"]]
    assert any("overclaim" in t for t in texts) and any("underclaim" in t for t in texts)
    assert any("regressed" in t for t in texts)
    for mark in seen["marks"]:
        assert_visible(mark, mark["text"])
    chromium(page, f"--screenshot={tmp_path / 'marks.png'}", f"--window-size={WIDTH},900")


def test_platform_report_shows_findings_with_curl(reference_run: Path, tmp_path: Path) -> None:
    seen = probe(reference_run / "reports" / "no-returns" / "report.html", tmp_path)
    assert len(seen["cells"]) == len(operations())
    assert seen["curls"], "findings come with a curl line"
    for curl in seen["curls"]:
        assert "curl -sS" in curl["text"]
        assert curl["w"] > 100 and curl["visibility"] == "visible"
