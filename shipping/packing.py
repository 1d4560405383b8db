"""The packing station: a packer scans a parcel's label, then every unit they put in the box; Dropline counts the
units against the order and marks the parcel packed only when they all match.

    label scan ──► wrong warehouse / cancelled / already packed / unknown: said loudly, nothing starts
        │
        └─► packing ──item scan──► counted (progress kept on the LabelPurchase, so a reload loses nothing)
                │                    └─ wrong item, extra unit: refused, nothing counted
                ├── every unit counted ──► PACKED
                ├── finish with units left ──► refused, the missing units listed
                └── supervisor override (a reason, audited) ──► PACKED

What is scanned is each unit's SKU barcode or SKU code; a bundle's components are scanned, not the bundle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from erp import clock
from erp.actors import Actor
from erp.inputs import parse_uuid
from erp.services import audit_record
from inventory.models import Listing, Sku, Warehouse, WarehouseKind
from inventory.services import expand_bundles
from orders.models import Order, OrderStatus
from shipping.models import HANDOFF_KINDS, HandoffItem, LabelPurchase, PurchaseState
from shipping.packages import package_contents, units_in

# Verdicts the station answers with. The parcel stays "being packed" after the ones in IN_PROGRESS.
PACKING, COUNTED, PACKED = "packing", "counted", "packed"
WRONG_ITEM, EXTRA_UNIT, MISSING = "wrong_item", "extra_unit", "missing"
UNKNOWN, NOT_SHIPPABLE, ALREADY_PACKED, NOT_HERE, CHOOSE_STATION = (
    "unknown",
    "not_shippable",
    "already_packed",
    "not_here",
    "choose_station",
)
IN_PROGRESS = frozenset({PACKING, COUNTED, WRONG_ITEM, EXTRA_UNIT, MISSING})
REFUSED = frozenset({WRONG_ITEM, EXTRA_UNIT, MISSING, UNKNOWN, NOT_SHIPPABLE, NOT_HERE})
CANCELLED_WHILE_PACKING = "This order was CANCELLED. Do not ship it: unpack it for restocking."
CANCELLED_AT_SCAN = "This order was CANCELLED. Do not ship it: put it aside for restocking."
HEADLINES = {
    PACKING: "Scan every item",
    COUNTED: "✔ Counted",
    PACKED: "✔ Packed",
    WRONG_ITEM: "✖ Wrong item: take it out",
    EXTRA_UNIT: "✖ Extra unit: take it out",
    MISSING: "✖ Units missing: not packed",
    UNKNOWN: "✖ Unknown label",
    NOT_SHIPPABLE: "✖ Cancelled: do not ship",
    ALREADY_PACKED: "⚠ Already packed",
    NOT_HERE: "✖ Not this warehouse: do not pack here",
    CHOOSE_STATION: "⚠ Choose this station's warehouse",
}


@dataclass(frozen=True)
class PackUnit:
    """One SKU to put in the box: how many units the order needs and how many were scanned."""

    code: str
    name: str
    barcode: str
    expected: int
    scanned: int = 0

    @property
    def missing(self) -> int:
        return max(self.expected - self.scanned, 0)

    def __str__(self) -> str:
        return f"{self.missing} × {self.code} ({self.name})" if self.name else f"{self.missing} × {self.code}"


@dataclass(frozen=True)
class PackNotes:
    """What the buyer and the seller asked the packer to see."""

    buyer_message: str
    seller_note: str
    gifts: tuple[str, ...]  # the products of the lines marked as gifts

    def __bool__(self) -> bool:
        return bool(self.buyer_message or self.seller_note or self.gifts)


@dataclass(frozen=True)
class PackResult:
    verdict: str
    message: str
    purchase: LabelPurchase | None = None
    units: tuple[PackUnit, ...] = ()
    notes: PackNotes | None = None
    alert: str = ""  # said loudly above everything: the label shows an address the buyer changed since

    @property
    def headline(self) -> str:
        return HEADLINES[self.verdict]

    @property
    def in_progress(self) -> bool:
        """The station keeps working on this parcel (the next item scan counts against it)."""
        return self.purchase is not None and self.verdict in IN_PROGRESS

    @property
    def tone(self) -> str:
        if self.verdict in REFUSED:
            return "bad"
        return "warn" if self.verdict in (ALREADY_PACKED, CHOOSE_STATION) or self.alert else "good"

    @property
    def progress(self) -> tuple[int, int]:
        return sum(min(u.scanned, u.expected) for u in self.units), sum(u.expected for u in self.units)


# ------------------------------------------------------------------------------------------------------ selectors
def packing_stations() -> QuerySet[Warehouse]:
    """The warehouses a seller's packing station can be: their own, active ones (suppliers and 3PLs pack elsewhere)."""
    return Warehouse.objects.filter(kind=WarehouseKind.OWN, is_active=True).order_by("name")


