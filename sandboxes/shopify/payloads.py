"""REST-style webhook payloads (§7.4): snake_case JSON of the resource, as Shopify serialises it for webhooks.

The notes mark the exact field set [INFERRED]; these carry the fields an order importer reads (ids, the GraphQL id
as `admin_graphql_api_id`, names, timestamps, statuses, lines, address) and nothing the sandbox cannot back.
Timestamps are in the shop's time zone with its offset, as REST does ("2026-08-02T06:11:12-04:00").
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .state import (
    Address,
    Fulfillment,
    FulfillmentHold,
    FulfillmentOrder,
    InventoryItem,
    LineItem,
    Order,
    Shop,
    World,
    gid,
    level_gid,
)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def rest_time(ts: float | None, shop: Shop) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), _zone(shop.timezone)).isoformat()


def _address(addr: Address | None) -> dict[str, Any] | None:
    if addr is None:
        return None
    first, _, last = addr.name.partition(" ")
    return {
        "first_name": first,
        "last_name": last,
        "name": addr.name,
        "company": addr.company,
        "address1": addr.address1,
        "address2": addr.address2,
        "city": addr.city,
        "province_code": addr.province_code,
        "zip": addr.zip,
        "country_code": addr.country_code,
        "phone": addr.phone,
    }


def _line_status(li: LineItem) -> str | None:
    if li.fulfilled_quantity <= 0:
        return None
    return "fulfilled" if li.fulfilled_quantity >= li.current_quantity else "partial"


def line_item_payload(world: World, order: Order, li: LineItem) -> dict[str, Any]:
    variant = world.variants[li.variant_id]
    return {
        "id": li.id,
        "admin_graphql_api_id": gid("LineItem", li.id),
        "variant_id": variant.id,
        "product_id": variant.product_id,
        "sku": li.sku,
        "title": li.title,
        "variant_title": variant.title,
        "name": f"{li.title} - {variant.title}",
        "quantity": li.quantity,
        "current_quantity": li.current_quantity,
        "fulfillable_quantity": order.remaining(li),
        "fulfillment_status": _line_status(li),
        "fulfillment_service": "manual",
        "requires_shipping": True,
        "price": f"{li.unit_price:.2f}",
    }


def fulfillment_payload(world: World, f: Fulfillment) -> dict[str, Any]:
    order = world.orders[f.order_id]
    shop = world.shops[f.shop_id]
    by_line = {li.id: li for li in order.line_items}
    first = f.tracking[0] if f.tracking else None
    lines = []
    for fl in f.lines:
        payload = line_item_payload(world, order, by_line[fl.line_item_id])
        payload["quantity"] = fl.quantity
        lines.append(payload)
    return {
        "id": f.id,
        "admin_graphql_api_id": gid("Fulfillment", f.id),
        "order_id": order.id,
        "name": f"{order.name}.{f.number}",
        "status": f.status.lower(),
        "service": "manual",
        "location_id": f.location_id,
        "created_at": rest_time(f.created_at, shop),
        "updated_at": rest_time(f.updated_at, shop),
        "tracking_company": first.company if first else None,
        "tracking_number": first.number if first else None,
        "tracking_numbers": [t.number for t in f.tracking if t.number],
        "tracking_url": first.url if first else None,
        "tracking_urls": [t.url for t in f.tracking if t.url],
        "shipment_status": None,
        "line_items": lines,
    }


def order_payload(world: World, order: Order) -> dict[str, Any]:
    shop = world.shops[order.shop_id]
    status = world.order_status(order)
    closed = order.cancelled_at is not None or status == "FULFILLED"
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "created_at": rest_time(order.created_at, shop),
        "updated_at": rest_time(order.updated_at, shop),
        "processed_at": rest_time(order.created_at, shop),
        "cancelled_at": rest_time(order.cancelled_at, shop),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": rest_time(order.updated_at, shop) if closed else None,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(status),
        "subtotal_price": f"{order.subtotal():.2f}",
        "total_price": f"{order.total():.2f}",
        "test": False,
        "customer": {"id": world.customer_id(order.email), "email": order.email} if order.email else None,
        "shipping_address": _address(order.shipping_address),
        "line_items": [line_item_payload(world, order, li) for li in order.line_items],
        "fulfillments": [fulfillment_payload(world, world.fulfillments[i]) for i in order.fulfillment_ids],
    }


def _hold(h: FulfillmentHold) -> dict[str, Any]:
    return {"id": gid("FulfillmentHold", h.id), "reason": h.reason.lower(), "reason_notes": h.reason_notes}


def fulfillment_order_payload(world: World, fo: FulfillmentOrder) -> dict[str, Any]:
    """The fulfillment_orders/* shape: GraphQL ids inside a REST envelope [guess, see docs]."""
    return {
        "id": gid("FulfillmentOrder", fo.id),
        "status": world.fo_status(fo).lower(),
        "fulfillment_holds": [_hold(h) for h in fo.holds],
    }


def placed_on_hold_payload(world: World, fo: FulfillmentOrder, hold: FulfillmentHold) -> dict[str, Any]:
    return {"fulfillment_order": fulfillment_order_payload(world, fo), "created_fulfillment_hold": _hold(hold)}


def inventory_level_payload(world: World, item: InventoryItem, location_id: int) -> dict[str, Any]:
    level = item.levels[location_id]
    shop = world.shops[world.item_shop(item)]
    return {
        "inventory_item_id": item.id,
        "location_id": location_id,
        "available": level.available,
        "updated_at": rest_time(level.updated_at, shop),
        "admin_graphql_api_id": level_gid(location_id, item.id),
    }


def shop_payload(shop: Shop) -> dict[str, Any]:
    return {
        "id": shop.id,
        "name": shop.name,
        "email": shop.email,
        "domain": shop.myshopify_domain,
        "myshopify_domain": shop.myshopify_domain,
        "currency": shop.currency,
        "iana_timezone": shop.timezone,
    }


def customer_payload(world: World, email: str) -> dict[str, Any]:
    return {"id": world.customer_id(email), "email": email, "phone": None}
