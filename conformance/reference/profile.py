"""Reference platform profiles: declarative data files read by one generic server.

A profile states which real platform it imitates and why, which operations it supports
(`ok`), refuses to the seller (`not_allowed` → 403) or lacks (`not_supported` → 501), the status a
new return gets, and the data the store starts with: orders, and customer-made returns where the
seller cannot create them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from conformance.contract import OperationId, lifecycle, vocabularies
from conformance.errors import ProfileError

Support = Literal["ok", "not_allowed", "not_supported"]
SUPPORT_VALUES: tuple[str, ...] = ("ok", "not_allowed", "not_supported")


@dataclass(frozen=True)
class OrderLine:
    id: str
    quantity: int
    sku: str | None = None
    name: str | None = None
    product_id: str | None = None
    variant_id: str | None = None


@dataclass(frozen=True)
class Order:
    id: str
    lines: tuple[OrderLine, ...]
    created_at: str = "2026-09-01T12:00:00Z"


@dataclass(frozen=True)
class SeedFulfillment:
    id: str
    tracking_number: str
    company: str | None = None
    url: str | None = None
    status: str | None = None
    created_at: str = "2026-10-02T09:00:00Z"


@dataclass(frozen=True)
class SeedReturnLine:
    line: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class SeedReturn:
    id: str
    order: str
    status: str
    lines: tuple[SeedReturnLine, ...]
    created_at: str
    fulfillments: tuple[SeedFulfillment, ...] = ()


@dataclass(frozen=True)
class Behaviour:
    """How the platform differs from its neighbours where the contract leaves room.

    The defaults are the reference server's own behaviour; a profile's `[behaviour]` table and
    the named variations (variations.toml) set fields of it. The server reads only this.
    """

    # workflow (contract section 4)
    new_return_status: str | None = "requested"
    cancel_from: tuple[str, ...] = field(
        default_factory=lambda: lifecycle().from_status(OperationId.cancelReturn)
    )
    repeat_action: Literal["conflict", "idempotent"] = "conflict"
    fulfillment_status: str | None = "pending"
    create_status: Literal[201, 200] = 201
    unsupported_write_status: Literal[501, 405] = 501
    # requests: the reference platform's own limits (limits.toml) and reason rule
    size_limits: bool = True
    unknown_reasons: Literal["refuse", "accept"] = "refuse"
    optional_nulls: Literal["refuse", "absent"] = "refuse"  # an optional field sent as null
    # lists (contract section 2)
    default_limit: int = 50
    unknown_status_filter: Literal["empty", "reject"] = "empty"
    filters_rejected: bool = False
    pagination_rejected: bool = False
    page_tokens: Literal["base64url", "opaque"] = "base64url"
    last_page: Literal["next-null", "no-page"] = "next-null"
    # bodies (contract section 3)
    quantity_format: Literal["integer", "string"] = "integer"
    fields: Literal["usual", "required", "all"] = "usual"
    nulls: bool = False
    extra_fields: bool = False
    error_details: bool = False
    timestamps: Literal["utc", "offset"] = "utc"
    ids: Literal["plain", "numeric", "encoded"] = "plain"
    # normalized value -> the platform's value on the wire (empty: the normalized values)
    return_status_names: Mapping[str, str] = field(default_factory=dict)
    reason_names: Mapping[str, str] = field(default_factory=dict)
    fulfillment_status_names: Mapping[str, str] = field(default_factory=dict)
    package_status_names: Mapping[str, str] = field(default_factory=dict)
    # wire
    gzip: bool = False
    chunked: bool = False
    throttle_every: int = 0  # every N-th /api/ request is 429 (0: never)
    upstream_errors_every: int = 0  # 1st, (N+1)-th, ... request of each operation: 503/502
    read_lag: float = 0.0  # seconds a read lags behind the writes
    latency: float = 0.0  # seconds every answer waits (a store across the internet)


def behaviour_values(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Checked `Behaviour` field values from TOML data; an unknown key or a value of the wrong
    kind is a ProfileError. An empty string is None for the optional statuses."""
    hints = get_type_hints(Behaviour)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in hints:
            raise ProfileError(
                f"{where}: unknown behaviour key {key!r}", f"use one of: {', '.join(hints)}"
            )
        values[key] = _coerce(value, hints[key], f"{where}: {key} = {value!r}")
    return values


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    ok: bool
    if origin is Literal:
        ok = value in args and type(value) in {type(a) for a in args}
    elif hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        value = float(value) if ok else value
    elif origin in (UnionType, Union):  # str | None
        ok = value is None or isinstance(value, str)
        value = value or None
    elif origin is tuple:
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    elif origin is Mapping:
        ok = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
        )
        value = dict(value) if ok else value
    else:  # pragma: no cover - a field type this function does not know
        raise AssertionError(f"Behaviour field type {hint!r}")
    if not ok:
        expected = ", ".join(map(repr, args)) if origin is Literal else str(hint)
        raise ProfileError(f"{where} is not a valid value", f"expected {expected}")
    return value


