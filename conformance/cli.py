"""The command line: `conformance run`, `conformance matrix` and `conformance serve`; the only
module with exit codes.

Exit codes come from the gate (`conformance.gate.decide`, the same for `run` and `matrix`):
0 the gate passed; 1 it failed (a cell whose verdict is in --fail-on, an overclaim, a regression,
a stale expected failure, or nothing decided: no evidence is never a pass); 2 the run could not
start (bad arguments, target unreachable or token refused at the start), with one line and no
traceback, never once a run has started; 3 the suite itself failed (a bug: the cells it could not
decide are inconclusive, `suite_error`, or a matrix its own schema refuses); 130 interrupted (the
results so far written).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from conformance import cli_args, gate, matrix, runner
from conformance.config import TOKEN_ENV, RunConfig, build
from conformance.errors import ConformanceError, UsageError
from conformance.gate import Decision, GateInputs, Outcome
from conformance.output import (
    check_names,
    check_writable,
    error_summary,
    plan,
    write_all,
)
from conformance.reference.server import check_defects
from conformance.render.terminal import print_findings, print_summary

if TYPE_CHECKING:
    import httpx

MAX_LATENCY_MS = 10_000.0


class ExitCode(IntEnum):
    OK = 0
    """The gate passed: nothing failing, overclaimed, regressed or stale."""
    FAILING = 1
    """The gate failed: a gated verdict, an overclaim, a regression, a stale expectation, or
    nothing decided at all (no evidence is never a pass)."""
    USAGE_ERROR = 2
    """The run could not start: bad input, target unreachable or token refused at the start."""
    SUITE_ERROR = 3
    """The suite itself failed on some cells (a bug to report): its verdicts are incomplete."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C: what was decided is written, the rest is untested (interrupted)."""


def _gate_inputs(args: argparse.Namespace, config: RunConfig) -> GateInputs:
    """Read and check every gate input before the run, so a typo costs no run."""
    platforms = [(p.name, p.declared_by) for p in config.platforms]
    return GateInputs(
        manifests=gate.find_manifests(platforms, args.declared, config.output_dir),
        baseline=gate.read_baseline(args.baseline) if args.baseline else None,
        expectations=gate.read_expectations(args.expected_failures)
        if args.expected_failures
        else None,
        fail_on=gate.parse_fail_on(args.fail_on) if args.fail_on else gate.DEFAULT_FAIL_ON,
    )


def _run(
    args: argparse.Namespace, argv: Sequence[str], transport: httpx.BaseTransport | None
) -> int:
    """`conformance run`: a thin wrapper over `conformance.run` (runner.py)."""
    config = _run_config(args, argv)
    args.resolved_output_dir = config.output_dir  # where a summary of a failed start goes
    check_names([p.name for p in config.platforms])
    inputs = _gate_inputs(args, config)
    check_writable(config.output_dir)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    console = Console(no_color=not colour, highlight=False, width=None if colour else _columns())
    if colour:
        with console.status("starting") as status:
            completed = runner.run(
                config,
                inputs,
                progress=lambda p, m: status.update(f"{p}: {m}"),
                transport=transport,
            )
    else:
        completed = runner.run(
            config,
            inputs,
            progress=lambda p, m: (
                console.print(f"{p}: {m}", markup=False) if m in ("done", "interrupted") else None
            ),
            transport=transport,
        )
    args.run_started = True  # from here on, nothing is exit 2 (see main)
    _warn(completed.warnings)
    result, decision = completed.result, completed.decision
    planned = plan(result, config.output_dir, decision)
    written = write_all(planned.files)
    print_summary(console, result, colour=colour, decision=decision)
    print_findings(console, result, decision, config.output_dir)
    console.print(f"wrote {len(written)} files under {config.output_dir}/", markup=False)
    if completed.interrupted:
        print("conformance: interrupted: the results so far are written", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if planned.refused:
        for refused in planned.refused:
            print(
                f"conformance: internal error: the matrix of {refused.line()} "
                "(a bug in the suite: please report it)",
                file=sys.stderr,
            )
        return ExitCode.SUITE_ERROR
    if completed.suite_errors:
        cells = ", ".join(f"{p} {o}" for p, o in completed.suite_errors)
        print(
            f"conformance: internal error: the suite failed on {cells} (inconclusive, "
            "suite_error): please report it with the findings JSON",
            file=sys.stderr,
        )
        return ExitCode.SUITE_ERROR
    return _exit_code(decision)


def _columns() -> int:
    """The width to fit when not on a terminal: $COLUMNS when it is set, else 160."""
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) >= 40 else 160


