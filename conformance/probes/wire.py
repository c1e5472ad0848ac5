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
from conformance.target import Reply
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
    "budget": ReasonCode.budget_exhausted,
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
        s.finding(
            op_id,
            PROBLEM_REASONS[reply.problem],
            "answers",
            f"no usable answer: {reply.problem}",
            reply,
        )
        return
    status = reply.status
    if status is None:
        return
    if status >= 500 and status != 501:
        s.finding(op_id, ReasonCode.server_error, "no_server_error", f"answered {status}", reply)
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
    _body_checks(s, op, reply)


def _body_checks(s: Session, op: Operation, reply: Reply) -> None:
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
    problems = _not_ours(s, op_id, reply.body, problems)
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


def _not_ours(s: Session, op_id: str, body: Any, problems: list[str]) -> list[str]:
    """Schema problems inside returns the suite's writes made from bad input (its probes, or
    schemathesis' generated creates) are not this operation's; they are noted (the operation
    that accepted the input was charged)."""
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
        if s.probe_made(ret) or s.foreign_made(ret):
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
    for kind, value, owner in _values(reply.body):
        if kind == "quantity":
            strings = strings or isinstance(value, str)
            continue
        if s.probe_made(owner) or (kind == "returnReason" and s.foreign_made(owner)):
            continue  # values the suite wrote itself
        if kind == "returnReason" and value in s.sent_values:
            continue
        allowed = {
            "status": vocab.return_status,
            "returnReason": vocab.return_reason,
            "fulfillment": vocab.fulfillment_status,
            "package": vocab.package_status,
        }[kind]
        if value is not None and value not in allowed:
            odd.append(f"{kind} {value!r}")
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
            for item in ful.get("items") or []:
                if isinstance(item, dict):
                    yield "quantity", item.get("quantity"), None
