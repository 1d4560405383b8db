"""What an order is, as rules see it: `OrderFacts`, and `facts_for` / `facts_for_orders` that compute them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from integrations.models import Store
from inventory.models import Listing
from orders.models import Order, OrderLine

CM_PER = {"cm": Decimal(1), "in": Decimal("2.54")}


@dataclass(frozen=True)
class OrderFacts:
    """What rules look at. `weight_grams` / `max_side_cm` are None when a SKU's weight / dimensions are unknown
    (`unknown_weight_skus` / `unknown_size_skus` say which)."""

    store_id: str
    country: str
    state: str
    postal_code: str
    total: Decimal | None
    weight_grams: Decimal | None
    max_side_cm: Decimal | None
    seller_skus: frozenset[str]
    product_ids: frozenset[str]
    line_count: int
    delivery_option_name: str
    ship_by: datetime | None
    has_buyer_message: bool
    tags: frozenset[str] = frozenset()
    store_name: str = ""  # for the reasons a person reads (empty when the order's store was not loaded with it)
    channel: str = ""  # the store's platform
    unknown_weight_skus: tuple[str, ...] = ()
    unknown_size_skus: tuple[str, ...] = ()


FactLine = tuple[str, str, str, int]  # platform SKU id, seller SKU, product id, quantity


def facts_for_orders(orders: Iterable[Order]) -> dict[Any, OrderFacts]:
    """Facts of many orders, keyed by order id, in two queries (lines; listings with their SKUs) whatever their
    number. Cancelled lines do not count; a line's units count by its quantity (facts are about units)."""
    orders = list(orders)
    lines_by_order: dict[Any, list[FactLine]] = {o.pk: [] for o in orders}
    for order_id, sku_id, seller_sku, product_id, quantity in OrderLine.objects.filter(
        order_id__in=list(lines_by_order), is_cancelled=False
    ).values_list("order_id", "sku_id", "seller_sku", "product_id", "quantity"):
        lines_by_order[order_id].append((sku_id, seller_sku, product_id, quantity))
    platform_skus = {line[0] for lines in lines_by_order.values() for line in lines}
    listings = {
        (listing.store_id, listing.platform_sku_id): listing
        for listing in Listing.objects.filter(
            store_id__in={o.store_id for o in orders}, platform_sku_id__in=platform_skus
        ).select_related("sku")
    }
    # The channel decides rules with a channel condition: read from the loaded store, else asked once for all.
    channels = {o.store_id: o.store.platform for o in orders if Order.store.is_cached(o)}
    if missing := {o.store_id for o in orders} - set(channels):
        channels.update(Store.objects.filter(pk__in=missing).values_list("pk", "platform"))
    return {
        order.pk: _facts(order, lines_by_order[order.pk], listings, channels.get(order.store_id, ""))
        for order in orders
    }


def facts_for(order: Order) -> OrderFacts:
    return facts_for_orders([order])[order.pk]


def _facts(order: Order, lines: list[FactLine], listings: dict[tuple[Any, str], Listing], channel: str) -> OrderFacts:
    weight: Decimal | None = Decimal(0)
    side: Decimal | None = Decimal(0)
    unknown_weight: list[str] = []
    unknown_size: list[str] = []
    for sku_id, seller_sku, _, quantity in lines:
        listing = listings.get((order.store_id, sku_id))
        sku = listing.sku if listing is not None else None
        label = seller_sku or sku_id
        grams = sku.weight_grams if sku is not None else None
        if grams is None:
            unknown_weight.append(label)
        elif weight is not None:
            weight += grams * quantity
        dims = (sku.length, sku.width, sku.height) if sku is not None else (None,)
        if any(d is None for d in dims):
            unknown_size.append(label)
        elif side is not None:
            side = max(side, max(d for d in dims if d is not None) * CM_PER[sku.dimension_unit])  # type: ignore[union-attr]
    return OrderFacts(
        store_id=str(order.store_id),
        country=(order.country_code or "").upper(),
        state=order.state or "",
        postal_code=(order.postal_code or "").replace(" ", "").upper(),
        total=order.total,
        weight_grams=None if unknown_weight else weight,
        max_side_cm=None if unknown_size or not lines else side,
        seller_skus=frozenset(line[1] for line in lines if line[1]),
        product_ids=frozenset(line[2] for line in lines if line[2]),
        line_count=sum(line[3] for line in lines),
        delivery_option_name=order.delivery_option_name or "",
        ship_by=order.ship_by,
        has_buyer_message=bool((order.buyer_message or "").strip()),
        tags=frozenset(tag.casefold() for tag in order.tags or ()),
        store_name=order.store.name if Order.store.is_cached(order) else "",
        channel=channel,
        unknown_weight_skus=tuple(sorted(set(unknown_weight))),
        unknown_size_skus=tuple(sorted(set(unknown_size))),
    )
