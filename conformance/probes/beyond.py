"""Probes beyond the contract: values the contract neither caps nor forbids (long text, long
URLs, a reason outside the normalized vocabulary), sent in otherwise valid requests on the suite's
own data. The table is data (`conformance/data/beyond.toml`).

How a connector answers is noted, never failed: the contract lets it accept such a value or
refuse it. Only a 5xx is failing, as for any request (the wire checks see to that). What a probe
creates is marked as the probes' own (`KnownReturn.probe`) and cancelled at once, so it neither
uses up returnable quantity nor shows up in another operation's verdict.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from conformance.contract import OperationId, lifecycle
from conformance.discover import KnownReturn
from conformance.probes.session import Session
from conformance.target import Reply

UNKNOWN_REASON = "conformance-unknown-reason"


@dataclass(frozen=True)
class BeyondProbe:
    """One row of beyond.toml."""

    operation: str
    field: str
    value: str
    what: str


@cache
def beyond_probes() -> tuple[BeyondProbe, ...]:
    text = resources.files("conformance.data").joinpath("beyond.toml").read_text("utf-8")
    return tuple(BeyondProbe(**row) for row in tomllib.loads(text)["probe"])


def probe_beyond(s: Session) -> None:
    """Every probe of the table whose operation is open, each on fresh data of its own."""
    for probe in beyond_probes():
        if not s.is_open(probe.operation):
            continue
        if probe.operation == OperationId.createReturn:
            body = _create_body(s)
            if body is None:
                continue
            order_id, payload = body
            reply = _send(s, probe, OperationId.createReturn, {"orderId": order_id}, payload)
            if reply is not None and reply.ok:
                s.inventory.learn_return(reply.get("return"), order_id, ours=True, probe=True)
                _cancel(s, reply.get("return", "returnOrderId"))
        elif probe.operation == OperationId.rejectReturn:
            ret = _fresh_return(s, "requested")
            if ret is not None:
                params = {"orderId": ret.order_id, "id": ret.id}
                reply = _send(s, probe, OperationId.rejectReturn, params, {"note": s.probe_tag})
                if reply is not None and reply.ok:
                    s.inventory.learn_return(reply.get("return"), ret.order_id)
        elif probe.operation == OperationId.createReturnFulfillment:
            ret = _fresh_return(s, "approved")
            if ret is not None:
                params = {"orderId": ret.order_id, "returnId": ret.id}
                tracking = {"number": f"CONF-{s.settings.seed}-B", "company": "UPS"}
                _send(
                    s,
                    probe,
                    OperationId.createReturnFulfillment,
                    params,
                    {"returnFulfillment": {"tracking": tracking}},
                )
                _cancel(s, ret.id)


def value_of(s: Session, probe: BeyondProbe) -> str:
    """The probe's value; long text starts with the probes' note, so a store owner finds it."""
    kind, _, size = probe.value.partition(":")
    if kind == "reason":
        return UNKNOWN_REASON
    length = int(size)
    if kind == "url":
        head = "https://tracking.example/label?sig="
        return (head + "a" * length)[:length]
    filler = " lorem ipsum dolor sit amet" * (length // 26 + 1)
    return (s.probe_tag + filler)[:length]


def _send(
    s: Session, probe: BeyondProbe, op: str, params: dict[str, str], body: dict[str, Any]
) -> Reply | None:
    value = value_of(s, probe)
    if probe.value == "reason":
        s.sent_values.add(value)  # it may come back in later answers: the suite's, not theirs
    _put(body, probe.field, value)
    reply = s.call(op, params, body=body, well_formed=False, beyond=True)
    if reply.problem or reply.status is None or reply.status >= 500:
        return reply  # no answer (recorded as such), or a 5xx (failing, by the wire checks)
    if reply.ok:
        s.seen.note(op, f"accepts {probe.what} (beyond the contract: noted, not failed)")
    elif reply.status in (400, 422):
        s.seen.note(op, f"refuses {probe.what} with {reply.status} (the contract allows it)")
    else:
        s.seen.note(
            op,
            f"answered {reply.status} to {probe.what}; the contract's refusals are 400 and 422 "
            "(noted, not failed: the value is beyond the contract)",
        )
    return reply


def _put(body: dict[str, Any], pointer: str, value: str) -> None:
    node: Any = body
    keys = pointer.strip("/").split("/")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value


def _create_body(s: Session) -> tuple[str, dict[str, Any]] | None:
    order = s.inventory.scratch_order()
    if order is None:
        return None
    line = next(line for line in order.lines if s.inventory.available(order, line) > 0)
    item = {"id": line, "quantity": 1, "reason": "damaged"}
    return order.id, {"return": {"items": [item], "note": s.probe_tag}}


def _fresh_return(s: Session, status: str) -> KnownReturn | None:
    """A new return of the probes' own in `status` (approving it if needed), or None."""
    if not s.is_open(OperationId.createReturn):
        return None
    made = _create_body(s)
    if made is None:
        return None
    order_id, body = made
    reply = s.call(OperationId.createReturn, {"orderId": order_id}, body=body)
    if not reply.ok:
        return None
    s.inventory.learn_return(reply.get("return"), order_id, ours=True, probe=True)
    ret = s.inventory.returns.get(str(reply.get("return", "returnOrderId")))
    wanted = ret is not None and ret.status == "requested" and status == "approved"
    if ret is not None and wanted and s.is_open(OperationId.approveReturn):
        approved = s.call(
            OperationId.approveReturn,
            {"orderId": order_id, "id": ret.id},
            body={"note": s.probe_tag},
        )
        if approved.ok:
            s.inventory.learn_return(approved.get("return"), order_id)
    return ret if ret is not None and ret.status == status else None


def _cancel(s: Session, return_id: Any) -> None:
    """Release what a probe's return holds (quantity), where the platform allows it."""
    ret = s.inventory.returns.get(str(return_id))
    cancellable = lifecycle().from_status(OperationId.cancelReturn)
    if ret is None or ret.status not in cancellable or not s.is_open(OperationId.cancelReturn):
        return
    reply = s.call(
        OperationId.cancelReturn,
        {"orderId": ret.order_id, "id": ret.id},
        body={"note": s.probe_tag},
    )
    if reply.ok:
        s.inventory.learn_return(reply.get("return"), ret.order_id)