def packing_station(warehouse_id: object | None) -> Warehouse | None:
    """The station's warehouse: the one chosen, else the only own warehouse when there is just one."""
    stations = packing_stations()
    pk = parse_uuid(warehouse_id)
    if pk is not None:
        chosen = stations.filter(pk=pk).first()
        if chosen is not None:
            return chosen
    only = list(stations[:2])
    return only[0] if len(only) == 1 else None


def _units_expected(purchase: LabelPurchase) -> dict[str, PackUnit]:
    """SKU code → the units of it to pack: the label's live lines, of every order its package carries (a combined
    parcel expects all its orders' units; a partially shipped order's label covers only the lines still to ship),
    mapped to our SKUs (through the store's listings, else by seller SKU), bundles replaced by their components. A
    line mapped to no SKU is scanned by its seller SKU."""
    order = purchase.order
    lines = [
        (sku_id, seller_sku, name, units_in(line_ids, carried.line_ids, quantity))
        for carried in package_contents(purchase)  # a combined parcel: every order in it
        for sku_id, seller_sku, name, line_ids, quantity in carried.order.lines.filter(is_cancelled=False).values_list(
            "sku_id", "seller_sku", "product_name", "platform_line_ids", "quantity"
        )
    ]
    lines = [line for line in lines if line[3]]  # units of the label's lines only
    mapped = dict(
        Listing.objects.filter(
            store_id=order.store_id, platform_sku_id__in=[line[0] for line in lines], sku__isnull=False
        ).values_list("platform_sku_id", "sku_id")
    )
    by_code = dict(Sku.objects.filter(code__in=[line[1] for line in lines if line[1]]).values_list("code", "pk"))
    demand: Counter = Counter()
    unmapped: dict[str, PackUnit] = {}
    for sku_id, seller_sku, name, units in lines:
        our_sku = mapped.get(sku_id) or by_code.get(seller_sku)
        if our_sku is not None:
            demand[our_sku] += units
            continue
        code = seller_sku or sku_id
        known = unmapped.get(code)
        unmapped[code] = PackUnit(code, name, "", (known.expected if known else 0) + units)
    expanded = expand_bundles(demand)
    skus = Sku.objects.in_bulk(list(expanded))
    units = {skus[pk].code: PackUnit(skus[pk].code, skus[pk].name, skus[pk].barcode, n) for pk, n in expanded.items()}
    return dict(sorted({**unmapped, **units}.items()))


def _with_scans(units: dict[str, PackUnit], scanned: dict[str, int]) -> tuple[PackUnit, ...]:
    return tuple(replace(unit, scanned=int(scanned.get(code, 0))) for code, unit in units.items())


def _same_barcode(printed: str, scanned: str) -> bool:
    """A UPC-A read as EAN-13 (or a GTIN-14) differs only by leading zeros: the same product."""
    if printed == scanned:
        return True
    return bool(printed) and printed.isdigit() and scanned.isdigit() and printed.lstrip("0") == scanned.lstrip("0")


