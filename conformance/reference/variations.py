"""Named variations: behaviours the Returns contract permits, which any reference profile can
take (variations.toml). One generic engine: a variation only sets fields of the profile's
Behaviour, plus, for the id variations, renames the profile's data ids the same way the store
will spell the ids it makes.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from conformance.contract import OperationId, operations, vocabularies
from conformance.errors import ProfileError, UsageError
from conformance.reference.ids import IdScheme
from conformance.reference.profile import (
    Behaviour,
    OrderLine,
    Profile,
    SeedReturn,
    behaviour_values,
    check_behaviour,
    load_profile,
    profile_names,
)

FILE = "variations.toml"
KEYS = {
    "description",
    "permitted_by",
    "needs_any",
    "needs_unsupported_write",
    "needs_new_return_status",
    "behaviour",
    "conflicts",
    "consistency_window",
}


@dataclass(frozen=True)
class Variation:
    name: str
    description: str
    permitted_by: str
    behaviour: dict[str, Any]
    needs_any: tuple[str, ...] = ()
    needs_unsupported_write: bool = False
    needs_new_return_status: str | None = None
    conflicts: frozenset[str] = frozenset()
    consistency_window: float = 0.0


def parse_catalogue(data: dict[str, Any], where: str = FILE) -> dict[str, Variation]:
    """Variations from TOML data, checked: keys, operation ids, Behaviour fields and values, and
    conflicts (declared both ways, and required between variations that set a field apart)."""
    found: dict[str, Variation] = {}
    for name, row in data.items():
        at = f"{where} [{name}]"
        if not isinstance(row, dict):
            raise ProfileError(
                f"{at} must be a table", f"write [{name}] with description and permitted_by"
            )
        unknown = sorted(set(row) - KEYS)
        if unknown:
            raise ProfileError(f"{at}: unknown keys {unknown}", f"use {sorted(KEYS)}")
        for key in ("description", "permitted_by"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ProfileError(
                    f"{at}: needs a non-empty {key}",
                    "description: what a client sees on the wire; permitted_by: where the "
                    "contract allows it",
                )
        needs = row.get("needs_any", [])
        if not isinstance(needs, list) or not set(needs) <= set(OperationId):
            raise ProfileError(f"{at}: needs_any names unknown operations", "use operation ids")
        status = row.get("needs_new_return_status")
        if status is not None and status not in vocabularies().return_status:
            raise ProfileError(
                f"{at}: needs_new_return_status must be a return status",
                f"use one of {sorted(vocabularies().return_status)}",
            )
        behaviour = behaviour_values(row.get("behaviour", {}), f"{at} behaviour")
        check_behaviour(dataclasses.replace(Behaviour(), **behaviour), at)
        window = row.get("consistency_window", 0.0)
        if not isinstance(window, int | float) or isinstance(window, bool) or window < 0:
            raise ProfileError(
                f"{at}: consistency_window must be seconds >= 0", "e.g. consistency_window = 2"
            )
        found[name] = Variation(
            name=name,
            description=row["description"].strip(),
            permitted_by=row["permitted_by"].strip(),
            behaviour=behaviour,
            needs_any=tuple(needs),
            needs_unsupported_write=bool(row.get("needs_unsupported_write", False)),
            needs_new_return_status=row.get("needs_new_return_status"),
            conflicts=frozenset(row.get("conflicts", [])),
            consistency_window=float(window),
        )
    for var in found.values():
        for other in sorted(var.conflicts):
            if other not in found:
                raise ProfileError(
                    f"{where} [{var.name}]: conflicts with unknown {other!r}",
                    f"name variations of {where}, or remove {other!r} from conflicts",
                )
            if var.name not in found[other].conflicts:
                raise ProfileError(
                    f"{where}: {var.name} conflicts with {other}, but not {other} with {var.name}",
                    "conflicts are symmetric: list them on both",
                )
        for peer in found.values():
            clash = [
                key
                for key, value in var.behaviour.items()
                if key in peer.behaviour and peer.behaviour[key] != value
            ]
            if clash and peer.name not in var.conflicts:
                raise ProfileError(
                    f"{where}: {var.name} and {peer.name} set {clash[0]} differently",
                    "declare them as conflicts",
                )
    return found


@cache
def variation_catalogue() -> dict[str, Variation]:
    """Every named variation (variations.toml), checked."""
    text = resources.files("conformance.reference").joinpath(FILE).read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{FILE}: {exc}", "fix it at the line and column shown") from None
    return parse_catalogue(data)


def applies(name: str, profile: Profile) -> bool:
    """Whether the variation changes something a client of this profile can see."""
    var = variation_catalogue()[name]
    if var.needs_any and not any(profile.support.get(op) == "ok" for op in var.needs_any):
        return False
    if (
        var.needs_new_return_status
        and profile.behaviour.new_return_status != var.needs_new_return_status
    ):
        return False
    if var.needs_unsupported_write:
        return any(op.is_write and profile.support[op.id] == "not_supported" for op in operations())
    return True


def where_applies(name: str) -> list[str]:
    """The embedded reference platforms the variation applies to."""
    return [p for p in profile_names() if applies(name, load_profile(p))]


def check_variations(names: Iterable[str], profile: Profile | None = None) -> None:
    """UsageError (one line and a hint) for an unknown name, two conflicting names, or (with a
    profile) a variation that does not apply to it."""
    chosen = sorted(set(names))
    catalogue = variation_catalogue()
    unknown = [n for n in chosen if n not in catalogue]
    if unknown:
        raise UsageError(
            f"unknown variation {', '.join(unknown)}", f"choose from: {', '.join(catalogue)}"
        )
    for i, name in enumerate(chosen):
        for other in chosen[i + 1 :]:
            if other in catalogue[name].conflicts or name in catalogue[other].conflicts:
                raise UsageError(
                    f"variations {name} and {other} cannot be combined",
                    "they set the same behaviour differently; choose one",
                )
    if profile is None:
        return
    for name in chosen:
        if not applies(name, profile):
            where = where_applies(name)
            raise UsageError(
                f"variation {name} does not apply to platform {profile.name}",
                f"it applies to: {', '.join(where)}" if where else "it applies to no platform",
            )


def needed_window(names: Iterable[str]) -> float:
    """The consistency window a client needs with these variations (0.0 with none)."""
    catalogue = variation_catalogue()
    return max((catalogue[n].consistency_window for n in names if n in catalogue), default=0.0)


def with_variations(profile: Profile, names: Iterable[str]) -> Profile:
    """A new profile (same name) with the variations' Behaviour fields set and, for the id
    variations, every data id renamed as the store will spell the ids it makes."""
    chosen = sorted(set(names))
    if not chosen:
        return profile
    check_variations(chosen, profile)
    catalogue = variation_catalogue()
    values: dict[str, Any] = {}
    for name in chosen:
        values.update(catalogue[name].behaviour)
    behaviour = dataclasses.replace(profile.behaviour, **values)
    varied = dataclasses.replace(profile, behaviour=behaviour)
    if behaviour.ids != profile.behaviour.ids:
        varied = _renamed(varied, IdScheme(behaviour.ids))
    return varied


def _renamed(profile: Profile, ids: IdScheme) -> Profile:
    orders = tuple(
        dataclasses.replace(
            order,
            id=ids.rename("order", order.id),
            lines=tuple(_line(line, ids) for line in order.lines),
        )
        for order in profile.orders
    )
    returns = tuple(_seed(seed, ids) for seed in profile.returns)
    return dataclasses.replace(profile, orders=orders, returns=returns)


def _line(line: OrderLine, ids: IdScheme) -> OrderLine:
    return dataclasses.replace(line, id=ids.rename("line", line.id))


def _seed(seed: SeedReturn, ids: IdScheme) -> SeedReturn:
    return dataclasses.replace(
        seed,
        id=ids.rename("return", seed.id),
        order=ids.rename("order", seed.order),
        lines=tuple(dataclasses.replace(x, line=ids.rename("line", x.line)) for x in seed.lines),
        fulfillments=tuple(
            dataclasses.replace(f, id=ids.rename("fulfillment", f.id)) for f in seed.fulfillments
        ),
    )


__all__ = [
    "Variation",
    "applies",
    "check_variations",
    "needed_window",
    "variation_catalogue",
    "where_applies",
    "with_variations",
]
