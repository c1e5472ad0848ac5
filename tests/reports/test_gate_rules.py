"""The gate's rules on synthetic results: drift, baseline order, expected failures, the decision,
and the cases JUnit and pytest show (which must agree with the decision)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from reportkit import platform, run_of  # type: ignore[import-not-found]

from conformance import gate
from conformance.errors import UsageError
from conformance.gate import CaseStatus, Expected, GateInputs, Outcome, Problem
from conformance.reference import load_profile, profile_names
from conformance.render.html import render_matrix_page
from conformance.results import Change, Claim, Declared, Drift, Expectation, RunResult
from conformance.verdicts import Verdict

# the six verdicts, one letter each, for the tables below
S, P, U, F, I, T = (  # noqa: E741
    Verdict.supported,
    Verdict.partial,
    Verdict.unsupported,
    Verdict.failing,
    Verdict.inconclusive,
    Verdict.untested,
)
OVER, UNDER = Drift.overclaim, Drift.underclaim


@pytest.mark.parametrize(
    ("claim", "observed", "expected"),
    [
        (Claim.supported, S, None),
        (Claim.supported, P, OVER),
        (Claim.supported, U, OVER),
        (Claim.supported, F, OVER),
        (Claim.supported, I, None),
        (Claim.supported, T, None),
        (Claim.partial, S, UNDER),
        (Claim.partial, P, None),
        (Claim.partial, U, OVER),
        (Claim.partial, F, OVER),
        (Claim.partial, I, None),
        (Claim.unsupported, S, UNDER),
        (Claim.unsupported, P, UNDER),
        (Claim.unsupported, U, None),
        (Claim.unsupported, F, None),
        (Claim.unsupported, T, None),
    ],
)
def test_drift_table(claim: Claim, observed: Verdict, expected: Drift | None) -> None:
    assert gate.drift(claim, observed) == expected


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (None, S, Change.new),
        (S, S, Change.unchanged),
        (S, P, Change.regressed),
        (P, U, Change.regressed),
        (U, F, Change.regressed),
        (S, F, Change.regressed),
        (F, U, Change.fixed),
        (U, S, Change.fixed),
        (F, S, Change.fixed),
        (S, I, Change.unverified),
        (T, S, Change.unverified),
        (I, F, Change.unverified),
    ],
)
def test_baseline_order(before: Verdict | None, now: Verdict, expected: Change) -> None:
    assert gate.change(before, now) == expected


def test_fail_on_parses_and_refuses() -> None:
    assert gate.parse_fail_on("failing, inconclusive") == {F, I}
    for bad in ("", "supported", "failing,broken"):
        with pytest.raises(UsageError):
            gate.parse_fail_on(bad)


def _manifest(claims: dict[str, Declared]) -> gate.Manifest:
    return gate.Manifest("shop", "test", claims)


def test_overclaim_and_underclaim_are_annotated_and_only_overclaim_fails() -> None:
    run = run_of(platform("shop", {"listReturns": U, "createReturn": S}))
    claims = {
        "listReturns": Declared(Claim.supported),
        "createReturn": Declared(Claim.unsupported, "the platform cannot"),
    }
    annotated = gate.annotate_run(run, GateInputs(manifests={"shop": _manifest(claims)}))
    shop = annotated.platforms[0]
    assert shop.cell("listReturns").drift == OVER
    assert shop.cell("createReturn").drift == UNDER
    assert shop.provenance.declared_source == "test"
    decision = gate.decide(annotated)
    assert decision.outcome == Outcome.failed
    assert [(c.operation, c.problems) for c in decision.failures()] == [
        ("listReturns", (Problem.overclaim,))
    ]
    # underclaim alone passes
    only_under = gate.annotate_run(
        run, GateInputs(manifests={"shop": _manifest({"createReturn": claims["createReturn"]})})
    )
    assert gate.decide(only_under).outcome == Outcome.passed


def test_regression_fails_and_fix_does_not() -> None:
    before = platform("shop", {"listReturns": S, "getReturn": F})
    now = run_of(platform("shop", {"listReturns": U, "getReturn": S}))
    inputs = GateInputs(baseline=gate.Baseline("base.json", {"shop": before}))
    shop = gate.annotate_run(now, inputs).platforms[0]
    assert shop.cell("listReturns").baseline is not None
    assert shop.cell("listReturns").baseline.change == Change.regressed  # type: ignore[union-attr]
    assert shop.cell("getReturn").baseline.change == Change.fixed  # type: ignore[union-attr]
    decision = gate.decide(RunResult((shop,)))
    assert decision.outcome == Outcome.failed
    assert [c.operation for c in decision.failures(Problem.regression)] == ["listReturns"]


def test_platform_missing_from_the_baseline_is_new() -> None:
    inputs = GateInputs(baseline=gate.Baseline("base", {}))
    shop = gate.annotate_run(run_of(platform("shop")), inputs).platforms[0]
    assert {c.baseline.change for c in shop.operations if c.baseline} == {Change.new}
    assert gate.decide(RunResult((shop,))).outcome == Outcome.passed


def _expect(
    verdicts: dict[str, Verdict], entry: Expectation, fail_on: str = "failing"
) -> gate.Decision:
    run = run_of(platform("shop", verdicts))
    entries = {("shop", "approveReturn"): entry}
    inputs = GateInputs(expectations=gate.Expectations("x.toml", entries))
    return gate.decide(gate.annotate_run(run, inputs), gate.parse_fail_on(fail_on))


def test_expected_failure_that_holds_is_waived() -> None:
    decision = _expect({"approveReturn": F}, Expectation("BUG-1", ("effect_missing",)))
    assert decision.outcome == Outcome.passed
    assert decision.cell("shop", "approveReturn").expected == Expected.held
    assert "1 expected failures" in decision.headline()


def test_stale_expected_failure_fails_the_gate() -> None:
    decision = _expect({}, Expectation("BUG-1"))
    assert decision.outcome == Outcome.failed
    assert decision.cell("shop", "approveReturn").problems == (Problem.stale,)


def test_expected_failure_with_other_codes_does_not_waive() -> None:
    decision = _expect({"approveReturn": F}, Expectation("BUG-1", ("server_error",)))
    assert decision.cell("shop", "approveReturn").expected == Expected.unmatched
    assert decision.cell("shop", "approveReturn").problems == (Problem.verdict,)


def test_expected_failure_without_evidence_is_not_stale() -> None:
    decision = _expect({"approveReturn": I}, Expectation("BUG-1"))
    assert decision.cell("shop", "approveReturn").expected == Expected.unverified
    assert decision.outcome == Outcome.passed


def test_fail_on_inconclusive() -> None:
    run = run_of(platform("shop", {"listReturns": I}))
    assert gate.decide(run).outcome == Outcome.passed
    strict = gate.decide(run, gate.parse_fail_on("failing,inconclusive"))
    assert strict.outcome == Outcome.failed
    cases = gate.cases(run.platforms[0], strict)
    assert [(c.classname, c.status) for c in cases if c.status == CaseStatus.error] == [
        ("returns.listReturns", CaseStatus.error)
    ]


def test_zero_evidence_is_undecided_never_passed() -> None:
    nothing = run_of(platform("shop", default=T), platform("other", default=I))
    decision = gate.decide(nothing)
    assert decision.outcome == Outcome.undecided
    assert decision.undecided == ("shop", "other")
    # even when --fail-on would fail on the untested cells: nothing decided is undecided (exit 1)
    assert gate.decide(nothing, {F, T}).outcome == Outcome.undecided
    # one platform without evidence beside a passing one is still undecided
    mixed = run_of(platform("shop"), platform("other", default=T))
    assert gate.decide(mixed).outcome == Outcome.undecided
    # ... but a real failure elsewhere is reported as a failure
    failing = run_of(platform("shop", {"getReturn": F}), platform("other", default=T))
    assert gate.decide(failing).outcome == Outcome.failed
    assert gate.decide(RunResult(())).outcome == Outcome.undecided


def test_cases_agree_with_the_decision() -> None:
    """A class has a failed (or error) case exactly when its cell fails the gate."""
    run = run_of(
        platform(
            "shop",
            {
                "listReturns": U,
                "getReturn": F,
                "createReturn": P,
                "cancelReturn": I,
                "approveReturn": T,
            },
        )
    )
    claims = {op.operation: Declared(Claim.supported) for op in run.platforms[0].operations}
    run = gate.annotate_run(run, GateInputs(manifests={"shop": _manifest(claims)}))
    decision = gate.decide(run)
    cases = gate.cases(run.platforms[0], decision)
    failed = {c.classname for c in cases if c.status in (CaseStatus.failed, CaseStatus.error)}
    assert failed == {f"returns.{c.operation}" for c in decision.failures()}
    assert failed == {"returns.listReturns", "returns.getReturn", "returns.createReturn"}
    kinds = {(c.classname, c.name): c.kind for c in cases if c.status == CaseStatus.failed}
    assert kinds[("returns.getReturn", "effect")] == "effect_missing"
    assert kinds[("returns.listReturns", "declared")] == "overclaim"
    skipped = {c.classname for c in cases if c.status == CaseStatus.skipped}
    assert {"returns.listReturns", "returns.cancelReturn", "returns.approveReturn"} <= skipped


def test_manifest_rules(tmp_path: Path) -> None:
    def load(text: str) -> gate.Manifest:
        path = tmp_path / "m.declared.toml"
        path.write_text(text)
        return gate.read_manifest(path)

    ok = load(
        'platform = "shop"\n[operations]\nlistReturns = { status = "unsupported", '
        'note = "no global list" }\ngetReturn = { status = "supported" }\n'
    )
    assert ok.claims["listReturns"] == Declared(Claim.unsupported, "no global list")
    for bad, says in [
        ('[operations]\nlistReturns = { status = "unsupported" }', "needs a note"),
        ('[operations]\nlistOrders = { status = "supported" }', "unknown operation"),
        ('[operations]\ngetReturn = { status = "maybe" }', "status 'maybe'"),
        ('colour = "red"', "unknown keys"),
        ("[operations\n", "not valid TOML"),
    ]:
        with pytest.raises(UsageError, match=says):
            load(bad)


def test_manifest_lookup_order(tmp_path: Path) -> None:
    (tmp_path / "capability_matrices").mkdir()
    local = tmp_path / "capability_matrices" / "mine.declared.toml"
    local.write_text('[operations]\ngetReturn = { status = "supported" }\n')
    explicit = tmp_path / "x.toml"
    explicit.write_text(
        'platform = "ref"\n[operations]\ngetReturn = { status = "partial", note = "labels only" }\n'
    )
    found = gate.find_manifests(
        [("mine", None), ("ref", "full-manual"), ("plain", None), ("shopify", "full-manual")],
        [explicit],
        tmp_path,
    )
    assert found["mine"].source == "capability_matrices/mine.declared.toml"
    assert found["ref"].source == str(explicit)
    assert "plain" not in found
    assert found["shopify"].source == "packaged:full-manual"
    with pytest.raises(UsageError, match="not in this run"):
        gate.find_manifests([("mine", None)], [explicit], None)


def test_expectations_need_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "expected.toml"
    path.write_text('[[expected]]\nplatform = "shop"\noperation = "approveReturn"\n')
    with pytest.raises(UsageError, match="has no reason"):
        gate.read_expectations(path)
    path.write_text(
        '[[expected]]\nplatform = "shop"\noperation = "approveReturn"\n'
        'reason = "BUG-1"\ncodes = ["no_such_code"]\n'
    )
    with pytest.raises(UsageError, match="reason codes"):
        gate.read_expectations(path)


@pytest.mark.parametrize("name", profile_names())
def test_packaged_manifests_state_the_profile_tables(name: str) -> None:
    """The reference platforms declare exactly what their profiles implement."""
    manifest = gate.packaged_manifest(name)
    assert manifest is not None and manifest.platform == name
    profile = load_profile(name)
    table = dict(profile.support)
    assert {op: c.status.value for op, c in manifest.claims.items()} == {
        op: "supported" if support == "ok" else "unsupported" for op, support in table.items()
    }


def test_annotations_round_trip_through_the_matrix() -> None:
    run = run_of(platform("shop", {"getReturn": F}))
    inputs = GateInputs(
        manifests={"shop": _manifest({"getReturn": Declared(Claim.partial, "labels")})},
        baseline=gate.Baseline("b", {"shop": platform("shop")}),
        expectations=gate.Expectations("e", {("shop", "getReturn"): Expectation("BUG-2")}),
    )
    shop = gate.annotate_run(run, inputs).platforms[0]
    again = type(shop).from_json(shop.to_json())
    assert again == dataclasses.replace(shop)
    assert again.cell("getReturn").drift == OVER


def _annotated(verdicts: dict[str, Verdict], entry: Expectation) -> RunResult:
    run = run_of(platform("shop", verdicts))
    inputs = GateInputs(
        expectations=gate.Expectations("x.toml", {("shop", "approveReturn"): entry})
    )
    return gate.annotate_run(run, inputs)


def test_unmatched_expected_failure_names_the_codes_it_did_not_expect() -> None:
    run = _annotated({"approveReturn": F}, Expectation("BUG-1", ("server_error",)))
    cell = run.platforms[0].cell("approveReturn")
    outcome = gate.decide(run).cell("shop", "approveReturn").expected
    badge = gate.expected_badge(cell, outcome)
    assert badge is not None
    word, why = badge
    assert word == "unexpected failure"
    assert "effect_missing" in why and "server_error" in why


def test_each_expected_failure_outcome_has_its_own_badge() -> None:
    held = _annotated({"approveReturn": F}, Expectation("BUG-1", ("effect_missing",)))
    stale = _annotated({}, Expectation("BUG-1"))
    unverified = _annotated({"approveReturn": I}, Expectation("BUG-1"))
    words = set()
    for run in (held, stale, unverified):
        cell = run.platforms[0].cell("approveReturn")
        badge = gate.expected_badge(cell, gate.decide(run).cell("shop", "approveReturn").expected)
        assert badge is not None
        words.add(badge[0])
    assert words == {"expected failure", "stale expected failure", "expected failure, unverified"}
    page = render_matrix_page(stale, gate.decide(stale))
    assert "stale expected failure" in page and "remove the entry" in page


def test_tally_in_pytests_words_counts_every_cell() -> None:
    verdicts = {
        "approveReturn": F,
        "getReturn": I,
        "createReturn": Verdict.untested,
        "cancelReturn": Verdict.unsupported,
        "listReturns": Verdict.partial,
    }
    run = run_of(platform("shop", verdicts))
    decision = gate.decide(run)
    assert decision.tally_line() == (
        "6 passed, 1 skipped (unsupported), 1 skipped (untested), 1 skipped (inconclusive), "
        "1 failed"
    )
    assert sum(decision.tally().values()) == 10
    waived = _annotated({"approveReturn": F}, Expectation("BUG-1", ("effect_missing",)))
    assert gate.decide(waived).tally_line() == "9 passed, 0 failed, 1 xfailed"
    strict = gate.decide(run, gate.parse_fail_on("failing,inconclusive"))
    assert "1 error" in strict.tally_line()
