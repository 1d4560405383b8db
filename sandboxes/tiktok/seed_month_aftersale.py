"""The month scenario's after-sale side: cancellation requests (two close to their deadline, some already answered),
returns, refunds and replacements in several states, and a few address changes, with times that agree with the
orders' own (a return starts after the delivery, each step before the deadline that would have overtaken it).

The history is written with webhooks muted, then the world is ticked to ``now`` so that what was due in the past
(refunds completing, a return parcel arriving) has happened quietly too.
"""

from __future__ import annotations

import random
from typing import Any

from . import aftersale as A
from . import reasons
from .state import HOUR, Order, Shop, World

# (label, return type, hours ago it was asked for, then the later steps as (hours ago, step))
RETURN_STORIES: list[tuple[str, str, float, list[tuple[float, str]]]] = [
    ("refund pending", "REFUND", 10, []),
    ("return pending, deadline close", "RETURN_AND_REFUND", 46, []),
    ("return approved, awaiting the buyer's parcel", "RETURN_AND_REFUND", 60, [(40, "approve")]),
    ("return parcel at the warehouse", "RETURN_AND_REFUND", 120, [(108, "approve"), (96, "ship")]),
    ("return parcel on its way back", "RETURN_AND_REFUND", 50, [(44, "approve"), (20, "ship")]),
    ("refund completed", "REFUND", 72, [(60, "approve")]),
    ("refund rejected", "REFUND", 50, [(30, "reject")]),
    ("replacement pending", "REPLACEMENT", 6, []),
    ("replacement sent", "REPLACEMENT", 72, [(70, "approve")]),
    ("return withdrawn by the buyer", "RETURN_AND_REFUND", 48, [(24, "withdraw")]),
]


def seed_month_aftersale(world: World, shop: Shop, orders: list[Order], now: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed * 7919 + 11)
    on_event, world.on_event = world.on_event, None
    try:
        out = {
            "cancel_requests": _cancel_requests(world, orders, now),
            "returns": _returns(world, orders, now, rng),
            "address_changes": _address_changes(world, orders, now, rng),
        }
        world.tick(now)
    finally:
        world.on_event = on_event
    return out


def _free(world: World, o: Order) -> bool:
    return not world.aftersale.by_order.get(o.id) and o.fulfillment_type == "FULFILLMENT_BY_SELLER"


def _cancel_requests(world: World, orders: list[Order], now: int) -> dict[str, int]:
    """Up to two requests close to their deadline (asked 40-47 h ago), two rejected, two approved."""
    waiting = sorted(
        (o for o in orders if o.status == "AWAITING_SHIPMENT" and _free(world, o)),
        key=lambda o: o.paid_time,
    )
    counts = {"near_deadline": 0, "rejected": 0, "approved": 0}
    for o in waiting:
        released = o.paid_time + HOUR
        asked = max(released + 600, now - 47 * HOUR)
        if counts["near_deadline"] < 2 and asked <= now - 40 * HOUR and o.shipping_due_time > now + 8 * HOUR:
            A.open_buyer_cancel(world, o, asked, "Need to change payment method")
            counts["near_deadline"] += 1
        elif counts["rejected"] < 2 and released <= now - 22 * HOUR:
            c = A.open_buyer_cancel(world, o, now - 22 * HOUR, "Better price available")
            reason = "seller_reject_apply_product_has_been_packed"
            A.reject_cancellation(world, c, now - 21 * HOUR, reason, "Packed before the request arrived")
            counts["rejected"] += 1
        elif counts["approved"] < 2 and released <= now - 12 * HOUR:
            c = A.open_buyer_cancel(world, o, now - 12 * HOUR, "Bought by mistake")
            A.approve_cancellation(world, c, now - 11 * HOUR, by="SELLER")
            counts["approved"] += 1
    return counts


def _returns(world: World, orders: list[Order], now: int, rng: random.Random) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label, return_type, asked_hours, steps in RETURN_STORIES:
        asked = now - int(asked_hours * HOUR)
        allowed = ("DELIVERED",) if return_type != "REFUND" else ("DELIVERED", "IN_TRANSIT")
        candidates = [
            o
            for o in orders
            if o.status in allowed
            and _free(world, o)
            and (o.delivery_time or o.collection_time)
            and (o.delivery_time or o.collection_time) < asked
        ]
        if not candidates:
            continue
        o = rng.choice(candidates)
        reason = {
            "REFUND": "Damaged item or packaging",
            "RETURN_AND_REFUND": rng.choice(["No longer needed", "Item doesn't fit", "Defective item"]),
            "REPLACEMENT": "Defective item",
        }[return_type]
        kind = "buyer_refund" if return_type == "REFUND" else "buyer_return"
        name = reasons.resolve(world.shops[o.shop_id].region, (kind,), reason, o.status)
        lines = [li.id for li in o.line_items if li.package_status != "CANCELLED"]
        r = A.open_return(world, o, asked, return_type=return_type, reason=name, line_ids=lines[:1] or lines)
        for hours_ago, step in steps:
            at = now - int(hours_ago * HOUR)
            _step(world, r, step, at)
        counts[label] = 1
    return counts


def _step(world: World, r: A.ReturnRequest, step: str, at: int) -> None:
    if step == "approve":
        decision = {
            "REFUND": "APPROVE_REFUND",
            "RETURN_AND_REFUND": "APPROVE_RETURN",
            "REPLACEMENT": "APPROVE_REPLACEMENT",
        }[r.return_type]
        A.approve_return(world, r, at, decision, buyer_keep_item=False, partial=None)
    elif step == "reject":
        A.reject_return(world, r, at, "REJECT_REFUND", "reverse_reject_request_reason_4", "Still in transit")
    elif step == "ship":
        A.ship_return(world, r, at, world.new_tracking("USPS"), ("7117858858072016686", "USPS"))
    elif step == "withdraw":
        A.cancel_return(world, r, at)


def _address_changes(world: World, orders: list[Order], now: int, rng: random.Random) -> int:
    """Two buyers fixed their address before the label, one after it (the label shows the old address)."""
    picked = [o for o in orders if o.status == "AWAITING_SHIPMENT" and _free(world, o)][:2]
    picked += [o for o in orders if o.status == "AWAITING_COLLECTION" and o.package_ids][:1]
    streets = ["18 Orchard Lane", "455 Harbor Blvd Apt 3", "1200 Pine St Unit 7"]
    for o, street in zip(picked, streets, strict=False):
        at = max(o.update_time + 60, now - rng.randrange(1, 6) * HOUR)
        if at >= now:
            at = now - 1
        A.update_address(world, o, at, {"line1": street}, emit=False)
    return len(picked)
