"""Deterministic world generation: sellers, shops, catalogue and orders in every status."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from . import aftersale
from . import data as ref
from .state import (
    COLLECTION_DELAY,
    COMPLETE_DELAY,
    DAY,
    DELIVERY_DELAY,
    HOUR,
    REMORSE_SECONDS,
    UNPAID_CANCEL_SECONDS,
    Address,
    DeliveryOption,
    FbtGoods,
    FbtStock,
    FbtWarehouse,
    LineItem,
    Order,
    Package,
    Product,
    Seller,
    Shop,
    ShopIndex,
    Sku,
    Warehouse,
    World,
)

DEFAULT_STATUS_MIX: dict[str, float] = {
    "UNPAID": 0.05,
    "ON_HOLD": 0.07,
    "AWAITING_SHIPMENT": 0.30,
    "PARTIALLY_SHIPPING": 0.03,
    "AWAITING_COLLECTION": 0.10,
    "IN_TRANSIT": 0.10,
    "DELIVERED": 0.10,
    "COMPLETED": 0.15,
    "CANCELLED": 0.10,
}
DEFAULT_SHIPPING_MIX: dict[str, float] = {"TIKTOK": 0.80, "SELLER": 0.15, "FBT": 0.05}


@dataclass
class ShopSpec:
    name: str
    region: str = "US"
    seller_type: str = "LOCAL"
    warehouses: int = 1
    label_allocation: bool = False


def _cipher(rng: random.Random, region: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "GCP_" if region == "US" else "ROW_"
    return prefix + "".join(rng.choice(alphabet) for _ in range(32))


def _warehouse_address(rng: random.Random, region: str, n: int) -> Address:
    if region == "US":
        line1, line2, city, state, code, postal, area = ref.US_ADDRESSES[(n * 5 + 3) % len(ref.US_ADDRESSES)]
        return Address(
            "Dropline",
            f"Warehouse {n + 1}",
            f"(+1){area}-555-{1000 + n:04d}",
            line1,
            line2,
            city,
            state,
            code,
            postal,
            "US",
            "United States",
        )
    line1, line2, city, state, county, postal, area = ref.UK_ADDRESSES[n % len(ref.UK_ADDRESSES)]
    return Address(
        "Dropline",
        f"Warehouse {n + 1}",
        f"(+44){area}-555-{1000 + n:04d}",
        line1,
        line2,
        city,
        county,
        state,
        postal,
        "GB",
        "United Kingdom",
    )


def create_seller(
    world: World,
    name: str,
    base_region: str,
    shops: list[ShopSpec],
    now: int,
    products_per_shop: int = len(ref.CATALOGUE),
) -> Seller:
    rng = world.rng
    seller = Seller(id=world.ids.next("seller"), name=name, base_region=base_region, shop_ids=[])
    world.sellers[seller.id] = seller
    for spec in shops:
        shop_id = world.ids.next("shop")
        currency = "USD" if spec.region == "US" else "GBP"
        shop = Shop(
            id=shop_id,
            cipher=_cipher(rng, spec.region),
            code=f"{spec.region}LC{shop_id[-8:]}",
            name=spec.name,
            region=spec.region,
            seller_type=spec.seller_type,
            seller_id=seller.id,
            currency=currency,
            label_allocation=spec.label_allocation,
        )
        world.shops[shop.id] = shop
        world.shops_by_cipher[shop.cipher] = shop
        world.index[shop.id] = ShopIndex()
        seller.shop_ids.append(shop.id)
        for n in range(spec.warehouses):
            wh = Warehouse(
                id=world.ids.next("warehouse"),
                shop_id=shop.id,
                name=f"{spec.name} WH{n + 1}",
                address=_warehouse_address(rng, spec.region, len(world.warehouses)),
                is_default=n == 0,
            )
            shop.warehouses.append(wh)
            world.warehouses[wh.id] = wh
            providers = ref.US_PROVIDERS if spec.region == "US" else ref.UK_PROVIDERS
            for oname, otype, desc, provs, fbt in (
                ("Standard Shipping", "STANDARD", "Delivered in 3-5 business days", providers, False),
                ("Express Shipping", "EXPRESS", "Delivered in 1-2 business days", providers, False),
                ("Seller Shipping", "SEND_BY_SELLER", "Seller ships with own carrier", providers, False),
                ("Fulfilled by TikTok", "STANDARD", "Fulfilled by TikTok warehouses", [], True),
            ):
                opt = DeliveryOption(
                    id=world.ids.next("delivery"),
                    warehouse_id=wh.id,
                    name=oname,
                    type=otype,
                    description=desc,
                    providers=list(provs),
                    fulfilled_by_tiktok=fbt,
                )
                shop.delivery_options.append(opt)
                world.delivery_options[opt.id] = opt
        for title, variants in ref.CATALOGUE[:products_per_shop]:
            pid = world.ids.next("product")
            # One product is deactivated so Update Inventory's ACTIVATE rule can be exercised.
            status = "SELLER_DEACTIVATED" if title.startswith("Bluetooth") else "ACTIVATE"
            product = Product(
                id=pid,
                shop_id=shop.id,
                title=title,
                status=status,
                skus=[],
                create_time=now - 90 * DAY,
                update_time=now - 30 * DAY,
            )
            for sku_name, suffix, price, weight, dims in variants:
                whs = shop.warehouses
                # The cardigan lives in every warehouse (multi-warehouse SKU); others only in the default one.
                assigned = whs if title.startswith("Women's") else whs[:1]
                sku = Sku(
                    id=world.ids.next("sku"),
                    product_id=pid,
                    name=sku_name,
                    seller_sku=f"{title.split()[0].upper().strip(chr(39) + 'S')}-{suffix}",
                    price=price if spec.region == "US" else f"{float(price) * 0.8:.2f}",
                    currency=currency,
                    weight_lb=weight,
                    dims_in=dims,
                    inventory={w.id: rng.randrange(5, 400) for w in assigned},
                )
                product.skus.append(sku)
                world.skus[sku.id] = sku
            shop.products.append(product)
            world.products[pid] = product
    return seller


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    r = rng.random() * sum(mix.values())
    for key, weight in mix.items():
        r -= weight
        if r <= 0:
            return key
    return next(iter(mix))


def _buyer_address(rng: random.Random, shop: Shop, allow_bad: bool) -> Address:
    first, last = rng.choice(ref.FIRST_NAMES), rng.choice(ref.LAST_NAMES)
    if shop.region != "US":
        line1, line2, city, country_part, county, postal, area = rng.choice(ref.UK_ADDRESSES)
        return Address(
            first,
            last,
            f"(+44){area}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            line1,
            line2,
            city,
            county,
            country_part,
            postal,
            "GB",
            "United Kingdom",
        )
    if allow_bad and rng.random() < 0.04:
        kind, line1, line2, city, state, code, postal, area = rng.choice(ref.BAD_US_ADDRESSES)
        return Address(
            first,
            last,
            f"(+1){area}-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
            line1,
            line2,
            city,
            state,
            code,
            postal,
            "US",
            "United States",
            bad_reason=kind,
        )
    line1, line2, city, state, code, postal, area = rng.choice(ref.US_ADDRESSES)
    return Address(
        first,
        last,
        f"(+1){area}-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        line1,
        line2,
        city,
        state,
        code,
        postal,
        "US",
        "United States",
    )


def line_item(world: World, shop: Shop, product: Any, sku: Any) -> LineItem:
    """One unit of `sku` at its list price (TikTok repeats a line item per unit)."""
    return LineItem(
        id=world.ids.next("line"),
        sku_id=sku.id,
        product_id=product.id,
        product_name=product.title,
        sku_name=sku.name,
        seller_sku=sku.seller_sku,
        original_price=sku.price,
        sale_price=sku.price,
        currency=shop.currency,
    )


def make_order(
    world: World,
    shop: Shop,
    rng: random.Random,
    status: str,
    ship: str,
    now: int,
    index: bool = True,
    items: list[tuple[Product, Sku]] | None = None,
) -> Order:
    """Build one coherent order in ``status`` (times placed relative to ``now``) and add it to the world. ``items``:
    the (product, SKU) pairs its lines are drawn from (default: any active product's SKUs)."""
    products = [p for p in shop.products if p.status == "ACTIVATE" and not p.title.startswith("Standing")]
    if rng.random() < 0.02:
        products = [p for p in shop.products if p.title.startswith("Standing")] or products  # oversize item
    fbt = ship == "FBT"
    shipping_type = "SELLER" if ship == "SELLER" else "TIKTOK"
    wh = shop.warehouses[0] if len(shop.warehouses) == 1 or rng.random() < 0.7 else shop.warehouses[1]
    opts = [o for o in shop.delivery_options if o.warehouse_id == wh.id]
    opt = (
        next(o for o in opts if o.fulfilled_by_tiktok)
        if fbt
        else next(o for o in opts if o.type == "SEND_BY_SELLER")
        if shipping_type == "SELLER"
        else opts[1]
        if rng.random() < 0.15
        else opts[0]
    )
    lines: list[LineItem] = []
    n_distinct = 1 if rng.random() < 0.7 else 2
    for _ in range(n_distinct):
        if items:
            product, sku = rng.choice(items)
        else:
            product = rng.choice(products)
            sku = rng.choice(product.skus)
        units = 1 if rng.random() < 0.75 else rng.randrange(2, 4)  # multi-unit = repeated line items
        lines += [line_item(world, shop, product, sku) for _ in range(units)]
    if status == "PARTIALLY_SHIPPING" and len(lines) < 2:
        lines.append(replace(lines[0], id=world.ids.next("line")))
    # Work out the timeline backwards from the status.
    age = {
        "UNPAID": rng.randrange(60, 6 * HOUR),
        "ON_HOLD": rng.randrange(120, REMORSE_SECONDS - 300),
        "AWAITING_SHIPMENT": rng.randrange(REMORSE_SECONDS + 600, 2 * DAY),
        "PARTIALLY_SHIPPING": rng.randrange(REMORSE_SECONDS + 3 * HOUR, 2 * DAY),
        "AWAITING_COLLECTION": rng.randrange(REMORSE_SECONDS + 2 * HOUR, REMORSE_SECONDS + 11 * HOUR),
        "IN_TRANSIT": rng.randrange(
            REMORSE_SECONDS + COLLECTION_DELAY + HOUR, REMORSE_SECONDS + COLLECTION_DELAY + DELIVERY_DELAY - HOUR
        ),
        "DELIVERED": rng.randrange(
            REMORSE_SECONDS + COLLECTION_DELAY + DELIVERY_DELAY + HOUR,
            REMORSE_SECONDS + COLLECTION_DELAY + DELIVERY_DELAY + COMPLETE_DELAY - HOUR,
        ),
        "COMPLETED": rng.randrange(15 * DAY, 60 * DAY),
        "CANCELLED": rng.randrange(HOUR, 30 * DAY),
    }[status]
    create = now - age
    sub_total = sum(float(li.sale_price) for li in lines)
    shipping_fee = "0.00" if sub_total >= 35 else ("5.99" if shop.is_us else "2.99")
    o = Order(
        id=world.ids.next("order"),
        shop_id=shop.id,
        status=status,
        shipping_type=shipping_type,
        fulfillment_type="FULFILLMENT_BY_TIKTOK" if fbt else "FULFILLMENT_BY_SELLER",
        warehouse_id=wh.id,
        delivery_option_id=opt.id,
        delivery_option_name=opt.name,
        user_id=world.ids.next("buyer"),
        buyer_email="",
        address=_buyer_address(rng, shop, allow_bad=not fbt and shipping_type == "TIKTOK"),
        line_items=lines,
        create_time=create,
        update_time=create,
        currency=shop.currency,
        shipping_fee=shipping_fee,
    )
    o.buyer_email = f"v{o.user_id[-10:]}@scs.tiktokw.us" if shop.is_us else f"v{o.user_id[-10:]}@scs.tiktokw.eu"
    if rng.random() < 0.25:
        o.buyer_message = rng.choice(ref.BUYER_MESSAGES)
    o.cancel_order_sla_time = create + UNPAID_CANCEL_SECONDS
    if status != "UNPAID" and not (status == "CANCELLED" and rng.random() < 0.3):
        paid = create + rng.randrange(10, 300)
        o.paid_time = paid
        world._set_deadlines(o, paid)
    t = (o.paid_time or create) + REMORSE_SECONDS
    if status in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING") and rng.random() < 0.08:
        requested = min(now - 60, t + rng.randrange(60, 3 * HOUR))
        aftersale.open_buyer_cancel(world, o, requested, rng.choice(ref.CANCEL_REASONS_BUYER), emit=False)
    if status == "CANCELLED":
        initiator = rng.choice(["BUYER", "SELLER", "SYSTEM"])
        reasons = {
            "BUYER": ref.CANCEL_REASONS_BUYER,
            "SELLER": ref.CANCEL_REASONS_SELLER,
            "SYSTEM": ref.CANCEL_REASONS_SYSTEM,
        }[initiator]
        o.cancellation_initiator, o.cancel_reason = initiator, rng.choice(reasons)
        o.cancel_time = min(now - 1, create + rng.randrange(600, 3 * DAY))
        for li in lines:
            li.package_status, li.cancel_user, li.cancel_reason = "CANCELLED", initiator, o.cancel_reason
        o.update_time = o.cancel_time
        aftersale.seed_past_cancellation(world, o)
    elif status not in ("UNPAID", "ON_HOLD"):
        o.update_time = min(now - 1, t)
    if status == "ON_HOLD":
        o.update_time = o.paid_time
    # Shipped states get a package (and label / tracking) already.
    shipped_lines = {"PARTIALLY_SHIPPING": lines[:1]}.get(status, lines)
    if status in ("PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED") and not fbt:
        rts = min(now - 60, t + rng.randrange(HOUR, 2 * HOUR))
        if status == "AWAITING_COLLECTION":
            rts = min(now - 60, max(rts, now - COLLECTION_DELAY + HOUR))
        _attach_shipped_package(world, shop, o, shipped_lines, rts, rng, status)
        o.rts_time = rts
        o.update_time = max(o.update_time, rts)
        if status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
            o.collection_time = rts + COLLECTION_DELAY
            o.update_time = o.collection_time
        if status in ("DELIVERED", "COMPLETED"):
            o.delivery_time = o.collection_time + DELIVERY_DELAY
            o.update_time = o.delivery_time
        if status == "COMPLETED":
            o.update_time = o.delivery_time + COMPLETE_DELAY
        o.update_time = min(o.update_time, now - 1)
    elif fbt and status in ("IN_TRANSIT", "DELIVERED", "COMPLETED", "AWAITING_COLLECTION"):
        o.rts_time = t + HOUR
        o.update_time = min(now - 1, o.rts_time)
    if status == "IN_TRANSIT" and not o.collection_time:
        o.collection_time = min(now - 60, t + COLLECTION_DELAY)
    if status == "DELIVERED" and not o.delivery_time:
        o.delivery_time = min(now - 60, t + COLLECTION_DELAY + DELIVERY_DELAY)
    if o.paid_time and status not in ("CANCELLED",):
        world._create_row_packages(o, o.paid_time)
    world.add_order(o, index=index)
    return o


def _attach_shipped_package(
    world: World, shop: Shop, o: Order, lines: list[LineItem], rts: int, rng: random.Random, status: str
) -> None:
    if o.shipping_type == "TIKTOK" and shop.is_us:
        svc = ref.US_SERVICES[rng.randrange(len(ref.US_SERVICES) - 1)]
        prov_id, prov = svc[2], svc[3]
        service = {
            "id": svc[0],
            "name": svc[1],
            "price": f"{svc[4] + svc[5]:.2f}",
            "currency": "USD",
            "earliest_delivery_days": svc[8],
            "latest_delivery_days": svc[9],
            "shipping_provider_id": prov_id,
            "shipping_provider_name": prov,
        }
    else:
        provs = ref.US_PROVIDERS if shop.is_us else ref.UK_PROVIDERS
        prov_id, prov = provs[rng.randrange(len(provs))]
        service = None
    pkg_status = {
        "PARTIALLY_SHIPPING": "PROCESSING",
        "AWAITING_COLLECTION": "PROCESSING",
        "IN_TRANSIT": "FULFILLING",
    }.get(status, "COMPLETED")
    line_status = {"PROCESSING": "PROCESSING", "FULFILLING": "FULFILLING"}.get(pkg_status, "COMPLETED")
    existing = [world.packages[p] for p in o.package_ids]
    pkg = (
        existing[0]
        if existing
        else Package(
            id=world.ids.next("package"),
            shop_id=shop.id,
            order_id=o.id,
            line_item_ids=[li.id for li in lines],
            shipping_type=o.shipping_type,
            status=pkg_status,
            create_time=rts,
            update_time=rts,
        )
    )
    pkg.status, pkg.shipped, pkg.rts_time, pkg.update_time = pkg_status, True, rts, rts
    pkg.tracking_number = world.new_tracking(prov)
    pkg.shipping_provider_id, pkg.shipping_provider_name, pkg.service = prov_id, prov, service
    pkg.handover_method = "DROP_OFF"
    pkg.tracking_events.append((rts, "Shipping label created"))
    if status != "PARTIALLY_SHIPPING" and pkg_status != "PROCESSING":
        pkg.tracking_events.append((rts + COLLECTION_DELAY, "Package picked up by carrier"))
    if pkg_status == "COMPLETED":
        pkg.tracking_events.append((rts + COLLECTION_DELAY + DELIVERY_DELAY, "Your package was delivered!"))
    if not existing:
        world.packages[pkg.id] = pkg
        o.package_ids.append(pkg.id)
    for li in lines:
        li.package_id, li.package_status, li.tracking_number = pkg.id, line_status, pkg.tracking_number
        li.shipping_provider_id, li.shipping_provider_name, li.rts_time = prov_id, prov, rts
    world.tracking_use[pkg.tracking_number] = world.tracking_use.get(pkg.tracking_number, 0) + 1


def bulk_create_orders(
    world: World,
    shop: Shop,
    count: int,
    now: int,
    seed: int | None = None,
    status_mix: dict[str, float] | None = None,
    shipping_mix: dict[str, float] | None = None,
) -> list[Order]:
    rng = random.Random(seed if seed is not None else world.rng.randrange(1 << 30))
    smix = status_mix or DEFAULT_STATUS_MIX
    shmix = shipping_mix or DEFAULT_SHIPPING_MIX
    if not shop.is_us:
        shmix = {k: v for k, v in shmix.items() if k != "FBT"} or {"TIKTOK": 1.0}
    orders = [make_order(world, shop, rng, _pick(rng, smix), _pick(rng, shmix), now, index=False) for _ in range(count)]
    world.index[shop.id].bulk_add(orders)
    return orders


def seed_default_world(world: World, now: int, orders_per_shop: int) -> dict[str, Any]:
    """Two sellers: a US LOCAL seller with two US shops, and a UK seller (ROW flow)."""
    us = create_seller(
        world,
        "Dropline Demo US",
        "US",
        [
            ShopSpec("Dropline Home US", "US", "LOCAL", warehouses=2),
            ShopSpec("Dropline Outlet US", "US", "LOCAL", warehouses=1, label_allocation=True),
        ],
        now,
    )
    uk = create_seller(world, "Dropline Demo UK", "GB", [ShopSpec("Dropline UK", "GB", "LOCAL", warehouses=1)], now)
    rng = random.Random(world.seed * 7 + 1)
    for shop_id in us.shop_ids + uk.shop_ids:
        shop = world.shops[shop_id]
        # Guarantee at least two orders in every status and shipping type, then a random mix.
        for status in DEFAULT_STATUS_MIX:
            for ship in ("TIKTOK", "SELLER"):
                make_order(world, shop, rng, status, ship, now)
        if shop.is_us:
            make_order(world, shop, rng, "AWAITING_SHIPMENT", "FBT", now)
        bulk_create_orders(world, shop, max(0, orders_per_shop - 19), now, seed=rng.randrange(1 << 30))
    for shop_id in us.shop_ids:
        seed_fbt(world, world.shops[shop_id])
        seed_fbt_orders(world, world.shops[shop_id], now)
    return {"sellers": [us.id, uk.id]}


FBT_SITES = (
    (
        "TikTok_Eastvale(CA)",
        {"postal_code": "92376", "region_code": "US", "state": "CA", "district": "San Bernardino", "city": "Rialto"},
        "1420 Tamarind Ave",
    ),
    (
        "TikTok_Lakeland(FL)",
        {"postal_code": "33811", "region_code": "US", "state": "FL", "district": "Polk", "city": "Lakeland"},
        "4301 Pipkin Rd W",
    ),
)
FBT_GOODS_PER_SHOP = 4


def seed_fbt(world: World, shop: Shop) -> FbtWarehouse:
    """One subscribed FBT warehouse for a US shop, goods matched to the first SKU of its first active products (the
    last of them out of stock but with units in transit), and one goods not matched to any SKU. Uses its own RNG and
    id kinds, so the rest of the world is the same with or without it."""
    rng = random.Random(world.seed * 31 + len(world.fbt_warehouses))
    name, place, line1 = FBT_SITES[len(world.fbt_warehouses) % len(FBT_SITES)]
    wh = FbtWarehouse(
        fbt_warehouse_id=world.ids.next("fbt_warehouse"),
        shop_id=shop.id,
        warehouse_ids=[world.ids.next("fbt_shop_warehouse")],
        name=name,
        address={**place, "address_line_1": line1, "address_line_2": "", "address_line_3": ""},
        logistics_services=[
            {
                "id": world.ids.next("fbt_shop_warehouse"),
                "name": "Fulfilled by TikTok Shop-Standard",
                "subscribed": True,
            }
        ],
    )
    world.fbt_warehouses.setdefault(shop.id, []).append(wh)
    active = [p for p in shop.products if p.status == "ACTIVATE"][:FBT_GOODS_PER_SHOP]
    for n, product in enumerate(active):
        sku = product.skus[0]
        goods = FbtGoods(
            id=world.ids.next("goods"),
            shop_id=shop.id,
            reference_code=sku.seller_sku,
            name=f"{product.title} - {sku.name}",
            sku_ids=[sku.id],
            weight_lb=sku.weight_lb,
            dims_in=sku.dims_in,
        )
        world.fbt_goods[goods.id] = goods
        last = n == len(active) - 1
        world.fbt_stock[(goods.id, wh.fbt_warehouse_id)] = FbtStock(
            goods_id=goods.id,
            fbt_warehouse_id=wh.fbt_warehouse_id,
            available=0 if last else rng.randrange(20, 300),
            reserved=0 if last else rng.randrange(0, 12),
            unfulfillable=0 if last else rng.randrange(0, 4),
            in_transit=rng.randrange(10, 60),
        )
    loose = FbtGoods(
        id=world.ids.next("goods"),
        shop_id=shop.id,
        reference_code=f"FBT-UNMATCHED-{shop.id[-4:]}",
        name="Unmatched FBT goods",
        sku_ids=[],
        weight_lb=1.0,
        dims_in=(6.0, 4.0, 2.0),
    )
    world.fbt_goods[loose.id] = loose
    world.fbt_stock[(loose.id, wh.fbt_warehouse_id)] = FbtStock(loose.id, wh.fbt_warehouse_id, 5, 0)
    return wh


# Orders per FBT goods over the last FBT_ORDER_DAYS days, by goods position: a fast seller, a steady one, a slow one,
# and the out-of-stock one (it sold until it ran out).
FBT_ORDERS_PER_GOODS = (14, 6, 2, 9)
FBT_ORDER_DAYS = 28


def seed_fbt_orders(world: World, shop: Shop, now: int) -> list[Order]:
    """Orders TikTok fulfils (FBT) of the SKUs its warehouse holds for this shop, placed over the last four weeks:
    delivered, in transit, a few still awaiting shipment and one cancelled, so sales velocity and "nothing to do"
    have something to show. Runs after everything else with its own RNG, so no earlier id changes."""
    rng = random.Random(world.seed * 37 + int(shop.id[-6:]))  # each shop its own pattern
    stocked = [g for g in world.fbt_goods.values() if g.shop_id == shop.id and g.sku_ids]
    orders = []
    for goods, count in zip(stocked, FBT_ORDERS_PER_GOODS, strict=False):
        sku = world.skus[goods.sku_ids[0]]
        item = [(world.products[sku.product_id], sku)]
        for n in range(count):
            if n == 0:
                status, placed_ago = "AWAITING_SHIPMENT", 0  # TikTok has it in hand now
            elif n == count - 1 and count > 5:
                status, placed_ago = "CANCELLED", rng.randrange(0, FBT_ORDER_DAYS * DAY)
            else:
                status = rng.choice(("IN_TRANSIT", "DELIVERED", "DELIVERED"))
                placed_ago = rng.randrange(0, FBT_ORDER_DAYS - 5) * DAY  # moves on to COMPLETED by itself
            orders.append(make_order(world, shop, rng, status, "FBT", now - placed_ago, items=item))
    return orders
