"""Schema-driven inputs: invalid bodies (one broken rule each) and generated valid inputs.

Invalid bodies must be refused with 400 (or 422 for a business rule): never 2xx, never 5xx.
Valid inputs — schemathesis' positive strategies over schemas/openapi.yaml, with real ids put in
— must be accepted or refused only for a business rule (404/409/422). List parameters are
generated too: any `limit` from 1 to 250 is honoured, anything else is 400; a `createdAt` window
only returns what was created inside it.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.reporting import with_reporter

from conformance.contract import OperationId, Rule, operation, vocabularies
from conformance.discover import describe_items, same_items
from conformance.generate.mutations import Mutation, mutations
from conformance.generate.strategies import valid_bodies
from conformance.probes.session import Session
from conformance.schemas import parse_instant
from conformance.target import Reply
from conformance.verdicts import ReasonCode

BUSINESS_REFUSALS = (404, 409, 422)


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )


def _unique(found: list[Mutation]) -> list[Mutation]:
    seen, kept = set(), []
    for mutation in found:
        key = json.dumps(mutation.body, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(mutation)
    return kept


def _judge(s: Session, op_id: str, reply: Reply, m: Mutation, also: tuple[int, ...] = ()) -> None:
    """A mutation a contract sentence forbids must be refused; one the contract lets a connector
    accept (an optional field sent as null, say) is a note when accepted."""
    what = f"{op_id} with {m.description}"
    if m.rule is None:
        s.tolerated(op_id, reply, what, m.tolerance, "generated_invalid_input", also)
    else:
        s.refused(op_id, reply, what, "generated_invalid_input", also, rule=m.rule)


def invalid_bodies(s: Session) -> None:
    """Every single-rule violation of each request schema, sent with real ids."""
    inv = s.inventory
    order = inv.scratch_order()  # what a platform wrongly accepts stays apart from other data
    if order is not None and s.is_open(OperationId.createReturn):
        line = next(line for line in order.lines if inv.available(order, line) > 0)
        # The suite's note on the return and its item: a mutation that breaks one of them
        # leaves the other, so whatever a platform wrongly accepts can be found in the store.
        tagged = {"id": line, "quantity": 1, "reason": "damaged", "note": s.probe_tag}
        valid = {"return": {"items": [tagged], "note": s.probe_tag}}
        for m in _unique(mutations(operation(OperationId.createReturn).request or "", valid)):
            reply = s.call(
                OperationId.createReturn, {"orderId": order.id}, body=m.body, well_formed=False
            )
            if reply.ok:
                inv.learn_return(reply.get("return"), order.id, ours=True, probe=True)
            _judge(s, OperationId.createReturn, reply, m)
    own = [r for r in inv.usable() if r.created_by_suite or s.settings.act_on_existing]
    for op_id, valid_body in (
        (OperationId.rejectReturn, {"reason": "conformance", "note": s.tag}),
        (OperationId.approveReturn, {"note": s.tag}),
        (OperationId.cancelReturn, {"note": s.tag}),
    ):
        ret = next((r for r in own if r.status == "requested"), None)
        if ret is None or not s.is_open(op_id):
            continue
        for m in _unique(mutations(operation(op_id).request or "", valid_body)):
            also = s.applicable_refusals(op_id, ret)  # e.g. 409 once a mutation was accepted
            reply = s.call(
                op_id, {"orderId": ret.order_id, "id": ret.id}, body=m.body, well_formed=False
            )
            if reply.ok:
                inv.learn_return(reply.get("return"), ret.order_id)
            _judge(s, op_id, reply, m, also)
    ret = next((r for r in own if r.status == "approved"), None)
    op_id = OperationId.createReturnFulfillment
    if ret is not None and s.is_open(op_id):
        item = next(iter(ret.items), "unknown-item")
        shipped: dict[str, Any] = {
            "returnFulfillment": {
                "tracking": {
                    "number": f"CONF-{s.settings.seed}-M",
                    "company": "UPS",
                    "url": "https://tracking.example/CONF",
                },
                "items": [{"returnItemId": item, "quantity": 1}],
            }
        }
        for m in _unique(mutations(operation(op_id).request or "", shipped)):
            also = s.applicable_refusals(op_id, ret)
            reply = s.call(
                op_id, {"orderId": ret.order_id, "returnId": ret.id}, body=m.body, well_formed=False
            )
            _judge(s, op_id, reply, m, also)


def generated_list_params(s: Session, max_examples: int) -> None:
    """`limit` and `createdAt` windows as properties of the list operations."""
    order = s.inventory.orders[0].id if s.inventory.orders else None
    targets = [
        (OperationId.listReturns, {}),
        (OperationId.listOrderReturns, {"orderId": order} if order else None),
    ]
    for op, params in targets:
        if params is None or not s.is_open(op) or op not in s.seen.succeeded:
            continue
        _limits(s, op, params, max_examples)
        _windows(s, op, params, max_examples)


def _limits(s: Session, op: str, params: dict[str, str], max_examples: int) -> None:
    @seed(s.settings.seed)
    @_settings(max_examples)
    @given(
        st.one_of(
            st.integers(1, 250),
            st.integers(-5, 0),
            st.integers(251, 10**6),
            st.sampled_from(["", "1.5", "ten", "1e2", " 3"]),
        )
    )
    def limit_is_honoured(limit: int | str) -> None:
        reply = s.call(
            op,
            params,
            query={"limit": str(limit)},
            well_formed=isinstance(limit, int) and 1 <= limit <= 250,
        )
        if reply.problem or (reply.status or 0) >= 500:
            return
        if isinstance(limit, int) and 1 <= limit <= 250:
            if reply.status == 400:
                s.finding(
                    op,
                    ReasonCode.pagination_rejected,
                    "generated_limit",
                    f"limit={limit} was rejected with 400",
                    reply,
                )
            elif reply.ok:
                got = len(reply.get("returns") or [])
                s.check(
                    op,
                    got <= limit,
                    ReasonCode.pagination_broken,
                    "generated_limit",
                    f"limit={limit} answered {got} items",
                    reply,
                )
        else:
            s.refused(op, reply, f"{op} with limit={limit!r}", rule=Rule.limit)

    with with_reporter(lambda _: None):
        limit_is_honoured()


def _windows(s: Session, op: str, params: dict[str, str], max_examples: int) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)

    @seed(s.settings.seed)
    @_settings(max_examples)
    @given(st.integers(0, 400 * 24), st.integers(0, 400 * 24))
    def window_is_respected(start_h: int, length_h: int) -> None:
        start = base + timedelta(hours=start_h)
        end = start + timedelta(hours=length_h)
        query = s.list_query(
            op,
            **{
                "createdAt[from]": start.isoformat().replace("+00:00", "Z"),
                "createdAt[to]": end.isoformat().replace("+00:00", "Z"),
            },
        )
        reply = s.call(op, params, query=query)
        if reply.status == 400:
            s.finding(
                op,
                ReasonCode.filter_rejected,
                "generated_created_at",
                "a createdAt window was rejected with 400",
                reply,
            )
        if not reply.ok:
            return
        outside = []
        for item in reply.get("returns") or []:
            stamp = item.get("createdAt") if isinstance(item, dict) else None
            when = parse_instant(stamp) if isinstance(stamp, str) else None
            if when is not None and not start <= when <= end:
                outside.append(stamp)
        s.check(
            op,
            not outside,
            ReasonCode.filter_ignored,
            "generated_created_at",
            f"createdAt window {query['createdAt[from]']} .. {query['createdAt[to]']} "
            f"returned returns created at {outside[:3]}",
            reply,
        )

    with with_reporter(lambda _: None):
        window_is_respected()


def generated_creates(s: Session, max_examples: int) -> None:
    """Schema-valid createReturn bodies on real line items: 2xx or a business refusal only.

    The bodies come from schemathesis' generator (:func:`valid_bodies`, the same for every
    platform with this seed); their line ids are replaced by the order's and their quantities kept
    small, both drawn from the seed, so that the server's answer is about the body's shape.
    """
    op = OperationId.createReturn
    orders = [o for o in s.inventory.orders if o.lines]
    if not orders or not s.is_open(op) or op not in s.seen.succeeded:
        return
    order = orders[0]
    lines = sorted(order.lines)
    draw = random.Random(s.settings.seed)
    normalized = sorted(vocabularies().return_reason)
    for generated in valid_bodies(op, s.settings.seed, max_examples):
        body = copy.deepcopy(generated["return"])
        # Real line ids and small quantities; a reason outside the normalized vocabulary is a
        # probe of its own (beyond.toml), so generated ones are mapped into it.
        body["items"] = [
            {
                **item,
                "id": draw.choice(lines),
                "quantity": draw.randint(1, 4),
                "reason": item["reason"]
                if item["reason"] in normalized
                else draw.choice(normalized),
            }
            for item in body["items"]
        ]
        body["note"] = s.tag  # whatever is created must be findable as the suite's
        asked: dict[str, int] = {}
        for item in body["items"]:
            asked[item["id"]] = asked.get(item["id"], 0) + item["quantity"]
        reply = s.call(op, {"orderId": order.id}, body={"return": body})
        if reply.ok:
            created = reply.get("return")
            s.inventory.learn_return(created, order.id, ours=True, asked=asked)
            s.check(
                op,
                same_items(created, asked),
                ReasonCode.data_mismatch,
                "generated_valid_input",
                f"asked for {asked}, the new return says {describe_items(created)}",
                reply,
            )
        elif reply.status == 400:
            s.seen.note(op, "a schema-valid body was refused with 400 (see the findings JSON)")
        elif reply.status is not None and reply.status < 500:
            s.check(
                op,
                reply.status in BUSINESS_REFUSALS,
                ReasonCode.undocumented_status,
                "generated_valid_input",
                f"a valid body answered {reply.status}",
                reply,
            )
