"""The one decision, from a matrix and a policy (`--fail-on`): passed, failed or undecided,
and why, per cell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from conformance.gate.rules import DEFAULT_FAIL_ON
from conformance.results import (
    Change,
    Drift,
    OperationResult,
    RunResult,
)
from conformance.verdicts import Verdict


class Outcome(StrEnum):
    """The gate's answer; cli.py maps it to an exit code."""

    passed = "passed"
    """Something was decided and nothing the policy cares about went wrong."""
    failed = "failed"
    """A failing cell (per --fail-on), an overclaim, a regression or a stale expectation."""
    undecided = "undecided"
    """Nothing failed, but a platform (or the whole run) has no decided cell."""


class Problem(StrEnum):
    """Why a cell fails the gate."""

    verdict = "verdict"
    """Its verdict is one of --fail-on."""
    overclaim = "overclaim"
    """Declared better than observed."""
    regression = "regression"
    """Worse than the baseline."""
    stale = "stale_expectation"
    """Listed as an expected failure, but it passes now: the list must be kept true."""


class Expected(StrEnum):
    """What became of an expected failure."""

    held = "expected"
    """The cell fails as listed: its failure is waived."""
    stale = "stale"
    """The cell passes now."""
    unmatched = "unmatched"
    """The cell fails with reason codes the entry does not list: not waived."""
    unverified = "unverified"
    """The cell is inconclusive or untested: no evidence either way."""


