"""The terminal: one table of operations × platforms, the gate's decision, the closing count line
in pytest's words, then what broke: each failing or inconclusive cell with its reasons, a curl
line and the report that holds the evidence. Also the plain-text form of a finding that JUnit and
pytest items print."""

from __future__ import annotations

import json
import shlex
import urllib.parse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conformance.contract import operations
from conformance.findings import Finding
from conformance.gate import Decision
from conformance.render.style import DRIFT_STYLES, STYLES
from conformance.repro import REPRO_DIR, script_names
from conformance.results import OperationResult, PlatformResult, RunResult
from conformance.verdicts import Verdict, reasons

MAX_BODY = 600
PER_CELL = 3  # findings shown per cell; the rest are counted ("+N more")
MAX_CELLS = 20  # cells shown after the table; the rest are counted
MAX_LINE = 240  # a message or curl line longer than this is cut (the report has it whole)


def matrix_table(run: RunResult, *, colour: bool) -> Table:
    table = Table(title="Returns capability matrix", show_lines=False)
    table.add_column("operation", style="bold" if colour else "")
    for platform in run.platforms:
        table.add_column(platform.name)
    for op in operations():
        row = [op.id]
        for platform in run.platforms:
            cell = platform.cell(op.id)
            style = STYLES[cell.verdict]
            text = f"{style.symbol} {style.label}"
            if cell.top_reason:
                text += f" ({cell.top_reason})"
            if cell.drift:
                text += f" {DRIFT_STYLES[cell.drift].symbol} {cell.drift.value}"
            row.append(f"[{style.rich}]{text}[/]" if colour else text)
        table.add_row(*row)
    return table


def print_summary(
    console: Console, run: RunResult, *, colour: bool, decision: Decision | None = None
) -> None:
    """Table, cell counts, the gate's problems, then the count line in pytest's words, e.g.
    `36 passed, 24 skipped (unsupported), 1 failed, 2 xfailed` (scripts parse it)."""
    console.print(matrix_table(run, colour=colour))
    counts = ", ".join(f"{run.counts()[v]} {v.value}" for v in STYLES)
    console.print(f"cells: {counts}", highlight=False, markup=False)
    for line in retried_lines(run):
        console.print(line, highlight=False, markup=False)
    if decision is not None:
        for gate in decision.failures():
            why = ", ".join(p.value for p in gate.problems)
            console.print(
                f"  {gate.platform} {gate.operation}: {gate.verdict.value} ({why})",
                highlight=False,
                markup=False,
            )
        console.print(decision.headline(), highlight=False, markup=False)
        console.print(decision.tally_line(), highlight=False, markup=False)
    else:
        console.print(f"{run.passed} passed, {run.failed} failed", highlight=False, markup=False)


def retried_lines(run: RunResult) -> list[str]:
    """Per platform, the requests that needed a retry after transient answers (contract section
    2: a note, never a deviation, but never swallowed either), operation by operation."""
    lines = []
    for platform in run.platforms:
        parts = [f"{c.operation} {c.retried.short}" for c in platform.operations if c.retried]
        if parts:
            lines.append(f"retried requests on {platform.name}: " + "; ".join(parts))
    return lines


