"""The schemathesis stage: schema-driven and link-following testing of one target.

Runs schemathesis 4's engine (the examples, coverage, fuzzing and stateful phases, with its
built-in checks) against a target and turns what it reports into the suite's own findings, on
the operation whose response was wrong, with the suite's reason codes.

Schemathesis' defaults do not fit the Returns contract (a correct server fails them), so the run
is configured for it; each adjustment is named where it is made:

* 501 NOT_SUPPORTED, 405 and 403 NOT_ALLOWED are the contract's "unsupported" answers. Operations
  the probes already found unsupported are not run at all; elsewhere 501 is not a server error and
  405 is not an undocumented status.
* ``positive_data_acceptance`` is off: a schema-valid body may break a business rule (422), a
  generated ``page`` token is unreadable (400), a generated ``status`` is unknown (empty list or
  400). None of these is a fault, and no reason code describes "valid input refused" anyway.
* "Invalid input accepted" only counts when the contract's own schemas and rules find the request
  invalid too: an empty ``status`` filter answered with an empty list is correct, and so is a
  whole-number float (``2.0``) accepted for an integer (JSON Schema's integer).
* 429 is throttling: any failure on a 429 answer is dropped (inconclusive) and noted. A request
  without a valid token answered 404 or 400 (not served, not 401) is noted, not failed.
* A 5xx is a ``server_error`` only, not also an undocumented status.
* Auth goes in the config headers, so ``ignored_auth`` knows the token is the real one.
* ``Allow``-less 405s and other failures no reason code describes become notes, not findings.
* Link inference is off (it invents links from names); the document's own links are used, plus
  :data:`EXTRA_LINKS`, in memory only: list answers lead to reads of their items, and an order to
  a return of its first line item, so the stateful phase reaches real data.

Safety: without ``allow_writes`` only GET operations are selected (the others are switched off in
the config, which schemathesis reads as "never send") and the coverage phase's undeclared-method
scenarios are off, so not a single POST/PUT/PATCH/DELETE is sent. With writes, approve, reject,
cancel and createReturnFulfillment never take ids learnt from earlier answers or ``known_ids``
(they could be a customer's return), only generated ones and those of returns the stateful phase
created itself (see :meth:`_Run.forget_learnt_ids`).

Schemathesis' engine is not a public API (its migration guide says so); everything that touches it
is guarded, so a future version yields a note in :class:`StageResult` instead of an exception.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from conformance import schemas
from conformance.contract import Operation, operation, operations
from conformance.findings import Exchange, Finding, Redactor, clip

__all__ = ["EXTRA_LINKS", "StageResult", "run_schemathesis"]

CHECK_PREFIX = "schemathesis."
DEFAULT_MAX_TIME = 600.0
MAX_MESSAGE = 600
MAX_STEPS = 8
MAX_LIMIT = 250
UNSUPPORTED_ANSWERS = frozenset({403, 405, 501})
UNEXPECTED_METHODS = ("get", "put", "post", "delete", "patch")

# Statuses a negative (schema-invalid) request may get. 5xx is left to `not_a_server_error`;
# 501 is the contract's "no such operation".
NEGATIVE_OK = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "501",
    "5xx",
]
# Statuses that are not server errors: every 4xx, and 501 NOT_SUPPORTED.
NOT_SERVER_ERROR = ["2xx", "3xx", "4xx", "501"]

# schemathesis check → our reason code. Checks missing here are reported as notes.
REASONS: dict[str, str] = {
    "not_a_server_error": "server_error",
    "response_schema_conformance": "schema_violation",
    "status_code_conformance": "undocumented_status",
    "content_type_conformance": "wrong_content_type",
    "negative_data_rejection": "invalid_input_accepted",
    "ignored_auth": "auth_not_enforced",
    "missing_required_header": "auth_not_enforced",
    "unsupported_method": "undocumented_status",
    "use_after_free": "data_mismatch",
    "ensure_resource_availability": "data_mismatch",
}

_LIST_RETURNS = "$response.body#/returns/*/returnOrderId"
EXTRA_LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    # (operation id, response status) → links added to that response, in memory only.
    ("listOrders", "200"): {
        "SuiteGetOrder": {
            "operationId": "getOrder",
            "parameters": {"id": "$response.body#/orders/*/id"},
        },
        "SuiteListOrderReturns": {
            "operationId": "listOrderReturns",
            "parameters": {"orderId": "$response.body#/orders/*/id"},
        },
    },
    ("getOrder", "200"): {
        # Replaces the document's CreateReturn link, which has no body: every return it generates
        # names a line item that does not exist (422). This one returns one unit of the first
        # line item; `merge_body: false` keeps schemathesis from mixing generated items into it.
        "CreateReturn": {
            "operationId": "createReturn",
            "parameters": {"orderId": "$response.body#/order/id"},
            "requestBody": {
                "return": {
                    "items": [
                        {"id": "$response.body#/order/items/0/id", "quantity": 1, "reason": "other"}
                    ]
                }
            },
            "x-schemathesis": {"merge_body": False},
        },
    },
    ("listOrderReturns", "200"): {
        name: {
            "operationId": target,
            "parameters": {"orderId": "$request.path.orderId", key: _LIST_RETURNS},
        }
        for name, target, key in (
            ("SuiteGetReturn", "getReturn", "id"),
            ("SuiteListReturnFulfillments", "listReturnFulfillments", "returnId"),
        )
    },
    ("listReturns", "200"): {
        "SuiteListOrderReturns": {
            "operationId": "listOrderReturns",
            "parameters": {"orderId": "$response.body#/returns/*/orderId"},
        },
    },
    ("createReturn", "201"): {
        "SuiteCreateReturnFulfillment": {
            "operationId": "createReturnFulfillment",
            "parameters": {
                "orderId": "$request.path.orderId",
                "returnId": "$response.body#/return/returnOrderId",
            },
        },
    },
    ("listReturnFulfillments", "200"): {
        "SuiteGetReturnFulfillment": {
            "operationId": "getReturnFulfillment",
            "parameters": {
                "orderId": "$request.path.orderId",
                "returnId": "$request.path.returnId",
                "id": "$response.body#/returnFulfillments/*/id",
            },
        },
    },
}


@dataclass(frozen=True)
class StageResult:
    """What the schemathesis stage found on one target."""

    findings: tuple[Finding, ...] = ()
    cases: int = 0  # requests schemathesis sent
    passed_checks: dict[str, int] = field(default_factory=dict)  # operation id → passed checks
    notes: tuple[str, ...] = ()


def run_schemathesis(
    base_url: str,
    token: str,
    *,
    allow_writes: bool,
    seed: int,
    max_examples: int,
    unsupported: Mapping[str, str],
    known_ids: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    max_time: float = DEFAULT_MAX_TIME,
    consistency_window: float = 0.0,
    tag: str | None = None,
) -> StageResult:
    """Run schemathesis against ``base_url`` and translate its failures into findings.

    ``unsupported`` maps the operations the probes found unsupported to their reason code; they
    are not run. ``known_ids`` may name real data for path parameters: ``orderId``, ``id`` or
    ``returnId`` (a return) and ``fulfillmentId``; generation uses them half of the time.
    ``timeout`` bounds each request and ``max_time`` the whole run (it is stopped after that).
    With a ``consistency_window``, "just created but not found" is not reported: schemathesis
    reads back at once, the probes wait the window.
    Never raises: a schemathesis that cannot run is reported in ``notes``.
    """
    redactor = Redactor([token])
    try:
        run = _Run(
            base_url=base_url,
            token=token,
            allow_writes=allow_writes,
            seed=seed,
            max_examples=max_examples,
            unsupported=unsupported,
            known_ids=dict(known_ids or {}),
            timeout=timeout,
            max_time=max_time,
            consistency_window=consistency_window,
            redactor=redactor,
            tag=tag,
        )
        return run.execute()
    except Exception as exc:  # an API change in schemathesis must not break the whole run
        message = redactor.text(f"{type(exc).__name__}: {exc}")[:MAX_MESSAGE]
        return StageResult(notes=(f"schemathesis could not run: {message}",))


# --------------------------------------------------------------------------- selection


def selected_operations(allow_writes: bool, unsupported: Mapping[str, str]) -> list[Operation]:
    """The scored operations this stage runs: not unsupported, and reads only without writes."""
    return [
        op
        for op in operations()
        if op.id not in unsupported and (allow_writes or op.method == "GET")
    ]


def _document() -> dict[str, Any]:
    """The contract's OpenAPI document with :data:`EXTRA_LINKS` added (a copy)."""
    raw = yaml.safe_load(schemas.openapi_path().read_text(encoding="utf-8"))
    doc: dict[str, Any] = copy.deepcopy(raw)
    by_id: dict[str, dict[str, Any]] = {}
    for path_item in doc.get("paths", {}).values():
        for definition in path_item.values():
            if isinstance(definition, dict) and "operationId" in definition:
                by_id[definition["operationId"]] = definition
    components = doc.get("components", {}).get("responses", {})
    for (op_id, status), links in EXTRA_LINKS.items():
        definition = by_id.get(op_id)
        if definition is None:
            continue
        response = definition.get("responses", {}).get(status)
        if not isinstance(response, dict):
            continue
        ref = response.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/responses/"):
            # A shared response: give this operation its own copy so the links stay its own.
            response = copy.deepcopy(components[ref.rsplit("/", 1)[1]])
            definition["responses"][status] = response
        response.setdefault("links", {}).update(copy.deepcopy(links))
    return doc


