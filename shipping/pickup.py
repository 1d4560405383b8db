"""Collections by TikTok (CBT): how an order's package is handed over, which pickup slot is booked, and the day's
pickup manifest a warehouse hands the TikTok driver.

- `handover_for` (pure): the rule's handover if it names one, else PICKUP for an order routed to a CBT warehouse,
  else nothing (the platform's default, set per warehouse in Seller Center).
- `pickup_slot_choose` (pure) / `pickup_slot_for` (one Get Package Handover Time Slots call, README §5.7): the first
  available slot that fits the rule's preference ("morning", "afternoon", "evening", "14:00", "14:00-17:00", read
  in the warehouse's time zone), else the first available slot at all.
- `pickup_manifest` (selector): every package with a bought label at a warehouse that the truck takes on a given
  day; `shipping.documents.pickup_manifest` draws it, with counts per carrier, a total and signature lines.

A package's pickup day is its booked slot's day in the warehouse's time zone. Without a booked slot (US Create
Packages never takes one; the slot is read after buying, and that read may fail) it is the day the label was bought,
or the next working day when bought after the warehouse's cut-off or on a day it does not ship.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from erp import clock
from integrations.base import LabelProvider
from integrations.interface import HandoverOptions, TimeSlot
from inventory.calendar import warehouse_calendar
from inventory.models import Warehouse
from orders.models import Order, OrderStatus
from shipping.documents.batch import natural_key
from shipping.models import LabelPurchase, PurchaseState
from shipping.rules.schema import Actions

PICKUP = "PICKUP"
DROP_OFF = "DROP_OFF"
LOOKBACK = timedelta(days=8)  # a label bought this long before a day can still be due on it (cut-off + weekends)


# ------------------------------------------------------------------------------------------------------ handover
@dataclass(frozen=True)
class Handover:
    """How a package leaves: PICKUP (TikTok's truck comes), DROP_OFF, or None (Seller Center's setting stands)."""

    method: str | None
    why: str
    slot_preference: str | None = None  # the rule's preferred pickup slot, only with PICKUP


def handover_for(order: Order, actions: Actions | None = None) -> Handover:
    """The rule's handover when it names one; else PICKUP when the order is routed to a Collections by TikTok
    warehouse (the truck comes there); else None. A rule wins so a seller can send one kind of parcel to a counter
    even from a CBT warehouse."""
    if actions is not None and actions.handover_method:
        preference = actions.pickup_slot if actions.handover_method == PICKUP else None
        return Handover(actions.handover_method, "the logistics rule says so", preference)
    warehouse = order.warehouse
    if warehouse is not None and warehouse.collections_by_tiktok:
        return Handover(PICKUP, f"{warehouse.name} is on Collections by TikTok")
    return Handover(None, "")


_CLOCK = r"(\d{1,2})(?::(\d{2}))?"
_WINDOW = re.compile(rf"^{_CLOCK}\s*(?:-|–|to)\s*{_CLOCK}$")
_AT = re.compile(rf"^{_CLOCK}$")
_PARTS_OF_DAY = {"morning": (time(0), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), None)}


def _clock(hours: str, minutes: str | None) -> time | None:
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if h < 24 and m < 60 else None


def _preferred_window(preference: str) -> tuple[time, time | None] | None:
    """A rule's slot preference as [from, to) local clock times (to None: until midnight); None if unreadable."""
    text = preference.strip().lower()
    if text in _PARTS_OF_DAY:
        return _PARTS_OF_DAY[text]
    window = _WINDOW.match(text)
    if window:
        start, end = _clock(*window.group(1, 2)), _clock(*window.group(3, 4))
        return (start, end) if start is not None and end is not None and start < end else None
    at = _AT.match(text)
    if at:
        start = _clock(*at.group(1, 2))
        if start is None:
            return None
        end = (datetime.combine(date.min, start) + timedelta(minutes=1)).time()
        return start, end if end > start else None
    return None


def pickup_slot_choose(
    options: HandoverOptions, *, preference: str | None = None, time_zone: str = "UTC"
) -> tuple[TimeSlot | None, str]:
    """The slot to book, and why. Slots TikTok marks unavailable (`avaliable: false`) or without a start are never
    chosen; among the rest, TikTok's order is kept (earliest first, as it offers them)."""
    if not options.can_pickup:
        return None, "TikTok offers no pickup for this package"
    offered = tuple(slot for slot in options.pickup_slots if slot.start is not None)
    first = next((slot for slot in offered if slot.available is not False), None)
    if first is None:
        return None, "TikTok offered no available pickup slot"
    if not preference:
        return first, "first available pickup slot"
    window = _preferred_window(preference)
    if window is None:
        return first, f"“{preference}” is not a time Dropline reads: took the first available slot"
    zone = clock.zone_named(time_zone)
    start_from, start_to = window
    for slot in offered:
        if slot.available is False or slot.start is None:
            continue
        local = slot.start.astimezone(zone).time()
        if local >= start_from and (start_to is None or local < start_to):
            return slot, f"first available {preference} slot"
    return first, f"no {preference} slot offered: took the first available one"


