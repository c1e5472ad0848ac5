"""`conformance run` end to end: verdicts on the reference platforms, seeded defects caught at the
right operation, no false `failing` on correct servers with other capability mixes."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import httpx
import pytest

from conformance import config as run_config
from conformance import engine, schemas
from conformance.contract import OperationId
from conformance.errors import UsageError
from conformance.reference import ReferenceServer, load_profile, profile_names
from conformance.reference.profile import Behaviour, Profile
from conformance.reference.server import defect_catalogue
from conformance.results import PlatformResult
from conformance.verdicts import Verdict

EXPECTED = {
    "ok": Verdict.supported,
    "not_allowed": Verdict.unsupported,
    "not_supported": Verdict.unsupported,
}
UNSUPPORTED_REASON = {"not_allowed": "not_allowed", "not_supported": "not_supported"}


def embedded(
    platform: str,
    defects: frozenset[str] = frozenset(),
    seed: int = 1,
    max_examples: int | None = None,
) -> PlatformResult:
    return engine.run_reference(
        platform, defects=defects, seed=seed, max_examples=max_examples
    ).platforms[0]


def against(
    profile: Profile, token: str = "mix-token", seed: int = 5, max_examples: int = 5
) -> PlatformResult:
    """Run the suite over HTTP against a server built from an arbitrary profile."""
    with ReferenceServer(profile, token) as server:
        cfg = run_config.build(
            base_url=server.base_url,
            platform=profile.name,
            token=token,
            allow_writes=True,
            act_on_existing=True,
            seed=seed,
            max_examples=max_examples,
        )
        cfg = dataclasses.replace(cfg, consistency_window=0.0)
        return engine.run(cfg).platforms[0]


def assert_valid_matrix(result: PlatformResult) -> None:
    data = result.to_json()
    assert schemas.violations("capability-matrix.schema.json", data) == []
    assert PlatformResult.from_json(data).to_json() == data


@pytest.mark.parametrize("platform", profile_names())
def test_reference_verdicts_equal_the_profile_tables(platform: str) -> None:
    result = embedded(platform)
    assert_valid_matrix(result)
    support = load_profile(platform).support
    got = {cell.operation: cell.verdict for cell in result.operations}
    assert got == {op: EXPECTED[support[op]] for op in OperationId}
    for cell in result.operations:
        if cell.verdict == Verdict.unsupported:
            assert cell.reasons == (UNSUPPORTED_REASON[support[cell.operation]],)
            assert cell.findings[0].evidence, "an unsupported cell carries the answer as evidence"
        else:
            assert cell.reasons == () and cell.checks_run == cell.checks_passed > 0


DEFECTS = sorted(defect_catalogue().items())


@pytest.mark.parametrize(
    ("name", "defect"),
    [d for d in DEFECTS if d[1]["found_by"] == "probes"],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_seeded_defect_is_caught_at_its_operation(name: str, defect: dict[str, str]) -> None:
    # Generation off: the hand-written probes alone must catch these.
    result = embedded(defect["profile"], frozenset({name}), max_examples=0)
    assert_valid_matrix(result)
    cell = result.cell(defect["operation"])
    assert cell.verdict == Verdict(defect["verdict"]), (name, cell.reasons)
    assert defect["reason"] in cell.reasons, (name, cell.reasons)
    finding = next(f for f in cell.findings if f.reason == defect["reason"])
    assert finding.evidence and finding.reproduce
    if finding.evidence[-1].request_headers.get("authorization", "").startswith("Bearer [RED"):
        assert "$CONFORMANCE_TOKEN" in finding.reproduce
    # The defect is local: the operations the profile supports elsewhere are not dragged down
    # to failing without a reason of their own.
    clean = embedded(defect["profile"], max_examples=0)
    assert clean.cell(defect["operation"]).verdict != Verdict.failing


def test_every_defect_in_the_catalogue_names_a_known_operation_and_reason() -> None:
    from conformance.verdicts import reasons

    for name, defect in DEFECTS:
        assert defect["operation"] in set(OperationId), name
        assert defect["reason"] in reasons(), name
        assert reasons()[defect["reason"]].verdict == Verdict(defect["verdict"]), name
        assert defect["profile"] in profile_names(), name
        assert defect["found_by"] in ("probes", "generated"), name


def _mix(base: Profile, rng: random.Random, n: int) -> Profile:
    support = {op: rng.choice(["ok", "ok", "not_allowed", "not_supported"]) for op in OperationId}
    behaviour = dataclasses.replace(
        base.behaviour,
        repeat_action=rng.choice(["conflict", "idempotent"]),
        quantity_format=rng.choice(["integer", "string"]),
        fulfillment_status=rng.choice(["pending", None]),
        cancel_from=rng.choice([("requested",), ("requested", "approved")]),
        new_return_status=rng.choice(["requested", "approved"]),
        default_limit=rng.choice([1, 3, 50]),
    )
    return dataclasses.replace(base, name=f"mix-{n}", support=support, behaviour=behaviour)


@pytest.mark.parametrize("n", range(int(__import__("os").environ.get("MIXES", "8"))))
def test_correct_servers_with_other_capability_mixes_never_fail(n: int) -> None:
    base = load_profile("seller-decides")  # customer-made returns in every status to read
    profile = _mix(base, random.Random(n), n)
    result = against(profile, seed=n)
    assert_valid_matrix(result)
    for cell in result.operations:
        want = profile.support[cell.operation]
        assert cell.verdict != Verdict.failing, (cell.operation, want, cell.findings[:1])
        if want != "ok":
            assert cell.verdict == Verdict.unsupported, (cell.operation, cell.reasons)
            assert cell.reasons == (UNSUPPORTED_REASON[want],)
        else:
            assert cell.verdict in (Verdict.supported, Verdict.inconclusive, Verdict.untested), (
                cell.operation,
                cell.reasons,
            )
            if cell.verdict != Verdict.supported:
                # Only when the data it needs could not be reached with this mix.
                assert set(cell.reasons) <= {"no_test_data", "prerequisite_unavailable"}


def test_full_support_with_every_quirk_is_all_supported() -> None:
    base = load_profile("full-manual")
    behaviour = Behaviour(
        new_return_status="requested",
        cancel_from=("requested",),
        repeat_action="idempotent",
        fulfillment_status=None,
        quantity_format="string",
        default_limit=1,
    )
    profile = dataclasses.replace(
        base, name="quirky", behaviour=behaviour, support={op: "ok" for op in OperationId}
    )
    result = against(profile)
    assert {c.operation: c.verdict for c in result.operations} == {
        op: Verdict.supported for op in OperationId
    }
    assert any("digit strings" in note for c in result.operations for note in c.notes)


def test_read_only_run_marks_writes_untested(tmp_path: Path) -> None:
    with ReferenceServer("full-manual", "ro-token") as server:
        cfg = run_config.build(
            base_url=server.base_url,
            platform="ro",
            token="ro-token",
            output_dir=str(tmp_path),
            seed=2,
        )
        result = engine.run(cfg).platforms[0]
    assert_valid_matrix(result)
    for op in (
        "createReturn",
        "cancelReturn",
        "approveReturn",
        "rejectReturn",
        "createReturnFulfillment",
    ):
        assert result.cell(op).verdict == Verdict.untested
        assert result.cell(op).reasons == ("writes_not_allowed",)
    assert result.cell("listOrderReturns").verdict == Verdict.supported
    assert result.cell("listReturns").verdict == Verdict.unsupported


class CountingTransport(httpx.BaseTransport):
    """httpx's default transport, counting what goes through it."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.host))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_transport_given_to_run_platform_carries_every_request(tmp_path: Path) -> None:
    """The seam benchmarks use instead of patching Target.call: every request goes through it."""
    counting = CountingTransport()
    with ReferenceServer("full-manual", "tr-token") as server:
        cfg = run_config.build(
            base_url=server.base_url,
            platform="tr",
            token="tr-token",
            output_dir=str(tmp_path),
            seed=2,
            max_examples=0,
        )
        result = engine.run_platform(cfg.platforms[0], cfg, transport=counting)
    assert result.cell("listOrderReturns").verdict == Verdict.supported
    assert len(counting.seen) > 10
    assert {host for _, host in counting.seen} == {"127.0.0.1"}


def test_shards_split_the_platforms_without_overlap() -> None:
    def names(shard: str | None) -> list[str]:
        cfg = run_config.build(
            seed=1,
            shard=shard,
        )
        return [p.name for p in cfg.platforms]

    every = names(None)
    parts = [names(f"{i}/4") for i in range(1, 5)]
    assert sorted(n for part in parts for n in part) == sorted(every)
    assert all(part for part in parts[:2])
    for bad in ("0/4", "5/4", "x/4", "1-4"):
        with pytest.raises(UsageError):
            names(bad)