# Writes on ids schemathesis learnt from earlier answers would act on data the suite did not
# create (a customer's return): these operations only get generated or linked ids.
NO_LEARNT_IDS = ("approveReturn", "rejectReturn", "cancelReturn", "createReturnFulfillment")
UNKNOWN_ID = "conformance-unknown-id"


def _operation_config(known_ids: Mapping[str, str], skipped: list[str]) -> dict[str, Any]:
    """Per-operation settings: which are off, real ids for reads, no learnt ids for writes.

    The operations in ``skipped`` are switched off in the config, which schemathesis reads as
    "never send this request", not even as an undeclared method of a path it tests.

    Known ids go into reads (and the order of createReturn) only, never into an action or a new
    reverse shipment: a known return may be a customer's.
    """
    order = known_ids.get("orderId")
    ret = known_ids.get("returnId") or known_ids.get("id")
    fulfillment = known_ids.get("fulfillmentId")
    wanted: dict[str, dict[str, str | None]] = {
        "getOrder": {"id": order},
        "listOrderReturns": {"orderId": order},
        "createReturn": {"orderId": order},
        "getReturn": {"orderId": order, "id": ret},
        "listReturnFulfillments": {"orderId": order, "returnId": ret},
        "getReturnFulfillment": {"orderId": order, "returnId": ret, "id": fulfillment},
    }
    dictionaries: dict[str, Any] = {}
    entries: dict[str, dict[str, Any]] = {}
    for op_id, params in wanted.items():
        bindings: dict[str, Any] = {}
        for name, value in params.items():
            if not value:
                continue
            key = f"suite-{op_id}-{name}"
            dictionaries[key] = {"values": [value]}
            bindings[f"path.{name}"] = {"dictionary": key, "probability": 0.5}
        if bindings:
            entries[op_id] = {"include-operation-id": op_id, "parameters": bindings}
    no_pool = {"extra-data-sources": {"responses": False}}
    for op_id in NO_LEARNT_IDS:
        entries[op_id] = {
            "include-operation-id": op_id,
            "phases": {"examples": no_pool, "coverage": no_pool, "fuzzing": no_pool},
        }
    operations = list(entries.values())
    if skipped:
        operations.insert(0, {"include-operation-id": list(skipped), "enabled": False})
    config: dict[str, Any] = {"operations": operations}
    if dictionaries:
        config["dictionaries"] = dictionaries
    return config


