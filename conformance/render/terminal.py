"""The terminal: progress while running, then one table of operations × platforms."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from conformance.contract import operations
from conformance.render.style import STYLES
from conformance.results import RunResult


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
            row.append(f"[{style.rich}]{text}[/]" if colour else text)
        table.add_row(*row)
    return table


def print_summary(console: Console, run: RunResult, *, colour: bool) -> None:
    console.print(matrix_table(run, colour=colour))
    counts = ", ".join(f"{sum(p.counts()[v] for p in run.platforms)} {v.value}" for v in STYLES)
    console.print(f"cells: {counts}", highlight=False, markup=False)
    console.print(f"{run.passed} passed, {run.failed} failed", highlight=False, markup=False)
