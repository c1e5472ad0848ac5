"""The run's Markdown summary, for `$GITHUB_STEP_SUMMARY` or a pull-request comment.

Verdict first, then what a release engineer acts on (gate problems, regressions, drift, expected
failures), then the matrix, then the findings folded in `<details>`. A PR comment holds at most
65,536 characters, so the text stays under `LIMIT` bytes: sections are added in that order and,
once the budget is spent, the rest is left out with a note saying what and where to find it.
"""

from __future__ import annotations

import html

from conformance.contract import operations
from conformance.gate import Decision, Expected, Problem, expected_badge
from conformance.render.style import (
    CHANGE_STYLES,
    DRIFT_STYLES,
    GATE_SYMBOLS,
    STYLES,
    cell_style,
    legend_entries,
)
from conformance.render.terminal import finding_text
from conformance.results import Change, Drift, OperationResult, RunResult

LIMIT = 60_000
"""Bytes (UTF-8); under GitHub's 65,536-character comment limit with room to spare."""
_RESERVE = 600  # kept free for the closing note


def _md(text: str) -> str:
    """Safe inside a table cell: no HTML, no pipes, one line."""
    return html.escape(" ".join(text.split())).replace("|", "\\|")


def _cell(cell: OperationResult) -> str:
    style = cell_style(cell)  # unsupported shows its kind: absent (501/405) or not allowed (403)
    text = style.symbol if cell.verdict.value == "supported" else f"{style.symbol} {style.label}"
    if cell.top_reason and cell.verdict.value != "supported":
        text += f" `{cell.top_reason}`"
    if cell.drift:
        text += f" {DRIFT_STYLES[cell.drift].symbol}"
    if cell.baseline and cell.baseline.change not in (Change.unchanged, Change.new):
        text += f" {CHANGE_STYLES[cell.baseline.change].symbol}"
    return text


class _Budget:
    """Blocks of lines, accepted while they fit; what did not fit is counted for the note."""

    def __init__(self, limit: int) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.limit = limit - _RESERVE
        self.dropped: list[str] = []

    def add(self, block: list[str], what: str) -> bool:
        size = sum(len(line.encode()) + 1 for line in block)
        if self.dropped or self.size + size > self.limit:
            self.dropped.append(what)
            return False
        self.lines += block
        self.size += size
        return True

    def table(
        self, title: str, header: list[str], rows: list[str], what: str, cap: int = 10_000
    ) -> None:
        """A table whose rows are cut, with a count, at `cap` or when the budget runs out."""
        if not rows or not self.add([f"### {title}", "", *header], what):
            return
        for index, row in enumerate(rows):
            size = len(row.encode()) + 1
            if index >= cap or self.size + size > self.limit:
                left = len(rows) - index
                self.lines += [f"| … {left} more rows: see the reports |", ""]
                if index < cap:
                    self.dropped.append(f"{left} rows of {what}")
                return
            self.lines.append(row)
            self.size += size
        self.add([""], what)


def render_refused(lines: list[str]) -> str:
    """Appended to the summary when the suite could not write a platform's matrix (exit 3)."""
    return "\n".join(
        [
            "",
            "## Internal error: matrices not written",
            "",
            "The suite built a matrix it could not write (a bug in the suite, exit code 3: please",
            "report it with the file named). The other platforms' files are written.",
            "",
            *[f"- {_md(line)}" for line in lines],
            "",
        ]
    )


def render_error(line: str) -> str:
    """The summary of a run that could not start (exit code 2): the one-line error, and what
    the exit code means, so that a CI step summary says why there is no matrix."""
    return "\n".join(
        [
            "## Returns conformance: the run could not start",
            "",
            f"    {line}",
            "",
            "Exit code 2: nothing was tested, so there is no matrix and no gate verdict. Fix the",
            "input above and run again.",
            "",
        ]
    )


def render_summary(run: RunResult, decision: Decision, limit: int = LIMIT) -> str:
    budget = _Budget(limit)
    _headline(budget, run, decision)
    cells = [(p.name, c) for p in run.platforms for c in p.operations]
    budget.table(
        "Changes since the baseline",
        ["| platform | operation | was | now | change |", "|---|---|---|---|---|"],
        [
            _change_row(name, c)
            for move in _MOVES
            for name, c in cells
            if c.baseline and c.baseline.change == move
        ],
        "baseline changes",
        cap=_CAP,
    )
    budget.table(
        "Drift: declared vs observed",
        ["| platform | operation | declared | observed | drift | note |", "|---" * 6 + "|"],
        [_drift_row(name, c) for drift in Drift for name, c in cells if c.drift == drift],
        "drift",
        cap=_CAP,
    )
    budget.table(
        "Expected failures",
        ["| platform | operation | now | outcome | reason |", "|---|---|---|---|---|"],
        [_expected_row(name, c, decision) for name, c in cells if c.expected],
        "expected failures",
        cap=_CAP,
    )
    budget.table(
        "Cells that fail the gate by their verdict",
        ["| platform | operation | verdict | reasons |", "|---|---|---|---|"],
        [
            f"| {_md(name)} | `{c.operation}` | {_cell(c)} | {_md(', '.join(c.reasons))} |"
            for name, c in cells
            if Problem.verdict in decision.cell(name, c.operation).problems
        ],
        "failing cells",
        cap=30,
    )
    _matrix(budget, run)
    _details(budget, run)
    _provenance(budget, run)
    if budget.dropped:
        budget.lines += [
            "",
            f"> Trimmed to stay under {limit // 1000} KB: left out "
            + ", ".join(dict.fromkeys(budget.dropped))
            + ". The full results are in the uploaded reports (HTML, JUnit, matrices).",
        ]
    return "\n".join(budget.lines).rstrip() + "\n"


