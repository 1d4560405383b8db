"""A deterministic default world: two shops, their locations, a catalogue and orders in every state.

The seller SKU codes are the TikTok sandbox's (copied as data, not imported), so one Dropline tenant can
connect both sandboxes and see the same SKUs on both channels.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from . import ops
from .state import (
    Address,
    FulfillmentOrder,
    InventoryItem,
    Level,
    LineItem,
    Location,
    Order,
    Product,
    Shop,
    Tracking,
    Variant,
    World,
)

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

# Where a shop added through POST /sandbox/shops keeps its stock: the default US shop's two locations (copied).
NEW_SHOP_LOCATIONS = SHOPS[0][4]

BUYERS = [
    ("Jane Doe", "1 Main St", "Ottawa", "ON", "K1A 0B1", "CA"),
    ("Carlos Muñoz", "742 Evergreen Terrace", "Springfield", "IL", "62704", "US"),
    ("Mei Chen", "55 Market St", "San Francisco", "CA", "94105", "US"),
    ("Olivia Smith", "10 Downing St", "London", "ENG", "SW1A 2AA", "GB"),
    ("Noah Johnson", "350 Fifth Ave", "New York", "NY", "10118", "US"),
]

# The state mix of the seeded orders, repeated: every state the sandbox supports appears in every shop. "split"
# puts the lines after the first at the shop's second location (two fulfillment orders) where it has one.
STATES = ["open", "open", "partial", "fulfilled", "cancelled", "edited", "open", "fulfilled", "split", "on_hold"]

# The oversize item is not stocked at a shop's second location, so "not stocked at this location" can be tried.
NOT_STOCKED_AT_SECOND_LOCATION = {"TANDING-FRAME"}


def seed_default_world(world: World, now: float, orders_per_shop: int = 24) -> None:
    """Shops, locations, catalogue and orders; no webhooks (world.on_event is None while seeding)."""
    rng = random.Random(world.seed)
    for shop_name, domain, currency, tz, locations in SHOPS:
        seed_shop(
            world,
            now,
            rng,
            name=shop_name,
            domain=domain,
            currency=currency,
            timezone=tz,
            locations=locations,
            orders=orders_per_shop,
        )


def add_shop(
    world: World,
    now: float,
    *,
    name: str,
    domain: str,
    currency: str = "USD",
    timezone: str = "America/New_York",
    orders: int = 24,
    seed: int | str | None = None,
) -> Shop:
    """A shop added to a running world (POST /sandbox/shops), seeded like the default shops: the default US shop's two
    locations, the same catalogue and `orders` orders in the STATES mix. Its draws come from a generator of its own
    (`seed`, else the world's seed and the domain), so the same request gives the same shop whatever else the world
    holds. Seeding fires no webhooks, as at start."""
    rng = random.Random(seed if seed is not None else f"{world.seed}:{domain}")
    sink, world.on_event = world.on_event, None
    try:
        return seed_shop(
            world,
            now,
            rng,
            name=name,
            domain=domain,
            currency=currency,
            timezone=timezone,
            locations=[(loc_name, replace(addr)) for loc_name, addr in NEW_SHOP_LOCATIONS],
            orders=orders,
        )
    finally:
        world.on_event = sink


def seed_shop(
    world: World,
    now: float,
    rng: random.Random,
    *,
    name: str,
    domain: str,
    currency: str,
    timezone: str,
    locations: list[tuple[str, Address]],
    orders: int,
) -> Shop:
    """One shop: its locations, the catalogue (levels drawn from `rng`) and `orders` orders spread over the last 50
    days in the STATES mix, their unshipped units committed. Inventory and webhooks are not touched otherwise."""
    shop = Shop(
        id=world.ids.next("shop"),
        name=name,
        myshopify_domain=domain,
        currency=currency,
        email=f"owner@{domain.split('.')[0]}.example",
        timezone=timezone,
    )
    world.shops[shop.id] = shop
    for loc_name, addr in locations:
        loc = Location(id=world.ids.next("location"), shop_id=shop.id, name=loc_name, address=addr)
        world.locations[loc.id] = loc
        shop.location_ids.append(loc.id)
    catalogue_created = now - 90 * DAY
    for title, handle, variants in CATALOGUE:
        product = Product(id=world.ids.next("product"), shop_id=shop.id, title=title, handle=handle)
        for vtitle, sku, price in variants:
            levels = {
                lid: Level(available=rng.randrange(5, 400), created_at=catalogue_created, updated_at=catalogue_created)
                for lid in shop.location_ids
            }
            if sku in NOT_STOCKED_AT_SECOND_LOCATION and len(shop.location_ids) > 1:
                del levels[shop.location_ids[1]]
            item = InventoryItem(
                id=world.ids.next("inventory_item"),
                sku=sku,
                levels=levels,
                created_at=catalogue_created,
                updated_at=catalogue_created,
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
                created_at=catalogue_created,
                updated_at=catalogue_created,
            )
            item.variant_id = variant.id
            world.variants[variant.id] = variant
            product.variant_ids.append(variant.id)
        world.products[product.id] = product
        shop.product_ids.append(product.id)
    seeded = []
    for n in range(orders):
        # Spread creation over the last 50 days, oldest first, so ids and created_at grow together.
        created = now - (50 * DAY) + n * (50 * DAY // orders) + rng.randrange(0, 3600)
        seeded.append(create_order(world, shop, created, rng, state=STATES[n % len(STATES)], now=now))
    # The seeded orders' unshipped units are committed stock (the drawn levels stay what is available).
    for order in seeded:
        for li in order.line_items:
            item = world.inventory_items[world.variants[li.variant_id].inventory_item_id]
            level = item.levels.get(world.fulfillment_orders[li.fulfillment_order_id].location_id)
            if level is not None:
                level.committed += order.remaining(li)
    return shop


def pick_location(world: World, shop: Shop, sku: str, quantity: int) -> int:
    """Where a sale is routed: the first location stocking the SKU with enough available, else the first
    stocking it, else the shop's first location."""
    variant = world.variant_by_sku(shop.id, sku)
    if variant is None:
        raise KeyError(sku)
    levels = world.inventory_items[variant.inventory_item_id].levels
    stocked = [lid for lid in shop.location_ids if lid in levels]
    for lid in stocked:
        if levels[lid].available >= quantity:
            return lid
    return stocked[0] if stocked else shop.location_ids[0]


def create_order(
    world: World,
    shop: Shop,
    created: float,
    rng: random.Random,
    state: str = "open",
    lines: list[tuple[str, int]] | None = None,
    now: float | None = None,
    locations: list[int] | None = None,
    email: str | None = None,
) -> Order:
    """Create one order; `lines` are (sku, quantity), else 1-3 random variants of the shop. `locations` gives
    each line's location (default: the shop's first; "split" moves lines 2+ to the second location). Lines are
    grouped into one fulfillment order per location (§4). Inventory and webhooks are the caller's (ops)."""
    variants = world.shop_variants(shop.id)
    if lines is None:
        picked = rng.sample(variants, rng.randint(1, 3))
        lines = [(v.sku, rng.randint(1, 3)) for v in picked]
    items: list[LineItem] = []
    for sku, qty in lines:
        variant = world.variant_by_sku(shop.id, sku)
        if variant is None:
            raise KeyError(sku)
        if qty < 1:
            raise ValueError(f"quantity of {sku} must be at least 1")
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
    if locations is None:
        locations = [shop.location_ids[0]] * len(items)
        if state == "split" and len(shop.location_ids) > 1:
            second = shop.location_ids[1]
            for i, li in enumerate(items[1:], start=1):
                item = world.inventory_items[world.variants[li.variant_id].inventory_item_id]
                if second in item.levels:
                    locations[i] = second
    name, addr1, city, prov, zip_code, country = rng.choice(BUYERS)
    order = Order(
        id=world.ids.next("order"),
        shop_id=shop.id,
        number=shop.next_order_number,
        created_at=created,
        updated_at=created,
        currency=shop.currency,
        shipping_address=Address(name, addr1, city, prov, zip_code, country, phone="+1 555 0100"),
        line_items=items,
        shipping_price=Decimal("4.99") if shop.currency == "USD" else Decimal("3.99"),
        email=email or f"{name.split()[0].lower()}@example.com",
    )
    for location_id in dict.fromkeys(locations):
        fo = FulfillmentOrder(
            id=world.ids.next("fulfillment_order"),
            order_id=order.id,
            shop_id=shop.id,
            location_id=location_id,
            line_item_ids=[li.id for li, loc in zip(items, locations, strict=True) if loc == location_id],
            created_at=created,
            updated_at=created,
        )
        world.fulfillment_orders[fo.id] = fo
        order.fulfillment_order_ids.append(fo.id)
        for li in items:
            if li.id in fo.line_item_ids:
                li.fulfillment_order_id = fo.id
    shop.next_order_number += 1
    world.orders[order.id] = order
    at = created + rng.randrange(600, 5 * DAY)
    apply_state(world, order, state, min(at, now) if now is not None and now > created else at)
    return order


def seed_tracking(order: Order, n: int) -> list[Tracking]:
    # Deterministic (no draw from the seed's RNG), so adding fulfillments does not move the rest of the seed.
    number = f"1Z999AA1{(order.id * 7 + n) % 10**8:08d}"
    return [Tracking("UPS", number, f"https://www.ups.com/track?tracknum={number}")]


def apply_state(world: World, order: Order, state: str, at: float) -> None:
    """Move a fresh order into one of the seeded states, touching updated_at as Shopify would."""
    if state in ("open", "split"):
        return
    if state == "partial":
        first = order.line_items[0]
        if len(order.line_items) == 1 and first.current_quantity == 1:
            # One unit cannot be partly shipped: make it two so the order is really partial.
            first.current_quantity = first.quantity = 2
        qty = max(1, first.current_quantity - 1)
        fo = world.fulfillment_orders[first.fulfillment_order_id]
        ops.fulfil(world, order, [(fo, first, qty)], seed_tracking(order, 1), at, origin="seed", adjust_inventory=False)
    elif state == "fulfilled":
        for n, fo_id in enumerate(order.fulfillment_order_ids, start=1):
            fo = world.fulfillment_orders[fo_id]
            quantities = [(fo, li, li.current_quantity) for li in world.fo_lines(fo)]
            ops.fulfil(world, order, quantities, seed_tracking(order, n), at, origin="seed", adjust_inventory=False)
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
    elif state == "on_hold":
        fo = world.fulfillment_orders[order.fulfillment_order_ids[0]]
        ops.hold(world, fo, "INCORRECT_ADDRESS", "Buyer to confirm the apartment number", at)
    else:
        raise ValueError(f"unknown order state {state!r}")
    order.updated_at = at
