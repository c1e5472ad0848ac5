"""Generated testing: schema-driven inputs, schemathesis, and the lifecycle state machine.

Runs after the hand-written probes, on the same session, so its findings land in the same cells.
"""

from __future__ import annotations

from conformance.contract import OperationId
from conformance.generate.inputs import generated_creates, generated_list_params, invalid_bodies
from conformance.generate.machine import run_machine
from conformance.generate.schemathesis_stage import run_schemathesis
from conformance.probes.session import Session
from conformance.probes.wire import knock_on_only
from conformance.verdicts import ReasonCode

__all__ = ["generate"]


# Schemathesis runs every phase for each operation; a fraction of the budget keeps the default
# run fast, and a time bound keeps any run finite.
SCHEMATHESIS_SHARE = 4
SCHEMATHESIS_SECONDS = 30.0


def generate(s: Session, max_examples: int) -> None:
    """Schema-driven inputs, schemathesis, then the lifecycle state machine, within the budget."""
    generated_list_params(s, max_examples)
    if s.settings.allow_writes:
        invalid_bodies(s)
        generated_creates(s, max_examples)
    if s.settings.schemathesis and s.target.max_requests is not None:
        s.seen.platform_notes.append(
            "schemathesis was not run: it cannot be held to --max-requests (its own client)"
        )
    elif s.settings.schemathesis:
        schemathesis_phase(s, max(1, max_examples // SCHEMATHESIS_SHARE))
    if s.settings.allow_writes:
        run_machine(s, max_examples)


def known_ids(s: Session) -> dict[str, str]:
    """Real ids for schemathesis' path parameters, the suite's own return first."""
    ids: dict[str, str] = {}
    rets = s.inventory.returns_in(ours=True) or s.inventory.usable()
    ret = next((r for r in rets if r.fulfillments), rets[0] if rets else None)
    if ret is not None:
        ids |= {"orderId": ret.order_id, "id": ret.id, "returnId": ret.id}
        if ret.fulfillments:
            ids["fulfillmentId"] = ret.fulfillments[0]
    elif s.inventory.orders:
        ids["orderId"] = s.inventory.orders[0].id
    return ids


def schemathesis_phase(s: Session, max_examples: int) -> None:
    """Schemathesis over schemas/openapi.yaml; its failures land on the operations they concern."""
    result = run_schemathesis(
        s.target.base_url,
        s.target.token,
        allow_writes=s.settings.allow_writes,
        seed=s.settings.seed,
        max_examples=max_examples,
        unsupported=dict(s.unsupported),
        known_ids=known_ids(s),
        timeout=s.target.timeout,
        max_time=SCHEMATHESIS_SECONDS,
        consistency_window=s.settings.consistency_window,
        tag=s.tag,
        target=s.target,  # sends again what was answered 502/503/504, with the session's retries
    )
    for op, answers in result.retried:
        s.seen.retried(op, answers)  # contract section 2: counted on the operation, not failed
    for finding in result.findings:
        answer = finding.evidence[-1] if finding.evidence else None
        if (
            answer is not None
            and finding.reason == ReasonCode.schema_violation
            and finding.operation != OperationId.createReturn
            and 200 <= (answer.status or 0) < 300
            and knock_on_only(s, finding.operation, answer.response_body)
        ):
            continue  # a return schemathesis made from invalid input: createReturn's, noted
        s.seen.failed(finding)
    for op, count in result.passed_checks.items():
        for _ in range(count):
            s.seen.passed(op, "schemathesis")
    s.seen.platform_notes.extend(n for n in result.notes if n not in s.seen.platform_notes)
