"""The checks every answer gets, whichever probe asked (contract section 2).

`Session.call` hands each reply here: a documented status, a JSON content type, a body that
fits the operation's schema (or the error schema), an error `code` equal to the HTTP status, and
values inside the normalized vocabularies. Each outcome is recorded on the operation that
answered. Kept apart from the session so the rules of section 2 read in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from conformance import schemas
from conformance.contract import (
    Operation,
    OperationId,
    documented_statuses,
    operation,
    vocabularies,
)
from conformance.target import UNSENDABLE, Reply
from conformance.verdicts import ReasonCode

if TYPE_CHECKING:
    from conformance.probes.session import Session

# The envelope key that carries the resource of each success answer.
DATA_KEY: dict[str, str] = {
    OperationId.listReturns: "returns",
    OperationId.listOrderReturns: "returns",
    OperationId.getReturn: "return",
    OperationId.createReturn: "return",
    OperationId.cancelReturn: "return",
    OperationId.approveReturn: "return",
    OperationId.rejectReturn: "return",
    OperationId.listReturnFulfillments: "returnFulfillments",
    OperationId.getReturnFulfillment: "returnFulfillment",
    OperationId.createReturnFulfillment: "returnFulfillment",
}
UNSUPPORTED_STATUSES = {
    501: ReasonCode.not_supported,
    405: ReasonCode.not_supported,
    403: ReasonCode.not_allowed,
}
PROBLEM_REASONS = {
    ReasonCode.timeout: ReasonCode.timeout,
    ReasonCode.connection_error: ReasonCode.connection_error,
    ReasonCode.rate_limited: ReasonCode.rate_limited,
    ReasonCode.platform_error: ReasonCode.platform_error,
    "budget": ReasonCode.budget_exhausted,
    UNSENDABLE: ReasonCode.connection_error,
}


def check_answer(
    s: Session, op: Operation, reply: Reply, well_formed: bool, beyond: bool = False
) -> None:
    """The checks of contract section 2 on every answer: documented status, JSON content type,
    body schema, error body, vocabularies; each outcome recorded on the operation that answered."""
    op_id = op.id
    if op_id not in DATA_KEY:  # discovery reads are not scored
        return
    if reply.problem in PROBLEM_REASONS:
        s.finding(op_id, PROBLEM_REASONS[reply.problem], "answers", _unusable(reply), reply)
        return
    status = reply.status
    if status is None:
        return
    if status >= 500 and status != 501:
        s.finding(op_id, ReasonCode.server_error, "no_server_error", _server_error(reply), reply)
        return
    if well_formed and status in UNSUPPORTED_STATUSES:
        reason = UNSUPPORTED_STATUSES[status]
        if op_id not in s.unsupported:
            s.unsupported[op_id] = reason
            s.finding(
                op_id, reason, "supported", f"answered {status} to a well-formed request", reply
            )
    if status not in documented_statuses()[op_id] and status != 405 and beyond:
        s.seen.note(op_id, f"answered {status} to a value beyond the contract (noted, not failed)")
    elif status not in documented_statuses()[op_id] and status != 405:
        s.finding(
            op_id,
            ReasonCode.undocumented_status,
            "status_documented",
            f"answered {status}, which the contract does not document for {op_id}",
            reply,
        )
    else:
        s.seen.passed(op_id, "status_documented")
    if 300 <= status < 400:
        return  # a redirect (never followed) is no answer of the contract's: its status says it
    if not _is_json(reply.content_type):
        s.finding(
            op_id,
            ReasonCode.wrong_content_type,
            "content_type",
            f"Content-Type is {reply.content_type or 'missing'!r}, not JSON",
            reply,
        )
        return
    if reply.problem in ("invalid_json", "body_too_large"):
        s.finding(
            op_id,
            ReasonCode.schema_violation,
            "response_schema",
            f"the body is not usable JSON ({reply.problem})",
            reply,
        )
        return
    _body_checks(s, op, reply, own_create=well_formed and op_id == OperationId.createReturn)


def _unusable(reply: Reply) -> str:
    """Why a request got no usable answer, with the transient answers it was sent again after."""
    if not reply.retried:
        return f"no usable answer: {reply.problem}"
    last = str(reply.status) if reply.status is not None else reply.problem
    tried = ", ".join([*reply.retried, str(last)])
    return (
        f"no usable answer: {reply.problem} (sent {len(reply.retried) + 1} times, answered "
        f"{tried}; contract section 2: still refused after the retry budget is undecided)"
    )


def _server_error(reply: Reply) -> str:
    """A 5xx: at once (500 is never transient), or the same 502/503/504 every time this request
    was sent while the requests around it succeeded (the Target decided that; contract section
    2: a 5xx on that input)."""
    if not reply.retried:
        return f"answered {reply.status}"
    return (
        f"answered {reply.status} the same {len(reply.retried) + 1} times (sent again after each, "
        "with pauses) while the requests around it succeeded: a 5xx on this input, not a "
        "transient failure (contract section 2)"
    )


def _body_checks(s: Session, op: Operation, reply: Reply, *, own_create: bool = False) -> None:
    op_id, status = op.id, reply.status or 0
    schema = op.response if 200 <= status < 300 else "error.schema.json"
    problems = schemas.violations(schema, reply.body)
    if 200 <= status < 300 and isinstance(reply.body, dict) and DATA_KEY[op_id] not in reply.body:
        s.finding(
            op_id,
            ReasonCode.unsupported_misreported,
            "unsupported_answered",
            f"answered {status} without `{DATA_KEY[op_id]}`: an operation the "
            "platform lacks must answer 501 NOT_SUPPORTED",
            reply,
        )
    if status >= 400 and not problems and reply.get("code") != status:
        problems = [f"/code: {reply.get('code')!r} differs from the HTTP status {status}"]
    problems = _not_ours(s, op_id, reply.body, problems, own_create=own_create)
    if problems:
        s.finding(
            op_id,
            ReasonCode.schema_violation,
            "response_schema",
            f"{schema}: {'; '.join(problems[:3])}",
            reply,
        )
        return
    s.seen.passed(op_id, "response_schema")
    if 200 <= status < 300:
        _vocabulary(s, op_id, reply)


def knock_on_only(s: Session, op_id: str, body: Any) -> bool:
    """Whether every schema problem of a success body lies inside returns the suite's own
    writes made (its probes of invalid input, or schemathesis' creates): then the operation
    that showed them is not charged. False when the suite's schemas find nothing there."""
    problems = schemas.violations(operation(op_id).response, body)
    return bool(problems) and not _not_ours(s, op_id, body, problems)


def _not_ours(
    s: Session, op_id: str, body: Any, problems: list[str], *, own_create: bool = False
) -> list[str]:
    """Schema problems inside returns the suite's writes made from bad input (its probes, or
    schemathesis' generated creates) are not this operation's; they are noted (the operation
    that accepted the input was charged). `own_create`: the body answers the suite's own
    well-formed createReturn, so the return in it is that request's, never schemathesis'
    (the suite has not learned it yet, which made it look foreign)."""
    if not problems or not isinstance(body, dict):
        return problems
    kept = []
    for problem in problems:
        where = problem.split(":", 1)[0].split("/")
        ret: Any = None
        if len(where) > 1 and where[1] == "return":
            ret = body.get("return")
        elif len(where) > 2 and where[1] == "returns" and where[2].isdigit():
            listed = body.get("returns")
            index = int(where[2])
            ret = listed[index] if isinstance(listed, list) and index < len(listed) else None
        if s.probe_made(ret) or (s.foreign_made(ret) and not own_create):
            s.seen.note(
                op_id,
                "a return made from invalid input (which the platform accepted) breaks the "
                "schema when read back; charged to the operation that accepted it",
            )
        else:
            kept.append(problem)
    return kept


def _vocabulary(s: Session, op_id: str, reply: Reply) -> None:
    vocab = vocabularies()
    odd: list[str] = []
    strings = False
    sent = _sent_reasons(reply.exchange.request_body)
    for kind, value, owner in _values(reply.body):
        if kind == "quantity":
            strings = strings or isinstance(value, str)
            continue
        if not isinstance(value, str):  # another type breaks the schema; may not even hash
            continue
        # Values the suite wrote itself. A return with the suite's note that it has not learned
        # yet is schemathesis' (foreign), unless this answer is to the suite's own create: then
        # exactly the reasons this request sent are the suite's, and any other (DEFECTIVE for
        # defective) is the platform's.
        foreign = s.foreign_made(owner) and not sent
        if s.probe_made(owner) or (kind == "returnReason" and foreign):
            continue
        if kind == "returnReason" and (value in s.sent_values or value in sent):
            continue
        allowed = {
            "status": vocab.return_status,
            "returnReason": vocab.return_reason,
            "fulfillment": vocab.fulfillment_status,
            "package": vocab.package_status,
        }[kind]
        if value not in allowed:
            odd.append(f"{kind} {_short(value)}")
    if strings:
        s.seen.note(
            op_id,
            "quantities are sent as digit strings (the API family's convention; accepted)",
        )
    if odd:
        s.finding(
            op_id,
            ReasonCode.nonnormalized_value,
            "vocabulary",
            "values outside the normalized vocabulary: " + ", ".join(sorted(set(odd))[:5]),
            reply,
        )


def _sent_reasons(body: Any) -> frozenset[str]:
    """The item reasons a createReturn request body sent (none for any other request)."""
    ret = body.get("return") if isinstance(body, dict) else None
    items = ret.get("items") if isinstance(ret, dict) else None
    return frozenset(
        item["reason"]
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("reason"), str)
    )


