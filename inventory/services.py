"""Writes of inventory: stock movements, reservations, listings.

Every quantity change goes through `_move`: the stock rows involved are locked in one fixed order (sku, then
warehouse), changed with F() expressions, and a ledger entry is written in the same transaction. Two workers racing
for the last unit queue on the row lock; the second sees the first's reservation and fails cleanly. The database's
check constraints (on_hand ≥ 0, 0 ≤ reserved ≤ on_hand) are the last wall.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.events import Event
from erp.ids import uuid7
from erp.inputs import MAX_STOCK, validate_units
from erp.services import audit_record
from erp.tenancy import current_organization
from integrations import registry
from integrations.models import Store
from inventory import statements
from inventory.models import (
    Listing,
    MovementKind,
    Reservation,
    ReturnOutcome,
    ReturnReceipt,
    ReturnReceiptLine,
    Sku,
    SkuSupplier,
    StockLevel,
    StockMovement,
    StoreWarehouse,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
    warehouse_kind_read,
)
from webhooks.services import event_publish


class StockError(ValidationError):
    """A stock change that cannot happen (not enough units, a read-only warehouse...): a person's error message."""


# ------------------------------------------------------------------------------------------------- the ledger
def _levels_locked(
    pairs: Iterable[tuple[object, object]], *, create: bool = True
) -> dict[tuple[object, object], StockLevel]:
    """Stock rows for (sku_id, warehouse_id) pairs, locked in (sku, warehouse) order. Missing rows are created first
    (before any lock is taken here) unless `create` is False: a reservation or a release needs no new row, since a
    SKU without a row at a warehouse has nothing there to reserve."""
    wanted = {(UUID(str(s)), UUID(str(w))) for s, w in pairs}
    if create:
        existing = set(
            StockLevel.objects.filter(
                sku_id__in={s for s, _ in wanted}, warehouse_id__in={w for _, w in wanted}
            ).values_list("sku_id", "warehouse_id")
        )
        missing = [StockLevel(sku_id=s, warehouse_id=w) for s, w in wanted if (s, w) not in existing]
        if missing:
            organization_id = current_organization().pk
            for level in missing:
                level.organization_id = organization_id
            StockLevel.objects.bulk_create(missing, ignore_conflicts=True)
    locked = statements.levels_for_update(sku_ids={s for s, _ in wanted}, warehouse_ids={w for _, w in wanted})
    return {(level.sku_id, level.warehouse_id): level for level in locked}


@dataclass(frozen=True)
class _Change:
    """One ledger entry to append, and the change it makes to its (locked) stock row."""

    level: StockLevel
    kind: str
    on_hand: int = 0
    reserved: int = 0
    reason: str = ""
    order_id: UUID | None = None
    reference: str = ""


def _apply(changes: Sequence[_Change], *, actor: Actor) -> None:
    """Apply changes to locked stock rows (the rows in hand follow) and append their ledger entries, in the same
    transaction: one UPDATE for every row changed and one INSERT for every entry, however many orders and SKUs."""
    for change in changes:
        level = change.level
        if max(level.on_hand + change.on_hand, level.reserved + change.reserved) > MAX_STOCK:  # a 32-bit column
            raise StockError(f"More than {MAX_STOCK:,} units of one SKU in one warehouse cannot be recorded.")
        level.on_hand += change.on_hand
        level.reserved += change.reserved
    _write(changes, actor=actor)


def _write(changes: Sequence[_Change], *, actor: Actor, reservations: Sequence[Mapping[str, object]] = ()) -> None:
    """Send changes already made to the rows in hand (`_apply` makes them) to the database: one UPDATE, with each
    row's deltas added in SQL (the check constraints judge the result), one INSERT of the ledger entries and one of
    the `reservations` that go with them (`statements.stock_write`: one round trip on PostgreSQL)."""
    changes = [c for c in changes if c.on_hand or c.reserved]
    if not changes and not reservations:
        return
    totals: dict[UUID, list[int]] = {}
    for change in changes:
        total = totals.setdefault(change.level.pk, [0, 0])
        total[0] += change.on_hand
        total[1] += change.reserved
    now = timezone.now()
    label = actor.label[:200]
    entries = [
        {
            "id": uuid7(),
            "sku_id": c.level.sku_id,
            "warehouse_id": c.level.warehouse_id,
            "kind": c.kind,
            "on_hand_delta": c.on_hand,
            "reserved_delta": c.reserved,
            "actor_label": label,
            "reason": c.reason[:300],
            "order_id": c.order_id,
            "reference": c.reference[:100],
            "created_at": now,
        }
        for c in changes
    ]
    statements.stock_write(
        levels=[(pk, on_hand, reserved) for pk, (on_hand, reserved) in totals.items()],
        movements=entries,
        reservations=reservations,
        now=now,
    )
    for change, entry in zip(changes, entries, strict=True):
        if change.on_hand:  # units arrived, left or were counted; a reservation alone changes no stock on hand
            movement_id = entry["id"]
            event_publish(
                organization=current_organization(),
                type="stock.changed",
                object_type="sku",
                object_id=change.level.sku_id,
                data=lambda movement_id=movement_id: _movement_payload(movement_id),  # type: ignore[misc]
            )


