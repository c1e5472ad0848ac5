"""The pytest plugin behind `conformance.suite`: options, one engine run per session, a summary.

pytest reads command-line options only from plugins and root conftests, and `--pyargs` does not
make a package's conftest a root one, so the options live here: load it with
`-p conformance.suite.plugin` (or through a `pytest11` entry point). Without it the suite still
runs, against the embedded reference platforms with default settings.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance import gate, runner
from conformance.config import TOKEN_ENV, build
from conformance.errors import ConformanceError
from conformance.gate import Case, Decision, GateInputs
from conformance.output import check_names, check_writable, planned_files, write_all
from conformance.results import RunResult
from conformance.verdicts import Verdict

_OPTIONS = "conformance_"


@dataclass(frozen=True)
class SuiteRun:
    """What one session's engine run produced, and the cases pytest turns into items."""

    run: RunResult
    decision: Decision
    cases: tuple[Case, ...]


_RUN = pytest.StashKey[SuiteRun]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Returns API conformance suite")
    group.addoption(
        "--conformance-base-url",
        metavar="URL",
        help="the connector's base URL; omit to test the embedded reference platforms",
    )
    group.addoption(
        "--conformance-token",
        metavar="TOKEN",
        help=f"bearer token (default: ${TOKEN_ENV}; prefer the variable)",
    )
    group.addoption(
        "--conformance-platform",
        metavar="NAME",
        help="report name of the target, or which reference platform to run",
    )
    group.addoption(
        "--conformance-allow-writes",
        action="store_true",
        default=False,
        help="allow POST requests (create returns, act on them); use a sandbox",
    )
    group.addoption(
        "--conformance-act-on-existing",
        action="store_true",
        default=False,
        help="allow approve/reject/cancel on returns the suite did not create",
    )
    group.addoption(
        "--conformance-order-id",
        action="append",
        default=[],
        metavar="ID",
        help="an order to test on (repeatable); default: discovered",
    )
    group.addoption(
        "--conformance-config", metavar="FILE", help="TOML config, as `conformance run --config`"
    )
    group.addoption("--conformance-seed", type=int, metavar="N", help="random seed")
    group.addoption(
        "--conformance-timeout", type=float, metavar="S", help="per-request timeout (default 10)"
    )
    group.addoption(
        "--conformance-max-requests",
        type=int,
        metavar="N",
        help="request budget per platform; what it leaves untried is untested",
    )
    group.addoption(
        "--conformance-connections",
        type=int,
        metavar="N",
        help="requests in flight at once over the whole run (default 4)",
    )
    group.addoption(
        "--conformance-schemathesis",
        choices=("on", "off"),
        help="schemathesis' phases (default: on for URL targets, off for the reference ones)",
    )
    group.addoption(
        "--conformance-max-examples",
        type=int,
        metavar="N",
        help="generated examples per property (default 20; 0 turns it off)",
    )
    group.addoption(
        "--conformance-output-dir",
        metavar="DIR",
        help="also write capability_matrices/ and reports/ there, as `conformance run`",
    )
    group.addoption(
        "--conformance-declared",
        action="append",
        default=[],
        metavar="FILE",
        help="a manifest of declared capabilities (repeatable)",
    )
    group.addoption(
        "--conformance-baseline", metavar="PATH", help="an earlier matrix or a directory of them"
    )
    group.addoption(
        "--conformance-expected-failures",
        metavar="FILE",
        help="TOML list of known failures, each with a reason",
    )
    group.addoption(
        "--conformance-fail-on",
        metavar="VERDICTS",
        help="verdicts that fail (default: failing; e.g. failing,inconclusive)",
    )


def _option(config: pytest.Config, name: str) -> object:
    return config.getoption(_OPTIONS + name, default=None)


@dataclass(frozen=True)
class _Inputs:
    """The gate options, read and checked at configure time (bad ones: pytest usage error)."""

    fail_on: frozenset[Verdict]
    declared: tuple[Path, ...]
    baseline: gate.Baseline | None
    expectations: gate.Expectations | None


_INPUTS = pytest.StashKey[_Inputs]()