def _unit_for(units: dict[str, PackUnit], code: str) -> str | None:
    """The SKU code a scanned barcode counts as: its barcode first, else its SKU code (any case)."""
    for unit in units.values():
        if unit.barcode and _same_barcode(unit.barcode, code):
            return unit.code
    folded = code.casefold()
    return next((unit.code for unit in units.values() if unit.code.casefold() == folded), None)


def _notes(order: Order) -> PackNotes:
    gifts = order.lines.filter(is_cancelled=False, is_gift=True).values_list("product_name", "seller_sku")
    return PackNotes(
        buyer_message=order.buyer_message.strip(),
        seller_note=order.seller_note.strip(),
        gifts=tuple(name or sku for name, sku in gifts),
    )


def _needs(units: tuple[PackUnit, ...]) -> str:
    return ", ".join(str(unit) for unit in units if unit.missing) or "nothing more"


def _what_is(code: str) -> str:
    """Name what was scanned, for a refusal: the SKU it is, if any."""
    sku = Sku.objects.filter(Q(barcode=code) | Q(code__iexact=code)).first() if code else None
    if sku is None:
        return f"“{code}” is not a SKU barcode or code Dropline knows"
    if sku.is_bundle:
        return f"“{code}” is the bundle {sku.code} ({sku.name}): scan each of its components instead"
    return f"“{code}” is {sku.code} ({sku.name}), not in this order"


def _label_for(code: str) -> LabelPurchase | None:
    if not code:
        return None
    return (
        LabelPurchase.objects.select_related("order", "order__warehouse", "warehouse")
        .filter(
            Q(tracking_number=code)
            | Q(package_id=code)
            | Q(order__external_id=code)
            | Q(covers__order__external_id=code)  # any order of a combined parcel finds its package
        )
        .filter(state=PurchaseState.PURCHASED)
        .order_by("purchased_at", "pk")
        .first()
    )


def _ships_from_elsewhere(purchase: LabelPurchase, station: Warehouse | None) -> Warehouse | None:
    """The warehouse this parcel ships from when it is not the station's: a supplier or 3PL that has it in a handoff
    (never the seller's station), or another warehouse the order is routed to."""
    item = HandoffItem.objects.filter(purchase=purchase).select_related("handoff__warehouse").first()
    if item is not None:
        return item.handoff.warehouse
    warehouse = purchase.warehouse or purchase.order.warehouse  # a split order's package ships from its source
    if warehouse is None:
        return None  # not routed anywhere: any station of the seller's may pack it
    if warehouse.kind in HANDOFF_KINDS or (station is not None and warehouse.pk != station.pk):
        return warehouse
    return None


def _is_cancelled(purchase: LabelPurchase) -> bool:
    """Cancelled after its label was bought (shipping.cancelled stopped it), or cancelled as the order now reads."""
    return purchase.order_cancelled_at is not None or purchase.order.status == OrderStatus.CANCELLED


def _packed_answer(purchase: LabelPurchase) -> PackResult:
    when = clock.format_local(purchase.packed_at, clock.organization_zone())
    how = f" (supervisor override: {purchase.pack_override_reason})" if purchase.pack_override_reason else ""
    return PackResult(
        ALREADY_PACKED,
        f"Already packed by {purchase.packed_by_label} at {when}{how}. Is this a duplicate label? "
        "Do not ship it twice.",
        purchase,
    )


def _old_address_alert(order: Order) -> str:
    return order.address_note if order.label_shows_old_address else ""


def _progress(purchase: LabelPurchase, verdict: str, message: str) -> PackResult:
    units = _with_scans(_units_expected(purchase), purchase.packed_units)
    return PackResult(verdict, message, purchase, units, _notes(purchase.order), _old_address_alert(purchase.order))