def _move(
    level: StockLevel,
    *,
    kind: str,
    actor: Actor,
    on_hand: int = 0,
    reserved: int = 0,
    reason: str = "",
    order_id: UUID | None = None,
    reference: str = "",
) -> None:
    """Apply one change to a locked stock row and append its ledger entry (same transaction)."""
    _apply(
        [
            _Change(
                level, kind, on_hand=on_hand, reserved=reserved, reason=reason, order_id=order_id, reference=reference
            )
        ],
        actor=actor,
    )


def _movement_payload(movement_id: object) -> dict[str, object]:
    from inventory.api.serializers import StockMovementOutput

    return dict(StockMovementOutput(StockMovement.objects.select_related("sku", "warehouse").get(pk=movement_id)).data)


# Announced after a committed change of SKUs' available quantity: send(sku_ids, freed=bool), `freed` when it went
# up (held orders may now ship). The orders app listens; this layer does not import it. The stock push does not
# listen: it learns of a change from the change's own stock rows (`unpushed_since`), which a crash cannot separate
# from the change.
stock_changed = Event("stock_changed")


def _announce(sku_ids: list[object], *, freed: bool) -> None:
    """Tell listeners once the change is committed (a rolled-back change changed nothing)."""
    unique = list(dict.fromkeys(sku_ids))
    transaction.on_commit(lambda: stock_changed.send(unique, freed=freed))


def _within_range(field: str, units: int) -> None:
    """The units of one receipt, adjustment or count, in the range every way in accepts (docs/adr/0014)."""
    try:
        validate_units(units)
    except ValidationError as error:
        raise StockError({field: error.messages}) from None


def _writable(warehouse: Warehouse) -> None:
    if warehouse.is_platform_fulfilment:
        raise StockError(
            f"{warehouse.name} is stock held by {warehouse.held_by}: it is read from "
            f"{registry.platform_name(warehouse.platform)}, not changed here."
        )


@transaction.atomic
def stock_receive(
    *, sku: Sku, warehouse: Warehouse, quantity: int, actor: Actor, reason: str = "", reference: str = ""
) -> StockLevel:
    _writable(warehouse)
    _within_range("quantity", quantity)
    if quantity <= 0:
        raise StockError({"quantity": ["A receipt adds at least one unit."]})
    level = _levels_locked([(sku.pk, warehouse.pk)])[(sku.pk, warehouse.pk)]
    _move(level, kind=MovementKind.RECEIPT, actor=actor, on_hand=quantity, reason=reason, reference=reference)
    _announce([sku.pk], freed=True)
    return level


@transaction.atomic
def stock_adjust(*, sku: Sku, warehouse: Warehouse, delta: int, actor: Actor, reason: str) -> StockLevel:
    """Add or remove units (damaged, found, sample...). A reason is required."""
    _writable(warehouse)
    _within_range("delta", delta)
    if not reason.strip():
        raise StockError({"reason": ["Say why the stock changes (damaged, found, sample…)."]})
    level = _levels_locked([(sku.pk, warehouse.pk)])[(sku.pk, warehouse.pk)]
    if level.on_hand + delta < level.reserved:
        raise StockError(
            {
                "delta": [
                    f"{sku.code} at {warehouse.name}: {level.reserved} units are reserved for orders and only "
                    f"{level.on_hand} are on hand; removing {-delta} would leave orders without stock."
                ]
            }
        )
    _move(level, kind=MovementKind.ADJUSTMENT, actor=actor, on_hand=delta, reason=reason)
    _announce([sku.pk], freed=delta > 0)
    return level


@transaction.atomic
def stock_count(*, sku: Sku, warehouse: Warehouse, counted: int, actor: Actor, reference: str = "") -> StockLevel:
    """Record a physical count: on hand becomes what was counted (the difference goes in the ledger)."""
    _writable(warehouse)
    _within_range("counted", counted)
    if counted < 0:
        raise StockError({"counted": ["A count cannot be negative."]})
    level = _levels_locked([(sku.pk, warehouse.pk)])[(sku.pk, warehouse.pk)]
    if counted < level.reserved:
        raise StockError(
            {
                "counted": [
                    f"{sku.code} at {warehouse.name}: {level.reserved} units are reserved for orders but "
                    f"{counted} were counted. Release or move those orders first."
                ]
            }
        )
    _move(
        level,
        kind=MovementKind.COUNT,
        actor=actor,
        on_hand=counted - level.on_hand,
        reference=reference,
        reason=f"counted {counted}",
    )
    _announce([sku.pk], freed=True)
    return level


# -------------------------------------------------------------------------------------------- reservations
def _components(sku_ids: Iterable[object]) -> dict[object, list[tuple[object, int]]]:
    """bundle id → [(component id, units per bundle)] for those of these SKUs that are bundles (one query)."""
    return _by_bundle(statements.bundle_components([UUID(str(s)) for s in sku_ids]))


def _by_bundle(rows: Iterable[tuple[object, object, int]]) -> dict[object, list[tuple[object, int]]]:
    components: dict[object, list[tuple[object, int]]] = {}
    for bundle_id, component_id, quantity in rows:
        components.setdefault(bundle_id, []).append((component_id, quantity))
    return components


def _expanded(demand: Mapping[object, int], components: Mapping[object, list[tuple[object, int]]]) -> Counter:
    expanded: Counter = Counter()
    for sku_id, units in demand.items():
        if sku_id in components:
            for component_id, quantity in components[sku_id]:
                expanded[component_id] += units * quantity
        else:
            expanded[sku_id] += units
    return expanded


