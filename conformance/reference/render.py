"""The reference store's records as the contract's JSON resources (section 3), shaped by the
profile's Behaviour: which fields (`usual`, only the `required` ones, or `all` the optional ones
too), nulls, quantities, timestamps and the platform's own vocabulary."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from conformance.reference.clock import render_time
from conformance.reference.profile import Order
from conformance.reference.store import Fulfillment, Return, Store

PACKAGE_STATUS = {
    "approved": "open",
    "closed": "closed",
    "cancelled": "cancelled",
    "rejected": "cancelled",
    "requested": "open",
}


def quantity(value: int, fmt: str) -> int | str:
    """Platforms of this API family often pass numbers as strings; a profile says which."""
    return str(value) if fmt == "string" else value


class Renderer:
    """Renders the records of one store (or of a read-lag view of it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.b = store.behaviour
        self.every = self.b.fields == "all"

    def _quantity(self, value: int) -> int | str:
        return quantity(value, self.b.quantity_format)

    def _time(self, value: str) -> str:
        return render_time(value, self.b.timestamps)

    def _status(self, ret: Return) -> str:
        """A return's status as the platform spells it (platform-statuses: REQUESTED)."""
        return self.b.return_status_names.get(ret.status, ret.status)

    def _package_status(self, ret: Return) -> str:
        status = PACKAGE_STATUS[ret.status]
        return self.b.package_status_names.get(status, status)

    # ---- orders (discovery reads) ----

    def order(self, order: Order) -> dict[str, Any]:
        if self.b.fields == "required":
            return {
                "id": order.id,
                "items": [
                    {"id": line.id, "quantity": self._quantity(line.quantity)}
                    for line in order.lines
                ],
            }
        return {
            "id": order.id,
            "createdAt": self._time(order.created_at),
            "items": [
                {
                    "id": line.id,
                    "quantity": self._quantity(line.quantity),
                    "sku": line.sku,
                    "name": line.name,
                    "productId": line.product_id,
                    "variantId": line.variant_id,
                }
                for line in order.lines
            ],
        }

    # ---- returns ----

    def return_(self, ret: Return, *, listed_globally: bool = False) -> dict[str, Any]:
        """A Return; `listed_globally`: an item of listReturns, which must carry its orderId."""
        b, reasons = self.b, self.b.reason_names
        if b.fields == "required":
            body: dict[str, Any] = {
                "returnOrderId": ret.id,
                "status": self._status(ret),
                "returnItems": [
                    {
                        "returnItemId": x.id,
                        "quantity": self._quantity(x.quantity),
                        "returnReason": reasons.get(x.reason, x.reason),
                    }
                    for x in ret.lines
                ],
            }
            if listed_globally:
                body["orderId"] = ret.order_id
            return body
        items = []
        for x in ret.lines:
            item: dict[str, Any] = {
                "returnItemId": x.id,
                "orderItemId": x.line_id,
                "quantity": self._quantity(x.quantity),
                "returnReason": reasons.get(x.reason, x.reason),
                "note": x.note,
            }
            if self.every:
                item["fulfillmentItemId"] = self.store.ids.child("fulfillment_item", x.line_id)
                item["note"] = x.note or ""
            if b.nulls:
                item.update(fulfillmentItemId=None, note=None)
            items.append(item)
        package = self._package(ret) if ret.rfo_id or self.every else None
        return {
            "returnOrderId": ret.id,
            "orderId": ret.order_id,
            "status": self._status(ret),
            "returnFulfillmentOrderId": None if b.nulls else ret.rfo if self.every else ret.rfo_id,
            "returnItems": items,
            "items": [self._details(x.line_id, x.quantity) for x in ret.lines],
            "packages": [package] if package else [],
            "note": None if b.nulls else (ret.note or "") if self.every else ret.note,
            "createdAt": self._time(ret.created_at),
            "updatedAt": self._time(ret.updated_at),
        }

    def _details(self, line_id: str, units: int) -> dict[str, Any]:
        """An entry of a Return's extended `items`: the order line's product details."""
        _, line = self.store.lines[line_id]
        details: dict[str, Any] = {
            "orderItemId": line.id,
            "productId": line.product_id,
            "variantId": line.variant_id,
            "sku": line.sku,
            "name": line.name,
            "quantity": self._quantity(units),
        }
        if self.every:
            details.update(
                productId=line.product_id or f"P-{line.id}",
                variantId=line.variant_id or f"V-{line.id}",
                sku=line.sku or f"SKU-{line.id}",
                name=line.name or f"Item {line.id}",
            )
        if self.b.nulls:
            details.update(orderItemId=None, productId=None, variantId=None, sku=None, name=None)
        return details

    def _package(self, ret: Return, ful: Fulfillment | None = None) -> dict[str, Any]:
        package: dict[str, Any] = {
            "id": ret.package_id,
            "returnFulfillmentOrderId": ret.rfo,
            "status": self._package_status(ret),
        }
        shipped = [ful] if ful else ret.fulfillments
        identifiers = [i for f in shipped for i in f.identifiers]
        if identifiers and ful:  # a Return's packages name them only with all-optional
            package["identifiers"] = identifiers
        if self.every:
            package["identifiers"] = identifiers or [f.tracking["number"] for f in shipped]
            units = ful.items if ful else [(x.id, x.quantity) for x in ret.lines]
            package["items"] = [
                {"returnItemId": rid, "quantity": self._quantity(q)} for rid, q in units
            ]
        return package

    # ---- return fulfillments ----

    def fulfillment(self, ful: Fulfillment) -> dict[str, Any]:
        b = self.b
        tracking = dict(ful.tracking)
        if b.fields == "required":
            return {"id": ful.id, "tracking": {"number": tracking["number"]}}
        ret = self.store.returns[ful.return_id]
        status = ful.status or ("pending" if self.every else None)
        documents = [dict(d) for d in ful.documents]
        if self.every:
            number = quote(tracking["number"], safe="")
            tracking["company"] = tracking.get("company") or "other"
            tracking["url"] = tracking.get("url") or f"https://tracking.example/{number}"
            documents = documents or [
                {
                    "type": "label",
                    "url": f"https://labels.example/{quote(ful.id, safe='')}.pdf",
                    "format": "pdf",
                }
            ]
        if b.nulls:
            status = None
            tracking.update(company=None, url=None)
            for document in documents:
                document["url"] = None
        return {
            "id": ful.id,
            "returnOrderId": ret.id,
            "returnFulfillmentOrderId": None if b.nulls else ret.rfo,
            "status": b.fulfillment_status_names.get(status, status) if status else None,
            "tracking": tracking,
            "items": [{"returnItemId": rid, "quantity": self._quantity(q)} for rid, q in ful.items],
            "package": self._package(ret, ful),
            "documents": documents,
            "createdAt": self._time(ful.created_at),
        }
