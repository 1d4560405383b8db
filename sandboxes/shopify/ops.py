"""What happens in a shop, as one function each: a sale, a fulfillment, a cancellation, an edit, a hold, a stock
change. Used by the GraphQL mutations and the control API alike, so both move inventory and fire webhooks the
same way. Every function expects the world lock to be held.

Inventory follows Shopify's states (§5): a sale moves units from `available` to `committed`; a fulfillment
removes them from `committed` (so `on_hand` drops); a cancellation or an edit that removes units restocks them
(`committed` back to `available`).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import payloads
from .state import (
    AdjustmentGroup,
    Fulfillment,
    FulfillmentHold,
    FulfillmentLine,
    FulfillmentOrder,
    InventoryChange,
    InventoryItem,
    LineItem,
    Order,
    Tracking,
    World,
)


# ---------------------------------------------------------------------------------------------- inventory
def move(
    world: World, item: InventoryItem, location_id: int, deltas: dict[str, int], now: float
) -> list[InventoryChange]:
    """Apply deltas by quantity name at one level; the implied on_hand change is reported too."""
    level = item.levels[location_id]
    on_hand_before = level.on_hand
    changes: list[InventoryChange] = []
    for name, delta in deltas.items():
        if name == "on_hand" or not delta:
            continue
        setattr(level, name, getattr(level, name) + delta)
        changes.append(InventoryChange(name, delta, level.get(name), item.id, location_id))
    on_hand_delta = level.on_hand - on_hand_before
    if on_hand_delta:
        changes.append(InventoryChange("on_hand", on_hand_delta, level.on_hand, item.id, location_id))
    if changes:
        level.updated_at = now
        item.updated_at = now
    return changes


def record(
    world: World,
    shop_id: int,
    reason: str,
    changes: list[InventoryChange],
    now: float,
    source: str,
    reference: str | None = None,
) -> AdjustmentGroup | None:
    """Keep an adjustment group and fire inventory_levels/update for each level whose `available` moved."""
    if not changes:
        return None
    group = AdjustmentGroup(world.ids.next("adjustment_group"), shop_id, reason, reference, now, changes, source)
    world.adjustment_groups.append(group)
    seen: set[tuple[int, int]] = set()
    for c in changes:
        if c.name == "available" and (c.item_id, c.location_id) not in seen:
            seen.add((c.item_id, c.location_id))
            item = world.inventory_items[c.item_id]
            world.emit("inventory_levels/update", shop_id, payloads.inventory_level_payload(world, item, c.location_id))
    return group


def _line_item_level(world: World, li: LineItem) -> tuple[InventoryItem, int] | None:
    item = world.inventory_items[world.variants[li.variant_id].inventory_item_id]
    location_id = world.fulfillment_orders[li.fulfillment_order_id].location_id
    if location_id not in item.levels:
        return None
    return item, location_id


def commit_sale(world: World, order: Order, now: float) -> None:
    """A new order takes its units out of `available` into `committed` at each line's location."""
    changes: list[InventoryChange] = []
    for li in order.line_items:
        found = _line_item_level(world, li)
        if found:
            changes += move(
                world, found[0], found[1], {"available": -li.current_quantity, "committed": li.current_quantity}, now
            )
    record(world, order.shop_id, "order_created", changes, now, "order", f"gid://shopify/Order/{order.id}")


def _restock(world: World, order: Order, units: Iterable[tuple[LineItem, int]], reason: str, now: float) -> None:
    changes: list[InventoryChange] = []
    for li, qty in units:
        found = _line_item_level(world, li)
        if found and qty:
            changes += move(world, found[0], found[1], {"available": qty, "committed": -qty}, now)
    record(world, order.shop_id, reason, changes, now, "order", f"gid://shopify/Order/{order.id}")


# ---------------------------------------------------------------------------------------------- orders
def order_placed(world: World, order: Order, now: float) -> None:
    """After seed.create_order: the sale's inventory move and its webhooks (orders/create, FO routing)."""
    commit_sale(world, order, now)
    world.emit("orders/create", order.shop_id, payloads.order_payload(world, order))
    for fo_id in order.fulfillment_order_ids:
        fo = world.fulfillment_orders[fo_id]
        world.emit(
            "fulfillment_orders/order_routing_complete",
            order.shop_id,
            {"fulfillment_order": payloads.fulfillment_order_payload(world, fo)},
        )


def order_updated(world: World, order: Order, now: float) -> None:
    order.updated_at = now
    world.emit("orders/updated", order.shop_id, payloads.order_payload(world, order))


