"""One verdict ordering (`conformance.verdicts.PRECEDENCE`) and one answer for a reason code the
suite does not know (`verdict_of`): every other place asks them, and a second copy fails here."""

from __future__ import annotations

import ast
from itertools import product
from pathlib import Path

from conformance.findings import Finding
from conformance.gate import Decision, Outcome, change, drift, platform_outcome
from conformance.gate.cases import CellGate
from conformance.render.html_base import gate_banner
from conformance.render.html_report import _finding
from conformance.render.style import STYLES
from conformance.results import DECIDED, Change, Claim, Drift, OperationResult
from conformance.verdicts import PRECEDENCE, Verdict, combine, reasons, verdict_of

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
UNKNOWN = "a_reason_from_a_newer_suite"


def test_precedence_is_the_style_guides() -> None:
    """failing > unsupported > inconclusive > partial > supported; untested only when nothing
    was tried."""
    assert sorted(Verdict, key=lambda v: v.severity) == list(PRECEDENCE)
    assert len(set(PRECEDENCE)) == len(Verdict)
    assert list(PRECEDENCE) == [
        Verdict.untested,
        Verdict.supported,
        Verdict.partial,
        Verdict.inconclusive,
        Verdict.unsupported,
        Verdict.failing,
    ]
    assert combine([]) == Verdict.untested
    for a, b in product(Verdict, Verdict):
        assert combine([a, b]) == (a if a.worse_than(b) or a == b else b)


def test_the_gate_orders_decided_verdicts_by_the_same_precedence() -> None:
    """Baseline order, best first: supported > partial > unsupported > failing, which is the
    precedence read backwards over the decided verdicts."""
    for before, now in product(Verdict, Verdict):
        moved = change(before, now)
        if before == now:
            assert moved == Change.unchanged
        elif before not in DECIDED or now not in DECIDED:
            assert moved == Change.unverified
        else:
            expected = Change.regressed if now.severity > before.severity else Change.fixed
            assert moved == expected, (before, now)


def test_drift_follows_the_precedence() -> None:
    table = {
        (Claim.supported, Verdict.supported): None,
        (Claim.supported, Verdict.partial): Drift.overclaim,
        (Claim.supported, Verdict.unsupported): Drift.overclaim,
        (Claim.supported, Verdict.failing): Drift.overclaim,
        (Claim.partial, Verdict.supported): Drift.underclaim,
        (Claim.partial, Verdict.partial): None,
        (Claim.partial, Verdict.unsupported): Drift.overclaim,
        (Claim.partial, Verdict.failing): Drift.overclaim,
        (Claim.unsupported, Verdict.supported): Drift.underclaim,
        (Claim.unsupported, Verdict.partial): Drift.underclaim,
        (Claim.unsupported, Verdict.unsupported): None,
        (Claim.unsupported, Verdict.failing): None,
    }
    for (claim, observed), expected in table.items():
        assert drift(claim, observed) == expected, (claim, observed)
    for claim in Claim:
        assert drift(claim, Verdict.inconclusive) is None
        assert drift(claim, Verdict.untested) is None


def _verdict_int_tables(source: str) -> list[int]:
    """Dict literals that map two or more `Verdict.<member>` keys to numbers: an ordering."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Dict) or len(node.keys) < 2:
            continue
        keys = [
            k
            for k in node.keys
            if isinstance(k, ast.Attribute)
            and isinstance(k.value, ast.Name)
            and k.value.id in ("Verdict", "Claim")
        ]
        numbers = [v for v in node.values if isinstance(v, ast.Constant) and type(v.value) is int]
        if len(keys) == len(node.keys) and len(numbers) == len(node.values):
            found.append(node.lineno)
    return found


def test_no_second_verdict_ordering() -> None:
    copies = [
        f"conformance/{path.relative_to(PACKAGE).as_posix()}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _verdict_int_tables(path.read_text(encoding="utf-8"))
    ]
    assert not copies, "verdict orderings besides verdicts.PRECEDENCE: " + ", ".join(copies)
    assert _verdict_int_tables("R = {Verdict.supported: 3, Verdict.failing: 0}") == [1]


def _cell(verdict: Verdict, *codes: str) -> OperationResult:
    findings = tuple(Finding("getReturn", code, "a_check", "found") for code in codes)
    return OperationResult(
        operation="getReturn",
        verdict=verdict,
        reasons=codes,
        findings=findings,
        checks_run=1,
        checks_passed=0,
        notes=(),
    )


def test_an_unknown_reason_keeps_the_cells_verdict_everywhere() -> None:
    """Results, gate cases and the HTML report give an unknown code the same verdict."""
    assert UNKNOWN not in reasons()
    for verdict in Verdict:
        cell = _cell(verdict, UNKNOWN)
        assert verdict_of(UNKNOWN, verdict) == verdict
        (check,) = cell.checks()
        assert check.verdict == verdict
        html = "\n".join(_finding(cell.findings[0], cell))
        assert f"border-left-color:{STYLES[verdict].colour}" in html


def test_a_known_reason_implies_its_own_verdict() -> None:
    code, known = next(iter(reasons().items()))
    assert verdict_of(code, Verdict.untested) == known.verdict


def _decision(*cells: CellGate, undecided: tuple[str, ...] = ()) -> Decision:
    return Decision(Outcome.failed, frozenset({Verdict.failing}), cells, undecided)


def test_the_html_banner_reads_the_platforms_outcome_from_the_decision() -> None:
    from conformance.gate import Problem

    bad = CellGate("a", "getReturn", Verdict.failing, (Problem.verdict,), None, False)
    good = CellGate("b", "getReturn", Verdict.supported, (), None, False)
    decision = _decision(bad, good, undecided=("c",))
    assert platform_outcome(decision, "a") == Outcome.failed
    assert platform_outcome(decision, "b") == Outcome.passed
    assert platform_outcome(decision, "c") == Outcome.undecided
    assert 'class="gate failed"' in gate_banner(decision, "a")[0]
    assert 'class="gate passed"' in gate_banner(decision, "b")[0]
    assert 'class="gate undecided"' in gate_banner(decision, "c")[0]