def check_behaviour(behaviour: Behaviour, where: str) -> None:
    """Values that are of the right kind but outside what the contract allows."""
    vocab = vocabularies()
    if (fs := behaviour.fulfillment_status) and fs not in vocab.fulfillment_status:
        raise ProfileError(
            f"{where}: fulfillment_status {fs!r}", f"use one of {sorted(vocab.fulfillment_status)}"
        )
    allowed = lifecycle().from_status(OperationId.cancelReturn)
    if not set(behaviour.cancel_from) <= set(allowed):
        raise ProfileError(
            f"{where}: cancel_from {behaviour.cancel_from!r} goes beyond the lifecycle",
            f"use some of {list(allowed)} (conformance/data/lifecycle.toml)",
        )
    if not 1 <= behaviour.default_limit <= 250:
        raise ProfileError(
            f"{where}: default_limit must be from 1 to 250", "e.g. default_limit = 50"
        )
    if behaviour.throttle_every == 1:
        raise ProfileError(
            f"{where}: throttle_every = 1 would refuse every request",
            "use 0 (never), or 2 or more",
        )
    if behaviour.upstream_errors_every == 1:
        raise ProfileError(
            f"{where}: upstream_errors_every = 1 would refuse every request",
            "use 0 (never), or 2 or more",
        )
    for key, normalized in (
        ("return_status_names", vocab.return_status),
        ("reason_names", vocab.return_reason),
        ("fulfillment_status_names", vocab.fulfillment_status),
        ("package_status_names", vocab.package_status),
    ):
        names: Mapping[str, str] = getattr(behaviour, key)
        if not set(names) <= normalized or set(names.values()) & normalized:
            raise ProfileError(
                f"{where}: {key} must map normalized values to platform values outside "
                "the vocabulary",
                f"normalized values: {sorted(normalized)}",
            )


@dataclass(frozen=True)
class Profile:
    name: str
    imitates: str
    why: str
    support: dict[str, Support]
    behaviour: Behaviour
    orders: tuple[Order, ...]
    returns: tuple[SeedReturn, ...] = field(default=())

    def supports(self, op_id: str) -> Support:
        return self.support[op_id]


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ProfileError(f"{where}: missing key {key!r}", "see conformance/reference/profiles/")
    return data[key]


def _orders(data: dict[str, Any], where: str) -> tuple[Order, ...]:
    orders = [
        Order(
            id=str(_require(row, "id", where)),
            created_at=row.get("created_at", "2026-09-01T12:00:00Z"),
            lines=tuple(
                OrderLine(
                    id=str(line["id"]),
                    quantity=int(line["quantity"]),
                    sku=line.get("sku"),
                    name=line.get("name"),
                    product_id=line.get("product_id"),
                    variant_id=line.get("variant_id"),
                )
                for line in _require(row, "items", where)
            ),
        )
        for row in data.get("orders", [])
    ]
    gen = data.get("generated_orders")
    if gen:
        prefix = str(gen["id_prefix"])
        quantities = [int(q) for q in gen["line_quantities"]]
        for n in range(1, int(gen["count"]) + 1):
            order_id = f"{prefix}{n:04d}"
            orders.append(
                Order(
                    id=order_id,
                    lines=tuple(
                        OrderLine(id=f"{order_id}-{i}", quantity=q, sku=f"SKU-{i}")
                        for i, q in enumerate(quantities, start=1)
                    ),
                )
            )
    return tuple(orders)


