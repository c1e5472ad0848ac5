"""One platform's capability matrix as Markdown (`capability_matrices/<platform>.md`): verdict
first, then the matrix with what the connector declared and any drift, then findings folded.

It renders the matrix JSON and nothing else (no gate policy, no clock), so the committed `.md`
is exactly what its `.json` says.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.render.style import CHANGE_STYLES, DRIFT_STYLES, cell_style
from conformance.results import Change, Drift, OperationResult, PlatformResult
from conformance.verdicts import reasons


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def _cell_reason(codes: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in codes) if codes else ""


def _declared(cell: OperationResult) -> str:
    if cell.declared is None:
        return "—"
    text = cell.declared.status.value
    if cell.drift:
        style = DRIFT_STYLES[cell.drift]
        text += f" **{style.symbol} {style.label}**"
    return text


def _baseline(cell: OperationResult) -> str:
    if cell.baseline is None or cell.baseline.change == Change.unchanged:
        return ""
    style = CHANGE_STYLES[cell.baseline.change]
    was = cell.baseline.status.value if cell.baseline.status else "absent"
    return f" {style.symbol} {style.label} (was {was})"


def render_platform(result: PlatformResult) -> str:
    prov = result.provenance
    verdict = "❌ failing operations" if result.failed else "✅ no failing operation"
    overclaims = len(result.with_drift(Drift.overclaim))
    lines = [
        f"# Returns capability matrix: {result.name}",
        "",
        f"**{verdict}** — {result.passed} passed, {result.failed} failed, "
        f"{result.skipped} not decided (inconclusive or untested)"
        + (f"; **{overclaims} overclaimed**" if overclaims else ""),
        "",
    ]
    if result.imitates:
        lines += [f"Reference platform imitating {result.imitates}.", ""]
    lines += [
        "Roll-up (operations a client can use): "
        + " · ".join(
            f"{t.tier} {t.working}/{t.total}"
            + (f" ({', '.join(t.not_needed)} not needed)" if t.not_needed else "")
            for t in result.rollup()
        ),
        "",
        "| operation | verdict | reasons | declared | checks | notes |",
        "|---|---|---|---|---|---|",
    ]
    skip = result.not_needed()
    for cell in result.operations:
        style = cell_style(cell)  # unsupported shows its kind: absent or not allowed
        notes = "; ".join(cell.notes)
        if cell.operation in skip:
            notes = "; ".join(n for n in (notes, f"not needed: {skip[cell.operation]}") if n)
        if cell.declared and cell.declared.note and cell.verdict.value != "supported":
            notes = "; ".join(n for n in (cell.declared.note, notes) if n)
        lines.append(
            f"| `{cell.operation}` | {style.symbol} {style.label}{_baseline(cell)} "
            f"| {_cell_reason(cell.reasons)} | {_declared(cell)} "
            f"| {cell.checks_passed}/{cell.checks_run} | {_escape(notes)} |"
        )
    lines.append("")
    expected = [c for c in result.operations if c.expected]
    if expected:
        lines += ["## Expected failures", ""]
        lines += [
            f"- `{c.operation}`: {_escape(c.expected.reason)}" for c in expected if c.expected
        ]
        lines.append("")
    details = [c for c in result.operations if c.findings]
    if details:
        lines += ["## Findings", ""]
    known = reasons()
    for cell in details:
        lines += [
            f"<details><summary><code>{cell.operation}</code>: {cell_style(cell).label}</summary>",
            "",
        ]
        for finding in cell.findings:
            title = known[finding.reason].title if finding.reason in known else finding.reason
            lines.append(f"- **{finding.reason}** ({title}): {_escape(finding.message)}")
            if finding.reproduce:
                lines += ["", "  ```sh", f"  {finding.reproduce}", "  ```"]
        if cell.rerun:
            lines += ["", f"Rerun: `{cell.rerun}`"]
        lines += ["", "</details>", ""]
    lines += _left_behind(result)
    lines += [
        "## Provenance",
        "",
        f"- target: `{result.target}`",
        f"- suite {prov.suite_version}, contract {prov.contract_version}, "
        f"schemas `{prov.schema_hash[:19]}…`",
        f"- seed {prov.seed}; writes {'allowed' if prov.writes_allowed else 'not allowed'}; "
        f"generated examples per property: {prov.max_examples}",
        f"- declared capabilities: {prov.declared_source or 'none (no manifest)'}",
    ]
    if prov.baseline_source:
        lines.append(f"- baseline: {prov.baseline_source} ({prov.baseline_generated_at or '—'})")
    if prov.expected_failures_source:
        lines.append(f"- expected failures: {prov.expected_failures_source}")
    lines += [f"- generated {prov.generated_at} in {prov.duration_seconds:.1f} s", ""]
    return "\n".join(lines)


def _left_behind(result: PlatformResult) -> list[str]:
    """What a store owner must clean up by hand: returns still open (the platform would not
    cancel them) and returns that show no note (only their ids say the suite made them)."""
    returns, still_open, unmarked = result.created_returns(), result.still_open(), result.unmarked()
    if not still_open and not unmarked:
        return []
    lines = ["## Left on the target", ""]
    if still_open:
        lines.append(
            f"- {len(still_open)} of the {len(returns)} returns the run created are still open "
            "(the platform would not cancel them): "
            + _some(f"`{c.id}` ({c.status}, order `{c.order_id}`)" for c in still_open)
        )
    if unmarked:
        lines.append(
            f"- {len(unmarked)} of the {len(returns)} returns the run created show no note "
            "(the platform kept neither the return's nor the items' note), so only these ids "
            "say the suite made them: "
            + _some(f"`{c.id}` (order `{c.order_id}`)" for c in unmarked)
        )
    return [*lines, ""]


def _some(names: Iterable[str], shown: int = 10) -> str:
    every = list(names)
    rest = len(every) - shown
    more = f" and {rest} more (`created` in the JSON)" if rest > 0 else ""
    return ", ".join(every[:shown]) + more
