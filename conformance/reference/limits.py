"""The reference platforms' own request limits (limits.toml), checked by one generic function
after the request schema: the contract sets none, and permits a platform to have them."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from conformance.contract import Vocabularies, operation, vocabularies
from conformance.errors import ProfileError
from conformance.reference.profile import Behaviour

KINDS = ("max_length", "max_items", "maximum", "vocabulary")
SIZE_KINDS = ("max_length", "max_items", "maximum")


@dataclass(frozen=True)
class Limit:
    name: str
    op_id: str
    path: tuple[str, ...]  # pointer segments; "*" is every element of an array
    kind: str
    value: Any


@cache
def limits() -> tuple[Limit, ...]:
    """Every rule of limits.toml, one per place it applies."""
    text = resources.files("conformance.reference").joinpath("limits.toml").read_text("utf-8")
    return parse_limits(tomllib.loads(text))


def parse_limits(data: dict[str, Any]) -> tuple[Limit, ...]:
    """Rules from TOML data; a malformed rule is a ProfileError."""
    found = []
    for name, rule in data.items():
        if not isinstance(rule, dict):
            raise ProfileError(
                f"limits.toml [{name}] must be a table",
                f"write [{name}] with at = [...] and one of {', '.join(KINDS)}",
            )
        kinds = [k for k in KINDS if k in rule]
        unknown = set(rule) - {*KINDS, "at"}
        if len(kinds) != 1 or unknown or not isinstance(rule.get("at"), list):
            raise ProfileError(
                f"limits.toml [{name}]: needs `at` and exactly one of {KINDS}",
                f"unknown keys {sorted(unknown)}"
                if unknown
                else 'e.g. at = ["createReturn /return/note"] and max_length = 500',
            )
        kind, value = kinds[0], rule[kinds[0]]
        if kind == "vocabulary" and value not in Vocabularies.__dataclass_fields__:
            raise ProfileError(
                f"limits.toml [{name}]: no vocabulary {value!r}",
                f"use one of {', '.join(Vocabularies.__dataclass_fields__)}",
            )
        if kind != "vocabulary" and (type(value) is not int or value < 0):
            raise ProfileError(
                f"limits.toml [{name}]: {kind} must be a whole number ≥ 0", f"e.g. {kind} = 500"
            )
        for where in rule["at"]:
            op_id, _, pointer = str(where).partition(" ")
            try:
                has_body = operation(op_id).request is not None
            except KeyError:
                has_body = False
            if not has_body or not pointer.startswith("/"):
                raise ProfileError(
                    f"limits.toml [{name}]: {where!r}", "write '<operationId> /json/pointer'"
                )
            found.append(Limit(name, op_id, tuple(pointer[1:].split("/")), kind, value))
    return tuple(found)


def _at(value: Any, path: tuple[str, ...], where: str) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every place `path` reaches in `value`."""
    if not path:
        yield where, value
        return
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _at(item, rest, f"{where}/{i}")
    elif isinstance(value, dict) and head in value:
        yield from _at(value[head], rest, f"{where}/{head}")


def violations(op_id: str, body: Any, behaviour: Behaviour) -> list[dict[str, str]]:
    """The limits `body` (already valid against the request schema) breaks, as error details."""
    found = []
    for rule in limits():
        if rule.op_id != op_id:
            continue
        if rule.kind in SIZE_KINDS and not behaviour.size_limits:
            continue
        if rule.kind == "vocabulary" and behaviour.unknown_reasons == "accept":
            continue
        for pointer, value in _at(body, rule.path, ""):
            problem = _problem(rule, value)
            if problem:
                found.append({"field": pointer, "message": problem})
    return found


def _problem(rule: Limit, value: Any) -> str | None:
    if rule.kind == "max_length" and isinstance(value, str) and len(value) > rule.value:
        return f"longer than {rule.value} characters ({rule.name})"
    if rule.kind == "max_items" and isinstance(value, list) and len(value) > rule.value:
        return f"more than {rule.value} entries ({rule.name})"
    if rule.kind == "maximum" and isinstance(value, int | float) and value > rule.value:
        return f"more than {rule.value} ({rule.name})"
    if rule.kind == "vocabulary" and isinstance(value, str):
        allowed = sorted(getattr(vocabularies(), rule.value))
        if value not in allowed:
            return f"{value[:50]!r} is not a normalized value ({', '.join(allowed)})"
    return None