def pack_progress(*, purchase_id: object | None) -> PackResult | None:
    """The parcel a station was packing, as it stands (a reload of the page); None when there is none any more."""
    if parse_uuid(str(purchase_id)) is None:
        return None
    purchase = (
        LabelPurchase.objects.select_related("order")
        .filter(pk=purchase_id, state=PurchaseState.PURCHASED, packed_at__isnull=True)
        .first()
    )
    if purchase is None:
        return None
    if _is_cancelled(purchase):
        return PackResult(NOT_SHIPPABLE, CANCELLED_WHILE_PACKING, purchase)
    result = _progress(purchase, PACKING, "")
    done, total = result.progress
    return replace(result, message=f"Order {purchase.order.external_id}: {done} of {total} unit(s) scanned.")


# ------------------------------------------------------------------------------------------------------ services
def pack_scan_label(*, code: str, station: Warehouse | None) -> PackResult:
    """A packer scanned a label (tracking number, package id or order number): show what goes in the box, the buyer's
    message and gift notes, and start (or resume) counting its units. Anything unexpected is said loudly, and
    nothing starts."""
    code = code.strip()
    purchase = _label_for(code)
    if purchase is None:
        return PackResult(UNKNOWN, f"No bought label matches “{code}”. Do not ship this package: ask a supervisor.")
    order = purchase.order
    if _is_cancelled(purchase):
        return PackResult(NOT_SHIPPABLE, CANCELLED_AT_SCAN, purchase)
    if purchase.packed_at is not None:
        return _packed_answer(purchase)
    elsewhere = _ships_from_elsewhere(purchase, station)
    if elsewhere is not None:
        return PackResult(
            NOT_HERE,
            f"Order {order.external_id} ships from {elsewhere.name}: do not pack here. Put it aside for "
            f"{elsewhere.name}.",
            purchase,
        )
    if station is None and order.warehouse_id is not None and packing_stations().count() > 1:
        return PackResult(
            CHOOSE_STATION,
            "Choose this station's warehouse at the top of the page first: orders of other warehouses are not "
            "packed here.",
            purchase,
        )
    result = _progress(purchase, PACKING, "")
    done, total = result.progress
    resumed = f" Resumed: {done} already scanned." if done else ""
    return replace(
        result,
        message=f"Order {order.external_id}: scan each of the {total} unit(s) as you put it in the box.{resumed}",
    )


NOTHING_STARTED = PackResult(UNKNOWN, "No parcel is being packed here: scan its label first.")


def _locked(purchase_id: object) -> LabelPurchase | None:
    """The parcel being packed, locked until the end of the transaction (concurrent scans count one at a time)."""
    if parse_uuid(str(purchase_id)) is None:
        return None
    return (
        LabelPurchase.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk=purchase_id, state=PurchaseState.PURCHASED)
        .first()
    )


def _not_packable(purchase: LabelPurchase) -> PackResult | None:
    """Why the parcel being packed can no longer be counted or marked: packed already, or cancelled."""
    if purchase.packed_at is not None:
        return _packed_answer(purchase)
    if _is_cancelled(purchase):
        return PackResult(NOT_SHIPPABLE, CANCELLED_WHILE_PACKING, purchase)
    return None


def _mark_packed(purchase: LabelPurchase, actor: Actor, **extra: object) -> None:
    purchase.packed_at, purchase.packed_by_label = timezone.now(), actor.label[:200]
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        packed_at=purchase.packed_at, packed_by_label=purchase.packed_by_label, **extra
    )