def expand_bundles(demand: Mapping[object, int]) -> Counter:
    """SKU id → units, with every bundle replaced by its components (a kit reserves and ships its parts)."""
    return _expanded(demand, _components(demand))


@dataclass(frozen=True)
class ReservationResult:
    warehouse_id: object | None  # where the order is reserved; None when no warehouse can ship it whole
    short: dict[object, int]  # sku id → units missing at the best stocked candidate (empty on success)
    # SKU id (as sold) → the warehouses that could ship it on their own, when the order could not be reserved and
    # the caller asked (`explain`): what `sources_by_sku` would say, read under the same locks at the same moment.
    sources: dict[object, list[object]] | None = None


@dataclass(frozen=True)
class ReservationRequest:
    """One order to reserve: SKU id → units, and the warehouses it may ship from, best first."""

    order_id: UUID
    demand: Mapping[object, int]
    warehouse_ids: Sequence[object]


def _bundle_parts(sku_ids: Iterable[object]) -> dict[object, set[object]]:
    return {bundle_id: {part for part, _ in parts} for bundle_id, parts in _components(sku_ids).items()}


def supplied_by(*, sku_ids: Iterable[object], warehouse_ids: Iterable[object]) -> dict[object, set[object]]:
    """warehouse id → the SKUs (of `sku_ids`, as sold) it supplies: linked to the SKU itself, or, for a bundle, to
    every one of its components."""
    sku_ids = [UUID(str(sku_id)) for sku_id in sku_ids]
    parts = _bundle_parts(sku_ids)
    wanted = set(sku_ids) | {part for components in parts.values() for part in components}
    links: dict[object, set[object]] = {}
    for warehouse_id, sku_id in SkuSupplier.objects.filter(
        warehouse_id__in=list(warehouse_ids), sku_id__in=list(wanted)
    ).values_list("warehouse_id", "sku_id"):
        links.setdefault(warehouse_id, set()).add(sku_id)
    return {
        warehouse_id: {
            sku_id for sku_id in sku_ids if sku_id in linked or (sku_id in parts and parts[sku_id] <= linked)
        }
        for warehouse_id, linked in links.items()
    }


def order_reserve(
    *, order_id: UUID, demand: Mapping[object, int], warehouse_ids: Sequence[object], actor: Actor
) -> ReservationResult:
    """Reserve an order's units at the first warehouse (in the given order) that can ship all of them. A warehouse
    that does not track stock (a supplier that makes to order) takes the order, with nothing to reserve, only when
    it supplies every SKU in it. Idempotent: an order that already holds reservations keeps them."""
    request = ReservationRequest(order_id=order_id, demand=demand, warehouse_ids=warehouse_ids)
    return orders_reserve(requests=[request], actor=actor)[0]


def orders_reserve(
    *, requests: Sequence[ReservationRequest], actor: Actor, explain: bool = False
) -> list[ReservationResult]:
    """`order_reserve` for many orders at once (a page of imported orders), with one set of locks and statements:
    one read of the orders' reservations, bundles and warehouses, one locked read of every stock row
    they may take, then one UPDATE of the rows, one INSERT of the ledger entries and one of the reservations.

    Each order's outcome is the one `order_reserve` would give it, called for each in turn: the orders are decided
    one after the other, in the given order, against the locked rows as the orders before them left them (an order
    listed twice is reserved once). `explain` adds, for an order that could not be reserved, where each of its SKUs
    could ship from (`sources_by_sku`, at that same moment). Results come in the order of `requests`."""
    if not requests:
        return []
    # Callers pass ids as UUIDs or strings; rows come back keyed by UUIDs.
    orders = [
        (
            UUID(str(r.order_id)),
            {UUID(str(sku_id)): units for sku_id, units in r.demand.items()},
            [UUID(str(w)) for w in r.warehouse_ids],
        )
        for r in requests
    ]
    prelude = statements.reservation_prelude(
        order_ids=list(dict.fromkeys(order_id for order_id, _, _ in orders)),
        sku_ids=list({sku_id for _, demand, _ in orders for sku_id in demand}),
        warehouse_ids=list({w for _, _, warehouses in orders for w in warehouses}),
    )
    held, tracking = prelude.reserved_at, prelude.tracking
    components = _by_bundle(prelude.components)
    todo = [(order_id, demand, warehouses) for order_id, demand, warehouses in orders if order_id not in held]
    untracked = {w for _, _, warehouses in todo for w in warehouses if not tracking.get(w, True)}
    supplies = supplied_by(sku_ids={s for _, d, _ in todo for s in d}, warehouse_ids=untracked) if untracked else {}
    tracked = {w for _, _, warehouses in todo for w in warehouses if tracking.get(w, True)}
    parts = {part for _, demand, _ in todo for part in _expanded(demand, components)}
    results: list[ReservationResult] = []
    with transaction.atomic():
        levels = _levels_locked(((s, w) for s in parts for w in tracked), create=False) if parts and tracked else {}
        changes: list[_Change] = []
        reservations: list[dict[str, object]] = []
        now = timezone.now()
        for order_id, demand, warehouses in orders:
            if order_id in held:
                results.append(ReservationResult(warehouse_id=held[order_id], short={}))
                continue
            need = _expanded(demand, components)  # of this request: an order listed twice may differ
            result = _reserve_one(need, demand, warehouses, tracking, supplies, levels)
            if result.warehouse_id is not None:
                held[order_id] = result.warehouse_id
                if tracking.get(result.warehouse_id, True):  # a make-to-order supplier reserves nothing
                    for sku_id, units in sorted(need.items(), key=lambda item: str(item[0])):
                        level = levels[(sku_id, result.warehouse_id)]
                        level.reserved += units  # the orders after this one see it
                        changes.append(_Change(level, MovementKind.RESERVATION, reserved=units, order_id=order_id))
                        reservations.append(
                            {
                                "id": uuid7(),
                                "order_id": order_id,
                                "sku_id": sku_id,
                                "warehouse_id": result.warehouse_id,
                                "quantity": units,
                                "created_at": now,
                            }
                        )
            elif explain:
                sources = _sources(demand, warehouses, tracking, supplies, components, _available(levels))
                result = ReservationResult(warehouse_id=None, short=result.short, sources=sources)
            results.append(result)
        _write(changes, actor=actor, reservations=reservations)
        if changes:
            _announce([change.level.sku_id for change in changes], freed=False)
    return results