def build_config(
    base_url: str,
    token: str,
    *,
    allow_writes: bool,
    seed: int,
    max_examples: int,
    known_ids: Mapping[str, str],
    timeout: float,
    skipped: list[str],
) -> dict[str, Any]:
    """The schemathesis configuration (``schemathesis.toml`` keys) for one run on the contract."""
    # Undeclared-method scenarios (contract: 405 with Allow) send other methods to every path:
    # none in a read-only run; otherwise the ordinary ones. TRACE, QUERY and OPTIONS are left
    # out: proxies and CORS layers in front of a connector answer them, not the connector.
    coverage: dict[str, Any] = {
        "enabled": True,
        "unexpected-methods": list(UNEXPECTED_METHODS) if allow_writes else [],
    }
    config: dict[str, Any] = {
        "base-url": _literal(base_url.rstrip("/")),
        # Auth in the config counts as explicit: `ignored_auth` then knows the token is valid.
        "headers": {"Authorization": _literal(f"Bearer {token}")},
        "seed": seed,
        "request-timeout": timeout,
        "workers": 1,
        "continue-on-failure": True,
        "cache": {"enabled": False},
        "warnings": False,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": max(1, max_examples),
            "database": "none",
            "deterministic": False,  # the seed decides
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": coverage,
            "fuzzing": {"enabled": True},
            "stateful": {
                "enabled": True,
                "max-steps": MAX_STEPS,
                # Inference invents links from names; the document's links are the contract's.
                "inference": {"algorithms": []},
            },
        },
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "object_level_authorization": {"enabled": False},
            "not_a_server_error": {"expected-statuses": NOT_SERVER_ERROR},
            "negative_data_rejection": {"expected-statuses": NEGATIVE_OK},
        },
    }
    config.update(_operation_config(known_ids, skipped))
    return config