def findings_lines(run: RunResult, decision: Decision, output_dir: Path) -> list[str]:
    """What broke, the way pytest ends a run: each failing, then each inconclusive cell, with
    its reason codes, up to PER_CELL findings (message and curl line) and where the evidence is.
    """
    lines: list[str] = []
    cells = [
        (platform.name, cell)
        for verdict in (Verdict.failing, Verdict.inconclusive)
        for platform in run.platforms
        for cell in platform.operations
        if cell.verdict == verdict
    ]
    by_name = {p.name: p for p in run.platforms}
    for shown, (name, cell) in enumerate(cells):
        if shown == MAX_CELLS:
            lines.append(f"+{len(cells) - shown} more cells: see the reports under {output_dir}/")
            break
        gate = decision.cell(name, cell.operation)
        word = "FAILED" if gate.fails else "XFAIL" if gate.waived else cell.verdict.value.upper()
        lines.append(
            f"{word} {name} {cell.operation}: {cell.verdict.value} ({', '.join(cell.reasons)})"
        )
        scripts = script_names(f for c in by_name[name].operations for f in c.findings)
        for finding in cell.findings[:PER_CELL]:
            lines.append(f"  {finding.reason}: {_one_line(finding.message)}")
            if finding.key in scripts:
                script = output_dir / "reports" / name / REPRO_DIR / scripts[finding.key]
                lines.append(f"    replay: BASE_URL=… CONFORMANCE_TOKEN=… sh {script}")
            elif finding.reproduce:
                lines.append(f"    {_one_line(finding.reproduce)}")
        if len(cell.findings) > PER_CELL:
            lines.append(f"  +{len(cell.findings) - PER_CELL} more findings")
        server = serve_line(by_name[name], cell)
        if server:
            lines.append(f"  the same server again: {server}")
        report = output_dir / "reports" / name / "report.html"
        lines.append(f"  evidence: {report}#op-{cell.operation}")
    return lines + unmarked_lines(run, output_dir)


def unmarked_lines(run: RunResult, output_dir: Path) -> list[str]:
    """A store owner finds the suite's returns by their note; where the platform kept none,
    say so and where the ids are (an embedded reference store is gone: nothing to find)."""
    lines = []
    for platform in run.platforms:
        unmarked = platform.unmarked()
        if unmarked and not platform.target.startswith("reference:"):
            where = output_dir / "reports" / platform.name / "findings.json"
            lines.append(
                f"NOTE {platform.name}: {len(unmarked)} returns the suite created show no note "
                f"(the platform kept none); their ids are under `created` in {where}"
            )
    return lines


def serve_line(platform: PlatformResult, cell: OperationResult) -> str | None:
    """For an embedded reference platform, the `conformance serve` line that brings back the
    server the curl lines spoke to (same profile, defects, variations and port): the run's own
    server is gone once the run ends. Taken from the cell's rerun line, which holds the flags."""
    if not platform.target.startswith("reference:") or not cell.findings:
        return None
    words = ["conformance", "serve", "--platform", platform.target.split(":", 1)[1]]
    given = shlex.split(cell.rerun or "")
    for index, word in enumerate(given):
        flag, _, value = word.partition("=")
        if flag in ("--defect", "--variation"):
            words += [flag, value or (given[index + 1] if index + 1 < len(given) else "")]
    url = next((e.url for f in cell.findings for e in f.evidence), None)
    port = urllib.parse.urlsplit(url).port if url else None
    if port:
        words += ["--port", str(port)]
    return shlex.join(words) + "  # token from $CONFORMANCE_TOKEN"


def print_findings(console: Console, run: RunResult, decision: Decision, output_dir: Path) -> None:
    for line in findings_lines(run, decision, output_dir):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 1] + "…"


def finding_text(finding: Finding) -> str:
    """A finding as plain text: reason, message, steps, each exchange, then the curl line."""
    known = reasons()
    title = known[finding.reason].title if finding.reason in known else ""
    hint = known[finding.reason].hint if finding.reason in known else ""
    lines = [f"{finding.reason}: {title}" if title else finding.reason, finding.message]
    if hint:
        lines.append(f"hint: {hint}")
    if finding.steps:
        lines += ["steps:", *(f"  {i}. {step}" for i, step in enumerate(finding.steps, 1))]
    for exchange in finding.evidence:
        answer = exchange.error or f"{exchange.status}"
        lines.append(f"{exchange.method} {exchange.url} -> {answer}")
        if exchange.request_body is not None:
            lines.append("  request: " + _short(exchange.request_body))
        if exchange.response_body is not None:
            lines.append("  response: " + _short(exchange.response_body))
    if finding.seed is not None:
        lines.append(f"seed: {finding.seed}")
    if finding.reproduce:
        lines += ["reproduce:", f"  {finding.reproduce}"]
    return "\n".join(lines)


def _short(body: object) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return text if len(text) <= MAX_BODY else text[:MAX_BODY] + "…"
