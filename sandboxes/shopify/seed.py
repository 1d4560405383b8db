"""A deterministic default world: two shops, their locations, a catalogue and orders in every state.

The seller SKU codes are the TikTok sandbox's (copied as data, not imported), so one Dropline tenant can
connect both sandboxes and see the same SKUs on both channels.
"""

from __future__ import annotations

import random
from decimal import Decimal

from .state import Address, InventoryItem, LineItem, Location, Order, Product, Shop, Variant, World

DAY = 86_400

# (product title, handle, [(variant title, seller SKU, price)]); SKUs as the TikTok sandbox seeds them.
CATALOGUE: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "Women's Winter Crochet Cardigan",
        "womens-winter-crochet-cardigan",
        [
            ("Red / M", "WOMEN-RED-M", "24.99"),
            ("Red / L", "WOMEN-RED-L", "24.99"),
            ("Black / M", "WOMEN-BLK-M", "26.99"),
        ],
    ),
    (
        "Stainless Steel Water Bottle 32oz",
        "stainless-steel-water-bottle-32oz",
        [("Silver", "TAINLE-SIL", "19.50"), ("Matte Black", "TAINLE-MBK", "21.00")],
    ),
    ("LED Desk Lamp with Wireless Charger", "led-desk-lamp", [("White", "LED-WHT", "39.99")]),
    (
        "Organic Cotton Baby Onesie 3-Pack",
        "organic-cotton-baby-onesie",
        [("0-3M", "ORGANIC-03M", "18.00"), ("3-6M", "ORGANIC-36M", "18.00")],
    ),
    ("Cast Iron Skillet 12in", "cast-iron-skillet-12in", [("12 inch", "CAST-12IN", "34.95")]),
    (
        "Yoga Mat Non-Slip 6mm",
        "yoga-mat-non-slip-6mm",
        [("Purple", "YOGA-PUR", "29.99"), ("Teal", "YOGA-TEAL", "29.99")],
    ),
    ("Bluetooth Earbuds Pro", "bluetooth-earbuds-pro", [("Black", "BLUETOOTH-BK", "49.00")]),
    ("Standing Desk Frame (oversize)", "standing-desk-frame", [("Frame", "TANDING-FRAME", "219.00")]),
]

# (shop name, myshopify domain, currency, timezone, [(location name, address)])
SHOPS: list[tuple[str, str, str, str, list[tuple[str, Address]]]] = [
    (
        "Dropline Demo Store",
        "dropline-demo.myshopify.com",
        "USD",
        "America/New_York",
        [
            ("Main Warehouse", Address("Main Warehouse", "100 Commerce Way", "Columbus", "OH", "43215", "US")),
            ("West Coast DC", Address("West Coast DC", "2500 Harbor Blvd", "Long Beach", "CA", "90802", "US")),
        ],
    ),
    (
        "Dropline UK",
        "dropline-uk.myshopify.com",
        "GBP",
        "Europe/London",
        [("Leeds Unit 4", Address("Leeds Unit 4", "4 Kirkstall Road", "Leeds", "ENG", "LS3 1LH", "GB"))],
    ),
]

BUYERS = [
    ("Jane Doe", "1 Main St", "Ottawa", "ON", "K1A 0B1", "CA"),
    ("Carlos Ruiz", "742 Evergreen Terrace", "Springfield", "IL", "62704", "US"),
    ("Mei Chen", "55 Market St", "San Francisco", "CA", "94105", "US"),
    ("Olivia Smith", "10 Downing St", "London", "ENG", "SW1A 2AA", "GB"),
    ("Noah Johnson", "350 Fifth Ave", "New York", "NY", "10118", "US"),
]

# The state mix of the seeded orders, repeated: every state the slice supports appears in every shop.
STATES = ["open", "open", "partial", "fulfilled", "cancelled", "edited", "open", "fulfilled"]


