"""The variation tests' toolkit: sample every body a varied platform answers, walk its objects,
and read what the schemas require, name and allow to be null.

`sample(api)` drives a platform through every operation it supports (a return with notes, an
approval, a return fulfillment with documents, then every read, every page), checking each
answer with refkit, and answers the bodies as (operation id, body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from refkit import ENVELOPE_KEY, EXTRA_KEYS, Api  # type: ignore[import-not-found]

from conformance.reference import variation_catalogue
from conformance.reference.variations import where_applies
from conformance.schemas import schema_dir
from conformance.statuses import return_status

Check = Callable[[Api], None]
Bodies = list[tuple[str, dict[str, Any]]]


def registry() -> tuple[dict[str, Check], Callable[[str], Callable[[Check], Check]]]:
    """A dict of wire checks by variation name, and the decorator that fills it."""
    checks: dict[str, Check] = {}

    def check(name: str) -> Callable[[Check], Check]:
        assert name in variation_catalogue(), name

        def register(fn: Check) -> Check:
            checks[name] = fn
            return fn

        return register

    return checks, check


def cases(names: list[str]) -> list[Any]:
    """(variation, platform) for every platform each variation applies to, as pytest params."""
    import pytest

    return [pytest.param(n, p, id=f"{n}-{p}") for n in names for p in where_applies(n)]


# --------------------------------------------------------------------------- the schemas


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((schema_dir() / name).read_text("utf-8"))
    return loaded


def properties(name: str, *path: str) -> dict[str, Any]:
    """The `properties` of a schema, or of the object at `path` in it (`items` for arrays)."""
    node: dict[str, Any] = schema(name)
    for key in path:
        node = node["properties"][key]
        if node.get("type") == "array":
            node = node["items"]
    props: dict[str, Any] = node["properties"]
    return props


def required(name: str, *path: str) -> set[str]:
    node: dict[str, Any] = schema(name)
    for key in path:
        node = node["properties"][key]
        if node.get("type") == "array":
            node = node["items"]
    return set(node.get("required", []))


def nullable(name: str, *path: str) -> set[str]:
    """The properties whose schema allows null (a type list with null, or an anyOf branch)."""
    found = set()
    for key, prop in properties(name, *path).items():
        types = prop.get("type")
        if isinstance(types, list) and "null" in types:
            found.add(key)
        ref = str(prop.get("$ref", ""))
        if ref.startswith("vocabularies.schema.json#/$defs/"):
            target = schema("vocabularies.schema.json")["$defs"][ref.rsplit("/", 1)[-1]]
            if any(branch.get("type") == "null" for branch in target.get("anyOf", [])):
                found.add(key)
    return found


@cache
def schema_names() -> frozenset[str]:
    """Every property name any schema file names."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            names.update(node.get("required", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in schema_dir().glob("*.json"):
        walk(json.loads(path.read_text("utf-8")))
    return frozenset(names)


# --------------------------------------------------------------------------- walking bodies


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in `value`, not looking inside the extra-fields variation's keys."""
    if isinstance(value, dict):
        yield value
        for key, item in value.items():
            if key not in EXTRA_KEYS:
                yield from objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from objects(item)


def resources(bodies: Bodies, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(operation id, resource) of every `kind` (return, returnFulfillment, order) answered."""
    found = []
    for op_id, body in bodies:
        key = ENVELOPE_KEY[op_id]
        if key.removesuffix("s") != kind:
            continue
        value = body[key]
        for item in value if isinstance(value, list) else [value]:
            found.append((op_id, item))
    return found


# --------------------------------------------------------------------------- driving


def pages(api: Api, op_id: str, **path: str) -> Bodies:
    """Every page of a list, without `limit` (some platforms refuse it), following page.next."""
    bodies: Bodies = []
    params: dict[str, str] = {}
    for _ in range(200):
        body = api.ok(op_id, params=params or None, **path)
        bodies.append((op_id, body))
        token = (body.get("page") or {}).get("next")
        if token is None:
            return bodies
        params = {"page": token}
    raise AssertionError(f"{op_id}: page.next never became null")


def write_sample(api: Api) -> tuple[Bodies, list[tuple[str, str]]]:
    """Writes where the platform allows them: a return with notes (approved where it can be),
    and a return fulfillment with identifiers and a label. Answers the bodies and the
    (orderId, returnId) of the returns made."""
    bodies: Bodies = []
    made: list[tuple[str, str]] = []
    if api.supports("createReturn"):
        order = api.take_order()
        items = [
            {"id": line.id, "quantity": 1, "reason": "damaged", "note": "item note"}
            for line in order.lines[:2]
        ]
        body = {"return": {"items": items, "note": "a note"}}
        ret = api.ok("createReturn", orderId=order.id, json=body)
        bodies.append(("createReturn", ret))
        made.append((order.id, ret["return"]["returnOrderId"]))
        if return_status(ret["return"]["status"]) == "requested" and api.supports("approveReturn"):
            answer = api.ok("approveReturn", orderId=order.id, id=made[0][1], json={"note": "ok"})
            bodies.append(("approveReturn", answer))
    if api.supports("createReturnFulfillment"):
        found = api.return_in("approved")
        assert found is not None, "no approved return to ship back"
        shipment: dict[str, Any] = {
            "returnFulfillment": {
                "tracking": {"number": "1Z999", "company": "UPS", "url": "https://t.example/1"},
                "package": {"identifiers": ["PKG-1"]},
                "documents": [{"type": "label", "url": "https://l.example/1.pdf", "format": "pdf"}],
            }
        }
        path = {"orderId": found[0], "returnId": found[1]}
        answer = api.ok("createReturnFulfillment", json=shipment, **path)
        bodies.append(("createReturnFulfillment", answer))
        made.append(found)
    return bodies, made


def sample(api: Api) -> Bodies:
    """Every body the platform answers to a well-formed request (see the module docstring)."""
    bodies, made = write_sample(api)
    listed = pages(api, "listOrders")
    bodies += listed
    first = listed[0][1]["orders"][0]
    bodies.append(("getOrder", api.ok("getOrder", id=first["id"])))
    known = {(seed.order, seed.id) for seed in api.profile.returns} | set(made)
    if api.supports("listReturns"):
        bodies += pages(api, "listReturns")
    if api.supports("listOrderReturns"):
        for order_id in sorted({o for o, _ in known}):
            bodies += pages(api, "listOrderReturns", orderId=order_id)
    for order_id, return_id in sorted(known):
        if api.supports("getReturn"):
            bodies.append(("getReturn", api.ok("getReturn", orderId=order_id, id=return_id)))
        if api.supports("listReturnFulfillments"):
            listed = pages(api, "listReturnFulfillments", orderId=order_id, returnId=return_id)
            bodies += listed
            for _, page in listed:
                for ful in page["returnFulfillments"]:
                    path = {"orderId": order_id, "returnId": return_id, "id": ful["id"]}
                    bodies.append(("getReturnFulfillment", api.ok("getReturnFulfillment", **path)))
    return bodies