def pickup_slot_for(
    *, provider: LabelProvider, package_id: str, preference: str | None = None, time_zone: str = "UTC"
) -> tuple[TimeSlot | None, str]:
    """Read the package's handover slots (Get Package Handover Time Slots) and choose one. PlatformError passes up:
    the caller decides whether a missing slot stops it (Ship Package needs one for PICKUP; a bought US label does
    not)."""
    return pickup_slot_choose(provider.handover_options(package_id), preference=preference, time_zone=time_zone)


# ------------------------------------------------------------------------------------------------------ pickup day
def pickup_day(*, warehouse: Warehouse, slot_start: datetime | None, purchased_at: datetime) -> date:
    """The day the truck takes a package (see the module docstring)."""
    calendar = warehouse_calendar(warehouse)
    if slot_start is not None:
        return slot_start.astimezone(calendar.zone).date()
    return calendar.dispatch_day(purchased_at)


# ------------------------------------------------------------------------------------------------------ manifest
@dataclass(frozen=True)
class ManifestPackage:
    order_ref: str
    package_id: str
    tracking_number: str
    carrier: str
    units: int
    slot_start: datetime | None = None
    slot_end: datetime | None = None


@dataclass(frozen=True)
class PickupManifest:
    warehouse_name: str
    warehouse_code: str
    address: str
    collections_by_tiktok: bool
    day: date
    time_zone: str
    packages: tuple[ManifestPackage, ...]

    @property
    def total(self) -> int:
        return len(self.packages)

    @property
    def units(self) -> int:
        return sum(p.units for p in self.packages)

    @property
    def per_carrier(self) -> list[tuple[str, int]]:
        """(carrier, packages), most packages first; a package without a carrier counts as "Carrier not known"."""
        counts = Counter(p.carrier or "Carrier not known" for p in self.packages)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def slots(self) -> list[tuple[datetime, datetime | None]]:
        """The distinct booked slots of the day, earliest first."""
        seen = {(p.slot_start, p.slot_end) for p in self.packages if p.slot_start is not None}
        return sorted(seen, key=lambda s: s[0])  # type: ignore[arg-type,return-value]

    @property
    def unbooked(self) -> int:
        return sum(1 for p in self.packages if p.slot_start is None)


def _sort_key(package: ManifestPackage) -> tuple[object, ...]:
    start = package.slot_start.timestamp() if package.slot_start else float("inf")
    return start, package.carrier.casefold(), natural_key(package.order_ref)


def pickup_manifest(*, warehouse: Warehouse, day: date) -> PickupManifest:
    """The packages the truck takes at `warehouse` on `day`: bought labels of orders routed there (not cancelled),
    due that day. At a CBT warehouse every package is a pickup unless its handover was recorded as DROP_OFF; at any
    other warehouse only those recorded as PICKUP (a rule asked for the truck)."""
    zone = clock.warehouse_zone(warehouse)
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    purchases = (
        LabelPurchase.objects.filter(
            state=PurchaseState.PURCHASED,
            order__warehouse=warehouse,
            purchased_at__gte=day_end - timedelta(days=1) - LOOKBACK,
            purchased_at__lt=day_end,  # a slot is never before the label that booked it
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .exclude(handover_method=DROP_OFF)
        .select_related("order")
        .order_by("purchased_at", "pk")
    )
    if not warehouse.collections_by_tiktok:
        purchases = purchases.filter(handover_method=PICKUP)
    packages = []
    for purchase in purchases:
        assert purchase.purchased_at is not None  # PURCHASED rows always carry it
        slot_start, slot_end = purchase.pickup_start, purchase.pickup_end
        if pickup_day(warehouse=warehouse, slot_start=slot_start, purchased_at=purchase.purchased_at) != day:
            continue
        order = purchase.order
        packages.append(
            ManifestPackage(
                order_ref=order.external_id,
                package_id=purchase.package_id,
                tracking_number=purchase.tracking_number or order.tracking_number,
                carrier=purchase.carrier_name or order.carrier_name,
                units=len(purchase.line_ids) or order.unit_count,
                slot_start=slot_start,
                slot_end=slot_end,
            )
        )
    address = ", ".join(
        part
        for part in (
            warehouse.address_line1,
            warehouse.address_line2,
            warehouse.city,
            " ".join(p for p in (warehouse.state, warehouse.postal_code) if p),
            warehouse.country_code,
        )
        if part
    )
    return PickupManifest(
        warehouse_name=warehouse.name,
        warehouse_code=warehouse.code,
        address=address,
        collections_by_tiktok=warehouse.collections_by_tiktok,
        day=day,
        time_zone=str(zone),
        packages=tuple(sorted(packages, key=_sort_key)),
    )


def warehouse_today(warehouse: Warehouse, *, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(clock.warehouse_zone(warehouse)).date()


def manifests_for(warehouses: Iterable[Warehouse], *, day: date | None = None) -> list[PickupManifest]:
    """Each warehouse's manifest for `day` (default: today where the warehouse is)."""
    return [pickup_manifest(warehouse=w, day=day or warehouse_today(w)) for w in warehouses]


def cbt_warehouses() -> Sequence[Warehouse]:
    """Active warehouses on Collections by TikTok, by name."""
    return list(Warehouse.objects.filter(is_active=True, collections_by_tiktok=True).order_by("name"))
