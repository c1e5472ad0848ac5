"""Schemathesis' failed checks as the suite's findings: reason codes, evidence, redaction.

Works on :mod:`.adapter`'s types only, so it reads no schemathesis object and needs no server to
be tested. A failure lands on the operation whose answer was wrong, with one of the suite's
reason codes; a failure no reason code describes is a note.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.contract import operation
from conformance.findings import Exchange, Finding, Redactor, clip
from conformance.generate.schemathesis_stage.adapter import Call, Failed
from conformance.verdicts import ReasonCode

__all__ = ["CHECK_PREFIX", "MAX_MESSAGE", "REASONS", "exchange", "finding_or_note"]

CHECK_PREFIX = "schemathesis."
MAX_MESSAGE = 600

# schemathesis check → our reason code. Checks missing here are reported as notes.
REASONS: dict[str, str] = {
    "not_a_server_error": ReasonCode.server_error,
    "response_schema_conformance": ReasonCode.schema_violation,
    "status_code_conformance": ReasonCode.undocumented_status,
    "content_type_conformance": ReasonCode.wrong_content_type,
    "negative_data_rejection": ReasonCode.invalid_input_accepted,
    "ignored_auth": ReasonCode.auth_not_enforced,
    "missing_required_header": ReasonCode.auth_not_enforced,
    "unsupported_method": ReasonCode.undocumented_status,
    "use_after_free": ReasonCode.data_mismatch,
    "ensure_resource_availability": ReasonCode.data_mismatch,
}


def finding_or_note(op: str, failed: Failed, redactor: Redactor, seed: int) -> Finding | str:
    """The finding for a failed check on ``op``, or the note to write when no reason fits."""
    status = failed.call.status if failed.call is not None else None
    check = failed.check
    reason = REASONS.get(check)
    if check in ("ignored_auth", "missing_required_header") and (status or 0) >= 500:
        reason = ReasonCode.server_error
    if check == "negative_data_rejection" and status is not None and not 200 <= status < 300:
        # Invalid input answered neither 2xx nor a documented refusal (a 3xx redirect, say): no
        # acceptance (redirects are not followed), an undocumented status.
        reason = ReasonCode.undocumented_status
    if check == "unsupported_method" and status == 405:
        reason = None  # a 405 without `Allow`: no reason code says that; noted
    if reason == ReasonCode.data_mismatch and operation(op).is_list:
        reason = ReasonCode.stale_list  # a list that does not show what was just created
    title = f"{failed.code} {failed.title}"
    if reason is None:
        return f"schemathesis {check} on {op}: {title}: {failed.message}"
    message = f"schemathesis {check} ({title})"
    if failed.message:
        message += f": {failed.message}"
    return Finding(
        operation=op,
        reason=reason,
        check=CHECK_PREFIX + check,
        message=redactor.text(message)[:MAX_MESSAGE],
        evidence=(exchange(failed.call, redactor),) if failed.call is not None else (),
        steps=tuple(redactor.text(step) for step in failed.steps),
        seed=seed,
    )


def exchange(call: Call, red: Redactor) -> Exchange:
    """The evidence of one call, every secret redacted (headers, bodies, the URL)."""
    headers = {
        name.lower(): values[0] if values else ""
        for name, values in call.request_headers.items()
        if name.lower() in ("authorization", "content-type")
    }
    response_headers = {name.lower(): ", ".join(v) for name, v in call.response_headers.items()}
    return Exchange(
        method=call.method,
        url=red.text(call.uri),
        request_headers=red.headers(headers),
        request_body=clip(red.value(_decode(call.request_body))),
        status=call.status,
        response_headers=red.value(response_headers),
        response_body=clip(red.value(_decode(call.response_body))),
        error=None if call.status is not None else "no response",
        elapsed_ms=call.elapsed * 1000,
    )


def _decode(payload: bytes | str | None) -> Any:
    """A body as JSON when it parses, else as text; None when there is none."""
    if payload is None or payload == b"" or payload == "":
        return None
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    try:
        return json.loads(text)
    except ValueError:
        return text