def seed_default_world(world: World, now: float, orders_per_shop: int = 24) -> None:
    rng = random.Random(world.seed)
    for shop_name, domain, currency, tz, locations in SHOPS:
        shop = Shop(
            id=world.ids.next("shop"),
            name=shop_name,
            myshopify_domain=domain,
            currency=currency,
            email=f"owner@{domain.split('.')[0]}.example",
            timezone=tz,
        )
        world.shops[shop.id] = shop
        for loc_name, addr in locations:
            loc = Location(id=world.ids.next("location"), shop_id=shop.id, name=loc_name, address=addr)
            world.locations[loc.id] = loc
            shop.location_ids.append(loc.id)
        for title, handle, variants in CATALOGUE:
            product = Product(id=world.ids.next("product"), shop_id=shop.id, title=title, handle=handle)
            for vtitle, sku, price in variants:
                item = InventoryItem(
                    id=world.ids.next("inventory_item"),
                    sku=sku,
                    levels={lid: rng.randrange(5, 400) for lid in shop.location_ids},
                )
                world.inventory_items[item.id] = item
                amount = (
                    Decimal(price) if currency == "USD" else (Decimal(price) * Decimal("0.8")).quantize(Decimal("0.01"))
                )
                variant = Variant(
                    id=world.ids.next("variant"),
                    product_id=product.id,
                    title=vtitle,
                    sku=sku,
                    price=amount,
                    inventory_item_id=item.id,
                )
                world.variants[variant.id] = variant
                product.variant_ids.append(variant.id)
            world.products[product.id] = product
            shop.product_ids.append(product.id)
        for n in range(orders_per_shop):
            # Spread creation over the last 50 days, oldest first, so ids and created_at grow together.
            created = now - (50 * DAY) + n * (50 * DAY // orders_per_shop) + rng.randrange(0, 3600)
            create_order(world, shop, created, rng, state=STATES[n % len(STATES)], now=now)


def create_order(
    world: World,
    shop: Shop,
    created: float,
    rng: random.Random,
    state: str = "open",
    lines: list[tuple[str, int]] | None = None,
    now: float | None = None,
) -> Order:
    """Create one order; `lines` are (sku, quantity), else 1-3 random variants of the shop."""
    variants = [world.variants[v] for p in shop.product_ids for v in world.products[p].variant_ids]
    if lines is None:
        picked = rng.sample(variants, rng.randint(1, 3))
        lines = [(v.sku, rng.randint(1, 3)) for v in picked]
    items: list[LineItem] = []
    for sku, qty in lines:
        variant = world.variant_by_sku(shop.id, sku)
        if variant is None:
            raise KeyError(sku)
        product = world.products[variant.product_id]
        items.append(
            LineItem(
                id=world.ids.next("line_item"),
                variant_id=variant.id,
                sku=sku,
                title=product.title,
                quantity=qty,
                unit_price=variant.price,
                current_quantity=qty,
                fulfillment_order_line_item_id=world.ids.next("fo_line_item"),
            )
        )
    name, addr1, city, prov, zip_code, country = rng.choice(BUYERS)
    order = Order(
        id=world.ids.next("order"),
        shop_id=shop.id,
        number=shop.next_order_number,
        created_at=created,
        updated_at=created,
        currency=shop.currency,
        location_id=shop.location_ids[0],
        fulfillment_order_id=world.ids.next("fulfillment_order"),
        shipping_address=Address(name, addr1, city, prov, zip_code, country, phone="+1 555 0100"),
        line_items=items,
        shipping_price=Decimal("4.99") if shop.currency == "USD" else Decimal("3.99"),
        email=f"{name.split()[0].lower()}@example.com",
    )
    shop.next_order_number += 1
    world.orders[order.id] = order
    at = created + rng.randrange(600, 5 * DAY)
    apply_state(order, state, min(at, now) if now is not None and now > created else at)
    return order


def apply_state(order: Order, state: str, at: float) -> None:
    """Move a fresh order into one of the seeded states, touching updated_at as Shopify would."""
    if state == "open":
        return
    if state == "partial":
        order.line_items[0].fulfilled_quantity = max(1, order.line_items[0].current_quantity - 1)
        if len(order.line_items) == 1 and order.line_items[0].current_quantity == 1:
            # One unit cannot be partly shipped: add a second line so the order is really partial.
            order.line_items[0].current_quantity = order.line_items[0].quantity = 2
    elif state == "fulfilled":
        for li in order.line_items:
            li.fulfilled_quantity = li.current_quantity
    elif state == "cancelled":
        order.cancelled_at = at
        order.cancel_reason = "CUSTOMER"
        order.financial_status = "REFUNDED"
    elif state == "edited":
        # An order edit removed one unit of the first line (currentQuantity < quantity).
        li = order.line_items[0]
        if li.quantity == 1:
            li.quantity = 2
            li.current_quantity = 2
        li.current_quantity -= 1
        order.edited = True
        order.financial_status = "PARTIALLY_REFUNDED"
    else:
        raise ValueError(f"unknown order state {state!r}")
    order.updated_at = at
