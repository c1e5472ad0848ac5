"""Generated testing: schema-driven inputs and the lifecycle state machine.

Runs after the hand-written probes, on the same session, so its findings land in the same cells.
"""

from __future__ import annotations

from conformance.generate.inputs import generated_creates, generated_list_params, invalid_bodies
from conformance.generate.machine import run_machine
from conformance.probes.session import Session

__all__ = ["generate"]


def generate(s: Session, max_examples: int) -> None:
    """Schema-driven inputs, then the lifecycle state machine, within the example budget."""
    generated_list_params(s, max_examples)
    if s.settings.allow_writes:
        invalid_bodies(s)
        generated_creates(s, max_examples)
        run_machine(s, max_examples)
