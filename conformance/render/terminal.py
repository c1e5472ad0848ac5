"""The terminal: one table of operations × platforms, then the gate's decision, then the closing
count line. Also the plain-text form of a finding that JUnit and pytest items print."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from conformance.contract import operations
from conformance.findings import Finding
from conformance.gate import Decision
from conformance.render.style import DRIFT_STYLES, STYLES
from conformance.results import RunResult
from conformance.verdicts import reasons

MAX_BODY = 600


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
    """Table, cell counts, the gate's problems, then `N passed, N failed` (the closing line
    before the list of files: scripts parse it)."""
    console.print(matrix_table(run, colour=colour))
    counts = ", ".join(f"{run.counts()[v]} {v.value}" for v in STYLES)
    console.print(f"cells: {counts}", highlight=False, markup=False)
    if decision is not None:
        for gate in decision.failures():
            why = ", ".join(p.value for p in gate.problems)
            console.print(
                f"  {gate.platform} {gate.operation}: {gate.verdict.value} ({why})",
                highlight=False,
                markup=False,
            )
        console.print(decision.headline(), highlight=False, markup=False)
    console.print(f"{run.passed} passed, {run.failed} failed", highlight=False, markup=False)


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
