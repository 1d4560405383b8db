"""A realistic month for one US shop, for compliance reports: a few hundred orders over the last 30 days, most on
TikTok Shipping labels, some Fulfilled by TikTok, some still on seller shipping (a few without tracking), some
dispatched after their ship-by deadline (`rts_sla_time`), some cancelled by the seller, buyer or system, and the
newest ones on hold or awaiting shipment, plus buyers whose orders can ship combined and multi-SKU orders that can split
(``_month_combine_and_split``). Control API: ``POST /sandbox/scenarios/month``.

Every order is coherent with the state machine at ``now`` (its status follows from the times drawn for it), so the
world's scheduled transitions do not rewrite the month on the next tick. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from . import data as ref
from .seed import ShopSpec, _attach_shipped_package, _buyer_address, create_seller, line_item
from .state import COLLECTION_DELAY, COMPLETE_DELAY, DAY, DELIVERY_DELAY, HOUR, REMORSE_SECONDS, LineItem, Order, World

MONTH_MIX = {"TIKTOK": 0.72, "SELLER": 0.18, "FBT": 0.10}
LATE_SHARE = 0.08  # dispatched after rts_sla_time
MISSING_TRACKING_SHARE = 0.12  # of seller-shipped orders: tracking never uploaded
CANCELLED_SHARE = 0.07
RECENT_SHARE = 0.05  # placed in the last three hours
CANCEL_REQUEST_SHARE = 0.25  # of orders awaiting shipment: the buyer asked to cancel


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    r = rng.random() * sum(mix.values())
    for key, weight in mix.items():
        r -= weight
        if r <= 0:
            return key
    return next(iter(mix))


def _lines(world: World, shop: Any, rng: random.Random) -> list[LineItem]:
    products = [p for p in shop.products if p.status == "ACTIVATE" and not p.title.startswith("Standing")]
    lines = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        product = rng.choice(products)
        sku = rng.choice(product.skus)
        lines += [line_item(world, shop, product, sku) for _ in range(1 if rng.random() < 0.8 else 2)]
    return lines


def _shipped_status(rts: int, now: int) -> str:
    if now < rts + COLLECTION_DELAY:
        return "AWAITING_COLLECTION"
    if now < rts + COLLECTION_DELAY + DELIVERY_DELAY:
        return "IN_TRANSIT"
    if now < rts + COLLECTION_DELAY + DELIVERY_DELAY + COMPLETE_DELAY:
        return "DELIVERED"
    return "COMPLETED"


def _month_order(world: World, shop: Any, rng: random.Random, now: int, days: int) -> Order:
    ship = _pick(rng, MONTH_MIX)
    fbt = ship == "FBT"
    wh = shop.warehouses[0]
    options = [o for o in shop.delivery_options if o.warehouse_id == wh.id]
    if fbt:
        option = next(o for o in options if o.fulfilled_by_tiktok)
    elif ship == "SELLER":
        option = next(o for o in options if o.type == "SEND_BY_SELLER")
    else:
        option = options[0]  # Standard Shipping
    # A few of today's newest orders are still unpaid or in the buyer's remorse window (ON_HOLD).
    recent = rng.random() < RECENT_SHARE
    create = now - (rng.randrange(60, 3 * HOUR) if recent else rng.randrange(3 * HOUR, days * DAY - 2 * HOUR))
    lines = _lines(world, shop, rng)
    sub_total = sum(float(li.sale_price) for li in lines)
    o = Order(
        id=world.ids.next("order"),
        shop_id=shop.id,
        status="UNPAID",
        shipping_type="SELLER" if ship == "SELLER" else "TIKTOK",
        fulfillment_type="FULFILLMENT_BY_TIKTOK" if fbt else "FULFILLMENT_BY_SELLER",
        warehouse_id=wh.id,
        delivery_option_id=option.id,
        delivery_option_name=option.name,
        user_id=world.ids.next("buyer"),
        buyer_email="",
        address=_buyer_address(rng, shop, allow_bad=ship == "TIKTOK"),
        line_items=lines,
        create_time=create,
        update_time=create,
        currency=shop.currency,
        shipping_fee="0.00" if sub_total >= 35 else rng.choice(["5.99", "4.99", "7.99"]),
    )
    o.buyer_email = f"v{o.user_id[-10:]}@scs.tiktokw.us"
    o.cancel_order_sla_time = create + 24 * HOUR
    paid = create + rng.randrange(10, 300)
    if recent and paid >= now - 20 * 60 and rng.random() < 0.5:  # just placed, not paid yet
        world.add_order(o)
        return o
    o.paid_time = paid
    world._set_deadlines(o, paid)
    released = paid + REMORSE_SECONDS
    if rng.random() < CANCELLED_SHARE:
        initiator = _pick(rng, {"SELLER": 0.4, "BUYER": 0.4, "SYSTEM": 0.2})
        reasons = {
            "SELLER": ref.CANCEL_REASONS_SELLER,
            "BUYER": ref.CANCEL_REASONS_BUYER,
            "SYSTEM": ref.CANCEL_REASONS_SYSTEM,
        }[initiator]
        o.status, o.cancellation_initiator, o.cancel_reason = "CANCELLED", initiator, rng.choice(reasons)
        o.cancel_time = min(now - 1, paid + rng.randrange(600, DAY))
        for li in lines:
            li.package_status, li.cancel_user, li.cancel_reason = "CANCELLED", initiator, o.cancel_reason
        o.update_time = o.cancel_time
        world.add_order(o)
        return o
    if now < released:
        o.status, o.update_time = "ON_HOLD", paid  # the buyer's remorse window
        world.add_order(o)
        return o
    late = rng.random() < LATE_SHARE
    rts = o.rts_sla_time + rng.randrange(HOUR, 30 * HOUR) if late else released + rng.randrange(HOUR, 40 * HOUR)
    if rts >= now:  # not shipped yet
        o.status, o.update_time = "AWAITING_SHIPMENT", released
        if rng.random() < CANCEL_REQUEST_SHARE:
            o.is_buyer_request_cancel = True
            o.request_cancel_time = min(now - 60, released + rng.randrange(60, 3 * HOUR))
            o.cancel_reason = rng.choice(ref.CANCEL_REASONS_BUYER)
            o.update_time = o.request_cancel_time
        world.add_order(o)
        return o
    o.status = _shipped_status(rts, now)
    o.rts_time = rts
    if fbt:
        o.update_time = rts
    else:
        _attach_shipped_package(world, shop, o, lines, rts, rng, o.status)
        if o.shipping_type == "SELLER" and rng.random() < MISSING_TRACKING_SHARE:
            for pid in o.package_ids:  # shipped, but the seller never uploaded a tracking number
                world.packages[pid].tracking_number = ""
            for li in lines:
                li.tracking_number = ""
        o.update_time = rts
    if o.status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
        o.collection_time = rts + COLLECTION_DELAY
        o.update_time = o.collection_time
    if o.status in ("DELIVERED", "COMPLETED"):
        o.delivery_time = o.collection_time + DELIVERY_DELAY
        o.update_time = o.delivery_time
    if o.status == "COMPLETED":
        o.update_time = o.delivery_time + COMPLETE_DELAY
    o.update_time = min(o.update_time, now - 1)
    world.add_order(o)
    return o


def seed_month(
    world: World, now: int, *, name: str = "Dropline Month US", orders: int = 300, days: int = 30, seed: int = 7
) -> dict[str, Any]:
    """A new US seller with one shop and `orders` orders placed over the last `days` days."""
    if not 0 < orders <= 20_000 or not 2 <= days <= 60:
        raise ValueError("orders must be in 1..20000 and days in 2..60")
    seller = create_seller(world, name, "US", [ShopSpec(f"{name} Shop", "US", "LOCAL", warehouses=1)], now)
    shop = world.shops[seller.shop_ids[0]]
    rng = random.Random(seed)
    created = [_month_order(world, shop, rng, now, days) for _ in range(orders)]
    parcels = _month_combine_and_split(world, shop, random.Random(seed * 7919 + 1), now, orders)
    created += [world.orders[oid] for group in parcels["combinable_groups"] for oid in group]
    created += [world.orders[oid] for oid in parcels["splittable_orders"]]
    counts: dict[str, int] = {}
    for o in created:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {"seller_id": seller.id, "shop_id": shop.id, "orders": len(created), "by_status": counts, **parcels}


# ---------------------------------------------------------------------- combined and split parcels
def _awaiting_order(
    world: World, shop: Any, rng: random.Random, now: int, user_id: str, address: Any, lines: list[LineItem]
) -> Order:
    """A TikTok Shipping order paid today, out of its remorse window, not shipped yet (AWAITING_SHIPMENT)."""
    wh = shop.warehouses[0]
    option = next(o for o in shop.delivery_options if o.warehouse_id == wh.id and o.type == "STANDARD")
    create = now - rng.randrange(3 * HOUR, 30 * HOUR)
    sub_total = sum(float(li.sale_price) for li in lines)
    o = Order(
        id=world.ids.next("order"),
        shop_id=shop.id,
        status="AWAITING_SHIPMENT",
        shipping_type="TIKTOK",
        fulfillment_type="FULFILLMENT_BY_SELLER",
        warehouse_id=wh.id,
        delivery_option_id=option.id,
        delivery_option_name=option.name,
        user_id=user_id,
        buyer_email=f"v{user_id[-10:]}@scs.tiktokw.us",
        address=address,
        line_items=lines,
        create_time=create,
        update_time=create,
        currency=shop.currency,
        shipping_fee="0.00" if sub_total >= 35 else "5.99",
    )
    o.cancel_order_sla_time = create + 24 * HOUR
    o.paid_time = create + rng.randrange(10, 300)
    world._set_deadlines(o, o.paid_time)
    o.update_time = o.paid_time + REMORSE_SECONDS
    world.add_order(o)
    return o


def _month_combine_and_split(
    world: World, shop: Any, rng: random.Random, now: int, orders: int
) -> dict[str, list[Any]]:
    """Buyers with two or three orders to one address awaiting shipment (Search Combinable Packages offers them),
    and multi-item orders of different SKUs awaiting shipment (Get Order Split Attributes says they can split).
    Its own RNG, so the rest of the month is the same with or without it."""
    products = [p for p in shop.products if p.status == "ACTIVATE" and not p.title.startswith("Standing")]
    groups: list[list[str]] = []
    for _ in range(max(2, orders // 50)):
        user_id, address = world.ids.next("buyer"), _buyer_address(rng, shop, allow_bad=False)
        group = []
        for _ in range(rng.choice((2, 2, 3))):
            product = rng.choice(products)
            lines = [line_item(world, shop, product, rng.choice(product.skus))]
            group.append(_awaiting_order(world, shop, rng, now, user_id, copy.deepcopy(address), lines).id)
        groups.append(group)
    splittable: list[str] = []
    for _ in range(max(2, orders // 60)):
        first, second = rng.sample(products, 2)
        lines = [line_item(world, shop, first, first.skus[0]) for _ in range(2)]
        lines.append(line_item(world, shop, second, second.skus[0]))
        address = _buyer_address(rng, shop, allow_bad=False)
        splittable.append(_awaiting_order(world, shop, rng, now, world.ids.next("buyer"), address, lines).id)
    return {"combinable_groups": groups, "splittable_orders": splittable}