_MOVES = (Change.regressed, Change.fixed)  # regressions first
_CAP = 60  # rows per problem table, so that the matrix always fits after them


def _headline(budget: _Budget, run: RunResult, decision: Decision) -> None:
    counts = run.counts()
    cells = ", ".join(f"{counts[v]} {s.symbol} {s.label}" for v, s in STYLES.items() if counts[v])
    policy = ", ".join(sorted(v.value for v in decision.fail_on))
    budget.add(
        [
            f"## {GATE_SYMBOLS[decision.outcome.value]} Returns conformance: {decision.headline()}",
            "",
            f"{len(run.platforms)} platforms · {sum(counts.values())} cells: {cells} · "
            f"the gate fails on {policy}, overclaims, regressions and stale expected failures",
            "",
        ],
        "the headline",
    )
    if decision.undecided:
        budget.add(
            [
                "> **Nothing was decided** for "
                + ", ".join(decision.undecided)
                + ": no evidence is never a pass. Check the target, the token and the test data.",
                "",
            ],
            "the undecided note",
        )


def _change_row(platform: str, cell: OperationResult) -> str:
    assert cell.baseline is not None
    was = cell.baseline.status
    mark = CHANGE_STYLES[cell.baseline.change]
    return (
        f"| {_md(platform)} | `{cell.operation}` | {STYLES[was].label if was else '—'} | "
        f"{_cell(cell)} | {mark.symbol} {mark.label} |"
    )


def _drift_row(platform: str, cell: OperationResult) -> str:
    assert cell.declared is not None and cell.drift is not None
    mark = DRIFT_STYLES[cell.drift]
    return (
        f"| {_md(platform)} | `{cell.operation}` | {cell.declared.status.value} | {_cell(cell)} "
        f"| {mark.symbol} {mark.label} | {_md(cell.declared.note)} |"
    )


def _expected_row(platform: str, cell: OperationResult, decision: Decision) -> str:
    assert cell.expected is not None
    outcome = decision.cell(platform, cell.operation).expected
    bad = "❌ " if outcome in (Expected.stale, Expected.unmatched) else ""
    word, why = expected_badge(cell, outcome) or ("", cell.expected.reason)
    return (
        f"| {_md(platform)} | `{cell.operation}` | {_cell(cell)} | {bad}{_md(word)} | {_md(why)} |"
    )


def _matrix(budget: _Budget, run: RunResult) -> None:
    ops = [op.id for op in operations()]
    legend = " · ".join(
        f"{s.symbol} **{s.label}**: {meaning}" for _, s, meaning in legend_entries()
    )
    legend += " · " + " · ".join(f"{s.symbol} {s.label}" for s in DRIFT_STYLES.values())
    legend += " · " + " · ".join(
        f"{s.symbol} {s.label}"
        for c, s in CHANGE_STYLES.items()
        if c in (Change.regressed, Change.fixed, Change.unverified)
    )
    header = [
        "| platform | " + " | ".join(f"`{op}`" for op in ops) + " | read | write | workflow |",
        "|---" * (len(ops) + 4) + "|",
    ]
    rows = [
        f"| {_md(p.name)} | "
        + " | ".join(_cell(c) for c in p.operations)
        + " | "
        + " | ".join(
            f"{t.working}/{t.total}"
            + (f" ({len(t.not_needed)} not needed)" if t.not_needed else "")
            for t in p.rollup()
        )
        + " |"
        for p in run.platforms
    ]
    budget.table("Matrix", header, rows, "matrix rows")
    budget.add([legend, ""], "the legend")


def _details(budget: _Budget, run: RunResult) -> None:
    for platform in run.platforms:
        for cell in platform.operations:
            if not cell.findings or cell.verdict.value in ("supported", "unsupported"):
                continue
            style = STYLES[cell.verdict]
            body = "\n\n".join(finding_text(f) for f in cell.findings[:3])
            more = len(cell.findings) - 3
            block = [
                f"<details><summary>{html.escape(platform.name)} · <code>{cell.operation}</code>"
                f": {style.symbol} {style.label}</summary>",
                "",
                "```text",
                body.replace("```", "'''"),
                "```",
            ]
            if more > 0:
                block.append(f"… and {more} more findings in the HTML report")
            if cell.rerun:
                block += ["", f"Rerun: `{cell.rerun}`"]
            block += ["", "</details>", ""]
            budget.add(block, "finding details")


def _provenance(budget: _Budget, run: RunResult) -> None:
    if not run.platforms:
        return
    first = run.platforms[0].provenance
    seeds = sorted({p.provenance.seed for p in run.platforms})
    budget.add(
        [
            f"<sub>suite {first.suite_version} · contract {first.contract_version} · "
            f"schemas `{first.schema_hash[:19]}…` · seed {', '.join(map(str, seeds))} · "
            f"generated {max(p.provenance.generated_at for p in run.platforms)}</sub>",
        ],
        "provenance",
    )
