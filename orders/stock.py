"""Orders meet inventory: reserve an order's units when it arrives, release them when it is cancelled, deduct them
when it ships, and hold it (unmapped SKU, out of stock) when it cannot be reserved — with the reason and the fix.

`allocate` works on `Demand`, built either from a platform payload (import) or from stored rows (re-allocation when
a listing is mapped or stock is freed), so both paths decide the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from erp.actors import Actor
from integrations.interface import FulfilledBy, PlatformOrder
from integrations.models import Store
from inventory import services as inventory
from inventory.models import BundleComponent, Listing, Sku
from inventory.services import Candidate, ReservationRequest, ReservationResult
from orders.models import (
    OPEN_STATUSES,
    HoldReason,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    WarehouseChoice,
)
from orders.outbound import orders_publish

SHIPPED_STATUSES = (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED, OrderStatus.COMPLETED)
STOCK_HOLDS = (HoldReason.UNMAPPED_SKU, HoldReason.OUT_OF_STOCK, HoldReason.MIXED_SOURCES)
IMPORTER = Actor.system("Order import")


@dataclass(frozen=True)
class DemandLine:
    sku_id: str  # the platform's SKU id
    seller_sku: str
    product_id: str
    title: str
    cancelled: bool
    quantity: int


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
                    line.sku_id,
                    line.seller_sku,
                    line.product_id,
                    line.product_name,
                    line.package_status == "CANCELLED",
                    line.quantity,
                )
                for line in order.lines
            ),
        )


def _codes(sku_ids: Sequence[object]) -> dict[object, str]:
    return dict(Sku.objects.filter(pk__in=list(sku_ids)).values_list("pk", "code"))


def _chosen_because(chosen: Candidate, store: Store) -> str:
    """How allocation chose this warehouse, in the words the order page shows."""
    if not chosen.tracks_stock:
        return f"No warehouse with stock can ship all of it; {chosen.name} supplies every SKU in it (make to order)."
    return {
        "ranking": f"{chosen.name} has all of it in stock and comes first in {store.name}'s warehouse ranking.",
        "platform_link": f"{chosen.name} has all of it in stock and is linked to the order's TikTok warehouse.",
    }.get(chosen.why, f"{chosen.name} has all of it in stock (no ranked or linked warehouse could ship it whole).")


def _sources_hold(
    units: Counter, candidates: Sequence[Candidate], sources: Mapping[object, list[object]], codes: Mapping[object, str]
) -> str | None:
    """When every SKU can come from somewhere but no one place can ship them all: say where each comes from."""
    if not all(sources.values()):
        return None
    names = {c.warehouse_id: c.name for c in candidates}
    # By SKU code: the same order reads the same way every time (sources come keyed by id, in no stable order).
    parts = sorted(f"{codes.get(sku_id, sku_id)} from {names[where[0]]}" for sku_id, where in sources.items())
    return f"Its SKUs ship from different places: {'; '.join(parts)}."


def _stock_hold(
    units: Counter, candidates: Sequence[Candidate], result: ReservationResult, codes: Mapping[object, str]
) -> dict[str, str]:
    """Why an order no warehouse could reserve is held: its SKUs ship from different places, it is short, or nothing
    stocks or supplies it."""
    mixed = _sources_hold(units, candidates, result.sources or {}, codes)
    if mixed:
        return {HoldReason.MIXED_SOURCES: mixed}
    if result.short:
        short = ", ".join(f"{n} × {codes.get(sku_id, sku_id)}" for sku_id, n in result.short.items())
        return {HoldReason.OUT_OF_STOCK: f"Short at every warehouse; nearest misses {short}."}
    needed = ", ".join(f"{n} × {codes.get(sku_id, sku_id)}" for sku_id, n in units.items())
    return {HoldReason.OUT_OF_STOCK: f"No warehouse holds stock and no supplier supplies {needed}."}


def allocate(
    *, store: Store, demands: Sequence[Demand], new_orders: Collection[UUID] = frozenset()
) -> dict[UUID, dict[str, str]]:
    """Settle stock for these orders; returns the stock holds that apply (order pk → reason → detail). `new_orders`:
    those just inserted by the caller, which no warehouse holds yet (nothing to ask about them).

    An open order ships from the first warehouse that can ship all of it (`inventory.store_warehouse_order`: stock
    first, make-to-order suppliers only for what they supply). An order already at a make-to-order supplier stays
    there: only `orders_reallocate` (stock arrived) or a rule or person moves it."""
    cancelled = [d.order_pk for d in demands if d.status == OrderStatus.CANCELLED]
    shipped = [d.order_pk for d in demands if d.status in SHIPPED_STATUSES]
    if cancelled:
        inventory.orders_release(order_ids=cancelled, actor=IMPORTER, reason="order cancelled on the platform")
    if shipped:
        inventory.orders_ship(order_ids=shipped, actor=IMPORTER, reason="shipped")
    open_demands = [d for d in demands if d.status in OPEN_STATUSES and not d.fulfilled_by_platform]
    if not open_demands:
        return {}
    known = [d.order_pk for d in open_demands if d.order_pk not in new_orders]
    placed = (
        dict(Order.objects.filter(pk__in=known, warehouse__isnull=False).values_list("pk", "warehouse__tracks_stock"))
        if known
        else {}
    )
    open_demands = [d for d in open_demands if placed.get(d.order_pk) is not False]  # at a supplier: stays
    listings = inventory.listings_for_lines(
        store=store,
        lines=((line.sku_id, line.seller_sku, line.product_id, line.title) for d in open_demands for line in d.lines),
    )
    holds: dict[UUID, dict[str, str]] = {}
    chosen: dict[UUID, tuple[object, str]] = {}
    candidates_for: dict[str, list[Candidate]] = {}
    reservable: list[tuple[Demand, Counter, list[Candidate]]] = []
    for demand in open_demands:
        live = [line for line in demand.lines if not line.cancelled]
        unmapped = sorted({line.seller_sku or line.sku_id for line in live if listings[line.sku_id].sku_id is None})
        if unmapped:
            holds[demand.order_pk] = {
                HoldReason.UNMAPPED_SKU: f"Not mapped to one of your SKUs: {', '.join(unmapped)}."
            }
            continue
        units: Counter = Counter()
        for line in live:
            units[listings[line.sku_id].sku_id] += line.quantity
        if demand.platform_warehouse_id not in candidates_for:
            candidates_for[demand.platform_warehouse_id] = inventory.store_warehouse_order(
                store=store, platform_warehouse_id=demand.platform_warehouse_id
            )
        candidates = candidates_for[demand.platform_warehouse_id]
        if not candidates:
            holds[demand.order_pk] = {HoldReason.OUT_OF_STOCK: "No warehouse is set up yet: add one under Inventory."}
            continue
        reservable.append((demand, units, candidates))
    # The page's orders in one go (one set of locks and statements), each decided as if reserved on its own, in turn.
    results = inventory.orders_reserve(
        requests=[
            ReservationRequest(
                order_id=demand.order_pk, demand=units, warehouse_ids=[c.warehouse_id for c in candidates]
            )
            for demand, units, candidates in reservable
        ],
        actor=IMPORTER,
        explain=True,
    )
    refused = [  # their hold messages name SKU codes: one query for the page
        (entry, result) for entry, result in zip(reservable, results, strict=True) if result.warehouse_id is None
    ]
    codes = _codes(list({sku_id for (_, units, _), result in refused for sku_id in [*units, *result.short]}))
    for (demand, units, candidates), result in zip(reservable, results, strict=True):
        if result.warehouse_id is None:
            holds[demand.order_pk] = _stock_hold(units, candidates, result, codes)
        elif demand.order_pk not in placed:  # newly placed (a re-import of a reserved order keeps its reason)
            where = next(c for c in candidates if c.warehouse_id == result.warehouse_id)
            chosen[demand.order_pk] = (result.warehouse_id, _chosen_because(where, store))
    # Remember where each order goes and why (handoffs, pick lists, reports, the order page): one update per choice.
    for (warehouse_id, reason), order_pks in _group(chosen).items():
        Order.objects.filter(pk__in=order_pks).update(
            warehouse_id=warehouse_id, warehouse_chosen_by=WarehouseChoice.ALLOCATION, warehouse_reason=reason[:300]
        )
    return holds


def _group(chosen: dict[UUID, tuple[object, str]]) -> dict[tuple[object, str], list[UUID]]:
    groups: dict[tuple[object, str], list[UUID]] = defaultdict(list)
    for order_pk, choice in chosen.items():
        groups[choice].append(order_pk)
    return groups


class RerouteRefused(Exception):
    """The order stays where it is; the message says why."""


def _order_units(order: Order) -> Counter:
    live = list(OrderLine.objects.filter(order=order, is_cancelled=False))
    listings = inventory.listings_for_lines(
        store=order.store, lines=((line.sku_id, line.seller_sku, line.product_id, line.product_name) for line in live)
    )
    if any(listings[line.sku_id].sku_id is None for line in live):
        raise RerouteRefused("Not every line is mapped to one of your SKUs yet.")
    units: Counter = Counter()
    for line in live:
        units[listings[line.sku_id].sku_id] += line.quantity
    return units


def order_reroute(
    *, order: Order, warehouse_id: object, actor: Actor, chosen_by: str = WarehouseChoice.PERSON, reason: str = ""
) -> None:
    """Move an open order to `warehouse_id` (a rule's choice or a person's): its reservation is released and taken
    again there, all or nothing. Raises RerouteRefused (and changes nothing) when it cannot ship from there."""
    if order.warehouse_id is not None and str(order.warehouse_id) == str(warehouse_id):
        return
    units = _order_units(order)
    with transaction.atomic():  # a savepoint: a refused move leaves the old reservation untouched
        inventory.orders_release(order_ids=[order.pk], actor=actor, reason="routed to another warehouse")
        result = inventory.order_reserve(order_id=order.pk, demand=units, warehouse_ids=[warehouse_id], actor=actor)
        if result.warehouse_id is None:
            if result.short:
                codes = _codes(list(result.short))
                short = ", ".join(f"{n} × {codes.get(sku_id, sku_id)}" for sku_id, n in result.short.items())
                raise RerouteRefused(f"Short there: {short}.")
            raise RerouteRefused(
                "That supplier does not supply every SKU in the order (Inventory → SKU → Supplied by)."
            )
        Order.objects.filter(pk=order.pk).update(
            warehouse_id=warehouse_id, warehouse_chosen_by=chosen_by, warehouse_reason=reason[:300]
        )
    order.warehouse_id = warehouse_id


def _move_to_stock(order: Order) -> bool:
    """An order allocation left at a make-to-order supplier: ship it from stock instead when a warehouse can now
    ship all of it. The supplier reserved nothing, so there is nothing to release."""
    try:
        units = _order_units(order)
    except RerouteRefused:
        return False
    stocked = [
        c
        for c in inventory.store_warehouse_order(store=order.store, platform_warehouse_id=order.platform_warehouse_id)
        if c.tracks_stock
    ]
    if not stocked:
        return False
    result = inventory.order_reserve(
        order_id=order.pk, demand=units, warehouse_ids=[c.warehouse_id for c in stocked], actor=IMPORTER
    )
    if result.warehouse_id is None:
        return False
    where = next(c for c in stocked if c.warehouse_id == result.warehouse_id)
    supplier = order.warehouse.name if order.warehouse else "a supplier"
    reason = f"Stock arrived: {_chosen_because(where, order.store)} It was waiting at {supplier}."
    Order.objects.filter(pk=order.pk).update(
        warehouse_id=result.warehouse_id, warehouse_chosen_by=WarehouseChoice.ALLOCATION, warehouse_reason=reason[:300]
    )
    return True


@transaction.atomic
def orders_reallocate(*, order_ids: Sequence[UUID]) -> int:
    """Try again to reserve stock for held orders, and to ship from stock the orders allocation left waiting at a
    make-to-order supplier (soonest ship-by first); release the holds that no longer apply. Callers pass only orders
    with no label yet. Returns how many orders are no longer held for stock or waiting."""
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .filter(pk__in=list(order_ids), status__in=OPEN_STATUSES)
        .select_related("store", "warehouse")
        .order_by("ship_by", "placed_at")
    )
    moved = 0
    waiting = [o for o in orders if _waits_at_supplier(o)]
    for order in orders:  # soonest ship-by first, held and waiting alike
        if order in waiting:
            moved += _move_to_stock(order)
    orders = [o for o in orders if o not in waiting]
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).order_by("external_id"):
        lines[line.order_id].append(
            DemandLine(
                line.sku_id, line.seller_sku, line.product_id, line.product_name, line.is_cancelled, line.quantity
            )
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
                o.fulfilled_by == FulfilledBy.PLATFORM,
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
                orders_publish(type="order.held" if still_held else "order.released", order_ids=[order.pk])
    return released + moved


def _waits_at_supplier(order: Order) -> bool:
    return (
        not order.is_held
        and order.warehouse is not None
        and not order.warehouse.tracks_stock
        and order.warehouse_chosen_by == WarehouseChoice.ALLOCATION
    )


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


def _maps_to(sku_ids: Sequence[object]) -> Exists:
    """An order line whose listing points at one of these SKUs, or at a bundle made with one of them."""
    skus = set(sku_ids) | set(
        BundleComponent.objects.filter(component_id__in=list(sku_ids)).values_list("bundle_id", flat=True)
    )
    return Exists(
        Listing.objects.filter(
            store_id=OuterRef("store_id"), platform_sku_id=OuterRef("lines__sku_id"), sku_id__in=skus
        )
    )


def orders_held_for_stock(sku_ids: Sequence[object]) -> list[UUID]:
    """Orders held for stock (short, or no single place to ship from) with a line that needs one of these SKUs."""
    return list(
        Order.objects.filter(
            holds__reason__in=[HoldReason.OUT_OF_STOCK, HoldReason.MIXED_SOURCES], holds__released_at__isnull=True
        )
        .filter(_maps_to(sku_ids))
        .values_list("pk", flat=True)
        .distinct()
    )


def orders_waiting_for_stock(sku_ids: Sequence[object]) -> QuerySet[Order]:
    """Open orders that allocation sent to a make-to-order supplier because no stock could ship them, with a line
    that needs one of these SKUs: stock of it arrived, so they may ship from stock now (the caller leaves out
    those whose label is bought or requested)."""
    return Order.objects.filter(
        status__in=OPEN_STATUSES,
        is_held=False,
        warehouse__tracks_stock=False,
        warehouse_chosen_by=WarehouseChoice.ALLOCATION,
    ).filter(_maps_to(sku_ids))
