"""The cross-platform page of `conformance matrix`: platforms × operations, read at a glance.

Platforms that fail the gate come first, then those with the most failing or inconclusive cells,
then by name. A cell is a symbol and a word (a link to the evidence in the platform's report when
the report is known), with numbered footnotes under the table for what explains it. Filters by
verdict and by platform are checkboxes and CSS `:has()` rules, no script: nothing ticked shows
everything, and a browser without `:has()` simply shows everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape

from conformance.contract import operations
from conformance.gate import Decision
from conformance.render.html_base import (
    Footnotes,
    Note,
    badge,
    breakable,
    cell_td,
    gate_banner,
    legend,
    page,
)
from conformance.render.style import STYLES
from conformance.results import PlatformResult, RunResult
from conformance.verdicts import Verdict

_MATRIX_CSS = """
table.grid { table-layout: fixed; width: 100%; min-width: 1180px; }
table.grid col.platform { width: 132px; } table.grid col.rollup { width: 178px; }
td.rollup { padding: 5px 6px; }
.tier { display: grid; grid-template-columns: 4.6em minmax(16px, 1fr) auto; gap: 0 5px;
  align-items: center; font-size: 12px; white-space: nowrap; }
.tier .bar { height: 8px; background: #e6e6e6; }
.tier .bar span { display: block; height: 100%; background: #009E73; }
.tier .n { text-align: right; }
.tier .tf { color: #A33F00; font-weight: 600; }
form.filters { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 6px 18px;
  margin: 10px 0; font-size: 12.5px; }
form.filters fieldset { border: 1px solid #c8c8c8; border-radius: 4px; padding: 2px 8px 4px;
  margin: 0; display: flex; flex-wrap: wrap; gap: 2px 10px; }
form.filters legend { font-weight: 600; padding: 0 4px; }
form.filters label { white-space: nowrap; cursor: pointer; }
form.filters input:disabled + span { color: #999; }
form.filters .hint { flex-basis: 100%; margin: 0; color: #555; }
"""


def _filter_css(run: RunResult) -> str:
    """Rules that hide what the ticked filters leave out (AND across verdicts and platforms).

    A cell not of a ticked verdict is blanked; a row with no cell of a ticked verdict, or whose
    platform is not ticked, is hidden. Nothing ticked: no rule applies.
    """
    verdict_cells = ", ".join(
        f'body:has(#fv-{v.value}:checked) td.cell[data-verdict="{v.value}"]' for v in Verdict
    )
    verdict_rows = ", ".join(
        f'body:has(#fv-{v.value}:checked) tr.prow[data-verdicts~="{v.value}"]' for v in Verdict
    )
    platform_rows = ", ".join(
        f'body:has(#fp-{i}:checked) tr.prow[data-row="{i}"]' for i in range(len(run.platforms))
    )
    rules = [
        f"body:has(.fv:checked) td.cell:not(:is({verdict_cells})) > .c {{ visibility: hidden; }}",
        f"body:has(.fv:checked) td.cell:not(:is({verdict_cells})) "
        "{ background: #fff; border-left-color: #e4e4e4; }",
        f"body:has(.fv:checked) tr.prow:not(:is({verdict_rows})) {{ display: none; }}",
    ]
    if platform_rows:
        rules.append(
            f"body:has(.fp:checked) tr.prow:not(:is({platform_rows})) {{ display: none; }}"
        )
    return "\n".join(rules) + "\n"


def _order(run: RunResult, decision: Decision) -> list[PlatformResult]:
    """Gate failures first, then most failing/inconclusive cells, then name."""
    gated = {g.platform for g in decision.failures()}
    return sorted(run.platforms, key=lambda p: (p.name not in gated, -p.unresolved, p.name))


def _when(stamp: str) -> str:
    """`2026-11-26T16:31:29Z` → `2026-11-26 16:31 UTC` (as written if it cannot be read)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.utcoffset() is None:
        return stamp
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _header(run: RunResult, title: str) -> list[str]:
    """Title, then when the matrices were generated and from which suite and contract."""
    span = run.generated_span()
    parts = []
    if span:
        first, last = span
        when = _when(last) if first[:10] == last[:10] else f"{_when(first)} – {_when(last)}"
        parts.append(f'generated <time datetime="{escape(last)}">{escape(when)}</time>')
    for kind in ("suite", "contract"):
        versions = run.versions(kind)
        if len(versions) == 1:
            parts.append(f'<span class="{kind}">{kind} {escape(next(iter(versions)))}</span>')
        elif versions:
            listed = "; ".join(f"{escape(v)} ({escape(', '.join(n))})" for v, n in versions.items())
            parts.append(f'<span class="{kind} warn">{kind} versions differ: {listed}</span>')
    parts.append(f"{len(run.platforms)} platforms × {len(operations())} operations")
    return [f"<h1>{escape(title)}</h1>", '<p class="meta" id="meta">' + " · ".join(parts) + "</p>"]


def _filters(run: RunResult, ordered: list[PlatformResult], linked: bool) -> list[str]:
    counts = run.counts()
    verdicts = [
        f'<label><input type="checkbox" class="fv" id="fv-{v.value}"'
        f"{'' if counts[v] else ' disabled'}><span>{badge(v)}{s.label} ({counts[v]})</span></label>"
        for v, s in STYLES.items()
    ]
    platforms = [
        f'<label><input type="checkbox" class="fp" id="fp-{i}">'
        f"<span>{escape(p.name)}</span></label>"
        for i, p in enumerate(ordered)
    ]
    return [
        '<form class="filters" id="filters" aria-label="filters">',
        "<fieldset><legend>Only these verdicts</legend>",
        *verdicts,
        "</fieldset>",
        "<fieldset><legend>Only these platforms</legend>",
        *platforms,
        "</fieldset>",
        '<button type="reset">show everything</button>',
        '<p class="hint">Tick verdicts or platforms to show only those; nothing ticked shows '
        "everything."
        + (" Click a cell for its evidence in the platform's report." if linked else "")
        + "</p>",
        "</form>",
    ]


def _rollup(platform: PlatformResult, footnotes: Footnotes) -> str:
    why = platform.not_needed()
    lines = []
    for tier in platform.rollup():
        width = round(100 * tier.working / tier.total) if tier.total else 0
        count = f"{tier.working}/{tier.total}" if tier.total else "—"
        failing = f' <span class="tf">{tier.failing}✘</span>' if tier.failing else ""
        refs = footnotes.refs(
            [Note(f"not needed: {why[op]}", "not counted in the roll-up") for op in tier.not_needed]
        )
        lines.append(
            f'<div class="tier"><span class="t">{tier.tier}</span><span class="bar">'
            f'<span style="width:{width}%"></span></span>'
            f'<span class="n">{count}{failing}{refs}</span></div>'
        )
    return f'<td class="rollup" data-rollup="{escape(platform.name)}">{"".join(lines)}</td>'


def _row_head(platform: PlatformResult, gated: bool) -> str:
    about = f"imitates {platform.imitates}" if platform.imitates else platform.target
    declared = sum(c.declared is not None for c in platform.operations)
    manifest = f"{declared} of {len(platform.operations)} declared" if declared else "no manifest"
    flag = '<small class="gated">✘ fails the gate</small>' if gated else ""
    return (
        f'<th scope="row" class="platform">{escape(platform.name)}{flag}'
        f"<small>{escape(about)}</small><small>{manifest}</small></th>"
    )


def _provenance_table(platforms: list[PlatformResult]) -> list[str]:
    """One row per platform: where, how and when its matrix was produced."""
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
            "platform",
            "target",
            "suite / contract",
            "schemas",
            "seed",
            "generated",
            "writes",
            "examples",
            "declared",
            "baseline",
            "command",
        )
    )
    rows = []
    for platform in platforms:
        prov = platform.provenance
        cells = [
            platform.target,
            f"{prov.suite_version} / {prov.contract_version}",
            None,
            str(prov.seed),
            f"{prov.generated_at} ({prov.duration_seconds:.1f} s)",
            "allowed" if prov.writes_allowed else "not allowed",
            str(prov.max_examples),
            prov.declared_source or "no manifest",
            prov.baseline_source or "none",
            prov.command,
        ]
        schema = (
            f'<td title="{escape(prov.schema_hash)}"><code>'
            f"{escape(prov.schema_hash[:19])}…</code></td>"
        )
        rows.append(
            f'<tr><th scope="row">{escape(platform.name)}</th>'
            + "".join(schema if c is None else f"<td>{escape(c)}</td>" for c in cells)
            + "</tr>"
        )
    return [
        '<div class="scroll"><table class="prov-table">',
        f"<thead><tr>{head}</tr></thead>",
        *rows,
        "</table></div>",
    ]


def render_matrix_page(
    run: RunResult,
    decision: Decision,
    title: str | None = None,
    reports: Mapping[str, str] | None = None,
) -> str:
    """Platforms × operations, with footnotes, filters, roll-ups, legend and provenance.

    `reports` maps a platform to the URL of its report.html relative to this page (see
    `conformance.matrix.report_links`); its cells link to `<url>#op-<operationId>`. A platform
    without one gets no links.
    """
    ops = operations()
    title = title or "Returns capability matrix"
    reports = reports or {}
    ordered = _order(run, decision)
    gated = {g.platform for g in decision.failures()}
    footnotes = Footnotes()
    head = ['<tr><th scope="col">platform</th>']
    head += [
        f'<th scope="col" class="op">{breakable(op.id)}<small>{op.method} · {op.tier}</small></th>'
        for op in ops
    ]
    head.append('<th scope="col">roll-up<small>usable / needed</small></th></tr>')
    rows = []
    for index, platform in enumerate(ordered):
        report = reports.get(platform.name)
        skip = platform.not_needed()
        cells = [
            cell_td(
                platform.name,
                platform.cell(op.id),
                footnotes=footnotes,
                href=f"{report}#op-{op.id}" if report else None,
                not_needed=skip.get(op.id),
                expected=decision.cell(platform.name, op.id).expected,
            )
            for op in ops
        ]
        present = " ".join(v.value for v in Verdict if platform.counts()[v])
        rows.append(
            f'<tr class="prow" data-row="{index}" data-platform="{escape(platform.name)}" '
            f'data-verdicts="{present}">'
            + _row_head(platform, platform.name in gated)
            + "".join(cells)
            + _rollup(platform, footnotes)
            + "</tr>"
        )
    body = [
        *_header(run, title),
        *gate_banner(decision),
        *legend(),
        *_filters(run, ordered, bool(reports)),
        '<div class="scroll"><table class="grid" id="matrix">',
        '<colgroup><col class="platform">'
        + '<col class="op">' * len(ops)
        + '<col class="rollup"></colgroup>',
        "<thead>",
        *head,
        "</thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table></div>",
        "<h2>Notes</h2>",
        *footnotes.render(),
        "<h2>Provenance</h2>",
        *_provenance_table(ordered),
        f"<footer>Built by <code>conformance matrix</code> from {len(run.platforms)} capability "
        "matrices. Colours: Okabe–Ito; every cell also carries a symbol and a word"
        + ("; a cell links to its evidence in the platform's report" if reports else "")
        + ".</footer>",
    ]
    return page(title, body, css=_MATRIX_CSS + _filter_css(run))