def _available(levels: Mapping[tuple[object, object], StockLevel]) -> dict[tuple[object, object], int]:
    return {key: level.available for key, level in levels.items()}


def _reserve_one(
    need: Mapping[object, int],
    demand: Mapping[object, int],
    warehouses: Sequence[object],
    tracking: Mapping[object, bool],
    supplies: Mapping[object, set[object]],
    levels: Mapping[tuple[object, object], StockLevel],
) -> ReservationResult:
    """Where one order goes, given the locked rows as they stand (a missing row has nothing available)."""
    best_short: dict[object, int] = dict(need) if any(tracking.get(w, True) for w in warehouses) else {}
    for warehouse_id in warehouses:
        if not tracking.get(warehouse_id, True):
            if set(demand) <= supplies.get(warehouse_id, set()):
                return ReservationResult(warehouse_id=warehouse_id, short={})
            continue
        available = {sku_id: _level_available(levels, sku_id, warehouse_id) for sku_id in need}
        short = {sku_id: units - available[sku_id] for sku_id, units in need.items() if available[sku_id] < units}
        if short:
            if sum(short.values()) < sum(best_short.values()):
                best_short = short
            continue
        return ReservationResult(warehouse_id=warehouse_id, short={})
    return ReservationResult(warehouse_id=None, short=best_short)


def _level_available(levels: Mapping[tuple[object, object], StockLevel], sku_id: object, warehouse_id: object) -> int:
    level = levels.get((sku_id, warehouse_id))
    return 0 if level is None else level.available


def _sources(
    demand: Mapping[object, int],
    warehouse_ids: Sequence[object],
    tracking: Mapping[object, bool],
    supplies: Mapping[object, set[object]],
    components: Mapping[object, list[tuple[object, int]]],
    available: Mapping[tuple[object, object], int],
) -> dict[object, list[object]]:
    per_sku = {sku_id: _expanded({sku_id: units}, components) for sku_id, units in demand.items()}
    return {
        sku_id: [
            w
            for w in warehouse_ids
            if (
                sku_id in supplies.get(w, set())
                if not tracking.get(w, True)
                else all(available.get((part, w), 0) >= units for part, units in need.items())
            )
        ]
        for sku_id, need in per_sku.items()
    }


def sources_by_sku(*, demand: Mapping[object, int], warehouse_ids: Sequence[object]) -> dict[object, list[object]]:
    """For an order no single warehouse can ship: SKU id (as sold) → the warehouses that could ship that SKU's units
    on their own (stock available now, or a make-to-order supplier of it), in the given order. Read without locks:
    it explains a hold, it reserves nothing."""
    demand = {UUID(str(sku_id)): units for sku_id, units in demand.items()}
    warehouse_ids = [UUID(str(warehouse_id)) for warehouse_id in warehouse_ids]
    tracking = statements.warehouses_tracking(warehouse_ids)
    supplies = supplied_by(sku_ids=list(demand), warehouse_ids=[w for w in warehouse_ids if not tracking.get(w)])
    components = _components(demand)
    parts = set(_expanded(demand, components))
    available = {
        (level.sku_id, level.warehouse_id): level.available
        for level in StockLevel.objects.filter(sku_id__in=parts, warehouse_id__in=warehouse_ids)
    }
    return _sources(demand, warehouse_ids, tracking, supplies, components, available)


def _settle(order_ids: Sequence[UUID], *, ship: bool, actor: Actor, reason: str) -> int:
    reservations = list(Reservation.objects.filter(order_id__in=list(order_ids)))
    if not reservations:
        return 0
    with transaction.atomic():
        levels = _levels_locked(((r.sku_id, r.warehouse_id) for r in reservations), create=False)
        _apply(
            [
                _Change(
                    levels[(r.sku_id, r.warehouse_id)],
                    MovementKind.SHIPMENT if ship else MovementKind.RELEASE,
                    on_hand=-r.quantity if ship else 0,
                    reserved=-r.quantity,
                    reason=reason,
                    order_id=r.order_id,
                )
                for r in sorted(reservations, key=lambda r: (str(r.sku_id), str(r.warehouse_id)))
            ],
            actor=actor,
        )
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).delete()
    _announce([r.sku_id for r in reservations], freed=not ship)
    return len(reservations)


