"""Self-contained HTML: one report per platform (`reports/<platform>/report.html`: findings with
evidence and a curl line) and the cross-platform matrix page (`conformance matrix`).

No external assets and no JavaScript: inline CSS only, so a page opens from a CI artifact, an
e-mail or a file share exactly as it was generated. Every cell shows a symbol and a word besides
its Okabe–Ito colour, and every cell that is not `supported` says why. The pages are a function
of the matrices and the gate decision only (no clock), so regenerating them from the same
matrices gives the same bytes.
"""

from __future__ import annotations

import json
import re
from html import escape

from conformance.contract import operations
from conformance.findings import Exchange, Finding
from conformance.gate import Decision, Outcome
from conformance.render.style import CHANGE_STYLES, DRIFT_STYLES, STYLES
from conformance.results import Change, OperationResult, PlatformResult, RunResult
from conformance.verdicts import Verdict, reasons

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: #444; margin: 0 0 12px; }
.gate { padding: 10px 14px; border-radius: 6px; font-weight: 600; margin: 12px 0;
  border-left: 6px solid; }
.gate.passed { background: #D9F0E9; border-color: #009E73; }
.gate.failed { background: #F7DFCC; border-color: #D55E00; }
.gate.undecided { background: #FAEBCC; border-color: #E69F00; }
.gate ul { font-weight: 400; margin: 6px 0 0; padding-left: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid #c8c8c8; padding: 6px 8px; vertical-align: top; text-align: left; }
thead th { background: #f3f3f3; font-size: 12px; }
thead th small, th.platform small { display: block; font-weight: 400; color: #555;
  font-size: 11px; }
th.platform { overflow-wrap: anywhere; }
td.cell { border-left: 5px solid; font-size: 12px; padding: 5px 4px 5px 5px; }
table.grid { table-layout: fixed; width: 100%; min-width: 1280px; }
table.grid col.platform { width: 128px; } table.grid col.rollup { width: 150px; }
table.report td.cell { max-width: 180px; }
.head { white-space: nowrap; }
.badge { display: inline-block; min-width: 1.35em; height: 1.35em; line-height: 1.35em;
  border-radius: 50%; text-align: center; font-weight: 700; margin-right: 3px; }
.label { font-weight: 600; font-size: 11.5px; }
.why { display: block; margin-top: 3px; color: #1a1a1a; overflow-wrap: anywhere; }
.why code { font-size: 11px; }
.mark { display: inline-block; margin-top: 4px; padding: 0 4px; border: 1.5px solid;
  border-radius: 3px; font-size: 11px; font-weight: 600; background: #fff; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 8px 0 14px; padding: 0;
  list-style: none; font-size: 13px; }
.legend li { display: flex; align-items: center; }
.swatch { display: inline-block; width: 14px; height: 14px; margin-right: 4px;
  border: 1px solid #888; }
.tier { font-size: 12px; white-space: nowrap; }
.bar { display: inline-block; width: 48px; height: 8px; background: #e6e6e6;
  margin: 0 4px; vertical-align: middle; }
.bar span { display: block; height: 100%; background: #009E73; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 8px; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; margin: 4px 0; }
pre.curl, pre.command { background: #1f2430; color: #f0f0f0; }
details { margin: 6px 0; } summary { cursor: pointer; }
.finding { border-left: 4px solid #999; padding: 2px 10px; margin: 10px 0; }
dl.prov { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.prov dt { color: #555; } dl.prov dd { margin: 0; overflow-wrap: anywhere; }
table.prov-table { font-size: 12px; width: 100%; }
table.prov-table td { overflow-wrap: break-word; }
footer { margin-top: 28px; color: #555; font-size: 12px; }
"""

_STATUS_CSS = "\n".join(
    f"td.cell.v-{v.value} {{ background: {s.tint}; border-left-color: {s.colour}; }}\n"
    f".badge.v-{v.value}, .swatch.v-{v.value} {{ background: {s.colour}; color: {s.ink}; }}"
    for v, s in STYLES.items()
)
_MARK_CSS = "\n".join(
    f".mark.{name} {{ border-color: {s.colour}; }}"
    for name, s in [
        *((d.value, s) for d, s in DRIFT_STYLES.items()),
        *((c.value, s) for c, s in CHANGE_STYLES.items()),
    ]
)


# Plain symbols, not emoji: they render with any font (no colour-emoji font needed).
_GATE_MARKS = {Outcome.passed: "✔", Outcome.failed: "✘", Outcome.undecided: "?"}


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_CSS}{_STATUS_CSS}\n{_MARK_CSS}\n</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _breakable(op_id: str) -> str:
    """`createReturnFulfillment` → `create<wbr>Return<wbr>Fulfillment`: narrow columns."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", escape(op_id))


def _badge(verdict: Verdict) -> str:
    style = STYLES[verdict]
    return f'<span class="badge v-{verdict.value}" aria-hidden="true">{style.symbol}</span>'


def _marks(cell: OperationResult) -> list[str]:
    marks = []
    if cell.drift and cell.declared:
        style = DRIFT_STYLES[cell.drift]
        marks.append(
            f'<span class="mark {cell.drift.value}" title="declared '
            f'{cell.declared.status.value}, observed {cell.verdict.value}">{style.symbol} '
            f"{style.label}: declared {cell.declared.status.value}</span>"
        )
    if cell.baseline and cell.baseline.change != Change.unchanged:
        style = CHANGE_STYLES[cell.baseline.change]
        was = cell.baseline.status.value if cell.baseline.status else "absent"
        marks.append(
            f'<span class="mark {cell.baseline.change.value}">{style.symbol} {style.label}'
            f"{'' if cell.baseline.change == Change.new else ' (was ' + was + ')'}</span>"
        )
    if cell.expected:
        marks.append(
            f'<span class="mark unverified" title="{escape(cell.expected.reason)}">'
            "expected failure</span>"
        )
    return marks


def _why(cell: OperationResult) -> str:
    """The note or reason every non-supported cell shows."""
    if cell.verdict == Verdict.supported:
        return ""
    known = reasons()
    code = cell.top_reason or ""
    text = known[code].title if code in known else "; ".join(cell.notes)
    claim = cell.declared
    if (
        cell.verdict == Verdict.unsupported
        and claim
        and claim.note
        and claim.status.value == "unsupported"
    ):
        text = claim.note  # the connector's own words say why the platform lacks it
    return (
        f'<span class="why"><code>{escape(code)}</code> {escape(text)}</span>'
        if code or text
        else ""
    )


def _cell_td(platform: str, cell: OperationResult) -> str:
    style = STYLES[cell.verdict]
    title = f"{platform} · {cell.operation}: {style.label}"
    if cell.reasons:
        title += " (" + ", ".join(cell.reasons) + ")"
    return (
        f'<td class="cell v-{cell.verdict.value}" data-cell="{escape(platform)}/{cell.operation}"'
        f' data-verdict="{cell.verdict.value}" title="{escape(title)}">'
        f'<span class="head">{_badge(cell.verdict)}<span class="label">{style.label}</span></span>'
        f"{_why(cell)}" + "".join("<br>" + m for m in _marks(cell)) + "</td>"
    )


def _rollup(platform: PlatformResult) -> str:
    parts = []
    for tier in platform.rollup():
        width = round(100 * tier.working / tier.total) if tier.total else 0
        failing = f" ({tier.failing} {STYLES[Verdict.failing].symbol})" if tier.failing else ""
        parts.append(
            f'<div class="tier">{tier.tier}<span class="bar"><span style="width:{width}%">'
            f"</span></span>{tier.working}/{tier.total}{failing}</div>"
        )
    return f'<td class="rollup" data-rollup="{escape(platform.name)}">{"".join(parts)}</td>'


_CHANGE_WORDS = {
    Change.regressed: "worse than the baseline (fails the gate)",
    Change.fixed: "better than the baseline",
    Change.new: "not in the baseline",
    Change.unverified: "no evidence now or then",
    Change.unchanged: "",
}


def _legend() -> list[str]:
    items = [
        f'<li><span class="swatch v-{v.value}"></span>{_badge(v)}{s.label}</li>'
        for v, s in STYLES.items()
    ]
    items += [
        f'<li><span class="mark {d.value}">{s.symbol} {s.label}</span>&nbsp;'
        f"{'declared better than observed (fails the gate)' if d.value == 'overclaim' else 'declared worse than observed'}</li>"  # noqa: E501
        for d, s in DRIFT_STYLES.items()
    ]
    items += [
        f'<li><span class="mark {c.value}">{s.symbol} {s.label}</span>&nbsp;{_CHANGE_WORDS[c]}</li>'
        for c, s in CHANGE_STYLES.items()
        if c != Change.unchanged
    ]
    items.append(
        '<li><span class="mark unverified">expected failure</span>&nbsp;listed, with '
        "a reason, in the expected-failures file</li>"
    )
    return ['<ul class="legend" id="legend" aria-label="legend">', *items, "</ul>"]


def _gate_banner(decision: Decision, platform: str | None = None) -> list[str]:
    failures = [g for g in decision.failures() if platform is None or g.platform == platform]
    outcome = decision.outcome
    if platform is not None:
        undecided = platform in decision.undecided
        outcome = (
            Outcome.failed if failures else (Outcome.undecided if undecided else Outcome.passed)
        )
        headline = f"gate {outcome.value}" + (": nothing decided" if undecided else "")
    else:
        headline = decision.headline()
    lines = [
        f'<div class="gate {outcome.value}" id="gate">{_GATE_MARKS[outcome]} {escape(headline)}'
    ]
    if failures:
        lines.append("<ul>")
        lines += [
            f"<li>{escape(g.platform)} · <code>{g.operation}</code>: {g.verdict.value} "
            f"({escape(', '.join(p.value for p in g.problems))})</li>"
            for g in failures[:50]
        ]
        if len(failures) > 50:
            lines.append(f"<li>… and {len(failures) - 50} more</li>")
        lines.append("</ul>")
    lines.append("</div>")
    return lines


def _provenance(platform: PlatformResult) -> list[str]:
    prov = platform.provenance
    rows = [
        ("target", platform.target),
        ("suite / contract", f"{prov.suite_version} / {prov.contract_version}"),
        ("schemas", prov.schema_hash),
        ("seed", str(prov.seed)),
        ("generated", f"{prov.generated_at} ({prov.duration_seconds:.1f} s)"),
        ("writes", "allowed" if prov.writes_allowed else "not allowed"),
        ("generated examples", str(prov.max_examples)),
        ("declared", prov.declared_source or "no manifest"),
        (
            "baseline",
            f"{prov.baseline_source} ({prov.baseline_generated_at or '—'})"
            if prov.baseline_source
            else "none",
        ),
        ("expected failures", prov.expected_failures_source or "none"),
        ("command", prov.command),
    ]
    return [
        '<dl class="prov">',
        *(f"<dt>{k}</dt><dd>{escape(v)}</dd>" for k, v in rows),
        "</dl>",
    ]


# --------------------------------------------------------------------------- matrix page


def _provenance_table(run: RunResult) -> list[str]:
    """One row per platform: where, how and when its matrix was produced."""
    head = (
        "<tr><th>platform</th><th>target</th><th>suite / contract</th><th>schemas</th>"
        "<th>seed</th><th>generated</th><th>writes</th><th>examples</th>"
        "<th>declared</th><th>baseline</th><th>command</th></tr>"
    )
    rows = []
    for platform in run.platforms:
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
    return ['<div class="scroll"><table class="prov-table">', head, *rows, "</table></div>"]


def render_matrix_page(run: RunResult, decision: Decision, title: str | None = None) -> str:
    """Platforms × operations, with roll-ups, drift marks, legend and provenance."""
    ops = operations()
    title = title or "Returns capability matrix"
    counts = run.counts()
    head = ['<tr><th scope="col">platform</th>']
    head += [
        f'<th scope="col" class="op">{_breakable(op.id)}<small>{op.method} · {op.tier}</small></th>'
        for op in ops
    ]
    head.append('<th scope="col">roll-up<small>usable / operations</small></th></tr>')
    rows = []
    for platform in run.platforms:
        imitates = (
            f"<small>imitates {escape(platform.imitates)}</small>"
            if platform.imitates
            else f"<small>{escape(platform.target)}</small>"
        )
        rows.append(
            f'<tr><th scope="row" class="platform">{escape(platform.name)}{imitates}</th>'
            + "".join(_cell_td(platform.name, platform.cell(op.id)) for op in ops)
            + _rollup(platform)
            + "</tr>"
        )
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{len(run.platforms)} platforms × {len(ops)} operations · '
        + ", ".join(f"{counts[v]} {s.label}" for v, s in STYLES.items() if counts[v])
        + "</p>",
        *_gate_banner(decision),
        *_legend(),
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
        "<h2>Provenance</h2>",
        *_provenance_table(run),
    ]
    latest = max((p.provenance.generated_at for p in run.platforms), default="—")
    body.append(
        f"<footer>Built by <code>conformance matrix</code> from {len(run.platforms)} capability "
        f"matrices (latest {escape(latest)}). Colours: Okabe–Ito; every cell also carries a "
        "symbol and a word.</footer>"
    )
    return _page(title, body)


# --------------------------------------------------------------------------- platform report


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


def _finding(finding: Finding) -> list[str]:
    known = reasons()
    verdict = known[finding.reason].verdict if finding.reason in known else Verdict.failing
    info = known.get(finding.reason)
    lines = [
        f'<div class="finding" style="border-left-color:{STYLES[verdict].colour}">',
        f"<p>{_badge(verdict)}<b><code>{escape(finding.reason)}</code></b>"
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
    if finding.reproduce:
        lines += ["<b>reproduce</b>", f'<pre class="curl">{escape(finding.reproduce)}</pre>']
    lines.append("</div>")
    return lines


def render_platform_report(platform: PlatformResult, decision: Decision) -> str:
    """Everything a connector developer needs to reproduce what broke, in one file."""
    title = f"Returns conformance: {platform.name}"
    head = (
        "<tr><th>operation</th><th>verdict</th><th>reasons</th><th>declared</th>"
        "<th>checks</th><th>notes</th></tr>"
    )
    rows = []
    for cell in platform.operations:
        declared = cell.declared.status.value if cell.declared else "—"
        notes = "; ".join(
            n for n in (cell.declared.note if cell.declared else "", *cell.notes) if n
        )
        link = (
            f'<a href="#op-{cell.operation}">{cell.operation}</a>'
            if cell.findings
            else cell.operation
        )
        rows.append(
            f'<tr><th scope="row"><code>{link}</code></th>'
            + _cell_td(platform.name, cell)
            + f"<td>{escape(', '.join(cell.reasons))}</td><td>{declared}</td>"
            f"<td>{cell.checks_passed}/{cell.checks_run}</td><td>{escape(notes)}</td></tr>"
        )
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(platform.target)}'
        + (f" · imitates {escape(platform.imitates)}" if platform.imitates else "")
        + f" · {platform.passed} passed, {platform.failed} failed, {platform.skipped} not decided"
        "</p>",
        *_gate_banner(decision, platform.name),
        '<div class="tier">'
        + " · ".join(f"{t.tier} {t.working}/{t.total}" for t in platform.rollup())
        + "</div>",
        *_legend(),
        f'<div class="scroll"><table class="report">{head}',
        *rows,
        "</table></div>",
        "<h2>Findings</h2>",
    ]
    with_findings = [c for c in platform.operations if c.findings]
    if not with_findings:
        body.append("<p>No findings: every operation is supported.</p>")
    for cell in with_findings:
        body.append(
            f'<h3 id="op-{cell.operation}">{_badge(cell.verdict)}'
            f"<code>{cell.operation}</code>: {STYLES[cell.verdict].label}</h3>"
        )
        for finding in cell.findings:
            body += _finding(finding)
        if cell.rerun:
            body += ["<b>rerun this cell</b>", f'<pre class="command">{escape(cell.rerun)}</pre>']
    body += ["<h2>Provenance</h2>", *_provenance(platform)]
    return _page(title, body)