def _run_config(args: argparse.Namespace, argv: Sequence[str]) -> RunConfig:
    defects = frozenset(args.defect)
    check_defects(defects)
    config = build(
        base_url=args.base_url,
        platform=args.platform,
        token=args.token,
        allow_writes=args.allow_writes,
        act_on_existing=args.act_on_existing,
        order_ids=args.order_id,
        output_dir=args.output_dir,
        seed=args.seed,
        config_file=args.config,
        timeout=args.timeout,
        retry_pause=args.retry_pause,
        defects=defects,
        variations=cli_args.variations(args.variation),
        max_examples=args.max_examples,
        max_requests=args.max_requests,
        connections=args.connections,
        shard=args.shard,
        command=cli_args.redacted_argv(argv),
    )
    if args.schemathesis is not None:
        config = dataclasses.replace(config, schemathesis=args.schemathesis)
    return config


def _matrix(args: argparse.Namespace) -> int:
    view = matrix.build(
        args.paths,
        declared=args.declared,
        baseline=args.baseline,
        expected=args.expected_failures,
        fail_on=args.fail_on,
    )
    _warn(view.warnings)
    files = {args.output: view.page(args.title, output=args.output)}
    if args.summary:
        files[args.summary] = view.summary()
    write_all(files)
    for cell in view.decision.failures():
        print(
            f"  {cell.platform} {cell.operation}: {cell.verdict.value} "
            f"({', '.join(p.value for p in cell.problems)})"
        )
    print(view.decision.headline())
    print(f"{view.run.passed} passed, {view.run.failed} failed")
    print(f"wrote {args.output}" + (f" and {args.summary}" if args.summary else ""))
    return _exit_code(view.decision)


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"conformance: warning: {warning}", file=sys.stderr)


def _exit_code(decision: Decision) -> int:
    if decision.outcome == Outcome.undecided:
        print(
            "conformance: nothing could be decided for "
            + ", ".join(decision.undecided)
            + ": no operation was tested (no evidence is never a pass)",
            file=sys.stderr,
        )
        return ExitCode.FAILING  # never 2 once a run has started (contract section 5)
    return ExitCode.FAILING if decision.outcome == Outcome.failed else ExitCode.OK


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from conformance.reference.app import create_app
    from conformance.reference.profile import load_profile
    from conformance.reference.variations import check_variations, with_variations

    defects = frozenset(args.defect)
    check_defects(defects)
    variations = cli_args.variations(args.variation)
    check_variations(variations)
    if not 0 <= args.latency <= MAX_LATENCY_MS:
        raise UsageError(
            f"--latency must be from 0 to {MAX_LATENCY_MS:.0f} ms", "e.g. --latency 50"
        )
    profile = with_variations(load_profile(args.platform), variations)
    listener = _listen(args.host, args.port)  # first: a taken port is one line, nothing else
    token = args.token or os.environ.get(TOKEN_ENV) or ""
    if not token:
        token = secrets.token_urlsafe(18)
        print(f"token (generated, shown once): {token}", file=sys.stderr)
    varied = f" with variations {', '.join(sorted(variations))}" if variations else ""
    app = create_app(profile, token, defects, latency=args.latency / 1000)
    print(
        f"serving {profile.name} (imitates {profile.imitates}){varied} on "
        f"http://{args.host}:{listener.getsockname()[1]}/api/v2/",
        file=sys.stderr,
    )
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])
    return ExitCode.OK


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound here so that a port in use or a host that is not
    this machine's is a usage error (exit 2), not uvicorn's log and exit 3."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535, not {port}", "e.g. --port 8000")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # With its protocol named (IPPROTO_TCP), asyncio turns Nagle off on every accepted
        # connection, as uvicorn's own socket gets; without it each answer on a kept-alive
        # connection waits ~40 ms for a delayed ACK.
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc.__class__.__name__}",
            "choose another --port (or --port 0 for a free one)",
        ) from None
    return listener


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """The command line. `transport` (httpx's seam, for embedding and tests: e.g. a wrapper
    that records or rewrites answers) goes to every platform's client in `run`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a target's text may not be encodable as is
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = cli_args.parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "matrix":
            return _matrix(args)
        return _run(args, argv, transport)
    except ConformanceError as err:
        if getattr(args, "run_started", False):
            # After the run: the results exist, so this is never "could not start" (exit 2).
            print(f"conformance: internal error: {err.one_line()}", file=sys.stderr)
            return ExitCode.SUITE_ERROR
        line = f"conformance: error: {err.one_line()}"
        print(line, file=sys.stderr)
        if args.command == "run":
            # A CI step that shows reports/summary.md must find one saying why nothing ran.
            where = getattr(args, "resolved_output_dir", None) or Path(args.output_dir or ".")
            error_summary(where, line)
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug in the suite: one line, never a traceback, never exit 1
        print(
            f"conformance: internal error: {type(exc).__name__}: {str(exc)[:200]} "
            "(a bug in the suite: please report it)",
            file=sys.stderr,
        )
        return ExitCode.SUITE_ERROR
