"""The contract's tables as typed data: operations, vocabularies, error codes.

Everything here is read from `conformance/data/*.toml`, so the reference server and the suite
share one definition of the contract and neither hard-codes a path or an operation id.
"""

from __future__ import annotations

import tomllib
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any


class OperationId(StrEnum):
    """The ten Returns operations, in contract order."""

    listReturns = "listReturns"
    listOrderReturns = "listOrderReturns"
    getReturn = "getReturn"
    createReturn = "createReturn"
    cancelReturn = "cancelReturn"
    approveReturn = "approveReturn"
    rejectReturn = "rejectReturn"
    listReturnFulfillments = "listReturnFulfillments"
    getReturnFulfillment = "getReturnFulfillment"
    createReturnFulfillment = "createReturnFulfillment"


@dataclass(frozen=True)
class Operation:
    """One row of the contract's operation table (section 1)."""

    id: str
    method: str
    path: str
    kind: str  # read | create | action
    tier: str  # read | write | workflow
    response: str
    success: tuple[int, ...]
    request: str | None = None
    body_key: str | None = None
    is_list: bool = False
    to_status: str | None = None
    from_status: tuple[str, ...] = ()

    @property
    def is_write(self) -> bool:
        """Any POST: needs --allow-writes."""
        return self.method == "POST"

    def url_path(self, **params: str) -> str:
        """The path with its `{placeholders}` filled in, each id as one percent-encoded segment.

        Ids are opaque (contract section 2): `gid://x/Order/1` becomes `gid%3A%2F%2Fx%2FOrder%2F1`,
        so a `/`, `?`, `#` or space in an id never changes which path is asked for.
        """
        path = self.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        return path


def _read(name: str) -> dict[str, Any]:
    text = resources.files("conformance.data").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _operation(row: dict[str, Any]) -> Operation:
    return Operation(
        id=row["id"],
        method=row["method"],
        path=row["path"],
        kind=row.get("kind", "read"),
        tier=row.get("tier", "read"),
        response=row["response"],
        success=tuple(row["success"]),
        request=row.get("request"),
        body_key=row.get("body_key"),
        is_list=bool(row.get("list", False)),
        to_status=row.get("to_status"),
        from_status=tuple(row.get("from_status", ())),
    )


@cache
def operations() -> tuple[Operation, ...]:
    """The ten scored operations, in contract order."""
    ops = tuple(_operation(row) for row in _read("operations.toml")["operation"])
    assert [op.id for op in ops] == list(OperationId), "operations.toml out of contract order"
    return ops


@cache
def discovery_operations() -> tuple[Operation, ...]:
    """The forward-flow order reads used to find test data (not scored)."""
    return tuple(_operation(row) for row in _read("operations.toml")["discovery"])


def operation(op_id: str) -> Operation:
    """Look an operation up by its contract id."""
    for op in (*operations(), *discovery_operations()):
        if op.id == op_id:
            return op
    raise KeyError(op_id)


@cache
def contract_version() -> str:
    return str(_read("operations.toml")["contract_version"])


@dataclass(frozen=True)
class Vocabularies:
    """Normalized values (contract section 3); anything else is noted as non-normalized."""

    return_status: frozenset[str]
    return_reason: frozenset[str]
    fulfillment_status: frozenset[str]
    package_status: frozenset[str]
    terminal_status: frozenset[str]


@cache
def vocabularies() -> Vocabularies:
    data = _read("vocabularies.toml")
    return Vocabularies(**{key: frozenset(values) for key, values in data.items()})


@cache
def error_statuses() -> dict[str, int]:
    """Error code (`INVALID_STATE`) → HTTP status (409)."""
    return {code: int(status) for code, status in _read("errors.toml")["errors"].items()}


@cache
def documented_statuses() -> dict[str, frozenset[int]]:
    """Operation id → the status codes schemas/openapi.yaml documents for it."""
    import yaml

    from conformance import schemas

    doc = yaml.safe_load(schemas.openapi_path().read_text(encoding="utf-8"))
    found: dict[str, frozenset[int]] = {}
    for path_item in doc["paths"].values():
        for op in path_item.values():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = frozenset(int(code) for code in op["responses"])
    return found
