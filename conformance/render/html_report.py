"""One platform's report (`reports/<platform>/report.html`): every operation with its evidence.

Each operation has a section `id="op-<operationId>"` (the matrix page links its cells there):
its verdict, what the connector declared, the checks that ran, the notes, and every finding with
its request, response and `curl` line. The `conformance-report` meta names the platform and the
matrix's generation time, so the matrix page links only to the report written with the matrix.
"""

from __future__ import annotations

import json
from html import escape

from conformance.findings import Exchange, Finding
from conformance.gate import Decision, Expected
from conformance.render.html_base import (
    badge,
    cell_head,
    cell_notes,
    cell_td,
    gate_banner,
    legend,
    page,
    provenance_rows,
)
from conformance.render.style import STYLES
from conformance.repro import REPRO_DIR, script_names
from conformance.results import OperationResult, PlatformResult
from conformance.verdicts import Verdict, reasons, verdict_of

_REPORT_CSS = """
table.report td.cell { max-width: 180px; }
.tier { font-size: 12px; }
section.op { border-top: 1px solid #ddd; margin-top: 14px; }
section.op:target { background: #FFFBEA; }
section.op h3 .label { font-size: 15px; }
table.checks { font-size: 12px; margin: 4px 0; }
table.checks td, table.checks th { padding: 2px 8px; }
"""


def report_stamp(platform: PlatformResult) -> str:
    """The `<meta>` that ties a report to its matrix (conformance.matrix.report_links)."""
    return (
        f'<meta name="conformance-report" content="{escape(platform.name)} '
        f'{escape(platform.provenance.generated_at)}">'
    )


def _exchange(exchange: Exchange, index: int, unfold: bool) -> list[str]:
    def block(value: object) -> str:
        if value is None:
            return "<pre>(none)</pre>"
        text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
        return f"<pre>{escape(text)}</pre>"

    answer = exchange.error or str(exchange.status)
    return [
        f"<details{' open' if unfold else ''}><summary>{index}. <code>{escape(exchange.method)} "
        f"{escape(exchange.url)}"
        f"</code> → {escape(answer)}</summary>",
        "<b>request headers</b>",
        block(exchange.request_headers),
        "<b>request body</b>",
        block(exchange.request_body),
        "<b>response headers</b>",
        block(exchange.response_headers),
        "<b>response body</b>",
        block(exchange.response_body),
        "</details>",
    ]


def _finding(finding: Finding, cell: OperationResult, script_file: str | None = None) -> list[str]:
    verdict = verdict_of(finding.reason, cell.verdict)
    info = reasons().get(finding.reason)
    lines = [
        f'<div class="finding" style="border-left-color:{STYLES[verdict].colour}">',
        f"<p>{badge(verdict)}<b><code>{escape(finding.reason)}</code></b>"
        f"{' — ' + escape(info.title) if info else ''} · check <code>{escape(finding.check)}"
        "</code></p>",
        f"<p>{escape(finding.message)}</p>",
    ]
    if info:
        lines.append(f"<p><i>hint:</i> {escape(info.hint)}</p>")
    if finding.steps:
        lines += ["<ol>", *(f"<li><code>{escape(s)}</code></li>" for s in finding.steps), "</ol>"]
    for index, exchange in enumerate(finding.evidence, 1):
        lines += _exchange(exchange, index, unfold=verdict == Verdict.failing)
    if finding.script and script_file:
        where = f"{REPRO_DIR}/{script_file}"
        lines += [
            f'<b>replay the whole sequence</b> (<a href="{escape(where)}"><code>{escape(where)}'
            "</code></a>: <code>BASE_URL=… CONFORMANCE_TOKEN=… sh "
            f"{escape(where)}</code>; exit status 1 when the failure shows)",
            f'<details class="script"><summary>script</summary>'
            f'<pre class="script">{escape(finding.script)}</pre></details>',
        ]
    if finding.reproduce:
        label = "the last request" if finding.script else "reproduce"
        lines += [f"<b>{label}</b>", f'<pre class="curl">{escape(finding.reproduce)}</pre>']
    lines.append("</div>")
    return lines


