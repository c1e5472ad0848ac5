"""Write probes: create a return, drive it through the lifecycle, add a reverse shipment, and
check every effect through the reads (contract section 4: transitions, terminal states, quantity
rule, read-your-writes, isolation).

This module runs the steps in order and ends with the list checks over what they wrote; each
step lives in its own module (`create`, `actions`, `fulfillments`, `quantity`).
"""

from __future__ import annotations

from conformance.contract import OperationId
from conformance.probes.actions import (
    ACTIONS,
    approve_flow,
    cancel_flow,
    reject_flow,
    terminal_states,
)
from conformance.probes.create import create_return, read_back
from conformance.probes.fulfillments import fulfillment_flow
from conformance.probes.quantity import quantity_rule
from conformance.probes.reads import first_list, list_behaviour
from conformance.probes.session import Session

__all__ = [
    "ACTIONS",
    "approve_flow",
    "cancel_flow",
    "create_return",
    "fulfillment_flow",
    "probe_lifecycle",
    "quantity_rule",
    "read_back",
    "reject_flow",
    "terminal_states",
]


def probe_lifecycle(s: Session) -> None:
    first = create_return(s)
    if first is not None:
        read_back(s, first)
    approve_flow(s, first)
    reject_flow(s)
    cancel_flow(s)
    terminal_states(s)
    fulfillment_flow(s)
    quantity_rule(s)
    for op, params in (
        (OperationId.listReturns, {}),
        (OperationId.listOrderReturns, _busiest_order(s)),
    ):
        if s.is_open(op) and params is not None:
            s.settle()
            reply = first_list(s, op, params)
            if reply.ok:
                list_behaviour(s, op, params, reply)


def _busiest_order(s: Session) -> dict[str, str] | None:
    ours = s.inventory.returns_in(ours=True)
    if not ours:
        return None
    counts: dict[str, int] = {}
    for r in ours:
        counts[r.order_id] = counts.get(r.order_id, 0) + 1
    return {"orderId": max(counts, key=lambda k: counts[k])}
