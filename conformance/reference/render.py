"""The reference store's records as the contract's JSON resources (section 3)."""

from __future__ import annotations

from typing import Any

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


def render_order(order: Order, fmt: str) -> dict[str, Any]:
    return {
        "id": order.id,
        "createdAt": order.created_at,
        "items": [
            {
                "id": line.id,
                "quantity": quantity(line.quantity, fmt),
                "sku": line.sku,
                "name": line.name,
                "productId": line.product_id,
                "variantId": line.variant_id,
            }
            for line in order.lines
        ],
    }


def _package(ret: Return) -> dict[str, Any] | None:
    rfo = ret.rfo_id
    if rfo is None:
        return None
    return {
        "id": f"PKG-{ret.id}",
        "returnFulfillmentOrderId": rfo,
        "status": PACKAGE_STATUS[ret.status],
    }


def render_return(ret: Return, store: Store) -> dict[str, Any]:
    fmt = store.profile.behaviour.quantity_format
    package = _package(ret)
    details = []
    for x in ret.lines:
        _, line = store.lines[x.line_id]
        details.append(
            {
                "orderItemId": line.id,
                "productId": line.product_id,
                "variantId": line.variant_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": quantity(x.quantity, fmt),
            }
        )
    return {
        "returnOrderId": ret.id,
        "orderId": ret.order_id,
        "status": ret.status,
        "returnFulfillmentOrderId": ret.rfo_id,
        "returnItems": [
            {
                "returnItemId": x.id,
                "orderItemId": x.line_id,
                "quantity": quantity(x.quantity, fmt),
                "returnReason": x.reason,
                "note": x.note,
            }
            for x in ret.lines
        ],
        "items": details,
        "packages": [package] if package else [],
        "note": ret.note,
        "createdAt": ret.created_at,
        "updatedAt": ret.updated_at,
    }


def render_fulfillment(ful: Fulfillment, store: Store) -> dict[str, Any]:
    fmt = store.profile.behaviour.quantity_format
    ret = store.returns[ful.return_id]
    rfo = f"RFO-{ret.id}"
    package: dict[str, Any] = {
        "id": f"PKG-{ret.id}",
        "returnFulfillmentOrderId": rfo,
        "status": PACKAGE_STATUS[ret.status],
    }
    if ful.identifiers:
        package["identifiers"] = ful.identifiers
    return {
        "id": ful.id,
        "returnOrderId": ret.id,
        "returnFulfillmentOrderId": rfo,
        "status": ful.status,
        "tracking": dict(ful.tracking),
        "items": [{"returnItemId": rid, "quantity": quantity(q, fmt)} for rid, q in ful.items],
        "package": package,
        "documents": ful.documents,
        "createdAt": ful.created_at,
    }