# --------------------------------------------------------------------------- the run


class _Run:
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

    # ---- helpers ----

    def note(self, text: str) -> None:
        text = self.redactor.text(text)[:MAX_MESSAGE]
        if text not in self.notes:
            self.notes.append(text)

    def op_id(self, operation: Any) -> str | None:
        """The contract id of a schemathesis operation; None for the unscored discovery reads."""
        key = (str(operation.method).upper(), str(operation.path))
        return self.by_route.get(key)

    # ---- schema and engine ----

    def load_schema(self) -> Any:
        import schemathesis

        config = schemathesis.Config.from_dict(
            build_config(
                self.base_url,
                self.token,
                allow_writes=self.allow_writes,
                seed=self.seed,
                max_examples=self.max_examples,
                known_ids=self.known_ids,
                timeout=self.timeout,
                skipped=self.skipped,
            )
        )
        path = schemas.openapi_path()
        try:
            schema = schemathesis.openapi.from_dict(_document(), config=config)
            # What `from_path` does: relative `$ref`s resolve against the document's location.
            schema.location = path.absolute().as_uri()
        except Exception as exc:
            self.note(
                f"schemathesis: the suite's extra links could not be added ({exc}); "
                "the stateful phase uses the document's own links only"
            )
            schema = schemathesis.openapi.from_path(path, config=config)
        schema.hook(self._filter_failure_hook())
        schema.hook(self._map_case_hook())
        # Selection is the config's `enabled = false` (see `_operation_config`), not
        # `schema.include()`: with per-operation config entries present, an include filter is
        # OR-ed with the config's own filter and no longer narrows anything (4.32.5).
        return schema

    def _filter_failure_hook(self) -> Any:
        run = self

        def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
            """Drop the failures that are not faults under the contract (see the module doc)."""
            del context
            try:
                return run.keep(failure, case, response)
            except Exception as exc:  # keep the failure rather than break the run
                run.note(f"schemathesis: a failure could not be screened ({exc!r})")
                return True

        return filter_failure

    def _map_case_hook(self) -> Any:
        run = self

        def map_case(context: Any, case: Any) -> Any:
            """No action or reverse shipment on an id learnt from an earlier answer."""
            del context
            try:
                run.forget_learnt_ids(case)
                run.tag_creates(case)
            except Exception as exc:  # cannot tell: leave the case as generated
                run.note(f"schemathesis: a generated case could not be screened ({exc!r})")
            return case

        return map_case

    def tag_creates(self, case: Any) -> None:
        """Every return schemathesis creates carries the suite's note, so the run's clean-up
        (and a store owner) can find it."""
        body = getattr(case, "body", None)
        if self.tag and self.op_id(case.operation) == "createReturn" and isinstance(body, dict):
            wrapped = body.get("return")
            if isinstance(wrapped, dict):
                wrapped["note"] = self.tag

    def forget_learnt_ids(self, case: Any) -> None:
        """Replace path ids drawn from schemathesis' pool of earlier answers by unknown ids.

        The pool is fed by every answer (a customer's return in a list, say), and the stateful
        phase draws from it whatever the per-operation config says; for approve, reject, cancel
        and createReturnFulfillment the request then names an id that does not exist (404).
        """
        if self.op_id(case.operation) not in NO_LEARNT_IDS:
            return
        draws = getattr(getattr(case, "meta", None), "pool_draws", ()) or ()
        if any(str(getattr(d, "location", "")).lower().endswith("path") for d in draws):
            # One draw may fill several parameters (an order and its return): replace them all.
            params = case.path_parameters or {}
            for name in params:
                params[name] = UNKNOWN_ID

    def keep(self, failure: Any, case: Any, response: Any) -> bool:
        status = int(getattr(response, "status_code", 0) or 0)
        code = str(getattr(failure, "code", ""))
        if status == 429:
            self.dropped["rate_limited"] += 1
            return False
        if self.op_id(case.operation) is None:
            self.dropped["discovery"] += 1
            return False
        if code == "ST103" and (status in UNSUPPORTED_ANSWERS or status >= 500):
            # 405 is an unsupported answer; a 5xx is already a server error (not_a_server_error).
            return False
        if code == "ST201" and self.valid_under_contract(case):
            # schemathesis thought the request invalid, the contract's own schemas do not: an
            # empty or unknown `status` filter (an empty list is a correct answer), a date-time
            # or URI its format checker reads differently, a whole-number float for an integer.
            self.dropped["not_negative"] += 1
            return False
        if code == "ST302" and self.consistency_window > 0:
            # "created, then 404": read back at once, while the platform may take the window.
            self.dropped["consistency"] += 1
            return False
        if code in ("ST401", "ST203") and not (200 <= status < 300 or status >= 500):
            # Without a valid token the answer was neither served nor a crash (e.g. 404): the
            # hand-written auth probe notes that; it is not "auth ignored".
            self.dropped["auth_status"] += 1
            return False
        return True

    def valid_under_contract(self, case: Any) -> bool:
        """Whether every part of the request is valid by the contract's own rules."""
        from schemathesis.core.parameters import ParameterLocation

        op_id = self.op_id(case.operation)
        if op_id is None:
            return False
        meta = getattr(case, "meta", None)
        if meta is not None and any(
            meta.is_negative_at(location)
            for location in (ParameterLocation.PATH, ParameterLocation.HEADER)
        ):
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
            return _is_unset(body)
        if _is_unset(body):
            return op.kind != "create"
        return not schemas.violations(op.request, body)

    def execute(self) -> StageResult:
        if not self.selected:
            return StageResult(
                notes=(
                    "schemathesis: no operation to test (all unsupported, or "
                    "only writes in a read-only run)",
                )
            )
        from schemathesis.engine import events, from_schema

        schema = self.load_schema()
        stream = from_schema(schema).execute()
        timer = threading.Timer(self.max_time, stream.stop)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    try:
                        self.scenario(event)
                    except Exception as exc:  # one unreadable scenario must not end the run
                        self.note(f"schemathesis: a scenario could not be read ({exc!r})")
                elif isinstance(event, events.NonFatalError):
                    self.note(f"schemathesis error ({event.label}): {event.info.message}")
                elif isinstance(event, events.FatalError):
                    self.note(f"schemathesis could not run: {event.exception!r}")
                elif isinstance(event, events.EngineFinished):
                    reason = str(getattr(event.stop_reason, "value", event.stop_reason))
                    if reason != "completed":
                        self.note(
                            f"schemathesis stopped early ({reason}) after "
                            f"{time.monotonic() - started:.0f} s"
                        )
        finally:
            timer.cancel()
        if self.dropped["rate_limited"]:
            self.note(
                f"schemathesis: {self.dropped['rate_limited']} check(s) hit 429 "
                "(throttled) and were not counted (inconclusive)"
            )
        if self.dropped["discovery"]:
            self.note(
                f"schemathesis: {self.dropped['discovery']} failure(s) on the order reads "
                "(listOrders, getOrder), which are not scored, were left out"
            )
        if self.dropped["consistency"]:
            self.note(
                "schemathesis: a resource just created was not found at once; within the "
                "consistency window that is left to the read-your-writes probes"
            )
        if self.dropped["auth_status"]:
            self.note(
                "schemathesis: without a valid token some operations answered a status "
                "other than 401; the contract says 401 UNAUTHORIZED"
            )
        return StageResult(
            findings=tuple(self.findings.values()),
            cases=self.cases,
            passed_checks=dict(sorted(self.passed.items())),
            notes=tuple(self.notes),
        )

    # ---- translation ----

    def scenario(self, event: Any) -> None:
        recorder = event.recorder
        stateful = str(getattr(event.phase, "value", event.phase)) == "stateful"
        self.cases += sum(1 for i in recorder.interactions.values() if i.response is not None)
        for case_id, checks in recorder.checks.items():
            node = recorder.cases.get(case_id)
            for check in checks:
                status = str(getattr(check.status, "value", check.status))
                if status == "success":
                    op = self.op_id(node.value.operation) if node is not None else None
                    if op is not None:
                        self.passed[op] += 1
                elif status == "failure" and check.failure_info is not None:
                    self.failure(recorder, case_id, check.name, check.failure_info, stateful)

    def failure(self, recorder: Any, case_id: str, check: str, info: Any, stateful: bool) -> None:
        failure = info.failure
        failing_id = failure.case_id or case_id
        node = recorder.cases.get(failing_id) or recorder.cases.get(case_id)
        if node is None:
            return
        case = node.value
        op = self.op_id(case.operation)
        if op is None:
            return
        interaction = recorder.interactions.get(failing_id) or recorder.interactions.get(case_id)
        response = getattr(interaction, "response", None)
        status = int(getattr(response, "status_code", 0) or 0)
        if status == 429:
            # Throttled: the answer says nothing about the check (e.g. `ignored_auth` sends its
            # own requests without a token, and the one that failed was throttled).
            self.dropped["rate_limited"] += 1
            return
        reason = REASONS.get(check)
        if check in ("ignored_auth", "missing_required_header") and status >= 500:
            reason = "server_error"
        if check == "unsupported_method" and status == 405:
            reason = None  # a 405 without `Allow`: no reason code says that; noted
        if reason == "data_mismatch" and operation(op).is_list:
            reason = "stale_list"  # a list that does not show what was just created
        title = f"{failure.code} {failure.title}"
        if reason is None:
            self.note(f"schemathesis {check} on {op}: {title}: {failure.message}")
            return
        message = f"schemathesis {check} ({title})"
        if failure.message:
            message += f": {failure.message}"
        evidence = (self.exchange(interaction),) if interaction is not None else ()
        steps = self.steps(recorder, failing_id) if stateful else ()
        finding = Finding(
            operation=op,
            reason=reason,
            check=CHECK_PREFIX + check,
            message=self.redactor.text(message)[:MAX_MESSAGE],
            evidence=evidence,
            steps=steps,
            seed=self.seed,
        )
        self.findings.setdefault(finding.key, finding)

    def steps(self, recorder: Any, case_id: str) -> tuple[str, ...]:
        """The calls that lead to a stateful failure, oldest first."""
        try:
            chain = list(recorder.iter_chain_cases(case_id=case_id))
        except Exception:
            return ()
        lines = []
        for case in chain:
            response = recorder.find_response(case_id=case.id)
            answer = response.status_code if response is not None else "no answer"
            lines.append(self.redactor.text(f"{case.method} {case.formatted_path} -> {answer}"))
        return tuple(lines)

    def exchange(self, interaction: Any) -> Exchange:
        red = self.redactor
        request = interaction.request
        response = interaction.response
        headers = {
            str(name).lower(): _first(values)
            for name, values in (request.headers or {}).items()
            if str(name).lower() in ("authorization", "content-type")
        }
        response_headers: dict[str, str] = {}
        response_body: Any = None
        status: int | None = None
        elapsed = 0.0
        if response is not None:
            status = int(response.status_code)
            response_headers = {
                str(name).lower(): ", ".join(_strings(values))
                for name, values in (response.headers or {}).items()
            }
            response_body = _decode(response.content)
            elapsed = float(getattr(response, "elapsed", 0.0) or 0.0) * 1000
        return Exchange(
            method=str(request.method).upper(),
            url=red.text(str(request.uri)),
            request_headers=red.value(headers),
            request_body=clip(red.value(_decode(request.body))),
            status=status,
            response_headers=red.value(response_headers),
            response_body=clip(red.value(response_body)),
            error=None if response is not None else "no response",
            elapsed_ms=elapsed,
        )


def _literal(text: str) -> str:
    """Escape schemathesis' `${NAME}` environment placeholders: the value is meant as written."""
    return text.replace("${", "$${")


def _is_unset(value: Any) -> bool:
    return value is None or type(value).__name__ == "NotSet"


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


def _strings(values: Any) -> list[str]:
    if isinstance(values, str | bytes):
        values = [values]
    return [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values or ()]


def _first(values: Any) -> str:
    strings = _strings(values)
    return strings[0] if strings else ""


def _decode(payload: bytes | str | None) -> Any:
    """A body as JSON when it parses, else as text; None when there is none."""
    if payload is None or payload == b"" or payload == "":
        return None
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    try:
        return json.loads(text)
    except ValueError:
        return text
