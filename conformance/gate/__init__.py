"""The release gate: declared capabilities, drift, baselines, expected failures and the one
decision that `conformance run`, `conformance matrix` and the pytest entry point all use.

Why one module: a gate computed in two places drifts apart. Annotations (declared claim, drift,
baseline change, expected failure) are facts about a cell and are stored in the matrix; the
decision depends on the policy (`--fail-on`) and is recomputed from the matrix by `decide()`.
Every renderer reads `Decision` and `cases()`, never its own rules.

Drift, declared (rows) vs observed (columns); inconclusive and untested are no evidence either
way, so they never drift:

    declared \\ observed  supported   partial     unsupported  failing
    supported            -           overclaim   overclaim    overclaim
    partial              underclaim  -           overclaim    overclaim
    unsupported          underclaim  underclaim  -            -  (failing gates on its own)

Baseline order, best first: supported > partial > unsupported > failing, which is the one verdict
precedence (`conformance.verdicts.PRECEDENCE`) read backwards over the decided verdicts. A lower
rank than the baseline is `regressed`, a higher one `fixed`; a change to or from inconclusive /
untested is `unverified` (use `--fail-on inconclusive,untested` to be strict about missing
evidence).

The gate fails (exit 1) on a cell whose verdict is in `--fail-on` (default: failing), an
overclaim, a regression, or a stale expected failure (listed as failing, now passing). An expected
failure that still holds waives that cell's verdict and its regression. A platform without any
decided cell is undecided: the run exits 1 when nothing failed but something was not decided, and
always when nothing at all was decided: no evidence is never green (and never exit 2, which is
for a run that could not start).
"""

from conformance.gate.annotate import GateInputs, annotate, annotate_run
from conformance.gate.cases import Case, CaseStatus, cases, platform_outcome
from conformance.gate.decision import (
    CellGate,
    Decision,
    Expected,
    Outcome,
    Problem,
    decide,
    expectation,
    expected_badge,
    unexpected_codes,
)
from conformance.gate.inputs import (
    MANIFEST_SUFFIX,
    MATRIX_DIR,
    REFERENCE_PREFIX,
    Baseline,
    Expectations,
    Manifest,
    baseline_warnings,
    find_manifests,
    packaged_manifest,
    parse_manifest,
    profile_of,
    read_baseline,
    read_expectations,
    read_manifest,
)
from conformance.gate.rules import DEFAULT_FAIL_ON, change, drift, parse_fail_on

__all__ = [
    "DEFAULT_FAIL_ON",
    "MANIFEST_SUFFIX",
    "MATRIX_DIR",
    "REFERENCE_PREFIX",
    "Baseline",
    "Case",
    "CaseStatus",
    "CellGate",
    "Decision",
    "Expectations",
    "Expected",
    "GateInputs",
    "Manifest",
    "Outcome",
    "Problem",
    "annotate",
    "annotate_run",
    "baseline_warnings",
    "cases",
    "change",
    "decide",
    "drift",
    "expectation",
    "expected_badge",
    "find_manifests",
    "packaged_manifest",
    "parse_fail_on",
    "parse_manifest",
    "platform_outcome",
    "profile_of",
    "read_baseline",
    "read_expectations",
    "read_manifest",
    "unexpected_codes",
]