def orders_release(*, order_ids: Sequence[UUID], actor: Actor, reason: str) -> int:
    """Give reserved units back (order cancelled, or moved to another warehouse)."""
    return _settle(order_ids, ship=False, actor=actor, reason=reason)


def orders_ship(*, order_ids: Sequence[UUID], actor: Actor, reason: str = "shipped") -> int:
    """The units left the building: on hand and reserved both go down."""
    return _settle(order_ids, ship=True, actor=actor, reason=reason)


@dataclass(frozen=True)
class Candidate:
    """A warehouse an order may ship from, and why it stands where it does in the order of preference."""

    warehouse_id: UUID
    name: str
    tracks_stock: bool
    why: str  # "ranking" | "platform_link" | "other"


def store_warehouse_order(*, store: Store, platform_warehouse_id: str = "") -> list[Candidate]:
    """Where a store's orders may ship from, best first. Warehouses that hold stock come first: the store's own
    ranking, then the warehouse linked to the order's TikTok warehouse, then every other active one by name. Then,
    in the same order, suppliers that make to order (they take only the SKUs they supply, and only when no
    stocked warehouse can ship the order). A platform's own warehouses (TikTok's FBT) never ship Dropline's orders."""
    warehouses = {
        w.pk: w for w in Warehouse.objects.filter(is_active=True).exclude(kind=WarehouseKind.PLATFORM).order_by("name")
    }
    why: dict[object, str] = {}
    for warehouse_id in (
        StoreWarehouse.objects.filter(store=store).order_by("rank").values_list("warehouse_id", flat=True)
    ):
        why.setdefault(warehouse_id, "ranking")
    if platform_warehouse_id:
        for warehouse_id in WarehouseLink.objects.filter(
            store=store, platform_warehouse_id=platform_warehouse_id
        ).values_list("warehouse_id", flat=True):
            why.setdefault(warehouse_id, "platform_link")
    for warehouse_id in warehouses:
        why.setdefault(warehouse_id, "other")
    ranked = [
        Candidate(warehouse_id=w, name=warehouses[w].name, tracks_stock=warehouses[w].tracks_stock, why=reason)
        for w, reason in why.items()
        if w in warehouses
    ]
    return [c for c in ranked if c.tracks_stock] + [c for c in ranked if not c.tracks_stock]


# ------------------------------------------------------------------------------------------------- listings
def listings_for_lines(*, store: Store, lines: Iterable[tuple[str, str, str, str]]) -> dict[str, Listing]:
    """platform sku id → Listing for (sku_id, seller_sku, product_id, title) lines, creating the missing listings
    and matching new ones to our SKUs by seller SKU."""
    wanted = {sku_id: (seller_sku, product_id, title) for sku_id, seller_sku, product_id, title in lines if sku_id}
    listings = {
        listing.platform_sku_id: listing
        for listing in Listing.objects.filter(store=store, platform_sku_id__in=list(wanted))
    }
    new = {sku_id: info for sku_id, info in wanted.items() if sku_id not in listings}
    if new:
        by_code = {sku.code: sku for sku in Sku.objects.filter(code__in=[info[0] for info in new.values() if info[0]])}
        organization_id = current_organization().pk
        Listing.objects.bulk_create(
            [
                Listing(
                    organization_id=organization_id,
                    store=store,
                    platform_sku_id=sku_id,
                    platform_product_id=product_id,
                    seller_sku=seller_sku,
                    title=title[:300],
                    sku=by_code.get(seller_sku),
                    auto_matched=seller_sku in by_code,
                )
                for sku_id, (seller_sku, product_id, title) in new.items()
            ],
            ignore_conflicts=True,
        )
        listings = {
            listing.platform_sku_id: listing
            for listing in Listing.objects.filter(store=store, platform_sku_id__in=list(wanted))
        }
    return listings


# Announced when a listing now points at a SKU: send(listing). Orders retries the orders held for it.
listing_mapped = Event("listing_mapped")


@transaction.atomic
def listing_map(*, listing: Listing, sku: Sku | None, actor: Actor) -> Listing:
    previous = listing.sku
    listing.sku = sku
    listing.auto_matched = False
    listing.save(update_fields=["sku", "auto_matched"])
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="listing.mapped",
        target=listing,
        changes={"sku": [str(previous) if previous else None, str(sku) if sku else None]},
    )
    if sku is not None:
        transaction.on_commit(lambda: listing_mapped.send(listing))
    return listing


# ---------------------------------------------------------------------------------- SKUs and warehouses
@transaction.atomic
def skus_create_from_listings(*, actor: Actor) -> tuple[int, int]:
    """First-time setup from the catalogue the stores already sell: every unmapped listing with a seller SKU is
    mapped to our SKU of that code, created (named after the listing) when there is none yet. Listings without a
    seller SKU are left for a person. Returns (SKUs created, listings mapped); held orders are re-checked by the
    listing_mapped event."""
    created = mapped = 0
    unmapped = Listing.objects.filter(sku__isnull=True).exclude(seller_sku="").order_by("seller_sku", "pk")
    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=unmapped.values("seller_sku"))}
    for listing in unmapped.select_related("store"):
        sku = skus.get(listing.seller_sku)
        if sku is None:
            sku = sku_save(
                actor=actor, fields={"code": listing.seller_sku, "name": listing.title or listing.seller_sku}
            )
            skus[sku.code] = sku
            created += 1
        listing_map(listing=listing, sku=sku, actor=actor)
        mapped += 1
    return created, mapped