@dataclass(frozen=True)
class CellGate:
    """The gate's view of one cell."""

    platform: str
    operation: str
    verdict: Verdict
    problems: tuple[Problem, ...]
    expected: Expected | None
    waived: bool  # a failure (verdict or regression) waived by an expectation that held

    @property
    def fails(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class Decision:
    """The gate over a whole run: one per run, read by the CLI and every renderer."""

    outcome: Outcome
    fail_on: frozenset[Verdict]
    cells: tuple[CellGate, ...]
    undecided: tuple[str, ...]  # platforms without any decided cell

    def cell(self, platform: str, operation: str) -> CellGate:
        for gate in self.cells:
            if gate.platform == platform and gate.operation == operation:
                return gate
        raise KeyError((platform, operation))

    def failures(self, kind: Problem | None = None) -> tuple[CellGate, ...]:
        return tuple(c for c in self.cells if c.fails and (kind is None or kind in c.problems))

    def tally(self) -> dict[str, int]:
        """Cells in pytest's words, in pytest's order, none left out: a failure waived by an
        expected failure is `xfailed`, not `failed`; untested cells are counted, not dropped."""
        found: dict[str, int] = dict.fromkeys(TALLY_WORDS, 0)
        for cell in self.cells:
            found[_tally_word(cell, self.fail_on)] += 1
        return found

    def tally_line(self) -> str:
        """E.g. `36 passed, 24 skipped (unsupported), 1 failed, 2 xfailed` (zeros left out,
        except `passed` and `failed`, which scripts look for)."""
        return ", ".join(
            f"{n} {word}" for word, n in self.tally().items() if n or word in ("passed", "failed")
        )

    def problem_counts(self) -> dict[Problem, int]:
        return {kind: len(self.failures(kind)) for kind in Problem}

    def headline(self) -> str:
        """One parseable line: what the gate decided and why."""
        if self.outcome == Outcome.passed:
            waived = sum(c.waived for c in self.cells)
            return "gate passed" + (f" ({waived} expected failures)" if waived else "")
        parts = [
            f"{n} {_PROBLEM_WORDS[kind][n != 1]}" for kind, n in self.problem_counts().items() if n
        ]
        if self.undecided:
            parts.append("nothing decided for " + ", ".join(self.undecided))
        return f"gate {self.outcome.value}: " + "; ".join(parts)


_PROBLEM_WORDS = {
    Problem.verdict: ("cell with a gated verdict", "cells with a gated verdict"),
    Problem.overclaim: ("overclaim", "overclaims"),
    Problem.regression: ("regression", "regressions"),
    Problem.stale: ("stale expected failure", "stale expected failures"),
}


TALLY_WORDS = (
    "passed",
    "skipped (unsupported)",
    "skipped (untested)",
    "skipped (inconclusive)",
    "failed",
    "failing (not gated)",
    "error",
    "xfailed",
)


def _tally_word(cell: CellGate, fail_on: frozenset[Verdict]) -> str:
    if cell.fails:
        undecided = cell.verdict in (Verdict.inconclusive, Verdict.untested)
        only_verdict = cell.problems == (Problem.verdict,)
        return "error" if undecided and only_verdict else "failed"
    if cell.waived:
        return "xfailed"
    if cell.verdict in (Verdict.supported, Verdict.partial):
        return "passed"
    if cell.verdict == Verdict.failing:
        return "failing (not gated)"  # --fail-on leaves failing out
    return f"skipped ({cell.verdict.value})"


def unexpected_codes(cell: OperationResult) -> tuple[str, ...]:
    """The cell's reason codes that its expected-failure entry does not list (none when the
    entry lists no codes: then any failure is expected)."""
    if cell.expected is None or not cell.expected.codes:
        return ()
    return tuple(code for code in cell.reasons if code not in cell.expected.codes)


def expected_badge(cell: OperationResult, outcome: Expected | None) -> tuple[str, str] | None:
    """(badge word, explanation) for a cell with an expected-failure entry, by what became of
    it: every renderer shows the same words, and only a held one looks neutral."""
    if cell.expected is None or outcome is None:
        return None
    if outcome == Expected.held:
        return ("expected failure", cell.expected.reason)
    if outcome == Expected.stale:
        return (
            "stale expected failure",
            f"listed as failing ({cell.expected.reason}), but it passes now: remove the entry",
        )
    if outcome == Expected.unmatched:
        codes = ", ".join(unexpected_codes(cell))
        return (
            "unexpected failure",
            f"fails with {codes}, which the expected-failure entry does not list "
            f"(it lists {', '.join(cell.expected.codes)})",
        )
    return ("expected failure, unverified", f"{cell.expected.reason} (no evidence either way)")


def expectation(cell: OperationResult, fail_on: frozenset[Verdict]) -> Expected | None:
    if cell.expected is None:
        return None
    if cell.verdict in fail_on:
        covered = not cell.expected.codes or set(cell.reasons) <= set(cell.expected.codes)
        return Expected.held if covered else Expected.unmatched
    return Expected.stale if cell.decided else Expected.unverified


def _cell_gate(platform: str, cell: OperationResult, fail_on: frozenset[Verdict]) -> CellGate:
    outcome = expectation(cell, fail_on)
    waived = outcome == Expected.held
    problems: list[Problem] = []
    if cell.verdict in fail_on and not waived:
        problems.append(Problem.verdict)
    if cell.drift == Drift.overclaim:
        problems.append(Problem.overclaim)
    regressed = cell.baseline is not None and cell.baseline.change == Change.regressed
    if regressed and not waived:
        problems.append(Problem.regression)
    if outcome == Expected.stale:
        problems.append(Problem.stale)
    return CellGate(platform, cell.operation, cell.verdict, tuple(problems), outcome, waived)


def decide(run: RunResult, fail_on: Iterable[Verdict] = DEFAULT_FAIL_ON) -> Decision:
    """The one gate decision (module docstring)."""
    policy = frozenset(fail_on)
    cells = tuple(_cell_gate(p.name, cell, policy) for p in run.platforms for cell in p.operations)
    undecided = tuple(p.name for p in run.platforms if not p.decided)
    if not run.any_evidence:
        outcome = Outcome.undecided
    elif any(c.fails for c in cells):
        outcome = Outcome.failed
    else:
        outcome = Outcome.undecided if undecided else Outcome.passed
    return Decision(outcome, policy, cells, undecided)
