"""World objects as GraphQL nodes (plain dicts; callables for fields with arguments or that point back)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from .graph import FO_READ_SCOPES, connection, id_key, page_size, require
from .state import (
    QUANTITY_NAMES,
    Address,
    AdjustmentGroup,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    LineItem,
    Location,
    Order,
    Variant,
    WebhookSubscription,
    World,
    gid,
    iso,
    level_gid,
    parse_gid,
)
from .topics import enum_name


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    m = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": m, "presentmentMoney": dict(m)}


def mailing(addr: Address | None) -> dict[str, Any] | None:
    if addr is None:
        return None
    return {
        "name": addr.name,
        "company": addr.company,
        "address1": addr.address1,
        "address2": addr.address2,
        "city": addr.city,
        "provinceCode": addr.province_code,
        "zip": addr.zip,
        "countryCodeV2": addr.country_code,
        "phone": addr.phone,
    }


def render_location(loc: Location) -> dict[str, Any]:
    a = loc.address
    return {
        "id": gid("Location", loc.id),
        "name": loc.name,
        "isActive": loc.is_active,
        "address": {
            "address1": a.address1,
            "city": a.city,
            "provinceCode": a.province_code,
            "zip": a.zip,
            "countryCode": a.country_code,
        },
    }


# ---------------------------------------------------------------------------------------------- catalogue
def render_variant(world: World, variant: Variant) -> dict[str, Any]:
    product = world.products[variant.product_id]
    item = world.inventory_items[variant.inventory_item_id]
    return {
        "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id),
        "title": variant.title,
        "displayName": f"{product.title} - {variant.title}",
        "sku": variant.sku,
        "price": f"{variant.price:.2f}",
        "inventoryQuantity": sum(level.available for level in item.levels.values()),
        "createdAt": iso(variant.created_at),
        "updatedAt": iso(max(variant.updated_at, item.updated_at)),
        "product": {"id": gid("Product", product.id), "title": product.title, "handle": product.handle},
        "inventoryItem": lambda info: render_item(world, item),
    }


def render_item(world: World, item: InventoryItem) -> dict[str, Any]:
    def levels(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        ctx = require(info, "inventoryLevels", "read_inventory")
        stocked = sorted(item.levels)
        return connection(
            [world.locations[i] for i in stocked],
            id_key,
            page_size(first, "inventoryLevels", ctx.cfg),
            after,
            lambda loc: render_level(world, item, loc.id),
        )

    def level(info: GraphQLResolveInfo, locationId: str) -> dict[str, Any] | None:
        require(info, "inventoryLevel", "read_inventory")
        parsed = parse_gid(locationId)
        if parsed is None or parsed[0] != "Location" or parsed[1] not in item.levels:
            return None
        return render_level(world, item, parsed[1])

    return {
        "id": gid("InventoryItem", item.id),
        "legacyResourceId": str(item.id),
        "sku": item.sku,
        "tracked": True,
        "createdAt": iso(item.created_at),
        "updatedAt": iso(item.updated_at),
        "variant": lambda info: render_variant(world, world.variants[item.variant_id]),
        "inventoryLevels": levels,
        "inventoryLevel": level,
    }


def render_level(world: World, item: InventoryItem, location_id: int) -> dict[str, Any]:
    lvl = item.levels[location_id]

    def quantities(info: GraphQLResolveInfo, names: list[str]) -> list[dict[str, Any]]:
        unknown = [n for n in names if n not in QUANTITY_NAMES]
        if unknown:
            raise GraphQLError(
                f"Invalid quantity names: {', '.join(unknown)}. Valid names are: {', '.join(QUANTITY_NAMES)}.",
                extensions={"code": "BAD_REQUEST"},
            )
        return [
            {
                "id": f"gid://shopify/InventoryQuantity/{location_id}?inventory_item_id={item.id}&name={n}",
                "name": n,
                "quantity": lvl.get(n),
                "updatedAt": iso(lvl.updated_at),
            }
            for n in names
        ]

    return {
        "id": level_gid(location_id, item.id),
        "createdAt": iso(lvl.created_at),
        "updatedAt": iso(lvl.updated_at),
        "location": render_location(world.locations[location_id]),
        "item": lambda info: render_item(world, item),
        "quantities": quantities,
    }


def render_group(world: World, group: AdjustmentGroup) -> dict[str, Any]:
    def changes(
        info: GraphQLResolveInfo,
        inventoryItemIds: list[str] | None = None,
        locationIds: list[str] | None = None,
        quantityNames: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        out = []
        for c in group.changes:
            if inventoryItemIds is not None and gid("InventoryItem", c.item_id) not in inventoryItemIds:
                continue
            if locationIds is not None and gid("Location", c.location_id) not in locationIds:
                continue
            if quantityNames is not None and c.name not in quantityNames:
                continue
            item = world.inventory_items[c.item_id]
            out.append(
                {
                    "name": c.name,
                    "delta": c.delta,
                    "quantityAfterChange": c.quantity_after,
                    "item": lambda info, item=item: render_item(world, item),
                    "location": render_location(world.locations[c.location_id]),
                    "ledgerDocumentUri": c.ledger_document_uri,
                }
            )
        return out

    return {
        "id": gid("InventoryAdjustmentGroup", group.id),
        "createdAt": iso(group.created_at),
        "reason": group.reason,
        "referenceDocumentUri": group.reference_document_uri,
        "changes": changes,
    }


# ---------------------------------------------------------------------------------------------- orders
def render_line(world: World, order: Order, li: LineItem) -> dict[str, Any]:
    variant = world.variants[li.variant_id]
    return {
        "id": gid("LineItem", li.id),
        "name": f"{li.title} - {variant.title}",
        "title": li.title,
        "sku": li.sku,
        "quantity": li.quantity,
        "currentQuantity": li.current_quantity,
        "unfulfilledQuantity": order.remaining(li),
        "originalUnitPriceSet": money(li.unit_price, order.currency),
        "variant": render_variant(world, variant),
    }


SUPPORTED_ACTIONS = {
    "OPEN": ["CREATE_FULFILLMENT", "HOLD", "MOVE"],
    "IN_PROGRESS": ["CREATE_FULFILLMENT", "HOLD", "MOVE"],
    "ON_HOLD": ["RELEASE_HOLD", "MOVE"],
    "SCHEDULED": ["MARK_AS_OPEN", "MOVE"],
}


def render_fo(world: World, fo: FulfillmentOrder, cfg: Any) -> dict[str, Any]:
    order = world.orders[fo.order_id]
    status = world.fo_status(fo)
    loc = world.locations[fo.location_id]

    def fo_line(li: LineItem) -> dict[str, Any]:
        variant = world.variants[li.variant_id]
        return {
            "id": gid("FulfillmentOrderLineItem", li.fulfillment_order_line_item_id),
            "totalQuantity": li.current_quantity,
            "remainingQuantity": order.remaining(li),
            "sku": li.sku,
            "inventoryItemId": gid("InventoryItem", variant.inventory_item_id),
            "lineItem": render_line(world, order, li),
        }

    def line_items(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        return connection(world.fo_lines(fo), id_key, page_size(first, "lineItems", cfg), after, fo_line)

    return {
        "id": gid("FulfillmentOrder", fo.id),
        "status": status,
        "requestStatus": "UNSUBMITTED",
        "createdAt": iso(fo.created_at),
        "updatedAt": iso(fo.updated_at),
        "fulfillAt": iso(fo.scheduled_at),
        "orderId": gid("Order", order.id),
        "orderName": order.name,
        "order": lambda info: render_order(world, order, cfg),
        "assignedLocation": {
            "location": render_location(loc),
            "name": loc.name,
            "address1": loc.address.address1,
            "city": loc.address.city,
            "provinceCode": loc.address.province_code,
            "zip": loc.address.zip,
            "countryCode": loc.address.country_code,
        },
        "supportedActions": [{"action": a} for a in SUPPORTED_ACTIONS.get(status, [])],
        "fulfillmentHolds": [
            {"id": gid("FulfillmentHold", h.id), "reason": h.reason, "reasonNotes": h.reason_notes} for h in fo.holds
        ],
        "lineItems": line_items,
    }


def render_fulfillment(world: World, f: Fulfillment, cfg: Any) -> dict[str, Any]:
    order = world.orders[f.order_id]
    by_line = {li.id: li for li in order.line_items}

    def line_items(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        return connection(
            f.lines,
            id_key,
            page_size(first, "fulfillmentLineItems", cfg),
            after,
            lambda fl: {
                "id": gid("FulfillmentLineItem", fl.id),
                "quantity": fl.quantity,
                "lineItem": render_line(world, order, by_line[fl.line_item_id]),
            },
        )

    def tracking(info: GraphQLResolveInfo, first: int | None = None) -> list[dict[str, Any]]:
        rows = [{"company": t.company, "number": t.number, "url": t.url} for t in f.tracking]
        return rows[:first] if first is not None else rows

    return {
        "id": gid("Fulfillment", f.id),
        "legacyResourceId": str(f.id),
        "name": f"{order.name}-F{f.number}",
        "status": f.status,
        "createdAt": iso(f.created_at),
        "updatedAt": iso(f.updated_at),
        "totalQuantity": sum(fl.quantity for fl in f.lines),
        "trackingInfo": tracking,
        "fulfillmentLineItems": line_items,
        "location": render_location(world.locations[f.location_id]),
        "order": lambda info: render_order(world, order, cfg),
    }


def render_order(world: World, order: Order, cfg: Any) -> dict[str, Any]:
    cur = order.currency

    def line_items(info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
        return connection(
            order.line_items,
            id_key,
            page_size(first, "lineItems", cfg),
            after,
            lambda li: render_line(world, order, li),
        )

    def fulfillment_orders(
        info: GraphQLResolveInfo, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        require(info, "fulfillmentOrders", *FO_READ_SCOPES)
        fos = [world.fulfillment_orders[i] for i in order.fulfillment_order_ids]
        return connection(
            fos, id_key, page_size(first, "fulfillmentOrders", cfg), after, lambda fo: render_fo(world, fo, cfg)
        )

    def fulfillments(info: GraphQLResolveInfo, first: int | None = None) -> list[dict[str, Any]]:
        rows = [render_fulfillment(world, world.fulfillments[i], cfg) for i in order.fulfillment_ids]
        return rows[:first] if first is not None else rows

    status = world.order_status(order)
    return {
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "email": order.email,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closed": order.cancelled_at is not None or status == "FULFILLED",
        "edited": order.edited,
        "displayFulfillmentStatus": status,
        "displayFinancialStatus": order.financial_status,
        "currencyCode": cur,
        "subtotalPriceSet": money(order.subtotal(), cur),
        "totalShippingPriceSet": money(order.shipping_price, cur),
        "totalPriceSet": money(order.total(), cur),
        "currentTotalPriceSet": money(Decimal("0.00") if order.cancelled_at else order.total(), cur),
        "shippingAddress": mailing(order.shipping_address),
        "lineItems": line_items,
        "fulfillmentOrders": fulfillment_orders,
        "fulfillments": fulfillments,
    }


def render_subscription(sub: WebhookSubscription, supported: Sequence[str]) -> dict[str, Any]:
    return {
        "id": gid("WebhookSubscription", sub.id),
        "legacyResourceId": str(sub.id),
        "topic": enum_name(sub.topic),
        "uri": sub.uri,
        "format": sub.format,
        "includeFields": list(sub.include_fields),
        "filter": sub.filter,
        "apiVersion": {
            "handle": sub.api_version,
            "displayName": sub.api_version,
            "supported": sub.api_version in supported,
        },
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.updated_at),
    }