def _short(value: str, limit: int = 60) -> str:
    """A target's value quoted for a message: its whole length is in the evidence."""
    shown = repr(value[:limit])
    return shown if len(value) <= limit else f"{shown}… ({len(value)} characters)"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _values(body: Any) -> Iterable[tuple[str, Any, Any]]:
    """(kind, value, the return it belongs to) for the vocabulary-bearing fields of the returns
    and fulfillments in a body."""
    if not isinstance(body, dict):
        return
    returns = [body.get("return"), *(body.get("returns") or [])]
    fulfillments = [body.get("returnFulfillment"), *(body.get("returnFulfillments") or [])]
    for ret in returns:
        if not isinstance(ret, dict):
            continue
        yield "status", ret.get("status"), ret
        for item in ret.get("returnItems") or []:
            if isinstance(item, dict):
                yield "returnReason", item.get("returnReason"), ret
                yield "quantity", item.get("quantity"), ret
        for package in ret.get("packages") or []:
            if isinstance(package, dict):
                yield "package", package.get("status"), ret
    for ful in fulfillments:
        if isinstance(ful, dict):
            yield "fulfillment", ful.get("status"), None
            package = ful.get("package")
            if isinstance(package, dict):  # a ReturnPackage: its status has a vocabulary too
                yield "package", package.get("status"), None
            for item in ful.get("items") or []:
                if isinstance(item, dict):
                    yield "quantity", item.get("quantity"), None
