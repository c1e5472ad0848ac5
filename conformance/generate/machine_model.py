"""The lifecycle machine's model of the contract (section 4): the lifecycle table's views, what a
return the machine created must look like, and what the answer to each write must be.

Split from `machine.py` so the contract's expectations read apart from the Hypothesis rules that
drive the target. A `Problem` is what the machine's `fail` takes; None means the answer fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.contract import OperationId, lifecycle
from conformance.repro import ACCEPTED
from conformance.statuses import return_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode

# Views of the one lifecycle table (contract.lifecycle()), never a copy of it.
ACTIONS = {op: step.to_status for op, step in lifecycle().transitions.items()}
LEGAL_FROM = {op: step.from_status for op, step in lifecycle().transitions.items()}
Problem = tuple[Any, ...]
"""What `Lifecycle.fail` takes: operation, reason, message, then the replies that show it and,
last, optionally the `shows` expression of its replay script (conformance.repro.script)."""


@dataclass
class Modelled:
    """What the contract says a return the machine created must look like now."""

    id: str
    order_id: str
    status: str
    lines: dict[str, int]
    fulfillments: list[str] = field(default_factory=list)
    last_action: str | None = None


def moves(op: str, before: str) -> bool:
    """Whether a success of `op` on a return in `before` moves it (legal, and not a repeat)."""
    return before in LEGAL_FROM[op] and before != ACTIONS[op]


def action_problem(op: str, before: str, reply: Reply) -> Problem | None:
    """What is wrong with the answer to action `op` on a return that was `before`, if anything:
    a repeat must leave the status, an illegal action must be refused, a legal one must not be
    refused (unless the contract lets it) and must answer the `to` status."""
    to = ACTIONS[op]
    # Statuses are compared as what they stand for (conformance.statuses); a platform's own
    # status that stands for none is not judged here (the machine notes it and stops modelling
    # that return).
    got = reply.get("return", "status")
    judged = not unmappable(got)
    if before == to:
        if reply.ok and return_status(got) != to and judged:
            return (
                op,
                ReasonCode.illegal_transition_accepted,
                f"repeating {op} on a {before} return changed its status",
                reply,
                f"{ACCEPTED} and dig(body, 'return', 'status') != {to!r}",
            )
        return None
    if before not in LEGAL_FROM[op]:
        if reply.ok:
            return (
                op,
                ReasonCode.illegal_transition_accepted,
                f"{op} on a {before} return was accepted",
                reply,
                ACCEPTED,
            )
        return None
    if reply.status == 409:
        if lifecycle().may_refuse(op, before):
            return None  # the contract lets a platform refuse this
        return (
            op,
            ReasonCode.transition_refused,
            f"{op} on a {before} return answered 409",
            reply,
            "status == 409",
        )
    if reply.ok and return_status(got) != to and judged:
        return (
            op,
            ReasonCode.data_mismatch,
            f"{op} answered status {got!r}",
            reply,
            f"{ACCEPTED} and dig(body, 'return', 'status') != {to!r}",
        )
    return None


def fulfillment_problem(status: str, reply: Reply) -> Problem | None:
    """What is wrong with the answer to a fulfillment on a return in `status`, if anything:
    refused unless the table allows it, and then not refused with 409."""
    op = OperationId.createReturnFulfillment
    if status not in lifecycle().fulfillment_from:
        if reply.ok:
            return (
                op,
                ReasonCode.illegal_transition_accepted,
                f"a fulfillment was created on a {status} return",
                reply,
                ACCEPTED,
            )
        return None
    if reply.status == 409:
        return (
            op,
            ReasonCode.transition_refused,
            "a fulfillment on an approved return answered 409",
            reply,
            "status == 409",
        )
    return None
