"""Seeded defects are wrappers (defects.py), one per catalogue entry (defects.toml), and the rest
of the reference server names none of them."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import httpx
import pytest

from conformance.reference import create_app, defects, load_profile
from conformance.reference.defects import (
    WRAPPERS,
    BeforeAuth,
    before_auth,
    defect_catalogue,
    dispatcher_class,
    store_class,
)
from conformance.reference.dispatcher import Dispatcher
from conformance.reference.store import Store

PACKAGE = Path(defects.__file__).parent
KINDS = (Store, Dispatcher, BeforeAuth)


def _wrapper_classes() -> list[type]:
    """The classes defects.py defines that wrap the store, the dispatcher or the auth check."""
    return [
        cls
        for _, cls in inspect.getmembers(defects, inspect.isclass)
        if cls.__module__ == defects.__name__ and issubclass(cls, KINDS) and cls not in KINDS
    ]


@pytest.mark.parametrize(
    "module", sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "defects.py")
)
def test_no_module_but_defects_py_names_a_defect(module: str) -> None:
    text = (PACKAGE / module).read_text("utf-8")
    named = sorted(name for name in defect_catalogue() if name in text)
    assert not named, f"{module} names seeded defects {named}: make each a wrapper in defects.py"


def test_every_catalogue_entry_has_exactly_one_wrapper_and_every_wrapper_an_entry() -> None:
    assert sorted(WRAPPERS) == sorted(defect_catalogue())
    classes = _wrapper_classes()
    registered = list(WRAPPERS.values())
    assert len(set(registered)) == len(registered), "one wrapper serves two defects"
    assert sorted(map(repr, classes)) == sorted(map(repr, registered)), "unregistered wrapper"


def test_a_second_wrapper_for_a_defect_is_refused() -> None:
    name, wrapper = next(iter(WRAPPERS.items()))
    with pytest.raises(ValueError, match="two wrappers"):
        defects.defect(name)(type("Again", (Store,), {}))
    assert WRAPPERS[name] is wrapper


@pytest.mark.parametrize("wrapper", _wrapper_classes(), ids=lambda c: c.__name__)
def test_each_wrapper_takes_over_one_method(wrapper: type) -> None:
    own = [name for name, value in vars(wrapper).items() if inspect.isfunction(value)]
    assert len(own) == 1, f"{wrapper.__name__} overrides {own}"
    (method,) = own
    assert any(method in vars(kind) for kind in KINDS), f"{method} is no seam of {KINDS}"


def test_without_defects_the_real_classes_serve() -> None:
    assert store_class(Store, ()) is Store
    assert dispatcher_class(Dispatcher, ()) is Dispatcher
    assert before_auth(()) == []


def test_wrappers_are_mixed_over_the_given_base_by_kind() -> None:
    class Base(Store):
        pass

    names = frozenset(defect_catalogue())
    mixed = store_class(Base, names)
    assert issubclass(mixed, Base)
    store_wrappers = {w for w in WRAPPERS.values() if issubclass(w, Store)}
    assert store_wrappers and store_wrappers <= set(mixed.__mro__)
    assert not any(issubclass(w, Dispatcher | BeforeAuth) for w in mixed.__mro__)
    assert {type(w) for w in before_auth(names)} == {type}
    assert set(before_auth(names)) == {w for w in WRAPPERS.values() if issubclass(w, BeforeAuth)}


def test_unknown_defects_are_refused_when_composing() -> None:
    with pytest.raises(Exception, match="no_such_defect"):
        store_class(Store, {"no_such_defect"})


def test_every_defect_at_once_still_serves(token: str) -> None:
    app = create_app(load_profile("full-manual"), token, frozenset(defect_catalogue()))

    async def calls() -> tuple[int, int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
            auth = {"Authorization": f"Bearer {token}"}
            orders = await client.get("/api/v2/orders", headers=auth)
            order = orders.json()["orders"][0]["id"]
            let_in = await client.get(f"/api/v2/orders/{order}/returns")  # auth_ignored
            refused = await client.get("/api/v2/orders")
            return orders.status_code, let_in.status_code, refused.status_code

    assert asyncio.run(calls()) == (200, 200, 401)


@pytest.mark.parametrize(
    "body",
    [
        {"return": 5},
        {"return": {"items": [5]}},
        {"return": {"items": [None, {"id": "x", "quantity": 0, "reason": "other"}]}},
        {"return": {"items": "many"}},
        {"return": {"items": [{"id": "x", "quantity": True, "reason": "other"}]}},
        {"return": {"items": [{"id": "x", "quantity": 1, "reason": "other"}], "note": 12345}},
    ],
)
def test_invalid_input_accepted_lets_through_only_what_it_says(token: str, body: object) -> None:
    """The defect accepts quantities ≤ 0 and empty item lists; any other garbage (schemathesis
    sends plenty) is refused as usual with 400, never a 500 from the store."""
    app = create_app(load_profile("full-manual"), token, frozenset({"invalid_input_accepted"}))

    async def post() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ref") as client:
            auth = {"Authorization": f"Bearer {token}"}
            orders = await client.get("/api/v2/orders", headers=auth)
            order = orders.json()["orders"][0]
            line = order["items"][0]["id"]
            path = f"/api/v2/orders/{order['id']}/returns"
            garbage = await client.post(path, json=body, headers=auth)
            zero = {"return": {"items": [{"id": line, "quantity": 0, "reason": "other"}]}}
            accepted = await client.post(path, json=zero, headers=auth)
            return garbage.status_code, accepted.status_code

    assert asyncio.run(post()) == (400, 201)
