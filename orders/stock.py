"""Orders meet inventory: reserve an order's units when it arrives, release them when it is cancelled, deduct them
when it ships, and hold it (unmapped SKU, out of stock) when it cannot be reserved — with the reason and the fix.

`allocate` works on `Demand`, built either from a platform payload (import) or from stored rows (re-allocation when
a listing is mapped or stock is freed), so both paths decide the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from erp.actors import Actor
from integrations.interface import PlatformOrder
from integrations.models import Store
from inventory import services as inventory
from inventory.models import Listing, Sku
from orders.models import FULFILLED_BY_TIKTOK, OPEN_STATUSES, HoldReason, Order, OrderHold, OrderLine, OrderStatus

SHIPPED_STATUSES = (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED, OrderStatus.COMPLETED)
STOCK_HOLDS = (HoldReason.UNMAPPED_SKU, HoldReason.OUT_OF_STOCK)
IMPORTER = Actor.system("Order import")


@dataclass(frozen=True)
class DemandLine:
    sku_id: str  # the platform's SKU id
    seller_sku: str
    product_id: str
    title: str
    cancelled: bool


@dataclass(frozen=True)
class Demand:
    order_pk: UUID
    status: str
    fulfilled_by_platform: bool
    platform_warehouse_id: str
    lines: tuple[DemandLine, ...]

    @classmethod
    def of(cls, pk: UUID, order: PlatformOrder) -> Demand:
        return cls(
            order_pk=pk,
            status=order.status,
            fulfilled_by_platform=order.is_fulfilled_by_platform,
            platform_warehouse_id=order.warehouse_id,
            lines=tuple(
                DemandLine(
                    line.sku_id, line.seller_sku, line.product_id, line.product_name, line.package_status == "CANCELLED"
                )
                for line in order.lines
            ),
        )


def allocate(*, store: Store, demands: Sequence[Demand]) -> dict[UUID, dict[str, str]]:
    """Settle stock for these orders; returns the stock holds that apply (order pk → reason → detail)."""
    cancelled = [d.order_pk for d in demands if d.status == OrderStatus.CANCELLED]
    shipped = [d.order_pk for d in demands if d.status in SHIPPED_STATUSES]
    if cancelled:
        inventory.orders_release(order_ids=cancelled, actor=IMPORTER, reason="order cancelled on the platform")
    if shipped:
        inventory.orders_ship(order_ids=shipped, actor=IMPORTER, reason="shipped")
    open_demands = [d for d in demands if d.status in OPEN_STATUSES and not d.fulfilled_by_platform]
    if not open_demands:
        return {}
    listings = inventory.listings_for_lines(
        store=store,
        lines=((line.sku_id, line.seller_sku, line.product_id, line.title) for d in open_demands for line in d.lines),
    )
    holds: dict[UUID, dict[str, str]] = {}
    routed: dict[UUID, object] = {}
    for demand in open_demands:
        live = [line for line in demand.lines if not line.cancelled]
        unmapped = sorted({line.seller_sku or line.sku_id for line in live if listings[line.sku_id].sku_id is None})
        if unmapped:
            holds[demand.order_pk] = {
                HoldReason.UNMAPPED_SKU: f"Not mapped to one of your SKUs: {', '.join(unmapped)}."
            }
            continue
        units = Counter(listings[line.sku_id].sku_id for line in live)
        warehouses = inventory.store_warehouse_order(store=store, platform_warehouse_id=demand.platform_warehouse_id)
        if not warehouses:
            holds[demand.order_pk] = {HoldReason.OUT_OF_STOCK: "No warehouse is set up yet: add one under Inventory."}
            continue
        result = inventory.order_reserve(
            order_id=demand.order_pk, demand=units, warehouse_ids=warehouses, actor=IMPORTER
        )
        if result.warehouse_id is not None:
            routed[demand.order_pk] = result.warehouse_id
        else:
            codes = dict(Sku.objects.filter(pk__in=list(result.short)).values_list("pk", "code"))
            short = ", ".join(f"{n} × {codes.get(sku_id, sku_id)}" for sku_id, n in result.short.items())
            holds[demand.order_pk] = {HoldReason.OUT_OF_STOCK: f"Short at every warehouse; nearest misses {short}."}
    for warehouse_id in set(routed.values()):  # remember where each order goes (handoffs, pick lists, reports)
        Order.objects.filter(pk__in=[pk for pk, w in routed.items() if w == warehouse_id]).update(
            warehouse_id=warehouse_id
        )
    return holds


class RerouteRefused(Exception):
    """The order stays where it is; the message says why."""


def order_reroute(*, order: Order, warehouse_id: object, actor: Actor) -> None:
    """Move an open order to `warehouse_id` (a rule's choice or a person's): its reservation is released and taken
    again there, all or nothing. Raises RerouteRefused (and changes nothing) when it cannot ship from there."""
    if order.warehouse_id is not None and str(order.warehouse_id) == str(warehouse_id):
        return
    live = list(OrderLine.objects.filter(order=order, is_cancelled=False))
    listings = inventory.listings_for_lines(
        store=order.store, lines=((line.sku_id, line.seller_sku, line.product_id, line.product_name) for line in live)
    )
    if any(listings[line.sku_id].sku_id is None for line in live):
        raise RerouteRefused("Not every line is mapped to one of your SKUs yet.")
    units = Counter(listings[line.sku_id].sku_id for line in live)
    with transaction.atomic():  # a savepoint: a refused move leaves the old reservation untouched
        inventory.orders_release(order_ids=[order.pk], actor=actor, reason="routed to another warehouse")
        result = inventory.order_reserve(order_id=order.pk, demand=units, warehouse_ids=[warehouse_id], actor=actor)
        if result.warehouse_id is None:
            codes = dict(Sku.objects.filter(pk__in=list(result.short)).values_list("pk", "code"))
            short = ", ".join(f"{n} × {codes.get(sku_id, sku_id)}" for sku_id, n in result.short.items())
            raise RerouteRefused(f"Short there: {short}.")
        Order.objects.filter(pk=order.pk).update(warehouse_id=warehouse_id)
    order.warehouse_id = warehouse_id


@transaction.atomic
def orders_reallocate(*, order_ids: Sequence[UUID]) -> int:
    """Try again to reserve stock for held orders (soonest ship-by first); release the holds that no longer apply.
    Returns how many orders are no longer held for stock."""
    orders = list(
        Order.objects.select_for_update()
        .filter(pk__in=list(order_ids), status__in=OPEN_STATUSES)
        .select_related("store")
        .order_by("ship_by", "placed_at")
    )
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).order_by("external_id"):
        lines[line.order_id].append(
            DemandLine(line.sku_id, line.seller_sku, line.product_id, line.product_name, line.is_cancelled)
        )
    released = 0
    now = timezone.now()
    by_store = defaultdict(list)
    for order in orders:
        by_store[order.store].append(order)
    for store, store_orders in by_store.items():
        demands = [
            Demand(
                o.pk,
                o.status,
                o.fulfillment_type == FULFILLED_BY_TIKTOK,
                o.platform_warehouse_id,
                tuple(lines[o.pk]),
            )
            for o in store_orders
        ]
        holds = allocate(store=store, demands=demands)
        for order in store_orders:
            wanted = holds.get(order.pk, {})
            stale = OrderHold.objects.filter(order=order, reason__in=STOCK_HOLDS, released_at__isnull=True).exclude(
                reason__in=list(wanted)
            )
            released += stale.update(released_at=now) and not wanted
            for reason, detail in wanted.items():
                OrderHold.objects.update_or_create(
                    order=order, reason=reason, released_at=None, defaults={"detail": detail[:300]}
                )
            still_held = OrderHold.objects.filter(order=order, released_at__isnull=True).exists()
            if still_held != order.is_held:
                Order.objects.filter(pk=order.pk).update(is_held=still_held)
    return released


def orders_held_for_listing(listing: Listing) -> list[UUID]:
    return list(
        Order.objects.filter(
            store_id=listing.store_id,
            holds__reason=HoldReason.UNMAPPED_SKU,
            holds__released_at__isnull=True,
            lines__sku_id=listing.platform_sku_id,
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def orders_held_for_stock(sku_ids: Sequence[object]) -> list[UUID]:
    """Orders on an out-of-stock hold with a line whose listing points at one of these SKUs (one query)."""
    listing_of_line = Listing.objects.filter(
        store_id=OuterRef("store_id"), platform_sku_id=OuterRef("lines__sku_id"), sku_id__in=list(sku_ids)
    )
    return list(
        Order.objects.filter(holds__reason=HoldReason.OUT_OF_STOCK, holds__released_at__isnull=True)
        .filter(Exists(listing_of_line))
        .values_list("pk", flat=True)
        .distinct()
    )