def _changed(instance: Sku | Warehouse, fields: Mapping[str, object]) -> dict[str, object]:
    """Fields whose value differs from the STORED row (a ModelForm has already copied its values onto the
    instance it was given, so the instance in hand cannot tell)."""
    stored = type(instance).objects.get(pk=instance.pk)
    return {name: value for name, value in fields.items() if getattr(stored, name) != value}


def _save_audited(
    *,
    actor: Actor,
    noun: str,
    label: str,
    model: type[Sku] | type[Warehouse],
    unique: str,
    fields: Mapping[str, object],
    instance: Sku | Warehouse | None,
) -> Sku | Warehouse:
    """Create a row, or change the given fields of one; audited as `<noun>.created` / `<noun>.changed`. A value
    already used by another row of the organization for the `unique` field is a person's error."""
    value = fields.get(unique, getattr(instance, unique) if instance else "")
    if model.objects.filter(**{unique: value}).exclude(pk=instance.pk if instance else None).exists():
        raise ValidationError({unique: [f"A {label} with {unique} {value} already exists."]})
    if instance is None:
        created = model.objects.create(**fields)
        audit_record(
            organization=current_organization(),
            actor=actor,
            action=f"{noun}.created",
            target=created,
            changes={unique: value},
        )
        return created
    changed = _changed(instance, fields)
    if changed:
        for name, new_value in changed.items():
            setattr(instance, name, new_value)
        instance.save(update_fields=list(changed))
        audit_record(
            organization=current_organization(),
            actor=actor,
            action=f"{noun}.changed",
            target=instance,
            changes={name: str(new_value) for name, new_value in changed.items()},
        )
    return instance


@transaction.atomic
def sku_save(
    *,
    actor: Actor,
    fields: Mapping[str, object],
    sku: Sku | None = None,
    suppliers: Mapping[Warehouse, Decimal | None] | None = None,
) -> Sku:
    """Create a SKU, or change the given fields of one; audited; a duplicate code is refused. `suppliers`, when
    given, becomes the SKU's whole set of supplier links (supplier → its price)."""
    saved = _save_audited(actor=actor, noun="sku", label="SKU", model=Sku, unique="code", fields=fields, instance=sku)
    if suppliers is not None:
        sku_suppliers_set(sku=saved, suppliers=suppliers, actor=actor)
    return saved


def sku_suppliers_set(*, sku: Sku, suppliers: Mapping[Warehouse, Decimal | None], actor: Actor) -> None:
    """Which dropship suppliers supply this SKU, at what price; audited when it changes. A new supplier may let
    orders held for stock ship (they are re-allocated, as when stock arrives)."""
    wrong = [w.name for w in suppliers if w.kind != WarehouseKind.SUPPLIER]
    if wrong:
        raise ValidationError({"suppliers": [f"Not a dropship supplier: {', '.join(wrong)}."]})
    before = {link.warehouse_id: link.cost for link in SkuSupplier.objects.filter(sku=sku)}
    after = {w.pk: cost for w, cost in suppliers.items()}
    if before == after:
        return
    SkuSupplier.objects.filter(sku=sku).exclude(warehouse_id__in=list(after)).delete()
    organization_id = current_organization().pk
    for warehouse_id, cost in after.items():
        SkuSupplier.objects.update_or_create(
            sku=sku, warehouse_id=warehouse_id, defaults={"cost": cost, "organization_id": organization_id}
        )
    names = {w.pk: w.name for w in suppliers}
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="sku.suppliers_changed",
        target=sku,
        changes={"suppliers": {names[w]: str(cost) if cost is not None else None for w, cost in after.items()}},
    )
    if set(after) - set(before):
        _announce([sku.pk], freed=True)


@transaction.atomic
def warehouse_save(*, actor: Actor, fields: Mapping[str, object], warehouse: Warehouse | None = None) -> Warehouse:
    """Create a warehouse, or change the given fields of one; audited; a duplicate name is refused. A zone nobody
    chose comes from the address (`warehouse_time_zone_default`)."""
    return _save_audited(
        actor=actor,
        noun="warehouse",
        label="warehouse",
        model=Warehouse,
        unique="name",
        fields=warehouse_time_zone_default(
            fields=warehouse_kind_fields(fields=fields, warehouse=warehouse), warehouse=warehouse
        ),
        instance=warehouse,
    )


def warehouse_kind_fields(*, fields: Mapping[str, object], warehouse: Warehouse | None) -> dict[str, object]:
    """`fields` with the kind read (`warehouse_kind_read`: "fbt" is TikTok's platform warehouse) and the platform
    that goes with it: kept for a platform warehouse that stays one, blank for every other kind. A platform kind
    without a platform is a person's error."""
    if "kind" not in fields:
        return dict(fields)
    stored_platform = warehouse.platform if warehouse is not None else ""
    kind, platform = warehouse_kind_read(
        str(fields["kind"] or ""), platform=str(fields.get("platform") or stored_platform)
    )
    if kind == WarehouseKind.PLATFORM and not platform:
        raise ValidationError({"kind": ["Say which platform fulfils from this warehouse."]})
    return {**fields, "kind": kind, "platform": platform}


