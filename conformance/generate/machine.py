"""The return lifecycle as a Hypothesis state machine (contract section 4): the runner.

`run_machine` builds the machine (`machine_rules`) for one target, seeds it and runs it through
Hypothesis' public API. A violation stops the run; Hypothesis shrinks it to the shortest sequence
of calls that still shows it, and that sequence becomes the finding's steps. The model of the
contract is in `machine_model`, the read checks in `machine_checks`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, seed, settings
from hypothesis.errors import FlakyFailure, FlakyStrategyDefinition
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test

from conformance.contract import OperationId
from conformance.generate.machine_model import ACTIONS, LEGAL_FROM, Modelled, Problem
from conformance.generate.machine_rules import Budget, Violation, build_machine
from conformance.probes.session import Session
from conformance.repro import replayable
from conformance.verdicts import ReasonCode

__all__ = [
    "ACTIONS",
    "LEGAL_FROM",
    "MAX_RUNS",
    "Budget",
    "Modelled",
    "Problem",
    "Violation",
    "build_machine",
    "run_machine",
]

MAX_RUNS = 4  # after a failure, run again without the failing operation, this many times


def run_machine(s: Session, max_examples: int, steps: int = 12, seconds: float = 20.0) -> int:
    """Run the lifecycle machine; record each (shrunk) violation as a finding. Returns runs made."""
    inv = s.inventory
    room = {o.id: sum(max(inv.available(o, line), 0) for line in o.lines) for o in inv.orders}
    orders = sorted((o for o in inv.orders if room[o.id] > 0), key=lambda o: -room[o.id])[:3]
    if not orders or not s.is_open(OperationId.createReturn) or max_examples <= 0:
        return 0
    skip: set[str] = set()
    runs = 0
    for _ in range(MAX_RUNS):
        runs += 1
        seen: list[Violation] = []
        budget = Budget(requests=max_examples * steps * 6, seconds=seconds)
        machine = seed(s.settings.seed)(build_machine(s, orders, skip, seen, budget))
        try:
            with with_reporter(lambda _: None):
                run_state_machine_as_test(
                    machine,
                    settings=settings(
                        max_examples=max_examples,
                        stateful_step_count=steps,
                        deadline=None,
                        database=None,
                        derandomize=False,
                        suppress_health_check=list(HealthCheck),
                    ),
                )
        except Violation as found:
            _record(s, found)
            skip.add(found.op)
            continue
        except (FlakyFailure, FlakyStrategyDefinition):
            # The target answered differently when the sequence was replayed, so it could not
            # be shrunk: report the first violation as it happened.
            if not seen:
                raise
            shortest = min(seen, key=lambda v: len(v.steps))
            _record(
                s,
                shortest,
                note="shortest sequence found; the target's answers changed "
                "between replays or the budget ran out while shrinking",
            )
            skip.add(shortest.op)
            continue
        break
    return runs


def _record(s: Session, v: Violation, note: str = "") -> None:
    """The finding of a violation: the sequence's calls the failure needs as evidence, with the
    script that replays them on fresh data (conformance.repro)."""
    message = v.message + (f" ({note})" if note else "")
    s.seen.failed(
        replayable(
            v.op,
            v.reason,
            "state_machine",
            message,
            v.exchanges or [r.exchange for r in v.replies],
            shows=v.shows,
            # a failure several pages show together needs every page
            keep_reads=v.reason == ReasonCode.pagination_broken,
            steps=v.steps,
            seed=s.settings.seed,
            inventory=s.inventory,  # returns made outside the sequence that a list read needs
        )
    )
