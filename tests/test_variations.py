"""The suite over connectors it did not grow up with: the reference platforms with every named
variation (conformance/reference/variations.toml, each a behaviour the contract permits) and every
pair of them, on the profiles where they apply. None may make a cell `failing`; and a seeded
defect, combined with variations, must still be caught at its own operation, for its own reason,
with no other cell failing.

All platforms of a batch run in one `engine.run` (one worker process per core), so the whole
module costs a few minutes on two cores rather than one run after another.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterable
from functools import cache

import pytest

from conformance import engine
from conformance.config import PlatformConfig, build
from conformance.reference import load_profile, profile_names
from conformance.reference.server import defect_catalogue
from conformance.reference.variations import applies, needed_window, variation_catalogue
from conformance.results import PlatformResult
from conformance.verdicts import Verdict

SEED = 11
# Transient answers without Retry-After (upstream-errors, throttle) are sent again at once: the
# reference server recovers at once, and the default pause (meant for a real store) would add
# minutes of sleeping to this module. The backoff itself is tested in tests/faults.
RETRY_PAUSE = 0.0
# Every seeded defect is also run with these, wherever they apply: a transient failure now and
# then, or a platform's own spelling of the return statuses, must never hide a real bug (issue 18).
WITH_EVERY_DEFECT = ("upstream-errors", "platform-statuses")
CATALOGUE = variation_catalogue()
# A variation that makes a client's life harder in a way the contract calls `partial`: the
# reasons it may put on the cells it touches. Every other cell must be exactly what the
# profile's support table says (supported or unsupported).
PARTIAL = {
    "platform-vocabulary": {"nonnormalized_value"},
    "platform-statuses": {"nonnormalized_value"},
    "filters-rejected": {"filter_rejected"},
    "pagination-rejected": {"pagination_rejected"},
}
UNSUPPORTED = {"not_supported": "not_supported", "not_allowed": "not_allowed"}


def conflict(a: str, b: str) -> bool:
    return b in CATALOGUE[a].conflicts or a in CATALOGUE[b].conflicts


def where(names: Iterable[str]) -> list[str]:
    """The profiles every one of `names` applies to."""
    return [p for p in profile_names() if all(applies(n, load_profile(p)) for n in names)]


def plan() -> list[tuple[str, frozenset[str]]]:
    """Every variation alone on every profile it applies to; every compatible pair on one of
    the profiles both apply to (taken in turn, so that every profile gets pairs)."""
    runs = [(p, frozenset({name})) for name in sorted(CATALOGUE) for p in where([name])]
    pairs = [pair for pair in itertools.combinations(sorted(CATALOGUE), 2) if not conflict(*pair)]
    for index, pair in enumerate(pairs):
        profiles = where(pair)
        if profiles:
            runs.append((profiles[index % len(profiles)], frozenset(pair)))
    return runs


def label(profile: str, names: frozenset[str]) -> str:
    return f"{profile}~{'+'.join(sorted(names))}"


CHUNK = 48  # platforms per engine.run: a few dozen seconds each, well inside the test timeout


def chunked(runs: list[tuple[str, frozenset[str]]]) -> dict[str, int]:
    """Label → chunk: runs that need a consistency window (lagging reads) are kept apart, since
    the window is set per run and would slow every other platform of the chunk."""
    chunks: dict[str, int] = {}
    for lagging in (False, True):
        batch = [(p, n) for p, n in runs if (needed_window(n) > 0) == lagging]
        first = max(chunks.values(), default=-1) + 1
        for index, (p, n) in enumerate(batch):
            chunks[label(p, n)] = first + index // CHUNK
    return chunks


@cache
def results(chunk: int) -> dict[str, PlatformResult]:
    """One chunk of the plan in one engine.run, computed by the first test that needs it."""
    batch = [(p, n) for p, n in PLAN if CHUNKS[label(p, n)] == chunk]
    # Generated testing (the state machine too) over every single variation; pairs get the
    # hand-written probes, which is where two variations meet, and keep CI well under 30 min.
    examples = 2 if any(len(n) == 1 for _, n in batch) else 0
    config = build(seed=SEED, max_examples=examples, retry_pause=RETRY_PAUSE)
    window = max(needed_window(n) for _, n in batch)
    config = dataclasses.replace(
        config,
        platforms=tuple(
            PlatformConfig(name=label(p, n), reference=p, variations=n) for p, n in batch
        ),
        consistency_window=window,
        # Lagging reads mostly wait: more workers than cores keep the CPU busy.
        workers=4 if window else None,
    )
    return {platform.name: platform for platform in engine.run(config).platforms}


def describe(result: PlatformResult) -> str:
    return "\n".join(
        f"{c.operation}: {c.verdict.value} {list(c.reasons)} "
        + "; ".join(f.message[:160] for f in c.findings[:2])
        for c in result.operations
        if c.verdict not in (Verdict.supported, Verdict.unsupported) or c.reasons
    )


PLAN = plan()
CHUNKS = chunked(PLAN)


def test_every_variation_and_every_pair_is_planned() -> None:
    planned = {n for _, names in PLAN for n in names}
    assert planned == set(CATALOGUE)
    pairs = {names for _, names in PLAN if len(names) == 2}
    for a, b in itertools.combinations(sorted(CATALOGUE), 2):
        if not conflict(a, b) and where([a, b]):
            assert frozenset({a, b}) in pairs, (a, b)


def test_every_defect_meets_upstream_errors_and_platform_statuses() -> None:
    """Transient failures and a platform's own status spellings must not hide a real bug: every
    seeded defect runs with upstream-errors and platform-statuses on (both apply to every
    defect's profile today, and no defect is hidden by them)."""
    catalogue = defect_catalogue()
    assert len(DEFECT_PLAN) == len(catalogue)
    for name, names in DEFECT_PLAN:
        assert set(WITH_EVERY_DEFECT) <= names, name


@pytest.mark.parametrize(("profile", "names"), PLAN, ids=[label(p, n) for p, n in PLAN])
def test_no_false_failing(profile: str, names: frozenset[str]) -> None:
    result = results(CHUNKS[label(profile, names)])[label(profile, names)]
    support = load_profile(profile).support
    allowed = set().union(*(PARTIAL.get(n, set()) for n in names))
    for cell in result.operations:
        want = support[cell.operation]
        assert cell.verdict != Verdict.failing, describe(result)
        if want == "ok":
            assert set(cell.reasons) <= allowed, (cell.operation, describe(result))
            expected = Verdict.partial if cell.reasons else Verdict.supported
            assert cell.verdict == expected, (cell.operation, describe(result))
        else:
            assert cell.verdict == Verdict.unsupported, (cell.operation, describe(result))
            assert cell.reasons == (UNSUPPORTED[want],), (cell.operation, describe(result))


# ---- seeded defects among variations ----------------------------------------------------------


def defect_plan() -> list[tuple[str, frozenset[str]]]:
    """Each seeded defect with three variations that apply to its profile and do not hide it
    (defects.toml says which would: e.g. a platform that rejects pagination cannot drop items
    from its pages), drawn from the defect's name, so the plan is the same every run; plus
    every one of WITH_EVERY_DEFECT that applies and does not hide it."""
    planned = []
    for name, defect in sorted(defect_catalogue().items()):
        profile = load_profile(defect["profile"])
        hidden = set(defect.get("hidden_by", ()))
        usable = sorted(n for n in CATALOGUE if applies(n, profile) and n not in hidden)
        chosen = [n for n in WITH_EVERY_DEFECT if n in usable]
        draw = random.Random(name)
        for candidate in draw.sample(usable, len(usable)):
            if len(chosen) < 3 + len(WITH_EVERY_DEFECT) and not any(
                candidate == c or conflict(candidate, c) for c in chosen
            ):
                chosen.append(candidate)
        planned.append((name, frozenset(chosen)))
    return planned


DEFECT_PLAN = defect_plan()


@cache
def defect_results() -> dict[str, PlatformResult]:
    catalogue = defect_catalogue()
    found: dict[str, PlatformResult] = {}
    for lagging in (False, True):
        batch = [(d, n) for d, n in DEFECT_PLAN if (needed_window(n) > 0) == lagging]
        if not batch:
            continue
        config = build(seed=SEED, max_examples=20, retry_pause=RETRY_PAUSE)
        config = dataclasses.replace(
            config,
            platforms=tuple(
                PlatformConfig(
                    name=d,
                    reference=catalogue[d]["profile"],
                    defects=frozenset({d}),
                    variations=n,
                )
                for d, n in batch
            ),
            consistency_window=max(needed_window(n) for _, n in batch),
        )
        for platform in engine.run(config).platforms:
            found[platform.name] = platform
    return found


@pytest.mark.parametrize(
    ("defect", "names"), DEFECT_PLAN, ids=[f"{d}~{'+'.join(sorted(n))}" for d, n in DEFECT_PLAN]
)
def test_defect_is_caught_among_variations(defect: str, names: frozenset[str]) -> None:
    expected = defect_catalogue()[defect]
    result = defect_results()[defect]
    cell = result.cell(expected["operation"])
    assert cell.verdict == Verdict(expected["verdict"]), describe(result)
    assert expected["reason"] in cell.reasons, describe(result)
    others = [
        c.operation
        for c in result.operations
        if c.verdict == Verdict.failing and c.operation != expected["operation"]
    ]
    assert not others, describe(result)