def _section(
    cell: OperationResult,
    not_needed: str | None,
    scripts: dict[tuple[str, str, str], str],
    expected: Expected | None = None,
) -> list[str]:
    """The evidence for one operation: the anchor the matrix page links to."""
    declared = (f"declared {cell.declared.status.value}" if cell.declared else "not declared") + (
        f" ({cell.drift.value})" if cell.drift else ""
    )
    lines = [
        f'<section class="op" id="op-{cell.operation}">',
        f"<h3>{cell_head(cell)} <code>{cell.operation}</code></h3>",
        f'<p class="sub">{escape(declared)} · checks passed {cell.checks_passed}/'
        f"{cell.checks_run}"
        + (f" · retried requests {escape(cell.retried.short)}" if cell.retried else "")
        + "</p>",
    ]
    checks = cell.checks()
    if checks:
        lines.append(
            '<table class="checks"><thead><tr><th scope="col">check</th>'
            '<th scope="col">passed / run</th><th scope="col">found</th></tr></thead><tbody>'
        )
        lines += [
            f"<tr><td><code>{escape(c.name)}</code></td><td>{c.passed}/{c.run}</td>"
            f"<td>{escape(', '.join(sorted({f.reason for f in c.findings})))}</td></tr>"
            for c in checks
        ]
        lines.append("</tbody></table>")
    notes = cell_notes(cell, not_needed, expected)
    if notes:
        lines += ["<ul>", *(f"<li>{n.html()}</li>" for n in notes), "</ul>"]
    for finding in cell.findings:
        lines += _finding(finding, cell, scripts.get(finding.key))
    if cell.rerun and cell.findings:
        lines += ["<b>rerun this cell</b>", f'<pre class="command">{escape(cell.rerun)}</pre>']
    lines.append("</section>")
    return lines


def render_platform_report(platform: PlatformResult, decision: Decision) -> str:
    """Everything a connector developer needs to reproduce what broke, in one file."""
    title = f"Returns conformance: {platform.name}"
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("operation", "verdict", "reasons", "declared", "checks", "notes")
    )
    skip = platform.not_needed()
    rows = []
    for cell in platform.operations:
        declared = cell.declared.status.value if cell.declared else "—"
        notes = "; ".join(
            n
            for n in (
                cell.declared.note if cell.declared else "",
                *cell.notes,
                f"not needed: {skip[cell.operation]}" if cell.operation in skip else "",
            )
            if n
        )
        rows.append(
            f'<tr><th scope="row"><code><a href="#op-{cell.operation}">{cell.operation}</a>'
            "</code></th>"
            + cell_td(
                platform.name,
                cell,
                href=f"#op-{cell.operation}",
                expected=decision.cell(platform.name, cell.operation).expected,
            )
            + f"<td>{escape(', '.join(cell.reasons))}</td><td>{declared}</td>"
            f"<td>{cell.checks_passed}/{cell.checks_run}</td><td>{escape(notes)}</td></tr>"
        )
    rollup = " · ".join(
        f"{t.tier} {t.working}/{t.total}"
        + (f" ({', '.join(t.not_needed)} not needed)" if t.not_needed else "")
        for t in platform.rollup()
    )
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(platform.target)}'
        + (f" · imitates {escape(platform.imitates)}" if platform.imitates else "")
        + f" · {platform.passed} passed, {platform.failed} failed, {platform.skipped} not decided"
        f" · generated {escape(platform.provenance.generated_at)}</p>",
        *gate_banner(decision, platform.name),
        f'<div class="tier" id="rollup">{escape(rollup)}</div>',
        *legend(footnotes=False),
        f'<div class="scroll"><table class="report"><thead><tr>{head}</tr></thead><tbody>',
        *rows,
        "</tbody></table></div>",
        "<h2>Operations and evidence</h2>",
    ]
    if not any(c.findings for c in platform.operations):
        body.append("<p>No findings: every operation is supported.</p>")
    scripts = script_names(f for cell in platform.operations for f in cell.findings)
    for cell in platform.operations:
        gate = decision.cell(platform.name, cell.operation)
        body += _section(cell, skip.get(cell.operation), scripts, gate.expected)
    body += [
        "<h2>Provenance</h2>",
        '<dl class="prov">',
        *(f"<dt>{k}</dt><dd>{escape(v)}</dd>" for k, v in provenance_rows(platform)),
        "</dl>",
    ]
    return page(title, body, css=_REPORT_CSS, meta=report_stamp(platform))
