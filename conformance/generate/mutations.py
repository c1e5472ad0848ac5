"""Invalid request bodies derived from the request schemas: one defect at a time.

Starting from a valid body, each mutation breaks exactly one rule the schema states — a wrong type
at one field, a missing required field, a string over `maxLength`, a number under `minimum`, an
array under `minItems`, a value outside an `enum` — so a refusal or a crash can be pinned to one
field. Schemathesis adds random negative bodies on top; these are the systematic ones.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance import schemas

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
) -> Iterator[Mutation]:
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
            yield Mutation(f"{label} null", _set(body, path, None))
    for branch in branches:
        if "maxLength" in branch:
            yield Mutation(
                f"{label} longer than {branch['maxLength']} characters",
                _set(body, path, "x" * (branch["maxLength"] + 1)) if path else body,
            )
        if "minLength" in branch and branch["minLength"] > 0:
            yield Mutation(f"{label} empty", _set(body, path, "") if path else body)
        if "minimum" in branch:
            yield Mutation(
                f"{label} below {branch['minimum']}",
                _set(body, path, branch["minimum"] - 1) if path else body,
            )
            if branch["minimum"] > 0:
                yield Mutation(f"{label} 0", _set(body, path, 0) if path else body)
        if "maximum" in branch:
            yield Mutation(
                f"{label} above {branch['maximum']}",
                _set(body, path, branch["maximum"] + 1) if path else body,
            )
        if "enum" in branch and path:
            yield Mutation(f"{label} outside its enum", _set(body, path, "conformance-not-in-enum"))
        if "minItems" in branch and branch["minItems"] > 0 and path:
            yield Mutation(f"{label} empty", _set(body, path, []))
    current = _get(body, path)
    if isinstance(current, dict):
        props = {}
        for branch in branches:
            props.update(branch.get("properties", {}))
            for name in branch.get("required", []):
                if name in current:
                    yield Mutation(f"{label} without `{name}`", _drop(body, [*path, name]))
        for name, sub in props.items():
            if name in current:
                yield from _walk(sub, resolver, valid, f"{where}/{name}", [*path, name], body)
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