@transaction.atomic
def pack_scan_item(*, purchase_id: object, code: str, actor: Actor) -> PackResult:
    """A unit scanned into the parcel being packed: counted when the order needs it, refused (and not counted) when
    it is not in the order or is one more than the order needs. The last unit marks the parcel packed."""
    code = code.strip()
    purchase = _locked(purchase_id)
    if purchase is None:
        return NOTHING_STARTED
    if (refusal := _not_packable(purchase)) is not None:
        return refusal
    units = _units_expected(purchase)
    scanned = dict(purchase.packed_units)
    match = _unit_for(units, code)
    if match is None:
        result = _progress(purchase, WRONG_ITEM, "")
        return replace(result, message=f"{_what_is(code)}. This order needs: {_needs(result.units)}.")
    unit = units[match]
    if scanned.get(match, 0) >= unit.expected:
        result = _progress(purchase, EXTRA_UNIT, "")
        return replace(
            result,
            message=f"One {match} too many: the order needs {unit.expected} and all {unit.expected} are in the box. "
            f"Still needed: {_needs(result.units)}.",
        )
    scanned[match] = scanned.get(match, 0) + 1
    purchase.packed_units = scanned
    units_now = _with_scans(units, scanned)
    if any(u.missing for u in units_now):
        LabelPurchase.objects.filter(pk=purchase.pk).update(packed_units=scanned)
        return PackResult(
            COUNTED,
            f"{match}: {scanned[match]} of {unit.expected}. Still needed: {_needs(units_now)}.",
            purchase,
            units_now,
            _notes(purchase.order),
        )
    _mark_packed(purchase, actor, packed_units=scanned)
    return PackResult(
        PACKED,
        f"Order {purchase.order.external_id}: every unit matches. Close the box and scan the next label.",
        purchase,
        units_now,
        _notes(purchase.order),
    )


@transaction.atomic
def pack_finish(*, purchase_id: object | None, actor: Actor) -> PackResult:
    """The packer says the box is complete: packed when every unit was scanned; otherwise refused with what is
    missing."""
    purchase = _locked(purchase_id)
    if purchase is None:
        return NOTHING_STARTED
    if (refusal := _not_packable(purchase)) is not None:
        return refusal
    result = _progress(purchase, MISSING, "")
    if any(unit.missing for unit in result.units):
        return replace(
            result, message=f"Not packed: the box is missing {_needs(result.units)}. Scan them, or ask a supervisor."
        )
    _mark_packed(purchase, actor)
    return replace(result, verdict=PACKED, message=f"Order {purchase.order.external_id}: packed.")


@transaction.atomic
def pack_override(*, purchase_id: object | None, reason: str, actor: Actor) -> PackResult:
    """A supervisor marks the parcel packed although its units do not all match, with a reason. Audited."""
    reason = reason.strip()[:300]
    purchase = _locked(purchase_id)
    if purchase is None:
        return NOTHING_STARTED
    if (refusal := _not_packable(purchase)) is not None:
        return refusal
    result = _progress(purchase, MISSING, "")
    if not reason:
        return replace(result, message="Give the reason for marking it packed anyway.")
    missing = {unit.code: unit.missing for unit in result.units if unit.missing}
    _mark_packed(purchase, actor, pack_override_reason=reason)
    audit_record(
        organization=purchase.organization,
        actor=actor,
        action="label.pack_overridden",
        target=purchase,
        changes={
            "order": purchase.order.external_id,
            "reason": reason,
            "missing": missing,
            "scanned": dict(purchase.packed_units),
        },
    )
    return replace(
        result,
        verdict=PACKED,
        message=f"Order {purchase.order.external_id}: marked packed by {actor.label} (override: {reason}).",
    )


def pack_scan(*, code: str, actor: Actor, station: Warehouse | None, current_id: object | None) -> PackResult:
    """What the station's one input means: a bought label starts (or resumes) that parcel; anything else is a unit
    for the parcel being packed, if there is one. Switching to another label keeps the first parcel's progress."""
    code = code.strip()
    current = pack_progress(purchase_id=current_id)
    if not code and current is not None:
        return current  # an Enter on its own: show where the parcel stands
    if current is None or _label_for(code) is not None:
        result = pack_scan_label(code=code, station=station)
        if current is not None and current.verdict == PACKING and result.purchase != current.purchase:
            done, total = current.progress
            left = f"Order {current.purchase.order.external_id} is not finished ({done} of {total} scanned; kept). "
            result = replace(result, message=left + result.message)
        return result
    return pack_scan_item(purchase_id=current_id, code=code, actor=actor)
