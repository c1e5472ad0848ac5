"""The contract's tables as typed data: operations, the lifecycle, vocabularies, error codes.

Everything here is read from `conformance/data/*.toml` and, for the normalized vocabularies, from
`schemas/vocabularies.schema.json`, so the reference server and the suite share one definition
of the contract and neither hard-codes a path, an operation id, a transition or a status list.
"""

from __future__ import annotations

import json
import tomllib
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from conformance import schemas


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

    @property
    def to_status(self) -> str | None:
        """The status an action leads to (the lifecycle table); None for reads and creates."""
        step = lifecycle().transitions.get(self.id)
        return step.to_status if step else None

    @property
    def from_status(self) -> tuple[str, ...]:
        """The statuses an action is allowed from (the lifecycle table); () for the others."""
        step = lifecycle().transitions.get(self.id)
        return step.from_status if step else ()

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
class Transition:
    """One action of the lifecycle: where it may start, where it leads."""

    operation: OperationId
    from_status: tuple[str, ...]
    to_status: str
    may_refuse: frozenset[str]  # `from` statuses a platform may still refuse with 409


@dataclass(frozen=True)
class Lifecycle:
    """The return lifecycle of contract section 4, from `data/lifecycle.toml`.

    The one copy: the reference store, the state machine and the lifecycle probes ask it
    instead of listing statuses, so a change to the contract is a change to one table.
    """

    new: tuple[str, ...]
    terminal: tuple[str, ...]
    fulfillment_from: tuple[str, ...]
    releases_quantity: tuple[str, ...]
    transitions: dict[str, Transition]  # operation id → its transition, in table order

    @property
    def actions(self) -> tuple[OperationId, ...]:
        """approveReturn, rejectReturn, cancelReturn: the operations that change a status."""
        return tuple(t.operation for t in self.transitions.values())

    def allowed(self, action: str, status: str) -> bool:
        """The contract allows `action` on a return in `status` (a repeat is not allowed)."""
        return status in self.transitions[action].from_status

    def may_refuse(self, action: str, status: str) -> bool:
        """Allowed, yet a platform may answer 409 (cancel from approved)."""
        return status in self.transitions[action].may_refuse

    def must_succeed(self, action: str, status: str) -> bool:
        """Allowed and not refusable: a 409 here is a failure."""
        return self.allowed(action, status) and not self.may_refuse(action, status)

    def to_status(self, action: str) -> str:
        return self.transitions[action].to_status

    def from_status(self, action: str) -> tuple[str, ...]:
        return self.transitions[action].from_status

    def open(self) -> tuple[str, ...]:
        """Statuses some action is allowed from, in table order (not terminal ones)."""
        return tuple(dict.fromkeys(s for t in self.transitions.values() for s in t.from_status))


@cache
def lifecycle() -> Lifecycle:
    """The lifecycle table, checked against the operations and the return-status vocabulary."""
    data = _read("lifecycle.toml")
    steps = {
        row["operation"]: Transition(
            OperationId(row["operation"]),
            tuple(row["from"]),
            row["to"],
            frozenset(row.get("may_refuse", ())),
        )
        for row in data["transition"]
    }
    table = Lifecycle(
        new=tuple(data["new"]),
        terminal=tuple(data["terminal"]),
        fulfillment_from=tuple(data["fulfillment_from"]),
        releases_quantity=tuple(data["releases_quantity"]),
        transitions=steps,
    )
    named = {*table.new, *table.terminal, *table.fulfillment_from, *table.releases_quantity}
    for step in steps.values():
        named |= {*step.from_status, step.to_status, *step.may_refuse}
        assert step.may_refuse <= set(step.from_status), f"{step.operation}: may_refuse ⊄ from"
        assert not set(step.from_status) & set(table.terminal), f"{step.operation} from terminal"
    unknown = named - vocabularies().return_status
    assert not unknown, f"lifecycle.toml names statuses outside the vocabulary: {sorted(unknown)}"
    return table


@dataclass(frozen=True)
class Vocabularies:
    """Normalized values (contract section 3); anything else is noted as non-normalized."""

    return_status: frozenset[str]
    return_reason: frozenset[str]
    fulfillment_status: frozenset[str]
    package_status: frozenset[str]


VOCABULARY_DEFS = {
    "return_status": "returnStatus",
    "return_reason": "returnReason",
    "fulfillment_status": "fulfillmentStatus",
    "package_status": "packageStatus",
}
"""Each vocabulary → its `$defs` entry in schemas/vocabularies.schema.json."""


def _enum(definition: dict[str, Any]) -> frozenset[str]:
    """The normalized values of a vocabulary: the `enum` branch of its `anyOf`."""
    lists = [branch["enum"] for branch in definition["anyOf"] if "enum" in branch]
    assert len(lists) == 1, "a vocabulary has exactly one enum branch"
    return frozenset(lists[0])


@cache
def vocabularies() -> Vocabularies:
    """The normalized vocabularies, read from the published schema (their one source)."""
    path = schemas.schema_dir() / "vocabularies.schema.json"
    defs = json.loads(path.read_text(encoding="utf-8"))["$defs"]
    return Vocabularies(**{key: _enum(defs[name]) for key, name in VOCABULARY_DEFS.items()})


class Rule(StrEnum):
    """A contract sentence that makes accepting an invalid request wrong (data/refusals.toml)."""

    wrong_type = "wrong_type"
    required = "required"
    wrapper = "wrapper"
    malformed = "malformed"
    quantity = "quantity"
    no_items = "no_items"
    unknown_line = "unknown_line"
    limit = "limit"
    page = "page"
    created_at = "created_at"


@cache
def refusal_rules() -> dict[Rule, str]:
    """Each rule's words, with their section (data/refusals.toml); the table and the enum name
    the same rules."""
    data = _read("refusals.toml")
    if set(data) != set(Rule):
        raise AssertionError(f"refusals.toml and Rule differ: {sorted(set(data) ^ set(Rule))}")
    return {Rule(name): str(row["says"]) for name, row in data.items()}


@cache
def error_statuses() -> dict[str, int]:
    """Error code (`INVALID_STATE`) → HTTP status (409)."""
    return {code: int(status) for code, status in _read("errors.toml")["errors"].items()}


@cache
def documented_statuses() -> dict[str, frozenset[int]]:
    """Operation id → the status codes schemas/openapi.yaml documents for it."""
    import yaml

    doc = yaml.safe_load(schemas.openapi_path().read_text(encoding="utf-8"))
    found: dict[str, frozenset[int]] = {}
    for path_item in doc["paths"].values():
        for op in path_item.values():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = frozenset(int(code) for code in op["responses"])
    return found