def _returns(data: dict[str, Any], where: str) -> tuple[SeedReturn, ...]:
    return tuple(
        SeedReturn(
            id=str(_require(row, "id", where)),
            order=str(_require(row, "order", where)),
            status=str(_require(row, "status", where)),
            created_at=str(_require(row, "created_at", where)),
            lines=tuple(
                SeedReturnLine(line=str(x["line"]), quantity=int(x["quantity"]), reason=x["reason"])
                for x in _require(row, "items", where)
            ),
            fulfillments=tuple(
                SeedFulfillment(
                    id=str(f["id"]),
                    tracking_number=str(f["tracking"]["number"]),
                    company=f["tracking"].get("company"),
                    url=f["tracking"].get("url"),
                    status=f.get("status"),
                    created_at=f.get("created_at", "2026-10-02T09:00:00Z"),
                )
                for f in row.get("fulfillments", [])
            ),
        )
        for row in data.get("returns", [])
    )


def parse_profile(data: dict[str, Any], where: str) -> Profile:
    """Build a profile from its TOML data, checking it against the contract's tables."""
    support_table = _require(data, "operations", where)
    unknown = set(support_table) - set(OperationId)
    missing = set(OperationId) - set(support_table)
    if unknown or missing:
        raise ProfileError(
            f"{where}: [operations] must name the ten contract operations exactly",
            f"unknown {sorted(unknown)}, missing {sorted(missing)}",
        )
    for op_id, value in support_table.items():
        if value not in SUPPORT_VALUES:
            raise ProfileError(f"{where}: {op_id} = {value!r}", f"use one of {SUPPORT_VALUES}")
    behaviour = Behaviour(**behaviour_values(data.get("behaviour", {}), f"{where} [behaviour]"))
    check_behaviour(behaviour, where)
    profile = Profile(
        name=str(_require(data, "name", where)),
        imitates=str(_require(data, "imitates", where)),
        why=str(_require(data, "why", where)).strip(),
        support=dict(support_table),
        behaviour=behaviour,
        orders=_orders(data, where),
        returns=_returns(data, where),
    )
    creates = profile.support[OperationId.createReturn] == "ok"
    if creates and behaviour.new_return_status not in vocabularies().return_status:
        raise ProfileError(
            f"{where}: createReturn is ok but new_return_status is not a status",
            f"set new_return_status to one of {sorted(vocabularies().return_status)}",
        )
    lines = {line.id for order in profile.orders for line in order.lines}
    for seed in profile.returns:
        bad = [x.line for x in seed.lines if x.line not in lines]
        if bad:
            raise ProfileError(
                f"{where}: return {seed.id} names unknown order lines {bad}",
                f"use the line ids of order {seed.order}",
            )
    return profile


@cache
def profile_names() -> tuple[str, ...]:
    """The embedded reference platforms, in the contract's order (section 6)."""
    index = tomllib.loads(_profiles_dir().joinpath("index.toml").read_text(encoding="utf-8"))
    return tuple(index["profiles"])


def _profiles_dir() -> Any:
    return resources.files("conformance.reference").joinpath("profiles")


@cache
def load_profile(name: str) -> Profile:
    """Load one embedded profile by name; an unknown name says which names exist."""
    if name not in profile_names():
        raise ProfileError(
            f"unknown platform {name!r}", f"choose one of: {', '.join(profile_names())}"
        )
    path = _profiles_dir().joinpath(f"{name}.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(
            f"profile {name}: {exc}", f"fix {name}.toml at the line and column shown"
        ) from None
    profile = parse_profile(data, f"profile {name}")
    if profile.name != name:
        raise ProfileError(
            f"profile file {name}.toml names itself {profile.name!r}",
            f'set name = "{name}" in it, or rename the file and its entry in index.toml',
        )
    return profile
