"""Generated testing: defects only generated inputs and sequences find, reproducibility, and no
false `failing` on the correct reference platforms across many seeds."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conformance import engine
from conformance.generate.mutations import mutations
from conformance.reference.server import defect_catalogue
from conformance.results import PlatformResult, RunResult
from conformance.target import Target
from conformance.verdicts import Verdict

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
GENERATED = sorted((n, d) for n, d in defect_catalogue().items() if d["found_by"] == "generated")


def run(
    platform: str | None,
    defects: frozenset[str] = frozenset(),
    seed: int = 1,
    max_examples: int = 20,
) -> RunResult:
    return engine.run_reference(platform, defects=defects, seed=seed, max_examples=max_examples)


@pytest.mark.parametrize(("name", "defect"), GENERATED, ids=[n for n, _ in GENERATED])
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_testing_catches_the_defect(name: str, defect: dict[str, str], seed: int) -> None:
    result = run(defect["profile"], frozenset({name}), seed=seed).platforms[0]
    cell = result.cell(defect["operation"])
    assert cell.verdict == Verdict(defect["verdict"]), (name, cell.reasons)
    assert defect["reason"] in cell.reasons, (name, cell.reasons)
    finding = next(f for f in cell.findings if f.reason == defect["reason"])
    assert finding.evidence, "a finding carries the exchange that shows it"
    assert finding.reproduce and finding.reproduce.startswith("curl ")
    assert finding.seed == seed


def test_generated_defects_are_missed_without_generation() -> None:
    """The hand-written probes alone do not see the sequence-dependent ones: proof that the
    generated stage is what catches them (not a test that passes either way)."""
    for name in ("reject_after_fulfillment",):
        defect = defect_catalogue()[name]
        result = run(defect["profile"], frozenset({name}), max_examples=0).platforms[0]
        assert result.cell(defect["operation"]).verdict != Verdict.failing, name


def test_state_machine_finding_is_the_shrunk_sequence() -> None:
    result = run("full-manual", frozenset({"reject_after_fulfillment"})).platforms[0]
    finding = next(f for f in result.cell("rejectReturn").findings if f.check == "state_machine")
    posts = [step for step in finding.steps if step.startswith("POST")]
    names = [p.split(" {")[0].rsplit("/", 1)[-1] for p in posts]
    # create → approve → ship back → reject: three actions before the illegal one, shrunk.
    assert names[0] == "returns" and names[-1] == "reject", names
    assert names.index("approve") < names.index("fulfillments"), names
    assert len(names) <= 6, names
    assert finding.steps[-1].endswith("-> 200")


def _requests(monkeypatch: pytest.MonkeyPatch, seed: int) -> list[tuple[str, str, Any]]:
    sent: list[tuple[str, str, Any]] = []
    original = Target.call

    def recording(self: Target, method: str, path: str, **kw: Any) -> Any:
        # Timestamps the target itself issued (createdAt of new returns) are data, not choices.
        query = STAMP.sub("<server time>", repr(sorted((kw.get("params") or {}).items())))
        sent.append((method, path, query + repr(kw.get("body"))))
        return original(self, method, path, **kw)

    monkeypatch.setattr(Target, "call", recording)
    run("full-manual", seed=seed, max_examples=10)
    monkeypatch.undo()
    return sent


def test_same_seed_repeats_the_same_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _requests(monkeypatch, 7)
    again = _requests(monkeypatch, 7)
    other = _requests(monkeypatch, 8)
    assert first == again
    assert first != other


def test_mutations_each_break_the_schema_once() -> None:
    valid = {"return": {"items": [{"id": "L1", "quantity": 1, "reason": "damaged"}]}}
    found = mutations("create-return.request.schema.json", valid)
    described = {m.description for m in found}
    assert "/return/items/0/quantity 0" in described
    assert "/return/items empty" in described
    assert "/return/items/0/reason empty" in described
    assert "/return/items/0/id as integer instead of string" in described
    # The contract sets no length limit and allows platform reasons: neither is a mutation.
    assert not any("longer than" in d or "enum" in d for d in described)
    from conformance import schemas

    assert schemas.violations("create-return.request.schema.json", valid) == []
    for mutation in found:
        assert schemas.violations("create-return.request.schema.json", mutation.body)


@pytest.mark.parametrize("seed", range(1, 21))
def test_no_false_failing_on_the_reference_platforms(seed: int) -> None:
    result = run(None, seed=seed)
    for platform in result.platforms:
        _assert_table(platform)


def _assert_table(platform: PlatformResult) -> None:
    from conformance.reference import load_profile

    support = load_profile(platform.name).support
    for cell in platform.operations:
        want = Verdict.supported if support[cell.operation] == "ok" else Verdict.unsupported
        assert cell.verdict == want, (
            platform.name,
            cell.operation,
            cell.reasons,
            [f.message for f in cell.findings][:2],
        )
