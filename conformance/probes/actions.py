"""Actions and transitions: approve, reject and cancel a return, and the terminal states
(contract section 4). Split from `lifecycle.py`: the lifecycle table's rules, checked one action
at a time.
"""

from __future__ import annotations

from typing import Any

from conformance.contract import OperationId, lifecycle, operation
from conformance.discover import KnownReturn
from conformance.probes.create import create_return, get_return
from conformance.probes.reads import UNKNOWN_ID
from conformance.probes.session import Session
from conformance.statuses import cannot_tell, reached, read_status, return_status, unmappable
from conformance.target import Reply
from conformance.verdicts import ReasonCode

ACTIONS = lifecycle().actions


def act(s: Session, op: str, ret: KnownReturn, body: Any = None) -> Reply:
    reply = s.call(
        op,
        {"orderId": ret.order_id, "id": ret.id},
        body=body if body is not None else {"note": s.tag},
    )
    if reply.ok:
        s.inventory.learn_return(reply.get("return"), ret.order_id)
    return reply


def actionable(s: Session, status: str, *, exclude: tuple[str, ...] = ()) -> KnownReturn | None:
    """A return in `status` the suite may act on: its own first, others with --act-on-existing."""
    ours = [r for r in s.inventory.returns_in(status, ours=True) if r.id not in exclude]
    if ours:
        return ours[0]
    if s.settings.act_on_existing:
        theirs = [r for r in s.inventory.returns_in(status, ours=False) if r.id not in exclude]
        if theirs:
            return theirs[0]
    return None


def requested_return(s: Session, *, exclude: tuple[str, ...] = ()) -> KnownReturn | None:
    found = actionable(s, "requested", exclude=exclude)
    if found is None and s.is_open(OperationId.createReturn):
        made = create_return(s)
        if made is not None and made.status == "requested":
            return made
    return found


def transition(s: Session, op: str, ret: KnownReturn) -> None:
    """Perform an action the lifecycle allows and check the answer and the stored effect."""
    to_status = lifecycle().to_status(op)
    before = ret.status
    reply = act(s, op, ret)
    if not s.is_open(op):
        return
    if reply.status == 409 and lifecycle().may_refuse(op, before):
        s.seen.note(op, f"refuses {op} from {before!r} (409), which the contract allows")
        return
    if reply.status == 409:
        s.finding(
            op,
            ReasonCode.transition_refused,
            "transition",
            f"{op} from {before!r} is allowed by the contract but answered 409",
            reply,
        )
        return
    if not reply.ok:
        return
    s.seen.success(op)
    # Statuses are compared as what they stand for (conformance.statuses): CANCELED is
    # cancelled; a platform's own status that stands for none is a note when it changed.
    answered = reply.get("return", "status")
    judged = reached(before, answered, to_status)
    if judged is None:
        s.seen.note(op, cannot_tell(answered, op))
    else:
        s.check(
            op,
            judged,
            ReasonCode.data_mismatch,
            "answer_status",
            f"{op} answered status {answered!r}, not {to_status!r}",
            reply,
        )
    if not s.is_open(OperationId.getReturn):
        return

    def stored() -> tuple[bool, Reply]:
        got = get_return(s, ret)
        return reached(
            before, got.get("return", "status"), to_status
        ) is not False or not got.ok, got

    _, got = s.eventually(stored)
    if got.ok:
        shown = got.get("return", "status")
        judged = reached(before, shown, to_status)
        if judged is None:
            s.seen.note(op, cannot_tell(shown, f"{op} (getReturn)"))
        else:
            s.check(
                op,
                judged,
                ReasonCode.effect_missing,
                "effect",
                f"{op} answered success, but getReturn still shows {shown!r} instead of "
                f"{to_status!r}",
                reply,
                got,
            )
        ret.status = read_status(shown) or str(shown)


