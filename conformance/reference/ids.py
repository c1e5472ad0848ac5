"""How a reference platform spells its ids (Behaviour.ids): ids are opaque strings.

- `plain`: the profile's own ids (`SHOP-1001`, `SHOP-1001-1`) and the store's (`RET-000001`,
  `RET-000001-1`, `RF-000002`, `RFO-RET-000001`, `PKG-RET-000001`): today's behaviour.
- `numeric`: strings of digits (`"1001"`, `"5000001"`), every kind in its own range.
- `encoded`: ids that need percent-encoding in a path segment: `gid://shop/Order/SHOP-1001`,
  `gid://shop/Return/7 #a?b%` (`/`, `:`, `?`, `#`, a space and `%`).

`rename` maps a profile's data ids (orders, lines, seeded returns and fulfillments; see
variations.with_variations); `new` makes the ids the store creates; `child` derives the ids that
hang off another one (return items, the return fulfillment order, the package, the forward
fulfillment line).
"""

from __future__ import annotations

from typing import Literal

IdKind = Literal[
    "order", "line", "return", "item", "fulfillment", "rfo", "package", "fulfillment_item"
]
IdStyle = Literal["plain", "numeric", "encoded"]

# numeric: the first id of each kind is BASE + 1; the store's own ids start at BASE + NEW.
NUMERIC_BASE = {"order": 1000, "line": 2_000_000, "return": 5_000_000, "fulfillment": 7_000_000}
NUMERIC_NEW = 500_000
# numeric: the one-digit prefix of a derived id (items append their number to the return's id)
NUMERIC_PREFIX = {"rfo": "8", "package": "9", "fulfillment_item": "3"}
# encoded: the resource name in the gid, and the suffix that carries `#`, `?`, ` ` and `%`
GID_NAME = {
    "order": "Order",
    "line": "LineItem",
    "return": "Return",
    "item": "ReturnLineItem",
    "fulfillment": "ReverseDelivery",
    "rfo": "ReturnFulfillmentOrder",
    "package": "ReversePackage",
    "fulfillment_item": "FulfillmentLineItem",
}
GID_SUFFIX = " #a?b%"
PLAIN_NEW = {"return": "RET", "fulfillment": "RF"}
PLAIN_PREFIX = {"rfo": "RFO-", "package": "PKG-", "fulfillment_item": "FI-"}


class IdScheme:
    """One platform's id spelling; `rename` remembers what it gave (numeric ids are counted)."""

    def __init__(self, style: IdStyle) -> None:
        self.style = style
        self._given: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def rename(self, kind: IdKind, plain: str) -> str:
        """The id of a profile's data record `plain` of this kind (the same id every time)."""
        if self.style == "plain":
            return plain
        key = (kind, plain)
        if key not in self._given:
            if self.style == "numeric":
                self._counts[kind] = self._counts.get(kind, 0) + 1
                self._given[key] = str(NUMERIC_BASE[kind] + self._counts[kind])
            else:
                self._given[key] = _gid(kind, plain)
        return self._given[key]

    def new(self, kind: Literal["return", "fulfillment"], number: int) -> str:
        """The id of the `number`-th record the store creates."""
        if self.style == "plain":
            return f"{PLAIN_NEW[kind]}-{number:06d}"
        if self.style == "numeric":
            return str(NUMERIC_BASE[kind] + NUMERIC_NEW + number)
        return _gid(kind, str(number))

    def child(self, kind: IdKind, parent: str, number: int = 0) -> str:
        """An id derived from `parent`: the `number`-th item of a return (kind `item`), or the
        return fulfillment order, package or forward fulfillment line of a return or line."""
        if self.style == "plain":
            return f"{parent}-{number}" if kind == "item" else f"{PLAIN_PREFIX[kind]}{parent}"
        if self.style == "numeric":
            return f"{parent}{number:04d}" if kind == "item" else NUMERIC_PREFIX[kind] + parent
        tail = parent.rsplit("/", 1)[-1].removesuffix(GID_SUFFIX)
        return _gid(kind, f"{tail}-{number}" if kind == "item" else tail)


def _gid(kind: str, tail: str) -> str:
    suffix = "" if kind in ("order", "line") else GID_SUFFIX
    return f"gid://shop/{GID_NAME[kind]}/{tail}{suffix}"
