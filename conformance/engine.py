"""Runs the stages for each platform: connect → discover → probe → judge → assemble.

The engine never prints: it reports progress through a callback, and returns the RunResult that
every renderer reads.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import secrets
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from conformance import __version__, interrupt, schemas
from conformance.config import PlatformConfig, RunConfig
from conformance.contract import OperationId, contract_version, lifecycle, operations
from conformance.discover import Inventory, discover
from conformance.errors import ConformanceError
from conformance.findings import Finding, Observations
from conformance.generate import generate
from conformance.judge import judge
from conformance.probes import Session, Settings, probe_lifecycle, probe_negative, probe_reads
from conformance.reference.profile import load_profile
from conformance.reference.server import ReferenceServer
from conformance.results import Created, OperationResult, PlatformResult, Provenance, RunResult
from conformance.target import Target
from conformance.verdicts import ReasonCode

Progress = Callable[[str, str], None]


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextmanager
def connect(
    platform: PlatformConfig,
    config: RunConfig,
    writes: bool,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[Target]:
    """A Target for the platform; embedded profiles get their own server on loopback.

    `transport` (httpx's own seam, e.g. a wrapper that counts or times requests) is handed to
    the Target's client; None is httpx's default."""
    if platform.base_url is not None:
        target = Target(
            platform.base_url,
            platform.token,
            allow_writes=writes,
            timeout=config.timeout,
            retry_pause=config.retry_pause,
            max_requests=config.max_requests,
            connections=config.connections_per_target,
            transport=transport,
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
            retry_pause=config.retry_pause,
            max_requests=config.max_requests,
            connections=config.connections_per_target,
            transport=transport,
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
                    ReasonCode.writes_not_allowed,
                    "planned",
                    f"{op.id} is a write (POST); this run does not allow writes",
                )
            )
        elif op.id in settings.excluded:
            found.append(Finding(op.id, ReasonCode.excluded, "planned", f"{op.id} was excluded"))
    return found


def undecided_become(session: Session, reason: str, message: str) -> None:
    """Every operation nothing has decided yet gets `reason` (suite_error, interrupted)."""
    for op in operations():
        if op.id not in session.seen.succeeded and not session.seen.for_operation(op.id):
            session.seen.failed(Finding(op.id, reason, "suite", message))


def guarded(
    session: Session, label: str, stage: Callable[[], None], *, starting: bool = False
) -> bool:
    """A bug in one stage must not lose the run: what it had not decided becomes inconclusive
    (`suite_error`), and the other stages still run. False when the stage failed so.

    Only the `starting` stage (discovery) lets a ConformanceError through: the target
    unreachable or the token refused at the start is exit 2. Once the run has started, any
    error is the suite's own (exit 3), never "the run could not start"."""
    try:
        stage()
    except ConformanceError as exc:
        if starting:
            raise  # the user's input or the target's reachability: one line, exit 2
        text = session.target.redactor.text(exc.one_line())[:300]
        undecided_become(session, ReasonCode.suite_error, f"while {label}: {text}")
        return False
    except Exception as exc:  # the suite's own trouble, reported, never a traceback
        text = session.target.redactor.text(f"{type(exc).__name__}: {exc}")[:300]
        undecided_become(session, ReasonCode.suite_error, f"while {label}: {text}")
        return False
    return True


def judged(operation: str, seen: Observations, rerun: str) -> OperationResult:
    """judge() under the same guard as the stages: a bug there is one inconclusive cell."""
    try:
        return judge(operation, seen, rerun)
    except Exception as exc:
        alone = Observations()
        alone.failed(
            Finding(
                operation, ReasonCode.suite_error, "suite", f"while judging: {type(exc).__name__}"
            )
        )
        return judge(operation, alone, rerun)


def clean_up(session: Session) -> None:
    """Cancel the returns this run created and left open, where the platform allows it."""
    if not session.is_open(OperationId.cancelReturn):
        return
    # Returns other clients of the run made (schemathesis) carry the same note: find them too.
    lists: list[tuple[str, dict[str, str]]] = []
    if session.is_open(OperationId.listOrderReturns):
        lists = [
            (OperationId.listOrderReturns, {"orderId": o.id}) for o in session.inventory.orders
        ]
    elif session.is_open(OperationId.listReturns):
        lists = [(OperationId.listReturns, {})]
    for op, params in lists:
        items, _, _ = session.collect(op, params)
        for item in items:
            if item.get("note") in (session.tag, session.probe_tag):
                # One the suite's probes did not make (schemathesis did, perhaps from invalid
                # input it accepted): kept apart, so its cancel answer charges nothing to cancel.
                made_elsewhere = item.get("returnOrderId") not in session.inventory.returns
                probe = made_elsewhere or item.get("note") == session.probe_tag
                session.inventory.learn_return(item, params.get("orderId"), ours=True, probe=probe)
    for ret in session.inventory.returns_in(*lifecycle().open(), ours=True, probes=True):
        reply = session.call(
            OperationId.cancelReturn,
            {"orderId": ret.order_id, "id": ret.id},
            body={"note": session.tag},
        )
        if reply.ok:
            session.inventory.learn_return(reply.get("return"), ret.order_id)


def rerun_command(platform: PlatformConfig, config: RunConfig) -> str:
    """The command that runs this platform again, exactly: the recorded command with every flag
    the user gave (defects, variations, budgets, schemathesis, gate inputs, config file), narrowed
    to this platform, with the seed the run used. The token never appears: it comes from
    $CONFORMANCE_TOKEN (or the config's token_env)."""
    words = shlex.split(config.command) if config.command.startswith("conformance run") else []
    select = platform.name
    if not words:  # the pytest entry point or a library call: rebuild from the config
        select = platform.reference or platform.name
        words = ["conformance", "run"]
        if platform.base_url is not None:
            words += ["--base-url", platform.target_label]
        words += [f"--defect={d}" for d in sorted(platform.defects)]
        if platform.variations:
            words.append("--variation=" + ",".join(sorted(platform.variations)))
        if config.allow_writes and platform.base_url is not None:
            words.append("--allow-writes")
        if config.act_on_existing:
            words.append("--act-on-existing")
        words.append(f"--max-examples={config.max_examples}")
        if config.max_requests is not None:
            words.append(f"--max-requests={config.max_requests}")
        if config.schemathesis is not None:
            words.append("--schemathesis" if config.schemathesis else "--no-schemathesis")
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        name = word.split("=", 1)[0]
        if name in ("--platform", "--shard", "--seed", "--token"):
            skip = "=" not in word  # drop the flag and, when separate, its value
            continue
        kept.append(word)
    kept += ["--platform", select, "--seed", str(config.seed)]
    return shlex.join(kept)


def _private_hypothesis_home() -> None:
    """Hypothesis keeps a cache in ./.hypothesis; a run must not litter the user's folder."""
    import hypothesis.configuration

    home = os.path.join(tempfile.gettempdir(), "returns-conformance-hypothesis")
    hypothesis.configuration.set_hypothesis_home_dir(home)


def run_platform(
    platform: PlatformConfig,
    config: RunConfig,
    progress: Progress = lambda p, m: None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> PlatformResult:
    """One platform in this process; `transport` goes to its Target (see `connect`)."""
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
    with connect(platform, config, writes, transport) as target:
        session = Session(target, Inventory(), settings)
        for finding in untested_upfront(settings):
            session.seen.failed(finding)

        def discovery() -> None:
            session.inventory = discover(target, platform.order_ids)

        stages: list[tuple[str, Callable[[], None]]] = [
            ("discovering test data", discovery),
            ("probing reads", lambda: probe_reads(session)),
        ]
        if writes:
            stages.append(("probing the lifecycle", lambda: probe_lifecycle(session)))
        stages.append(("probing auth and invalid input", lambda: probe_negative(session)))
        if config.max_examples > 0:
            stages.append(("generated testing", lambda: generate(session, config.max_examples)))
        if writes:
            stages.append(("cancelling the returns the suite created", lambda: clean_up(session)))
        label, interrupted = "starting", False
        try:
            for label, stage in stages:
                progress(platform.name, label)
                starting = label == "discovering test data"
                if not guarded(session, label, stage, starting=starting) and starting:
                    break  # nothing to test on: every cell is already inconclusive
        except (KeyboardInterrupt, interrupt.Interrupted):
            progress(platform.name, "interrupted")
            undecided_become(session, ReasonCode.interrupted, f"interrupted while {label}")
            interrupted = True
    rerun = rerun_command(platform, config)
    cells: tuple[OperationResult, ...] = tuple(
        judged(op.id, session.seen, rerun) for op in operations()
    )
    finished = time.time()
    imitates = load_profile(platform.reference).imitates if platform.reference else None
    provenance = _provenance(
        platform, config, started, finished, writes=writes, act_on_existing=settings.act_on_existing
    )
    provenance = dataclasses.replace(provenance, interrupted=interrupted)
    progress(platform.name, "done")
    created = tuple(
        entry
        for ret in session.inventory.returns_in(ours=True, probes=True)
        for entry in [Created("return", ret.id, ret.order_id, ret.status, ret.marked)]
        + [Created("returnFulfillment", ful, ret.order_id, "created") for ful in ret.fulfillments]
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


def _provenance(
    platform: PlatformConfig,
    config: RunConfig,
    started: float,
    finished: float,
    *,
    writes: bool,
    act_on_existing: bool,
) -> Provenance:
    return Provenance(
        suite_version=__version__,
        contract_version=contract_version(),
        schema_hash=schemas.schema_hash(),
        seed=config.seed,
        generated_at=_stamp(finished),
        target=platform.target_label,
        started_at=_stamp(started),
        duration_seconds=finished - started,
        writes_allowed=writes,
        act_on_existing=act_on_existing,
        max_examples=config.max_examples,
        command=config.command,
    )


def _run_one(platform: PlatformConfig, config: RunConfig) -> PlatformResult:
    return run_platform(platform, config)


def not_started(platform: PlatformConfig, config: RunConfig) -> PlatformResult:
    """A platform Ctrl-C stopped before it began: every cell `untested` (`interrupted`)."""
    seen = Observations()
    for op in operations():
        seen.failed(
            Finding(
                op.id, ReasonCode.interrupted, "suite", "interrupted before this platform began"
            )
        )
    now = time.time()
    rerun = rerun_command(platform, config)
    cells = tuple(judge(op.id, seen, rerun) for op in operations())
    imitates = load_profile(platform.reference).imitates if platform.reference else None
    return PlatformResult(
        platform.name,
        imitates,
        platform.target_label,
        dataclasses.replace(
            _provenance(platform, config, now, now, writes=False, act_on_existing=False),
            interrupted=True,
        ),
        cells,
    )


def run(
    config: RunConfig,
    progress: Progress = lambda p, m: None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> RunResult:
    """Platforms run in parallel processes (one per core), each against its own target; within
    a platform, lifecycle sequences stay ordered. One platform runs in this process, and so do
    all of them when a `transport` is given (a live object that cannot cross processes)."""
    schemas.registry()  # missing or invalid schema files: a usage error before any request
    workers = config.parallel_platforms
    if workers <= 1 or transport is not None:
        return RunResult(
            tuple(run_platform(p, config, progress, transport=transport) for p in config.platforms)
        )
    results: dict[str, PlatformResult] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
    stop = context.Event()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=interrupt.watch, initargs=(stop,)
    ) as pool:
        futures = {pool.submit(_run_one, p, config): p for p in config.platforms}
        for platform in config.platforms:
            progress(platform.name, "queued")
        try:
            for future in as_completed(futures):
                results[futures[future].name] = future.result()
                progress(futures[future].name, "done")
        except KeyboardInterrupt:
            # Ctrl-C: the running platforms stop at their next request and judge what they
            # saw; the queued ones never start.
            stop.set()
            for future, platform in futures.items():
                if platform.name in results:
                    continue
                if future.cancel():
                    results[platform.name] = not_started(platform, config)
                else:
                    results[platform.name] = future.result()
                progress(platform.name, "interrupted")
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