def _repeated(s: Session, op: str, reply: Reply, status: str, message: str) -> None:
    """A repeated action answered 200: the return must stay `status` (contract section 4). A
    platform's own status that stands for no normalized one cannot be judged: a note."""
    answered = reply.get("return", "status")
    if unmappable(answered):
        s.seen.note(op, cannot_tell(answered, f"repeating {op}"))
        return
    s.check(
        op,
        return_status(answered) == status,
        ReasonCode.illegal_transition_accepted,
        "repeat",
        message,
        reply,
    )


def _unsupported_probe(s: Session, op: str) -> None:
    """No return fits the action: still learn whether the platform has it at all."""
    some = next(iter(s.inventory.usable()), None)
    if some is not None and (some.created_by_suite or s.settings.act_on_existing):
        reply = act(s, op, some)
    elif s.inventory.orders:
        reply = s.call(
            op,
            {"orderId": s.inventory.orders[0].id, "id": UNKNOWN_ID},
            body={"note": s.tag},
        )
    else:
        return
    if s.is_open(op) and not reply.ok and op not in s.seen.succeeded:
        s.finding(
            op,
            ReasonCode.prerequisite_unavailable,
            "needs_data",
            f"no return in a status that allows {op} was available "
            + (
                ""
                if s.settings.act_on_existing
                else "(--act-on-existing allows using returns the suite did not create)"
            ),
            reply,
        )


def approve_flow(s: Session, first: KnownReturn | None) -> None:
    op = OperationId.approveReturn
    if not s.is_open(op):
        return
    target = first if first is not None and first.status == "requested" else None
    target = target or requested_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)
    if s.is_open(op) and target.status == "approved":
        reply = act(s, op, target)  # repeating: 200 unchanged, or 409
        if reply.ok:
            _repeated(
                s,
                op,
                reply,
                "approved",
                "approving an approved return changed its status to "
                f"{reply.get('return', 'status')!r}",
            )
        elif not reply.problem and (reply.status or 0) < 500:
            s.check(
                op,
                reply.status == 409,
                ReasonCode.undocumented_status,
                "repeat",
                f"approving an approved return must answer 200 or 409, got {reply.status}",
                reply,
            )


def reject_flow(s: Session) -> None:
    op = OperationId.rejectReturn
    if not s.is_open(op):
        return
    target = requested_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)


def cancel_flow(s: Session) -> None:
    op = OperationId.cancelReturn
    if not s.is_open(op):
        return
    target = requested_return(s)
    if target is None:
        target = actionable(s, "approved")
        if target is None and s.is_open(OperationId.createReturn):
            target = create_return(s)
    if target is None:
        _unsupported_probe(s, op)
        return
    transition(s, op, target)


def terminal_states(s: Session) -> None:
    """Every action on a rejected, cancelled or closed return must answer 409."""
    for status in lifecycle().terminal:
        ret = actionable(s, status)
        if ret is None:
            continue
        for op in ACTIONS:
            if not s.is_open(op):
                continue
            to_status = operation(op).to_status
            reply = act(s, op, ret)
            if to_status == status and reply.ok:
                _repeated(s, op, reply, status, f"repeating {op} changed the status")
                continue
            if not s.check(
                op,
                not reply.ok,
                ReasonCode.illegal_transition_accepted,
                "terminal",
                f"{op} on a {status} return was accepted",
                reply,
            ):
                break  # its status changed: further actions on it test nothing terminal
            s.check(
                op,
                reply.ok or reply.status == 409,
                ReasonCode.undocumented_status,
                "terminal",
                f"{op} on a {status} return must answer 409, got {reply.status}",
                reply,
            )
    approved = actionable(s, "approved")
    if approved is not None and s.is_open(OperationId.rejectReturn):
        reply = act(s, OperationId.rejectReturn, approved)
        s.check(
            OperationId.rejectReturn,
            not reply.ok,
            ReasonCode.illegal_transition_accepted,
            "from_approved",
            "rejecting an approved return was accepted (reject is only from requested)",
            reply,
        )