def _address_zone(country_code: object, state: object) -> str:
    """The zone an address implies, else the organization's."""
    return clock.zone_for_address(str(country_code or ""), str(state or "")) or clock.organization_zone().key


def warehouse_time_zone_default(*, fields: Mapping[str, object], warehouse: Warehouse | None) -> dict[str, object]:
    """`fields` with the warehouse's zone filled in when nobody chose one (docs/time.md): a blank zone, or an address
    change on a warehouse whose zone was still its old address's default, takes the zone of the (new) address
    (US state, Canadian province, single-zone country), else the organization's. A zone chosen explicitly stays."""
    stored = Warehouse.objects.get(pk=warehouse.pk) if warehouse is not None else None  # a ModelForm edits `warehouse`
    country = fields.get("country_code", stored.country_code if stored else "US")
    state = fields.get("state", stored.state if stored else "")
    zone = str(fields.get("time_zone", stored.time_zone if stored else "") or "")
    if (
        stored is not None
        and (country, state) != (stored.country_code, stored.state)
        and zone == stored.time_zone == _address_zone(stored.country_code, stored.state)
    ):
        zone = ""  # the old address's default, not a choice: follow the address
    return {**fields, "time_zone": zone or _address_zone(country, state)}


# Announced when a store's warehouse links change: what the store should advertise changed with them.
warehouse_links_changed = Event("warehouse_links_changed")


@transaction.atomic
def warehouse_link_add(
    *,
    actor: Actor,
    warehouse: Warehouse,
    store: Store,
    platform_warehouse_id: str,
    platform_name: str = "",
    platform_address: str = "",
) -> WarehouseLink:
    if WarehouseLink.objects.filter(store=store, platform_warehouse_id=platform_warehouse_id).exists():
        raise ValidationError(
            {
                "platform_warehouse_id": [
                    f"{store.name}'s warehouse {platform_warehouse_id} is already linked to a Dropline warehouse."
                ]
            }
        )
    link = WarehouseLink.objects.create(
        warehouse=warehouse,
        store=store,
        platform_warehouse_id=platform_warehouse_id,
        platform_name=platform_name[:200],
        platform_address=platform_address[:300],
    )
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="warehouse.linked",
        target=warehouse,
        changes={"store": store.name, "platform_warehouse_id": platform_warehouse_id},
    )
    transaction.on_commit(lambda: warehouse_links_changed.send(store))
    return link


@transaction.atomic
def warehouse_link_remove(*, actor: Actor, link: WarehouseLink) -> None:
    store = link.store
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="warehouse.unlinked",
        target=link.warehouse,
        changes={"store": store.name, "platform_warehouse_id": link.platform_warehouse_id},
    )
    link.delete()
    transaction.on_commit(lambda: warehouse_links_changed.send(store))


# ------------------------------------------------------------- platform fulfilment (stock held by the platform)
@transaction.atomic  # the level is locked (select_for_update): the beat's worker calls this outside any transaction
def stock_platform_sync(*, sku: Sku, warehouse: Warehouse, on_hand: int, reserved: int, actor: Actor) -> StockLevel:
    """Set a platform warehouse's stock level to what its platform reports (on hand = available + reserved;
    reserved = the platform's), as one SYNC ledger entry. Only for platform warehouses (TikTok's FBT): people cannot
    change them, and only this sync can. Nothing is announced: their stock is never pushed and cannot ship
    Dropline's own orders."""
    if not warehouse.is_platform_fulfilment:
        raise StockError(f"{warehouse.name} is not a platform's warehouse: its stock is not synced from a platform.")
    platform = registry.platform_name(warehouse.platform)
    if on_hand < 0 or not 0 <= reserved <= on_hand:
        raise StockError(f"{platform} reported {on_hand} on hand and {reserved} reserved for {sku.code}: not a level.")
    level = _levels_locked([(sku.pk, warehouse.pk)])[(sku.pk, warehouse.pk)]
    if (level.on_hand, level.reserved) == (on_hand, reserved):
        return level
    _move(
        level,
        kind=MovementKind.SYNC,
        actor=actor,
        on_hand=on_hand - level.on_hand,
        reserved=reserved - level.reserved,
        reason=f"{warehouse.held_by}: {on_hand} on hand, {reserved} reserved",
    )
    # The platform's reserved units are its own orders' commitments, not Dropline reservations: no Reservation rows
    # (stock_check compares reservations with `reserved` only where Dropline reserves).
    return level


# ------------------------------------------------------------------------------------------------------ returns
@dataclass(frozen=True)
class ReturnLine:
    """What a person decided for units of one SKU in a returned parcel."""

    sku_id: UUID
    quantity: int
    outcome: str  # ReturnOutcome
    reason: str = ""


@dataclass(frozen=True)
class ReturnParcel:
    """The returned parcel: whose order it is, the platform's return id and its tracking number when known, and the
    one-time key of the form (or request) that submits it."""

    order_id: UUID
    order_reference: str
    submission: str
    return_id: str = ""
    tracking_number: str = ""


