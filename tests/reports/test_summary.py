"""The Markdown summary: verdict first, then regressions and drift, then the matrix, details
folded; under 64 KB even for 50 platforms full of failures."""

from __future__ import annotations

from reportkit import platform, run_of  # type: ignore[import-not-found]

from conformance import gate
from conformance.contract import operations
from conformance.gate import GateInputs
from conformance.render.summary import render_summary
from conformance.results import Claim, Declared
from conformance.verdicts import Verdict

PR_COMMENT_LIMIT = 64 * 1024


def _fifty() -> tuple[gate.Decision, object]:
    ops = [op.id for op in operations()]
    verdicts = list(Verdict)
    platforms = [
        platform(
            f"connector-{i:02d}",
            {op: verdicts[(i + j) % len(verdicts)] for j, op in enumerate(ops)},
            big=True,
        )
        for i in range(50)
    ]
    run = run_of(*platforms)
    claims = {op: Declared(Claim.supported) for op in ops}
    inputs = GateInputs(
        manifests={p.name: gate.Manifest(p.name, "m", claims) for p in platforms},
        baseline=gate.Baseline("base", {p.name: platform(p.name) for p in platforms}),
    )
    run = gate.annotate_run(run, inputs)
    return gate.decide(run), run


def test_fifty_platforms_stay_under_64_kb_and_say_what_was_trimmed() -> None:
    decision, run = _fifty()
    text = render_summary(run, decision)  # type: ignore[arg-type]
    assert len(text.encode("utf-8")) < PR_COMMENT_LIMIT
    assert text.startswith("## ❌ Returns conformance: gate failed")
    assert "Trimmed to stay under" in text
    assert text.index("Changes since the baseline") < text.index("Drift")
    assert "more rows" in text


def test_a_small_run_is_complete_and_ordered() -> None:
    run = run_of(
        platform("shop", {"approveReturn": Verdict.failing, "listReturns": Verdict.unsupported})
    )
    claims = {"listReturns": Declared(Claim.supported)}
    run = gate.annotate_run(
        run,
        GateInputs(
            manifests={"shop": gate.Manifest("shop", "m", claims)},
            baseline=gate.Baseline("base", {"shop": platform("shop")}),
        ),
    )
    text = render_summary(run, gate.decide(run))
    first = text.splitlines()[0]
    assert first.startswith("## ❌") and "gate failed" in first
    order = [
        text.index(s) for s in ("Changes since the baseline", "Drift", "### Matrix", "<details>")
    ]
    assert order == sorted(order)
    assert "Trimmed" not in text
    assert "curl -sS" in text  # the folded details reproduce the finding
    assert "| shop |" in text


def test_passing_run_headline() -> None:
    run = run_of(platform("shop"))
    text = render_summary(run, gate.decide(run))
    assert text.startswith("## ✅ Returns conformance: gate passed")
