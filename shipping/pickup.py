"""Collections by TikTok (CBT): how an order's package is handed over, which pickup slot is booked, and the day's
pickup manifest a warehouse hands the TikTok driver.

- `handover_for` (pure): the rule's handover if it names one, else PICKUP for an order routed to a CBT warehouse,
  else nothing (the platform's default, set per warehouse in Seller Center).
- `pickup_slot_choose` (pure) / `pickup_slot_for` (one Get Package Handover Time Slots call, README §5.7): the first
  available slot that fits the rule's preference ("morning", "afternoon", "evening", "14:00", "14:00-17:00", read
  in the warehouse's time zone), else the first available slot at all.
- `pickup_manifest` (selector) and `pickup_manifest_pdf` (pure reportlab): every package with a bought label at a
  warehouse that the truck takes on a given day, with counts per carrier, a total and signature lines.

A package's pickup day is its booked slot's day in the warehouse's time zone. Without a booked slot (US Create
Packages never takes one; the slot is read after buying, and that read may fail) it is the day the label was bought,
or the next working day when bought after the warehouse's cut-off or on a day it does not ship.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from django.utils import timezone
from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from erp import clock
from integrations.interface import HandoverOptions, TimeSlot
from integrations.tiktok.client import TikTokShopClient
from inventory.calendar import warehouse_calendar
from inventory.models import Warehouse
from orders.models import Order, OrderStatus
from shipping.documents import (
    _BOLD,
    _ROW_FONT,
    _ZEBRA,
    PAPER_SIZES,
    PaperSize,
    _barcode,
    _checkbox,
    _ellipsize,
    _natural,
    _printable,
    _quantity,
    _when,
)
from shipping.models import LabelPurchase, PurchaseState
from shipping.rules import Actions

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
    first = TikTokShopClient.first_available_slot(replace(options, pickup_slots=offered))
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
    *, client: TikTokShopClient, package_id: str, preference: str | None = None, time_zone: str = "UTC"
) -> tuple[TimeSlot | None, str]:
    """Read the package's handover slots (Get Package Handover Time Slots) and choose one. PlatformError passes up:
    the caller decides whether a missing slot stops it (Ship Package needs one for PICKUP; a bought US label does
    not)."""
    return pickup_slot_choose(client.get_handover_time_slots(package_id), preference=preference, time_zone=time_zone)


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
    return start, package.carrier.casefold(), _natural(package.order_ref)


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


# ------------------------------------------------------------------------------------------------------ the PDF
def _slot_text(start: datetime | None, end: datetime | None, zone: tzinfo) -> str:
    if start is None:
        return "not booked"
    text = start.astimezone(zone).strftime("%H:%M")
    named = clock.zone_abbreviation(start, zone)
    return f"{text}–{end.astimezone(zone).strftime('%H:%M')} {named}" if end is not None else f"from {text} {named}"


def _manifest_ref(manifest: PickupManifest) -> str:
    code = re.sub(r"[^A-Za-z0-9]", "", manifest.warehouse_code or manifest.warehouse_name)[:12].upper() or "WH"
    return f"PM-{code}-{manifest.day:%Y%m%d}"


_COLUMNS = (
    ("tick", "", 24.0),
    ("n", "#", 26.0),
    ("order", "Order / package", 132.0),
    ("tracking", "Tracking number", 0.0),  # takes what is left: the number and its barcode
    ("carrier", "Carrier", 76.0),
    ("slot", "Slot", 66.0),
)


def pickup_manifest_pdf(manifest: PickupManifest, *, printed_at: datetime, paper: PaperSize = "Letter") -> bytes:
    """The manifest on Letter/A4: header (warehouse, day, slots, reference barcode), the counts per carrier and the
    total in large type, then one row per package (tick box, order, tracking number with its Code 128 barcode,
    carrier, package id, slot) and the signature block for the driver and the warehouse on the last page."""
    width, height = PAPER_SIZES[paper]
    margin = 0.5 * inch
    usable = width - 2 * margin
    zone = clock.zone_named(manifest.time_zone)
    col = {name: w for name, _, w in _COLUMNS}
    col["tracking"] = usable - sum(col.values())
    pad = 4.0
    row_height = 34.0
    column_header = 20.0
    footer = 30.0
    box_height = max(80.0, 44.0 + 16.0 * len(manifest.per_carrier))
    first_header = 128.0 + box_height + 10.0
    next_header = 30.0
    signoff = 126.0  # what _signoff draws below the last row

    pages: list[list[tuple[int, ManifestPackage]]] = [[]]
    room = height - 2 * margin - first_header - column_header - footer
    for index, package in enumerate(manifest.packages, start=1):
        if row_height > room:
            pages.append([])
            room = height - 2 * margin - next_header - column_header - footer
        pages[-1].append((index, package))
        room -= row_height
    if room < signoff:
        pages.append([])
    total_pages = len(pages)

    reference = _manifest_ref(manifest)
    warehouse = _printable(manifest.warehouse_name)
    day_text = manifest.day.strftime("%A %d %B %Y")
    if manifest.slots:
        slots = ", ".join(_slot_text(start, end, zone) for start, end in manifest.slots)
    else:
        slots = "none booked: the truck comes in TikTok's collection window for this warehouse"
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(_printable(f"Pickup manifest {warehouse} {manifest.day:%Y-%m-%d}"))
    for number, page_rows in enumerate(pages, start=1):
        top = height - margin
        pdf.setFillColor(black)
        if number == 1:
            pdf.setFont(_BOLD, 22)
            pdf.drawString(margin, top - 20, "PICKUP MANIFEST")
            pdf.setFont(_BOLD, 12)
            kind = "Collections by TikTok" if manifest.collections_by_tiktok else "TikTok Shipping pickup"
            pdf.drawRightString(width - margin, top - 12, kind)
            code = _barcode(reference, 180, 26)
            if code is not None:
                code.drawOn(pdf, width - margin - code.width, top - 44)
            pdf.setFont(_ROW_FONT, 9)
            pdf.drawRightString(width - margin, top - 54, reference)
            pdf.setFont(_BOLD, 14)
            name = warehouse + (f" ({_printable(manifest.warehouse_code)})" if manifest.warehouse_code else "")
            pdf.drawString(margin, top - 44, _ellipsize(name, _BOLD, 14, usable - 200))
            pdf.setFont(_ROW_FONT, 10)
            pdf.drawString(margin, top - 58, _ellipsize(_printable(manifest.address), _ROW_FONT, 10, usable - 200))
            pdf.setFont(_BOLD, 13)
            pdf.drawString(margin, top - 80, f"Pickup day: {day_text}")
            pdf.setFont(_ROW_FONT, 11)
            slot_line = _ellipsize(_printable(f"Pickup slot(s): {slots}"), _ROW_FONT, 11, usable)
            pdf.drawString(margin, top - 96, slot_line)
            pdf.setFont(_ROW_FONT, 9)
            pdf.drawString(
                margin,
                top - 110,
                _printable(f"Times in {manifest.time_zone}. Printed {_when(printed_at, zone)}."),
            )

            # Counts: the total in large type, then per carrier.
            box_top = top - 120
            pdf.setLineWidth(1.5)
            pdf.rect(margin, box_top - box_height, usable, box_height, stroke=1, fill=0)
            pdf.setFont(_ROW_FONT, 10)
            pdf.drawString(margin + 10, box_top - 16, "TOTAL PACKAGES")
            pdf.setFont(_BOLD, 36)
            pdf.drawString(margin + 10, box_top - 52, _quantity(manifest.total))
            pdf.setFont(_ROW_FONT, 10)
            pdf.drawString(margin + 10, box_top - 66, f"{_quantity(manifest.units)} units")
            x_carriers = margin + 170
            pdf.setFont(_ROW_FONT, 10)
            pdf.drawString(x_carriers, box_top - 16, "BY CARRIER")
            y = box_top - 32
            for carrier, count in manifest.per_carrier:
                pdf.setFont(_ROW_FONT, 12)
                pdf.drawString(x_carriers, y, _ellipsize(_printable(carrier), _ROW_FONT, 12, 200))
                pdf.setFont(_BOLD, 12)
                pdf.drawRightString(x_carriers + 260, y, _quantity(count))
                y -= 16
            if manifest.per_carrier:
                pdf.setLineWidth(0.8)
                pdf.line(x_carriers, y + 11, x_carriers + 260, y + 11)
                pdf.setFont(_BOLD, 12)
                pdf.drawString(x_carriers, y - 4, "Total")
                pdf.drawRightString(x_carriers + 260, y - 4, _quantity(manifest.total))
            y = top - first_header
        else:
            pdf.setFont(_BOLD, 12)
            pdf.drawString(margin, top - 14, "PICKUP MANIFEST")
            pdf.setFont(_ROW_FONT, 11)
            pdf.drawRightString(
                width - margin, top - 14, _ellipsize(f"{warehouse} · {manifest.day:%a %d %b %Y}", _ROW_FONT, 11, 380)
            )
            y = top - next_header

        if page_rows or number == 1:
            pdf.setFillColor(black)
            pdf.rect(margin, y - column_header, usable, column_header, stroke=0, fill=1)
            pdf.setFillColor(white)
            pdf.setFont(_BOLD, 10)
            x = margin
            for name, title, _ in _COLUMNS:
                pdf.drawString(x + pad, y - 14, title)
                x += col[name]
            y -= column_header

        for position, (index, package) in enumerate(page_rows):
            if position % 2:
                pdf.setFillColor(_ZEBRA)
                pdf.rect(margin, y - row_height, usable, row_height, stroke=0, fill=1)
            pdf.setFillColor(black)
            x = margin
            for name, _, _ in _COLUMNS:
                w = col[name]
                if name == "tick":
                    _checkbox(pdf, x + (w - 14) / 2, y - pad - 16, 14)
                elif name == "n":
                    pdf.setFont(_ROW_FONT, 10)
                    pdf.drawString(x + pad, y - pad - 12, str(index))
                elif name == "order":
                    pdf.setFont(_BOLD, 10)
                    pdf.drawString(x + pad, y - pad - 12, _ellipsize(_printable(package.order_ref), _BOLD, 10, w - pad))
                    detail = f"pkg {package.package_id or '—'}"
                    pdf.setFont(_ROW_FONT, 8)
                    pdf.drawString(x + pad, y - pad - 24, _ellipsize(_printable(detail), _ROW_FONT, 8, w - pad))
                elif name == "tracking":
                    tracking = _printable(package.tracking_number) or "(no tracking number yet)"
                    pdf.setFont(_BOLD, 11)
                    pdf.drawString(x + pad, y - pad - 12, _ellipsize(tracking, _BOLD, 11, w - 2 * pad))
                    code = _barcode(package.tracking_number, w - pad, 14) if package.tracking_number else None
                    if code is not None:
                        code.drawOn(pdf, x, y - pad - 31)
                elif name == "carrier":
                    pdf.setFont(_ROW_FONT, 10)
                    carrier = _printable(package.carrier) or "—"
                    pdf.drawString(x + pad, y - pad - 12, _ellipsize(carrier, _ROW_FONT, 10, w - 2 * pad))
                    if package.units != 1:  # a multi-unit package is easy to mistake for several
                        pdf.setFont(_BOLD, 9)
                        pdf.drawString(x + pad, y - pad - 24, f"{_quantity(package.units)} units")
                else:
                    pdf.setFont(_ROW_FONT, 10)
                    pdf.drawString(x + pad, y - pad - 12, _slot_text(package.slot_start, package.slot_end, zone))
                x += w
            y -= row_height
            pdf.setStrokeColor(Color(0.6, 0.6, 0.6))
            pdf.setLineWidth(0.5)
            pdf.line(margin, y, margin + usable, y)
            pdf.setStrokeColor(black)

        if not manifest.packages and number == 1:
            pdf.setFont(_ROW_FONT, 12)
            pdf.drawString(margin + pad, y - 24, "No packages for pickup at this warehouse on this day.")
            y -= 36
        if number == total_pages:
            _signoff(pdf, margin, usable, y - 24, manifest.total)

        pdf.setFillColor(black)
        pdf.setFont(_ROW_FONT, 10)
        footer_text = f"Pickup manifest {reference} · {warehouse}"
        pdf.drawString(margin, margin - 12, _ellipsize(footer_text, _ROW_FONT, 10, usable - 120))
        pdf.setFont(_BOLD, 11)
        pdf.drawRightString(width - margin, margin - 12, f"Page {number} of {total_pages}")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _signoff(pdf: Canvas, margin: float, usable: float, top: float, total: int) -> None:
    """Both sides sign: the count handed over, then the driver's and the warehouse's name, signature and time."""
    pdf.setFillColor(black)
    pdf.setFont(_BOLD, 12)
    pdf.drawString(margin, top, f"Packages handed to the driver: ________ of {_quantity(total)}")
    half = usable / 2
    for column, who in ((0, "TikTok driver"), (1, "Warehouse")):
        x = margin + column * half
        y = top - 28
        pdf.setFont(_BOLD, 11)
        pdf.drawString(x, y, who)
        pdf.setFont(_ROW_FONT, 10)
        for label in ("Name", "Signature", "Date and time"):
            y -= 24
            pdf.drawString(x, y, label)
            pdf.setLineWidth(0.8)
            pdf.line(x + 80, y - 2, x + half - 16, y - 2)


def manifest_filename(manifest: PickupManifest) -> str:
    return f"{_manifest_ref(manifest)}.pdf"


def manifests_for(warehouses: Iterable[Warehouse], *, day: date | None = None) -> list[PickupManifest]:
    """Each warehouse's manifest for `day` (default: today where the warehouse is)."""
    return [pickup_manifest(warehouse=w, day=day or warehouse_today(w)) for w in warehouses]


def cbt_warehouses() -> Sequence[Warehouse]:
    """Active warehouses on Collections by TikTok, by name."""
    return list(Warehouse.objects.filter(is_active=True, collections_by_tiktok=True).order_by("name"))