def pytest_configure(config: pytest.Config) -> None:
    """Check the gate options before collection; the engine itself runs only when the suite's
    items are collected, so the plugin costs nothing in sessions that do not collect them."""
    fail_on, baseline, expected = (
        _option(config, n) for n in ("fail_on", "baseline", "expected_failures")
    )
    declared = _option(config, "declared") or []
    try:
        for path in declared if isinstance(declared, list) else []:
            gate.read_manifest(Path(str(path)))
        config.stash[_INPUTS] = _Inputs(
            fail_on=gate.parse_fail_on(str(fail_on)) if fail_on else gate.DEFAULT_FAIL_ON,
            declared=tuple(Path(str(d)) for d in declared) if isinstance(declared, list) else (),
            baseline=gate.read_baseline(Path(str(baseline))) if baseline else None,
            expectations=gate.read_expectations(Path(str(expected))) if expected else None,
        )
    except ConformanceError as err:
        raise pytest.UsageError(f"conformance: error: {err.one_line()}") from None


def _execute(config: pytest.Config) -> SuiteRun:
    """A thin wrapper over `conformance.run`, as `conformance run` is."""
    out = _option(config, "output_dir")
    given = config.stash[_INPUTS]
    base_url = _option(config, "base_url")
    token = _option(config, "token") or (os.environ.get(TOKEN_ENV) if base_url else None)
    text = _text(config)
    run_config = build(
        base_url=text("base_url"),
        platform=text("platform"),
        token=str(token) if token else None,
        allow_writes=bool(_option(config, "allow_writes")),
        act_on_existing=bool(_option(config, "act_on_existing")),
        order_ids=[str(o) for o in _list(_option(config, "order_id"))],
        output_dir=text("output_dir"),
        seed=_int(_option(config, "seed")),
        config_file=text("config"),
        timeout=float(str(_option(config, "timeout"))) if _option(config, "timeout") else None,
        max_examples=_int(_option(config, "max_examples")),
        max_requests=_int(_option(config, "max_requests")),
        connections=_int(_option(config, "connections")),
        command="pytest --pyargs conformance.suite",
    )
    schemathesis = _option(config, "schemathesis")
    if schemathesis is not None:
        run_config = dataclasses.replace(run_config, schemathesis=schemathesis == "on")
    check_names([p.name for p in run_config.platforms])
    inputs = GateInputs(
        manifests=gate.find_manifests(
            [(p.name, p.declared_by) for p in run_config.platforms],
            given.declared,
            run_config.output_dir,
        ),
        baseline=given.baseline,
        expectations=given.expectations,
        fail_on=given.fail_on,
    )
    if out:
        check_writable(run_config.output_dir)
    done = runner.run(run_config, inputs)
    if out:
        write_all(planned_files(done.result, run_config.output_dir, done.decision))
    found = tuple(c for p in done.result.platforms for c in gate.cases(p, done.decision))
    return SuiteRun(done.result, done.decision, found)


def _text(config: pytest.Config) -> Callable[[str], str | None]:
    def text(name: str) -> str | None:
        value = _option(config, name)
        return str(value) if value else None

    return text


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _int(value: object) -> int | None:
    return int(str(value)) if value is not None else None


def _plugin_words(line: str) -> str:
    """The engine's messages name `conformance run`'s flags; here they are --conformance-*."""
    return re.sub(r"(?<![\w-])--(?!conformance-)([a-z][a-z-]*)", r"--conformance-\1", line)


_ERROR = pytest.StashKey[str]()


def suite_run(config: pytest.Config) -> SuiteRun | None:
    """The session's one engine run (started by the first caller); None when it could not
    start (a refused token, an unreachable target): the session then ends once collection is
    over, with one line and exit code 2 (`pytest_collection_modifyitems`), never a traceback."""
    if _RUN not in config.stash and _ERROR not in config.stash:
        try:
            config.stash[_RUN] = _execute(config)
        except ConformanceError as err:
            config.stash[_ERROR] = f"conformance: error: {_plugin_words(err.one_line())}"
    return config.stash.get(_RUN, None)


def pytest_collection_modifyitems(config: pytest.Config) -> None:
    """Outside every collection hook wrapper (schemathesis has one), so the exit is one line."""
    if _ERROR in config.stash:
        pytest.exit(config.stash[_ERROR], returncode=2)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    if _RUN in config.stash:
        done = config.stash[_RUN]
        terminalreporter.write_sep("-", "Returns conformance")
        terminalreporter.write_line(done.decision.headline())
        terminalreporter.write_line(f"{done.decision.tally_line()} (cells)")
