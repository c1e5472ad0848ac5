"""One run of the stage: load the schema, hook the contract's screening in, drive the engine,
and collect findings, passed checks and notes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import schemas
from conformance.contract import operations
from conformance.findings import Finding, Redactor
from conformance.generate.schemathesis_stage import adapter, screen
from conformance.generate.schemathesis_stage.config import (
    NO_LEARNT_IDS,
    build_config,
    document,
    selected_operations,
)
from conformance.generate.schemathesis_stage.transient import TRANSIENT, Resender, Transients
from conformance.generate.schemathesis_stage.translate import MAX_MESSAGE, finding_or_note
from conformance.interrupt import Interrupted
from conformance.verdicts import ReasonCode

__all__ = ["StageResult"]

# Failures dropped under the contract, counted, and said once at the end of the run.
_DROPPED_NOTES = {
    ReasonCode.rate_limited: "schemathesis: {n} check(s) hit 429 (throttled) and were not counted "
    "(inconclusive)",
    "discovery": "schemathesis: {n} failure(s) on the order reads (listOrders, getOrder), which "
    "are not scored, were left out",
    "consistency": "schemathesis: a resource just created was not found at once; within the "
    "consistency window that is left to the read-your-writes probes",
    "null_as_absent": "schemathesis: {n} request(s) with an optional field sent as null were "
    "accepted: treated as absent (contract §2 allows it; noted, not failed)",
    "auth_status": "schemathesis: without a valid token some operations answered a status "
    "other than 401; the contract says 401 UNAUTHORIZED",
}


@dataclass(frozen=True)
class StageResult:
    """What the schemathesis stage found on one target."""

    findings: tuple[Finding, ...] = ()
    cases: int = 0  # requests schemathesis sent
    passed_checks: dict[str, int] = field(default_factory=dict)  # operation id → passed checks
    notes: tuple[str, ...] = ()
    # the requests answered 502/503/504 that were sent again: (operation, transient answers)
    retried: tuple[tuple[str, tuple[str, ...]], ...] = ()


class _Run:
    """The state of one run; hooks and the event loop write into it."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        allow_writes: bool,
        seed: int,
        max_examples: int,
        unsupported: Mapping[str, str],
        known_ids: Mapping[str, str],
        timeout: float,
        max_time: float,
        consistency_window: float,
        redactor: Redactor,
        resender: Resender,
        tag: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.allow_writes = allow_writes
        self.seed = seed
        self.max_examples = max_examples
        self.known_ids = known_ids
        self.timeout = timeout
        self.max_time = max_time
        self.consistency_window = consistency_window
        self.tag = tag
        self.redactor = redactor
        self.selected = selected_operations(allow_writes, unsupported)
        chosen = {op.id for op in self.selected}
        self.skipped = [op.id for op in operations() if op.id not in chosen]
        self.by_route = {(op.method.upper(), op.path): op.id for op in operations()}
        self.findings: dict[tuple[str, str, str], Finding] = {}
        self.passed: Counter[str] = Counter()
        self.notes: list[str] = []
        self.dropped: Counter[str] = Counter()
        self.cases = 0
        self.drift: adapter.SchemathesisDrift | None = None
        self.transients = Transients(resender, token, redactor, seed)
        self.interrupted = False
        self.engine: adapter.Engine | None = None

    def note(self, text: str) -> None:
        text = self.redactor.text(text)[:MAX_MESSAGE]
        if text not in self.notes:
            self.notes.append(text)

    def op_id(self, case: Any) -> str | None:
        """The contract id of a case's operation; None for the unscored discovery reads."""
        return self.by_route.get(adapter.route(case))

    def drifted(self, exc: adapter.SchemathesisDrift) -> None:
        """Schemathesis is not what the stage was checked against: stop, and fail the stage."""
        self.drift = self.drift or exc
        if self.engine is not None:
            self.engine.stop()

    # ---- schema and hooks ----

    def load_schema(self) -> Any:
        config = build_config(
            self.base_url,
            self.token,
            allow_writes=self.allow_writes,
            seed=self.seed,
            max_examples=self.max_examples,
            known_ids=self.known_ids,
            timeout=self.timeout,
            skipped=self.skipped,
        )
        schema = adapter.load_schema(config, document(), schemas.openapi_path())
        # Public hooks (`schemathesis.hook` specs `filter_failure` and `map_case`).
        schema.hook(self._filter_failure_hook())
        schema.hook(self._map_case_hook())
        # Selection is the config's `enabled = false` (see `operation_config`), not
        # `schema.include()`: with per-operation config entries present, an include filter is
        # OR-ed with the config's own filter and no longer narrows anything (4.32.5).
        return schema

    def _filter_failure_hook(self) -> Callable[[Any, Any, Any, Any], bool]:
        run = self

        def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
            """Drop the failures that are not faults under the contract (see the package doc)."""
            del context
            try:
                return run.keep(failure, case, response)
            except adapter.SchemathesisDrift as exc:
                run.drifted(exc)
                return True
            except Interrupted:  # Ctrl-C during a resend: stop here, raise after the engine
                run.interrupted = True
                if run.engine is not None:
                    run.engine.stop()
                return False

        return filter_failure

    def _map_case_hook(self) -> Callable[[Any, Any], Any]:
        run = self

        def map_case(context: Any, case: Any) -> Any:
            """No action or reverse shipment on an id learnt from an earlier answer."""
            del context
            op_id = run.op_id(case)
            try:
                screen.forget_learnt_ids(op_id, case)
            except adapter.SchemathesisDrift as exc:
                run.drifted(exc)
                if op_id in NO_LEARNT_IDS:
                    screen.unknown_path_ids(case)  # cannot tell where the ids came from
            screen.tag_creates(op_id, case, run.tag)
            return case

        return map_case

    def keep(self, failure: Any, case: Any, response: Any) -> bool:
        status = int(response.status_code or 0) if response is not None else 0
        code = adapter.failure_code(failure)
        op_id = self.op_id(case)
        if op_id is not None and status in TRANSIENT and not self.transients.keep(op_id, response):
            return False  # sent again: answered (counted) or undecided (inconclusive)
        why = screen.drop_reason(
            op_id, code, status, case, consistency_window=self.consistency_window
        )
        if why:
            self.dropped[why] += 1
        return why is None

    # ---- the run ----

    def execute(self) -> StageResult:
        if not self.selected:
            return StageResult(
                notes=(
                    "schemathesis: no operation to test (all unsupported, or "
                    "only writes in a read-only run)",
                )
            )
        adapter.check_api()
        self.engine = adapter.Engine(self.load_schema())
        started = time.monotonic()
        for event in self.engine.run(self.max_time, self.scenario):
            if isinstance(event, adapter.EngineNote):
                self.note(event.text)
            elif event.reason != "completed" and self.drift is None:
                elapsed = time.monotonic() - started
                self.note(f"schemathesis stopped early ({event.reason}) after {elapsed:.0f} s")
        if self.interrupted:
            raise Interrupted
        if self.drift is not None:
            raise self.drift
        for why, template in _DROPPED_NOTES.items():
            if self.dropped[why]:
                self.note(template.format(n=self.dropped[why]))
        if resent := self.transients.note():
            self.note(resent)
        for finding in self.transients.findings:
            self.findings.setdefault(finding.key, finding)
        return StageResult(
            findings=tuple(self.findings.values()),
            cases=self.cases,
            passed_checks=dict(sorted(self.passed.items())),
            notes=tuple(self.notes),
            retried=tuple(self.transients.retried),
        )

    def scenario(self, event: Any) -> None:
        """Record one finished scenario (called from the engine loop)."""
        try:
            scenario = adapter.read_scenario(event)
        except adapter.SchemathesisDrift as exc:
            self.drifted(exc)
            return
        self.cases += scenario.answered
        for passed_route in scenario.passed:
            op = self.by_route.get(passed_route)
            if op is not None:
                self.passed[op] += 1
        for failed in scenario.failures:
            op = self.by_route.get(failed.route)
            if op is None:
                continue
            if failed.call is not None and failed.call.status == 429:
                # Throttled: the answer says nothing about the check (e.g. `ignored_auth` sends
                # its own requests without a token, and the one that failed was throttled).
                self.dropped[ReasonCode.rate_limited] += 1
                continue
            result = finding_or_note(op, failed, self.redactor, self.seed)
            if isinstance(result, str):
                self.note(result)
            else:
                self.findings.setdefault(result.key, result)
