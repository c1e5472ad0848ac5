"""The schemathesis configuration for the Returns contract: what runs, on which document.

Pure data: ``schemathesis.toml`` keys as a dict (read by the public ``schemathesis.Config``), the
contract's OpenAPI document with the suite's extra links, and the operations a run selects. Each
adjustment to schemathesis' defaults is explained where it is made; see the package docstring.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from conformance import schemas
from conformance.contract import Operation, OperationId, operations

__all__ = [
    "DEFAULT_MAX_TIME",
    "EXTRA_LINKS",
    "NO_LEARNT_IDS",
    "UNKNOWN_ID",
    "build_config",
    "document",
    "operation_config",
    "selected_operations",
]

DEFAULT_MAX_TIME = 600.0
MAX_STEPS = 8
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

_LIST_RETURNS = "$response.body#/returns/*/returnOrderId"
EXTRA_LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    # (operation id, response status) → links added to that response, in memory only.
    ("listOrders", "200"): {
        "SuiteGetOrder": {
            "operationId": "getOrder",
            "parameters": {"id": "$response.body#/orders/*/id"},
        },
        "SuiteListOrderReturns": {
            "operationId": OperationId.listOrderReturns,
            "parameters": {"orderId": "$response.body#/orders/*/id"},
        },
    },
    ("getOrder", "200"): {
        # Replaces the document's CreateReturn link, which has no body: every return it generates
        # names a line item that does not exist (422). This one returns one unit of the first
        # line item; `merge_body: false` keeps schemathesis from mixing generated items into it.
        "CreateReturn": {
            "operationId": OperationId.createReturn,
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
    (OperationId.listOrderReturns, "200"): {
        name: {
            "operationId": target,
            "parameters": {"orderId": "$request.path.orderId", key: _LIST_RETURNS},
        }
        for name, target, key in (
            ("SuiteGetReturn", OperationId.getReturn, "id"),
            ("SuiteListReturnFulfillments", OperationId.listReturnFulfillments, "returnId"),
        )
    },
    (OperationId.listReturns, "200"): {
        "SuiteListOrderReturns": {
            "operationId": OperationId.listOrderReturns,
            "parameters": {"orderId": "$response.body#/returns/*/orderId"},
        },
    },
    (OperationId.createReturn, "201"): {
        "SuiteCreateReturnFulfillment": {
            "operationId": OperationId.createReturnFulfillment,
            "parameters": {
                "orderId": "$request.path.orderId",
                "returnId": "$response.body#/return/returnOrderId",
            },
        },
    },
    (OperationId.listReturnFulfillments, "200"): {
        "SuiteGetReturnFulfillment": {
            "operationId": OperationId.getReturnFulfillment,
            "parameters": {
                "orderId": "$request.path.orderId",
                "returnId": "$request.path.returnId",
                "id": "$response.body#/returnFulfillments/*/id",
            },
        },
    },
}


def selected_operations(allow_writes: bool, unsupported: Mapping[str, str]) -> list[Operation]:
    """The scored operations this stage runs: not unsupported, and reads only without writes."""
    return [
        op
        for op in operations()
        if op.id not in unsupported and (allow_writes or op.method == "GET")
    ]


def document() -> dict[str, Any]:
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
NO_LEARNT_IDS = (
    OperationId.approveReturn,
    OperationId.rejectReturn,
    OperationId.cancelReturn,
    OperationId.createReturnFulfillment,
)
UNKNOWN_ID = "conformance-unknown-id"


def operation_config(known_ids: Mapping[str, str], skipped: list[str]) -> dict[str, Any]:
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
        OperationId.listOrderReturns: {"orderId": order},
        OperationId.createReturn: {"orderId": order},
        OperationId.getReturn: {"orderId": order, "id": ret},
        OperationId.listReturnFulfillments: {"orderId": order, "returnId": ret},
        OperationId.getReturnFulfillment: {"orderId": order, "returnId": ret, "id": fulfillment},
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
    config.update(operation_config(known_ids, skipped))
    return config


def _literal(text: str) -> str:
    """Escape schemathesis' `${NAME}` environment placeholders: the value is meant as written."""
    return text.replace("${", "$${")
