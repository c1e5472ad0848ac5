"""Invalid request bodies derived from the request schemas: one defect at a time.

Starting from a valid body, each mutation breaks exactly one rule the schema states — a wrong type
at one field, a missing required field, a string over `maxLength`, a number under `minimum`, an
array under `minItems`, a value outside an `enum` — so a refusal or a crash can be pinned to one
field. Schemathesis adds random negative bodies on top; these are the systematic ones.

Each mutation names the contract sentence that makes accepting it wrong (`Mutation.rule`,
conformance/data/refusals.toml). Two kinds have none, so accepting them is a note, not a finding:
an OPTIONAL field sent as null (contract §2: it may be treated as absent, or refused with 400),
and an empty string where no contract sentence asks for a non-empty one (a tracking number, a
return item id, a reason: the contract lets a reason outside the vocabulary be accepted).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance import schemas
from conformance.contract import Rule

# One value of each JSON type: a field gets the first one its schema does not allow.
WRONG_VALUES: tuple[tuple[str, Any], ...] = (
    ("integer", 12345),
    ("string", "not-a-number"),
    ("boolean", True),
    ("array", ["not", "an", "object"]),
    ("object", {"not": "a scalar"}),
)


@dataclass(frozen=True)
class Mutation:
    """A body that breaks one schema rule, and a description a report can show."""

    description: str
    body: Any
    # The contract sentence that makes accepting it wrong; None: the contract lets a connector
    # accept it (then `tolerance` says why, for the note).
    rule: Rule | None = Rule.wrong_type
    tolerance: str = ""


NULL_TOLERATED = "an optional field sent as null is treated as absent (contract §2 allows it)"
EMPTY_TOLERATED = "no contract sentence asks for a non-empty value here (noted, not failed)"
# Empty strings a contract sentence refuses, by where they are: an order line id names a line item,
# and an empty one names none (an unknown line item, 422).
EMPTY_RULES: dict[str, Rule] = {"/return/items/0/id": Rule.unknown_line}


def _resolve(schema: dict[str, Any], resolver: Any) -> tuple[dict[str, Any], Any]:
    while "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    return schema, resolver


def mutations(schema_name: str, valid: Any) -> list[Mutation]:
    """Every single-rule violation of `schema_name` reachable from the valid body `valid`."""
    root = schemas.registry().resolver().lookup(schemas.BASE_URI + schema_name)
    contents: Any = root.contents
    found = list(_walk(contents, root.resolver, valid, ""))
    checked = []
    for mutation in found:  # keep only bodies the schema really rejects
        if schemas.violations(schema_name, mutation.body):
            checked.append(mutation)
    return checked


def _set(body: Any, path: list[str | int], value: Any) -> Any:
    copied = copy.deepcopy(body)
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def _drop(body: Any, path: list[str | int]) -> Any:
    copied = copy.deepcopy(body)
    node = copied
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copied


def _walk(
    schema: dict[str, Any],
    resolver: Any,
    valid: Any,
    where: str,
    path: list[str | int] | None = None,
    body: Any = None,
    required: bool = True,
) -> Iterator[Mutation]:
    """Mutations at `path` and below; `required`: whether the value at `path` must be there
    (a property its object requires, an array element, the body itself)."""
    path = path or []
    body = valid if body is None else body
    schema, resolver = _resolve(schema, resolver)
    branches = [schema, *[_resolve(b, resolver)[0] for b in schema.get("anyOf", [])]]
    types: set[str] = set()
    for branch in branches:
        kind = branch.get("type")
        types |= set(kind) if isinstance(kind, list) else {kind} if kind else set()
    label = where or "the body"
    if path:
        for kind, wrong in WRONG_VALUES:
            if types and kind not in types and not (kind == "integer" and "number" in types):
                allowed = "/".join(sorted(t for t in types if t))
                yield Mutation(f"{label} as {kind} instead of {allowed}", _set(body, path, wrong))
                break
        if "null" not in types and types:
            if required:
                yield Mutation(f"{label} null", _set(body, path, None), Rule.required)
            else:
                yield Mutation(
                    f"{label} null (an optional field)",
                    _set(body, path, None),
                    None,
                    NULL_TOLERATED,
                )
    for branch in branches:
        if "maxLength" in branch:
            yield Mutation(
                f"{label} longer than {branch['maxLength']} characters",
                _set(body, path, "x" * (branch["maxLength"] + 1)) if path else body,
                None,  # the contract sets no length limits (§2)
                "the contract sets no length limit (§2)",
            )
        if "minLength" in branch and branch["minLength"] > 0:
            rule = EMPTY_RULES.get(where)
            yield Mutation(
                f"{label} empty",
                _set(body, path, "") if path else body,
                rule,
                "" if rule else EMPTY_TOLERATED,
            )
        if "minimum" in branch:
            yield Mutation(
                f"{label} below {branch['minimum']}",
                _set(body, path, branch["minimum"] - 1) if path else body,
                Rule.quantity,
            )
            if branch["minimum"] > 0:
                yield Mutation(f"{label} 0", _set(body, path, 0) if path else body, Rule.quantity)
        if "maximum" in branch:
            yield Mutation(
                f"{label} above {branch['maximum']}",
                _set(body, path, branch["maximum"] + 1) if path else body,
            )
        if "enum" in branch and path:
            yield Mutation(f"{label} outside its enum", _set(body, path, "conformance-not-in-enum"))
        if "minItems" in branch and branch["minItems"] > 0 and path:
            yield Mutation(f"{label} empty", _set(body, path, []), Rule.no_items)
    current = _get(body, path)
    if isinstance(current, dict):
        props, needed = {}, set()
        for branch in branches:
            props.update(branch.get("properties", {}))
            for name in branch.get("required", []):
                needed.add(name)
                if name in current:
                    rule = Rule.required if path else Rule.wrapper
                    yield Mutation(f"{label} without `{name}`", _drop(body, [*path, name]), rule)
        for name, sub in props.items():
            if name in current:
                at = f"{where}/{name}"
                yield from _walk(sub, resolver, valid, at, [*path, name], body, name in needed)
    elif isinstance(current, list) and current:
        for branch in branches:
            if "items" in branch and isinstance(branch["items"], dict):
                yield from _walk(branch["items"], resolver, valid, f"{where}/0", [*path, 0], body)
                break


def _get(body: Any, path: list[str | int]) -> Any:
    node = body
    for key in path:
        node = node[key]
    return node
