"""The quantity rule: no more units returned than are returnable, within one return and across
several (contract section 4). Split from `lifecycle.py`: its findings replay how the suite's own
returns used the line up.
"""

from __future__ import annotations

from conformance.contract import OperationId
from conformance.discover import OrderInfo
from conformance.findings import Exchange
from conformance.probes.session import Session
from conformance.repro import ACCEPTED, replayable
from conformance.target import Reply
from conformance.verdicts import ReasonCode


def quantity_rule(s: Session) -> None:
    """More than the returnable quantity → 422, across several returns of one line."""
    op = OperationId.createReturn
    if not s.is_open(op) or op not in s.seen.succeeded:
        return
    for order in s.inventory.orders:
        for line in order.lines:
            left = s.inventory.available(order, line)
            if left < 1:
                continue
            holding = s.inventory.holding(order.id, line)
            item = {"id": line, "quantity": left + 1, "reason": "unwanted"}
            reply = s.call(
                op,
                {"orderId": order.id},
                body={"return": {"items": [item], "note": s.probe_tag}},
                well_formed=False,
            )
            if reply.ok:
                s.inventory.learn_return(
                    reply.get("return"), order.id, ours=True, probe=True, asked={line: left + 1}
                )
            _over_quantity(
                s,
                reply,
                holding,
                "quantity_rule",
                f"{left + 1} units of {line} were accepted, only {left} were returnable",
            )
            s.check(
                op,
                reply.ok or reply.status == 422,
                ReasonCode.undocumented_status,
                "quantity_rule",
                f"over-quantity must answer 422, got {reply.status}",
                reply,
            )
            if left >= 2:
                split(s, order, line, left)
            return


def split(s: Session, order: OrderInfo, line: str, left: int) -> None:
    """Two returns that fit alone but exceed the line together: the second must be 422."""
    op = OperationId.createReturn
    item = {"id": line, "quantity": left - 1, "reason": "unwanted"}
    first = s.call(op, {"orderId": order.id}, body={"return": {"items": [item], "note": s.tag}})
    if not first.ok:
        return
    s.inventory.learn_return(first.get("return"), order.id, ours=True, asked={line: left - 1})
    holding = s.inventory.holding(order.id, line)  # the first return among them
    second = s.call(
        op,
        {"orderId": order.id},
        body={"return": {"items": [{**item, "quantity": 2}], "note": s.probe_tag}},
        well_formed=False,
    )
    if second.ok:
        s.inventory.learn_return(
            second.get("return"), order.id, ours=True, probe=True, asked={line: 2}
        )
    _over_quantity(
        s,
        second,
        holding,
        "quantity_rule_across_returns",
        f"after returning {left - 1} of {left} returnable units of {line}, another 2 were accepted",
    )


def _over_quantity(
    s: Session, reply: Reply, holding: list[Exchange], check: str, message: str
) -> None:
    """Over-quantity must be refused. The finding replays how the suite's returns used up the
    line first (`holding`): on fresh data the last request alone would fit."""
    op = OperationId.createReturn
    if not reply.ok:
        s.seen.passed(op, check)
        return
    s.seen.failed(
        replayable(
            op,
            ReasonCode.over_quantity_accepted,
            check,
            message,
            [*holding, reply.exchange],
            shows=ACCEPTED,
            seed=s.settings.seed,
        )
    )
