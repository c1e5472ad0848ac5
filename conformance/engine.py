"""Runs the stages for each platform: connect → discover → probe → judge → assemble.

The engine never prints: it reports progress through a callback, and returns the RunResult that
every renderer reads.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime

from conformance import __version__, schemas
from conformance.config import PlatformConfig, RunConfig
from conformance.contract import contract_version, operations
from conformance.discover import discover
from conformance.findings import Finding
from conformance.generate import generate
from conformance.judge import judge
from conformance.probes import Session, Settings, probe_lifecycle, probe_negative, probe_reads
from conformance.reference.profile import load_profile
from conformance.reference.server import ReferenceServer
from conformance.results import OperationResult, PlatformResult, Provenance, RunResult
from conformance.target import Target

Progress = Callable[[str, str], None]


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextmanager
def connect(platform: PlatformConfig, config: RunConfig, writes: bool) -> Iterator[Target]:
    """A Target for the platform; embedded profiles get their own server on loopback."""
    if platform.base_url is not None:
        target = Target(
            platform.base_url,
            platform.token,
            allow_writes=writes,
            timeout=config.timeout,
            max_requests=config.max_requests,
            connections=config.connections_per_target,
        )
        try:
            yield target
        finally:
            target.close()
        return
    token = secrets.token_urlsafe(24)
    assert platform.reference is not None
    with ReferenceServer(
        platform.reference, token, platform.defects, variations=platform.variations
    ) as server:
        target = Target(
            server.base_url,
            token,
            allow_writes=writes,
            timeout=config.timeout,
            max_requests=config.max_requests,
            connections=config.connections_per_target,
        )
        try:
            yield target
        finally:
            target.close()


def untested_upfront(settings: Settings) -> list[Finding]:
    """Every `untested` decided before probing, in one place, each with its reason."""
    found = []
    for op in operations():
        if op.is_write and not settings.allow_writes:
            found.append(
                Finding(
                    op.id,
                    "writes_not_allowed",
                    "planned",
                    f"{op.id} is a write (POST); this run does not allow writes",
                )
            )
        elif op.id in settings.excluded:
            found.append(Finding(op.id, "excluded", "planned", f"{op.id} was excluded"))
    return found


def guarded(session: Session, label: str, stage: Callable[[], None]) -> None:
    """A bug in one stage must not lose the run: what it had not decided becomes inconclusive
    (`suite_error`), and the other stages still run."""
    try:
        stage()
    except Exception as exc:  # the suite's own trouble, reported, never a traceback
        text = session.target.redactor.text(f"{type(exc).__name__}: {exc}")[:300]
        for op in operations():
            decided = op.id in session.seen.succeeded or session.seen.for_operation(op.id)
            if not decided:
                session.seen.failed(
                    Finding(op.id, "suite_error", "suite", f"while {label}: {text}")
                )


def clean_up(session: Session) -> None:
    """Cancel the returns this run created and left open, where the platform allows it."""
    if not session.is_open("cancelReturn"):
        return
    # Returns other clients of the run made (schemathesis) carry the same note: find them too.
    lists: list[tuple[str, dict[str, str]]] = []
    if session.is_open("listOrderReturns"):
        lists = [("listOrderReturns", {"orderId": o.id}) for o in session.inventory.orders]
    elif session.is_open("listReturns"):
        lists = [("listReturns", {})]
    for op, params in lists:
        items, _, _ = session.collect(op, params)
        for item in items:
            if item.get("note") in (session.tag, session.probe_tag):
                probe = item.get("note") == session.probe_tag
                session.inventory.learn_return(item, params.get("orderId"), ours=True, probe=probe)
    for ret in session.inventory.returns_in("requested", "approved", ours=True, probes=True):
        reply = session.call(
            "cancelReturn", {"orderId": ret.order_id, "id": ret.id}, body={"note": session.tag}
        )
        if reply.ok:
            session.inventory.learn_return(reply.get("return"), ret.order_id)


def rerun_command(platform: PlatformConfig, config: RunConfig) -> str:
    parts = ["conformance run", f"--platform {platform.name}", f"--seed {config.seed}"]
    if platform.base_url is not None:
        parts.insert(1, f"--base-url {platform.target_label}")
        if config.allow_writes:
            parts.append("--allow-writes")
    return " ".join(parts)


def _private_hypothesis_home() -> None:
    """Hypothesis keeps a cache in ./.hypothesis; a run must not litter the user's folder."""
    import hypothesis.configuration

    home = os.path.join(tempfile.gettempdir(), "returns-conformance-hypothesis")
    hypothesis.configuration.set_hypothesis_home_dir(home)


