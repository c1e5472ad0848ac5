"""The contract's say over schemathesis' cases and failures, before anything is recorded.

:func:`drop_reason` decides which failures are not faults under the contract (the
``filter_failure`` hook asks it); :func:`valid_under_contract` reads a request with the
contract's own schemas and rules; :func:`forget_learnt_ids` and :func:`tag_creates` screen every
generated case (the ``map_case`` hook). Schemathesis objects are read through their public
attributes (``Case.path_parameters``, ``query``, ``body``) or through :mod:`.adapter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import schemas
from conformance.contract import OperationId, operation
from conformance.generate.schemathesis_stage import adapter
from conformance.generate.schemathesis_stage.config import NO_LEARNT_IDS, UNKNOWN_ID
from conformance.verdicts import ReasonCode

__all__ = [
    "drop_reason",
    "forget_learnt_ids",
    "null_as_absent",
    "tag_creates",
    "valid_under_contract",
]

MAX_LIMIT = 250
UNSUPPORTED_ANSWERS = frozenset({403, 405, 501})
_CODE = {name: code for name, (code, _, _) in adapter.CODES.items()}


def drop_reason(
    op_id: str | None,
    code: str,
    status: int,
    case: Any,
    *,
    consistency_window: float,
) -> str | None:
    """Why a failure is not a fault under the contract (a counter's name), or None to keep it.

    Returns "" for a failure dropped without a note.
    """
    if status == 429:
        return ReasonCode.rate_limited
    if op_id is None:
        return "discovery"
    if code == _CODE[ReasonCode.undocumented_status] and (
        status in UNSUPPORTED_ANSWERS or status >= 500
    ):
        # 405 is an unsupported answer; a 5xx is already a server error (not_a_server_error).
        return ""
    if code == _CODE["negative_accepted"] and 200 <= status < 300 and null_as_absent(op_id, case):
        # an optional field sent as null, accepted: treated as absent (contract §2 allows it)
        return "null_as_absent"
    if code == _CODE["negative_accepted"] and valid_under_contract(op_id, case):
        # schemathesis thought the request invalid, the contract's own schemas do not: an
        # empty or unknown `status` filter (an empty list is a correct answer), a date-time
        # or URI its format checker reads differently, a whole-number float for an integer.
        return "not_negative"
    if code == _CODE["created_not_found"] and consistency_window > 0:
        # "created, then 404": read back at once, while the platform may take the window.
        return "consistency"
    auth_codes = (_CODE["auth_ignored"], _CODE["missing_header_accepted"])
    if code in auth_codes and not (200 <= status < 300 or status >= 500):
        # Without a valid token the answer was neither served nor a crash (e.g. 404): the
        # hand-written auth probe notes that; it is not "auth ignored".
        return "auth_status"
    return None


def valid_under_contract(op_id: str, case: Any) -> bool:
    """Whether every part of the request is valid by the contract's own rules."""
    if adapter.is_negative_in_path_or_header(case):
        return False
    for value in (case.path_parameters or {}).values():
        if not isinstance(value, str) or not value:
            return False
    for name, value in (case.query or {}).items():
        if not _query_value_ok(str(name), value):
            return False
    op = operation(op_id)
    body = case.body
    if op.request is None:
        return adapter.is_unset(body)
    if adapter.is_unset(body):
        return op.kind != "create"
    return not schemas.violations(op.request, body)


def null_as_absent(op_id: str, case: Any) -> bool:
    """The request is invalid only for optional fields sent as null: valid once they are left
    out (a required field sent as null is then missing, so still invalid)."""
    op = operation(op_id)
    body = case.body
    if op.request is None or adapter.is_unset(body) or not isinstance(body, dict):
        return False
    return bool(schemas.violations(op.request, body)) and not schemas.violations(
        op.request, schemas.without_nulls(body)
    )


def forget_learnt_ids(op_id: str | None, case: Any) -> None:
    """Replace path ids drawn from schemathesis' pool of earlier answers by unknown ids.

    The pool is fed by every answer (a customer's return in a list, say), and the stateful
    phase draws from it whatever the per-operation config says; for approve, reject, cancel
    and createReturnFulfillment the request then names an id that does not exist (404).
    """
    if op_id not in NO_LEARNT_IDS:
        return
    if adapter.drew_path_from_pool(case):
        unknown_path_ids(case)


def unknown_path_ids(case: Any) -> None:
    """Every path parameter of ``case`` becomes an id no platform has (a 404, never an act)."""
    # One draw may fill several parameters (an order and its return): replace them all.
    params = case.path_parameters or {}
    for name in params:
        params[name] = UNKNOWN_ID


def tag_creates(op_id: str | None, case: Any, tag: str | None) -> None:
    """Every return schemathesis creates carries the suite's note, so the run's clean-up (and a
    store owner) can find it."""
    body = case.body
    if tag and op_id == OperationId.createReturn and isinstance(body, dict):
        wrapped = body.get("return")
        if isinstance(wrapped, dict):
            wrapped["note"] = tag


def _query_value_ok(name: str, value: Any) -> bool:
    """A query parameter value the contract accepts (unknown parameters are ignored)."""
    if value is None:
        return True  # not sent
    if isinstance(value, list | tuple):
        return len(value) == 1 and _query_value_ok(name, value[0])
    if isinstance(value, bool):
        return name not in QUERY_RULES
    text = str(value)
    rule = QUERY_RULES.get(name)
    return rule is None or rule(text)


def _limit_ok(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_LIMIT


QUERY_RULES: dict[str, Callable[[str], bool]] = {
    "limit": _limit_ok,
    "page": lambda text: text != "",
    "status": lambda text: True,  # unknown → an empty list (or 400): never invalid input
    "createdAt[from]": schemas.is_date_time,
    "createdAt[to]": schemas.is_date_time,
}
