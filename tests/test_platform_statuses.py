"""A platform's own return statuses (issue 18, point 3): the contract allows platform-specific
values (section 3, noted as `nonnormalized_value`, partial), so a platform that answers
`REQUESTED` or `CANCELED` is partial, never failing; every behaviour check compares what a status
stands for (conformance/statuses.py, conformance/data/spellings.toml).

A status that stands for no normalized one (`AWAITING_PICKUP`) cannot be judged by a transition
check: after an action, one that changed is a note; one that did not is an effect missing.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.cli import main
from conformance.contract import OperationId, operation, vocabularies
from conformance.statuses import reached, read_status, return_status, unmappable

PLATFORM = "full-manual"  # writes allowed, every action and the status filter of its list
STATUS_CELLS = (
    OperationId.listOrderReturns,
    OperationId.getReturn,
    OperationId.createReturn,
    OperationId.approveReturn,
    OperationId.rejectReturn,
    OperationId.cancelReturn,
)


# ---- the mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stands_for"),
    [
        ("requested", "requested"),
        ("REQUESTED", "requested"),
        ("Approved", "approved"),
        ("re_jected", "rejected"),
        ("CLO-SED", "closed"),
        ("cancelled", "cancelled"),
        ("CANCELLED", "cancelled"),
        ("CANCELED", "cancelled"),
        ("canceled", "cancelled"),
        ("Can celed", "cancelled"),
        ("AWAITING_PICKUP", None),
        ("requestedx", None),
        ("", None),
        (7, None),
        (None, None),
    ],
)
def test_a_status_stands_for_its_normalized_value(value: Any, stands_for: str | None) -> None:
    assert return_status(value) == stands_for
    assert read_status(value) == (stands_for or (value if isinstance(value, str) else None))
    assert unmappable(value) == (isinstance(value, str) and stands_for is None)


def test_every_normalized_status_stands_for_itself() -> None:
    for status in vocabularies().return_status:
        assert return_status(status) == status
        assert return_status(status.upper()) == status


def test_what_an_action_led_to() -> None:
    assert reached("requested", "APPROVED", "approved") is True
    assert reached("requested", "CANCELED", "cancelled") is True
    assert reached("requested", "REQUESTED", "approved") is False  # unchanged: effect missing
    assert reached("requested", "rejected", "approved") is False  # another status
    assert reached("requested", None, "approved") is False
    # the platform's own status, changed: the effect happened as far as the suite can tell
    assert reached("requested", "AWAITING_PICKUP", "approved") is None
    # the platform's own status, the same as before: nothing happened
    assert reached("AWAITING_PICKUP", "AWAITING_PICKUP", "approved") is False


# ---- end to end ---------------------------------------------------------------------------


def run(out: Path, *extra: str, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """`conformance run` in-process on PLATFORM: its matrix."""
    err, std = io.StringIO(), io.StringIO()
    argv = ["run", "--platform", PLATFORM, "--max-examples", "0", "--seed", "7"]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        code = main([*argv, "--output-dir", str(out), *extra], transport=transport)
    assert code in (0, 1), err.getvalue()
    path = out / "capability_matrices" / f"{PLATFORM}.json"
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def test_an_upper_case_platform_is_partial_for_its_values_only(tmp_path: Path) -> None:
    """The issue's platform: REQUESTED, APPROVED, CANCELED... Every cell that shows a status is
    partial with nonnormalized_value and nothing else; the others are as without it."""
    cells = run(tmp_path, "--variation", "platform-statuses")["operations"]
    assert not [op for op, cell in cells.items() if cell["status"] == "failing"], cells
    for op in STATUS_CELLS:
        assert cells[op]["status"] == "partial", (op, cells[op])
        assert cells[op]["reasons"] == ["nonnormalized_value"], (op, cells[op])
    for op in (OperationId.listReturnFulfillments, OperationId.createReturnFulfillment):
        assert cells[op]["status"] == "supported", (op, cells[op])


class OwnStatus(httpx.BaseTransport):
    """The real transport, with the return status in every 2xx answer of `op` replaced by
    `status`: one action's answer in a platform's own status."""

    def __init__(self, op: OperationId, status: str) -> None:
        spec = operation(op)
        self.method = spec.method
        self.path = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", spec.path) + "$")
        self.status = status
        self.inner = httpx.HTTPTransport()
        self.rewritten = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != self.method or not self.path.match(request.url.path):
            return response
        body = response.read()
        response.close()
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        if 200 <= response.status_code < 300:
            data = json.loads(body)
            data["return"]["status"] = self.status
            body = json.dumps(data).encode()
            self.rewritten += 1
        return httpx.Response(response.status_code, headers=headers, content=body)

    def close(self) -> None:
        self.inner.close()


def test_an_action_answered_in_an_unknown_status_is_a_note(tmp_path: Path) -> None:
    """approveReturn answers AWAITING_PICKUP (the store has it approved): the suite cannot tell
    which normalized status that is, and it differs from requested: a note, not failing."""
    transport = OwnStatus(OperationId.approveReturn, "AWAITING_PICKUP")
    cell = run(tmp_path, transport=transport)["operations"][OperationId.approveReturn]
    assert transport.rewritten > 0
    assert cell["status"] == "partial", cell
    assert cell["reasons"] == ["nonnormalized_value"], cell
    assert any(
        "'AWAITING_PICKUP' after approveReturn" in note and "cannot tell" in note
        for note in cell["notes"]
    ), cell["notes"]


def test_an_unknown_status_does_not_hide_a_missing_effect(tmp_path: Path) -> None:
    """approve_no_effect, answered in the platform's own status: the answer cannot be judged,
    but getReturn still shows requested, the status before: effect_missing, failing."""
    transport = OwnStatus(OperationId.approveReturn, "AWAITING_PICKUP")
    matrix = run(tmp_path, "--defect", "approve_no_effect", transport=transport)
    cell = matrix["operations"][OperationId.approveReturn]
    assert transport.rewritten > 0
    assert cell["status"] == "failing", cell
    assert "effect_missing" in cell["reasons"], cell


def test_a_status_filter_item_in_an_unknown_status_is_a_note(tmp_path: Path) -> None:
    """listOrderReturns answers every return in a status no normalized one stands for: the
    status filter cannot judge them (a note), and nothing is failing."""
    transport = AllStatuses(OperationId.listOrderReturns, "ON_HOLD")
    cell = run(tmp_path, transport=transport)["operations"][OperationId.listOrderReturns]
    assert transport.rewritten > 0
    assert cell["status"] == "partial", cell
    assert cell["reasons"] == ["nonnormalized_value"], cell
    assert any("status=" in note and "'ON_HOLD'" in note for note in cell["notes"]), cell


class AllStatuses(OwnStatus):
    """Every return of a list's 2xx answers in `status`, when the list was filtered by status."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        filtered = "status" in request.url.params
        if request.method != self.method or not self.path.match(request.url.path):
            return response
        body = response.read()
        response.close()
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        if filtered and 200 <= response.status_code < 300:
            data = json.loads(body)
            for ret in data["returns"]:
                ret["status"] = self.status
            body = json.dumps(data).encode()
            self.rewritten += 1
        return httpx.Response(response.status_code, headers=headers, content=body)