def run_platform(
    platform: PlatformConfig, config: RunConfig, progress: Progress = lambda p, m: None
) -> PlatformResult:
    _private_hypothesis_home()
    started = time.time()
    writes = config.allow_writes or platform.is_reference
    settings = Settings(
        allow_writes=writes,
        act_on_existing=config.act_on_existing or platform.is_reference,
        seed=config.seed,
        consistency_window=config.consistency_window,
        excluded=frozenset(op.id for op in operations() if op.is_write and not writes),
        schemathesis=(
            config.schemathesis if config.schemathesis is not None else not platform.is_reference
        ),
    )
    with connect(platform, config, writes) as target:
        progress(platform.name, "discovering test data")
        inventory = discover(target, platform.order_ids)
        session = Session(target, inventory, settings)
        for finding in untested_upfront(settings):
            session.seen.failed(finding)
        stages: list[tuple[str, Callable[[], None]]] = [
            ("probing reads", lambda: probe_reads(session)),
        ]
        if writes:
            stages.append(("probing the lifecycle", lambda: probe_lifecycle(session)))
        stages.append(("probing auth and invalid input", lambda: probe_negative(session)))
        if config.max_examples > 0:
            stages.append(("generated testing", lambda: generate(session, config.max_examples)))
        if writes:
            stages.append(("cancelling the returns the suite created", lambda: clean_up(session)))
        for label, stage in stages:
            progress(platform.name, label)
            guarded(session, label, stage)
    rerun = rerun_command(platform, config)
    cells: tuple[OperationResult, ...] = tuple(
        judge(op.id, session.seen, rerun) for op in operations()
    )
    finished = time.time()
    imitates = load_profile(platform.reference).imitates if platform.reference else None
    provenance = Provenance(
        suite_version=__version__,
        contract_version=contract_version(),
        schema_hash=schemas.schema_hash(),
        seed=config.seed,
        generated_at=_stamp(finished),
        target=platform.target_label,
        started_at=_stamp(started),
        duration_seconds=finished - started,
        writes_allowed=writes,
        act_on_existing=settings.act_on_existing,
        max_examples=config.max_examples,
        command=config.command,
    )
    progress(platform.name, "done")
    created = tuple(
        entry
        for ret in session.inventory.returns_in(ours=True, probes=True)
        for entry in [("return", ret.id, ret.order_id, ret.status)]
        + [("returnFulfillment", ful, ret.order_id, "created") for ful in ret.fulfillments]
    )
    # One status agreed by every create: what the matrix says a new return starts as.
    statuses = session.new_return_statuses
    return PlatformResult(
        platform.name,
        imitates,
        platform.target_label,
        provenance,
        cells,
        created,
        new_return_status=next(iter(statuses)) if len(statuses) == 1 else None,
    )


def _run_one(platform: PlatformConfig, config: RunConfig) -> PlatformResult:
    return run_platform(platform, config)


def run(config: RunConfig, progress: Progress = lambda p, m: None) -> RunResult:
    """Platforms run in parallel processes (one per core), each against its own target; within
    a platform, lifecycle sequences stay ordered. One platform runs in this process."""
    schemas.registry()  # missing or invalid schema files: a usage error before any request
    workers = config.parallel_platforms
    if workers <= 1:
        return RunResult(tuple(run_platform(p, config, progress) for p in config.platforms))
    results: dict[str, PlatformResult] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_run_one, p, config): p.name for p in config.platforms}
        for name in [p.name for p in config.platforms]:
            progress(name, "queued")
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            progress(futures[future], "done")
    return RunResult(tuple(results[p.name] for p in config.platforms))


def run_reference(
    platform: str | None = None,
    *,
    defects: frozenset[str] = frozenset(),
    variations: frozenset[str] = frozenset(),
    seed: int = 1,
    max_examples: int | None = None,
    connections: int | None = None,
) -> RunResult:
    """The embedded reference platforms (or one of them), as `conformance run` runs them with
    no target: for scripts, benchmarks and tests."""
    from conformance.config import build

    return run(
        build(
            platform=platform,
            seed=seed,
            defects=defects,
            variations=variations,
            max_examples=max_examples,
            connections=connections,
        )
    )
