"""The capability matrix as Markdown: verdict first, then the matrix, findings folded."""

from __future__ import annotations

from conformance.render.style import STYLES
from conformance.results import PlatformResult
from conformance.verdicts import reason


def _cell_reason(codes: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in codes) if codes else ""


def render_platform(result: PlatformResult) -> str:
    prov = result.provenance
    verdict = "❌ failing operations" if result.failed else "✅ no failing operation"
    lines = [
        f"# Returns capability matrix: {result.name}",
        "",
        f"**{verdict}** — {result.passed} passed, {result.failed} failed, "
        f"{result.skipped} not decided (inconclusive or untested)",
        "",
    ]
    if result.imitates:
        lines += [f"Reference platform imitating {result.imitates}.", ""]
    lines += [
        "| operation | verdict | reasons | checks | notes |",
        "|---|---|---|---|---|",
    ]
    for cell in result.operations:
        style = STYLES[cell.verdict]
        notes = "; ".join(cell.notes).replace("|", "\\|")
        lines.append(
            f"| `{cell.operation}` | {style.symbol} {style.label} | {_cell_reason(cell.reasons)} "
            f"| {cell.checks_passed}/{cell.checks_run} | {notes} |"
        )
    lines.append("")
    details = [c for c in result.operations if c.findings]
    if details:
        lines += ["## Findings", ""]
    for cell in details:
        lines += [
            f"<details><summary><code>{cell.operation}</code>: "
            f"{STYLES[cell.verdict].label}</summary>",
            "",
        ]
        for finding in cell.findings:
            lines.append(
                f"- **{finding.reason}** ({reason(finding.reason).title}): {finding.message}"
            )
            if finding.reproduce:
                lines += ["", "  ```sh", f"  {finding.reproduce}", "  ```"]
        if cell.rerun:
            lines += ["", f"Rerun: `{cell.rerun}`"]
        lines += ["", "</details>", ""]
    lines += [
        "## Provenance",
        "",
        f"- target: `{result.target}`",
        f"- suite {prov.suite_version}, contract {prov.contract_version}, "
        f"schemas `{prov.schema_hash[:19]}…`",
        f"- seed {prov.seed}; writes {'allowed' if prov.writes_allowed else 'not allowed'}",
        f"- generated {prov.generated_at} in {prov.duration_seconds:.1f} s",
        "",
    ]
    return "\n".join(lines)