def _lock_order_returns(order_id: UUID) -> None:
    """One receiving of an order's returns at a time (two people scanning the same parcel queue here)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"return-receipt:{order_id}"])


def _already_received(parcel: ReturnParcel) -> ReturnReceipt | None:
    """The receipt of this same submission, or of this same parcel (its return id, or its tracking number) of the
    order: a double submit, a retried request or the parcel scanned twice."""
    same = ReturnReceipt.objects.filter(submission=parcel.submission).first()
    if same is not None:
        if same.order_id != parcel.order_id:
            raise StockError({"submission": ["This form was already used for another order: open it again."]})
        return same
    mine = ReturnReceipt.objects.filter(order_id=parcel.order_id)
    if parcel.return_id:
        same = mine.filter(return_id=parcel.return_id).first()
    if same is None and parcel.tracking_number:
        same = mine.filter(tracking_number=parcel.tracking_number).first()
    return same


def _return_line_errors(
    lines: Sequence[ReturnLine], returnable: Mapping[UUID, int], received: Mapping[UUID, int]
) -> list[str]:
    errors = []
    codes = dict(Sku.objects.filter(pk__in=[line.sku_id for line in lines]).values_list("pk", "code"))
    seen: Counter[UUID] = Counter()
    for line in lines:
        code = codes.get(line.sku_id, str(line.sku_id))
        if line.sku_id not in returnable:
            errors.append(f"{code} is not in this order.")
            continue
        if line.outcome not in ReturnOutcome.values:
            errors.append(f"{code}: choose restock or write off.")
        if line.outcome == ReturnOutcome.WRITE_OFF and not line.reason.strip():
            errors.append(f"{code}: say why it is written off (damaged, used, wrong item…).")
        seen[line.sku_id] += line.quantity
    for sku_id, units in seen.items():
        left = returnable[sku_id] - received.get(sku_id, 0)
        if units > left:
            errors.append(
                f"{codes.get(sku_id, sku_id)}: {units} received but only {left} of the order's "
                f"{returnable[sku_id]} can still come back."
            )
    return errors


def return_units_received(order_id: UUID) -> dict[UUID, int]:
    """SKU id → units of this order already received back (restocked or written off)."""
    rows = (
        ReturnReceiptLine.objects.filter(receipt__order_id=order_id)
        .values_list("sku_id")
        .annotate(units=models.Sum("quantity"))
    )
    return {sku_id: int(units) for sku_id, units in rows}


@transaction.atomic
def return_receive(
    *,
    parcel: ReturnParcel,
    warehouse: Warehouse,
    lines: Sequence[ReturnLine],
    returnable: Mapping[UUID, int],
    actor: Actor,
) -> tuple[ReturnReceipt, bool]:
    """Receive a returned parcel at `warehouse`, exactly once: each restocked unit goes back on hand through a
    `return` ledger entry (levels and ledger in one transaction), each written-off unit is recorded with its reason.
    `returnable` is what the order can give back (SKU id → units it holds); no SKU ever comes back more often than
    that, however many receipts. Returns (receipt, True) — or (the first receipt, False) when this submission or this
    parcel was already received: nothing is done twice. Raises StockError (nothing changed) on bad lines."""
    _writable(warehouse)
    lines = [line for line in lines if line.quantity]
    if not lines:
        raise StockError({"lines": ["Nothing received: give the quantity of at least one line."]})
    for line in lines:
        _within_range("quantity", line.quantity)
        if line.quantity < 0:
            raise StockError({"lines": ["A quantity cannot be negative."]})
    if any(line.outcome == ReturnOutcome.RESTOCK for line in lines) and not warehouse.tracks_stock:
        raise StockError({"warehouse": [f"{warehouse.name} keeps no stock: receive the return where it is shelved."]})
    _lock_order_returns(parcel.order_id)
    first = _already_received(parcel)
    if first is not None:
        return first, False
    errors = _return_line_errors(lines, returnable, return_units_received(parcel.order_id))
    if errors:
        raise StockError({"lines": errors})
    receipt = ReturnReceipt.objects.create(
        order_id=parcel.order_id,
        order_reference=parcel.order_reference[:64],
        return_id=parcel.return_id[:64],
        tracking_number=parcel.tracking_number[:64],
        warehouse=warehouse,
        submission=parcel.submission[:64],
        received_by_label=actor.label[:200],
    )
    ReturnReceiptLine.objects.bulk_create(
        [
            ReturnReceiptLine(
                organization_id=receipt.organization_id,
                receipt=receipt,
                sku_id=line.sku_id,
                quantity=line.quantity,
                outcome=line.outcome,
                reason=line.reason.strip()[:300],
            )
            for line in lines
        ]
    )
    restock = [line for line in lines if line.outcome == ReturnOutcome.RESTOCK]
    if restock:
        levels = _levels_locked((line.sku_id, warehouse.pk) for line in restock)
        reference = parcel.tracking_number or parcel.return_id or parcel.order_reference
        for line in sorted(restock, key=lambda line: str(line.sku_id)):
            _move(
                levels[(line.sku_id, warehouse.pk)],
                kind=MovementKind.RETURN,
                actor=actor,
                on_hand=line.quantity,
                reason=f"return of order {parcel.order_reference}",
                order_id=parcel.order_id,
                reference=reference,
            )
        _announce([line.sku_id for line in restock], freed=True)
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="return.received",
        target=receipt,
        changes={
            "order": parcel.order_reference,
            "return_id": parcel.return_id or None,
            "warehouse": warehouse.name,
            "restocked": sum(line.quantity for line in restock),
            "written_off": {str(line.sku_id): [line.quantity, line.reason] for line in lines if line not in restock},
        },
    )
    return receipt, True
