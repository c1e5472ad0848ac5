"""The suite's one public entry point: `conformance.run(config, gate_inputs) -> Completed`.

Every front end (`conformance run`, the pytest plugin) is a thin wrapper over it, so they cannot
drift apart: it runs every stage under the engine's guard (a bug in the suite makes cells
`inconclusive` with `suite_error`, Ctrl-C makes the untried ones `untested` with `interrupted`),
annotates the matrices with the gate's inputs and decides, once. It always returns a complete
result, one cell per platform and operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance import gate
from conformance.config import RunConfig
from conformance.gate import Decision, GateInputs
from conformance.results import RunResult
from conformance.verdicts import ReasonCode

if TYPE_CHECKING:
    import httpx

Progress = Callable[[str, str], None]  # (platform, what it is doing now)

SUITE_ERROR = ReasonCode.suite_error


@dataclass(frozen=True)
class Completed:
    """A run, judged and gated: what every front end prints, writes and exits on."""

    result: RunResult
    decision: Decision
    warnings: tuple[str, ...] = ()

    def cells_with(self, reason: str) -> tuple[tuple[str, str], ...]:
        """(platform, operation) of every cell that carries `reason`."""
        return tuple(
            (platform.name, cell.operation)
            for platform in self.result.platforms
            for cell in platform.operations
            if reason in cell.reasons
        )

    @property
    def interrupted(self) -> bool:
        """Stopped by Ctrl-C: the cells it had not decided are `untested` (`interrupted`)."""
        return any(p.provenance.interrupted for p in self.result.platforms)

    @property
    def suite_errors(self) -> tuple[tuple[str, str], ...]:
        """Cells the suite could not decide because of its own bug (`suite_error`)."""
        return self.cells_with(SUITE_ERROR)


def run(
    config: RunConfig,
    gate_inputs: GateInputs | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Completed:
    """Run, annotate and decide. Raises ConformanceError (one line) only for what stops a run
    before any verdict: bad input, an unreachable target, a refused token. `transport` is
    httpx's seam, handed to every platform's client (see `engine.connect`)."""
    from conformance import engine  # here: `conformance matrix` needs only `complete`

    result = engine.run(config, progress or (lambda platform, message: None), transport=transport)
    return complete(result, gate_inputs if gate_inputs is not None else GateInputs())


def complete(result: RunResult, inputs: GateInputs) -> Completed:
    """Annotate the matrices with the gate's inputs and decide: the one place this happens,
    for a run just made and for matrices read back (`conformance matrix`)."""
    result = gate.annotate_run(result, inputs)
    warnings = gate.baseline_warnings(result, inputs.baseline) if inputs.baseline else []
    return Completed(result, gate.decide(result, inputs.fail_on), tuple(warnings))