def fulfil(
    world: World,
    order: Order,
    quantities: list[tuple[FulfillmentOrder, LineItem, int]],
    tracking: list[Tracking],
    now: float,
    notify_customer: bool = False,
    origin: str = "api",
    adjust_inventory: bool = True,
) -> Fulfillment:
    """One fulfillment over lines of fulfillment orders at one location (checked by the caller)."""
    location_id = quantities[0][0].location_id
    lines: list[FulfillmentLine] = []
    changes: list[InventoryChange] = []
    for fo, li, qty in quantities:
        li.fulfilled_quantity += qty
        fo.updated_at = now
        lines.append(
            FulfillmentLine(
                world.ids.next("fulfillment_line_item"), li.id, li.fulfillment_order_line_item_id, fo.id, qty
            )
        )
        if adjust_inventory:
            found = _line_item_level(world, li)
            if found:
                changes += move(world, found[0], found[1], {"committed": -qty}, now)
    fulfillment = Fulfillment(
        id=world.ids.next("fulfillment"),
        order_id=order.id,
        shop_id=order.shop_id,
        location_id=location_id,
        number=len(order.fulfillment_ids) + 1,
        lines=lines,
        tracking=tracking,
        created_at=now,
        updated_at=now,
        notify_customer=notify_customer,
        origin=origin,
    )
    world.fulfillments[fulfillment.id] = fulfillment
    order.fulfillment_ids.append(fulfillment.id)
    order.updated_at = now
    if adjust_inventory:
        record(world, order.shop_id, "fulfillment_created", changes, now, "order", f"gid://shopify/Order/{order.id}")
    world.emit("fulfillments/create", order.shop_id, payloads.fulfillment_payload(world, fulfillment))
    world.emit("orders/updated", order.shop_id, payloads.order_payload(world, order))
    status = world.order_status(order)
    if status == "FULFILLED":
        world.emit("orders/fulfilled", order.shop_id, payloads.order_payload(world, order))
    elif status == "PARTIALLY_FULFILLED":
        world.emit("orders/partially_fulfilled", order.shop_id, payloads.order_payload(world, order))
    return fulfillment


def cancel(world: World, order: Order, reason: str, now: float, restock: bool = True) -> None:
    open_fos = [
        world.fulfillment_orders[i]
        for i in order.fulfillment_order_ids
        if world.fo_status(world.fulfillment_orders[i]) not in ("CLOSED", "CANCELLED")
    ]
    units = [(li, order.remaining(li)) for li in order.line_items]
    if restock:
        _restock(world, order, units, "order_cancelled", now)
    else:
        # Not restocked: the committed units leave the shop (written off) rather than returning to available.
        changes: list[InventoryChange] = []
        for li, qty in units:
            found = _line_item_level(world, li)
            if found and qty:
                changes += move(world, found[0], found[1], {"committed": -qty}, now)
        record(world, order.shop_id, "order_cancelled", changes, now, "order")
    order.cancelled_at = now
    order.cancel_reason = reason
    order.financial_status = "REFUNDED"
    order.updated_at = now
    for fo in open_fos:
        fo.updated_at = now
        world.emit(
            "fulfillment_orders/cancelled",
            order.shop_id,
            {"fulfillment_order": payloads.fulfillment_order_payload(world, fo), "replacement_fulfillment_order": None},
        )
    world.emit("orders/cancelled", order.shop_id, payloads.order_payload(world, order))
    world.emit("orders/updated", order.shop_id, payloads.order_payload(world, order))


def remove_units(world: World, order: Order, li: LineItem, qty: int, now: float) -> int:
    """An order edit that takes units off a line (never below what has shipped); they are restocked."""
    removable = min(qty, li.current_quantity - li.fulfilled_quantity)
    if removable <= 0:
        return 0
    li.current_quantity -= removable
    order.edited = True
    _restock(world, order, [(li, removable)], "order_edited", now)
    world.fulfillment_orders[li.fulfillment_order_id].updated_at = now
    world.emit(
        "orders/edited", order.shop_id, {"order_edit": {"order_id": order.id, "id": world.ids.next("order_edit")}}
    )
    return removable


# ---------------------------------------------------------------------------------------------- fulfillment orders
def hold(world: World, fo: FulfillmentOrder, reason: str, notes: str | None, now: float) -> FulfillmentHold:
    h = FulfillmentHold(world.ids.next("fulfillment_hold"), reason.upper(), notes, now)
    fo.holds.append(h)
    fo.updated_at = now
    world.emit("fulfillment_orders/placed_on_hold", fo.shop_id, payloads.placed_on_hold_payload(world, fo, h))
    return h


def release(world: World, fo: FulfillmentOrder, now: float) -> None:
    fo.holds.clear()
    fo.updated_at = now
    world.emit(
        "fulfillment_orders/hold_released",
        fo.shop_id,
        {"fulfillment_order": payloads.fulfillment_order_payload(world, fo)},
    )


def schedule(world: World, fo: FulfillmentOrder, at: float, now: float) -> None:
    fo.scheduled_at = at
    fo.updated_at = now


def mark_open(world: World, fo: FulfillmentOrder, now: float) -> None:
    fo.scheduled_at = None
    fo.updated_at = now
