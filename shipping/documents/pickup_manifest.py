"""The day's pickup manifest a warehouse hands the TikTok driver (Letter/A4): header with the warehouse, day, slots
and a reference barcode, the counts per carrier and the total in large type, one row per package, and the sign-off
for the driver and the warehouse on the last page. `shipping.pickup.pickup_manifest` selects what it lists."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, tzinfo

from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas

from erp import clock
from shipping.documents.toolkit import (
    BOLD,
    ROW_FONT,
    Column,
    PagedTable,
    PaperSize,
    Sheet,
    barcode_draw,
    checkbox,
    ellipsize,
    printable,
    quantity_text,
    when_text,
)
from shipping.pickup import ManifestPackage, PickupManifest

_COLUMNS = (
    ("tick", "", 24.0),
    ("n", "#", 26.0),
    ("order", "Order / package", 132.0),
    ("tracking", "Tracking number", 0.0),  # takes what is left: the number and its barcode
    ("carrier", "Carrier", 76.0),
    ("slot", "Slot", 66.0),
)
_PAD = 4.0
_ROW_HEIGHT = 34.0
_SIGNOFF = 126.0  # what _signoff_draw draws below the last row


def manifest_ref(manifest: PickupManifest) -> str:
    """The manifest's reference, printed as text and barcode: "PM-<warehouse code>-<day>"."""
    code = re.sub(r"[^A-Za-z0-9]", "", manifest.warehouse_code or manifest.warehouse_name)[:12].upper() or "WH"
    return f"PM-{code}-{manifest.day:%Y%m%d}"


def manifest_filename(manifest: PickupManifest) -> str:
    return f"{manifest_ref(manifest)}.pdf"


def _slot_text(start: datetime | None, end: datetime | None, zone: tzinfo) -> str:
    if start is None:
        return "not booked"
    text = start.astimezone(zone).strftime("%H:%M")
    named = clock.zone_abbreviation(start, zone)
    return f"{text}–{end.astimezone(zone).strftime('%H:%M')} {named}" if end is not None else f"from {text} {named}"


def _box_height(manifest: PickupManifest) -> float:
    return max(80.0, 44.0 + 16.0 * len(manifest.per_carrier))


def _first_header_draw(pdf: Canvas, sheet: Sheet, manifest: PickupManifest, printed_at: datetime) -> None:
    """Title, kind of pickup, reference barcode, warehouse, address, day, slots and when it was printed."""
    top, margin, usable, right = sheet.top, sheet.margin, sheet.usable, sheet.width - sheet.margin
    zone = clock.zone_named(manifest.time_zone)
    reference = manifest_ref(manifest)
    pdf.setFont(BOLD, 22)
    pdf.drawString(margin, top - 20, "PICKUP MANIFEST")
    pdf.setFont(BOLD, 12)
    kind = "Collections by TikTok" if manifest.collections_by_tiktok else "TikTok Shipping pickup"
    pdf.drawRightString(right, top - 12, kind)
    barcode_draw(pdf, reference, left=right - 180, right=right, bottom=top - 44, height=26, align="right")
    pdf.setFont(ROW_FONT, 9)
    pdf.drawRightString(right, top - 54, reference)
    pdf.setFont(BOLD, 14)
    warehouse = printable(manifest.warehouse_name)
    name = warehouse + (f" ({printable(manifest.warehouse_code)})" if manifest.warehouse_code else "")
    pdf.drawString(margin, top - 44, ellipsize(name, BOLD, 14, usable - 200))
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(margin, top - 58, ellipsize(printable(manifest.address), ROW_FONT, 10, usable - 200))
    pdf.setFont(BOLD, 13)
    pdf.drawString(margin, top - 80, f"Pickup day: {manifest.day.strftime('%A %d %B %Y')}")
    if manifest.slots:
        slots = ", ".join(_slot_text(start, end, zone) for start, end in manifest.slots)
    else:
        slots = "none booked: the truck comes in TikTok's collection window for this warehouse"
    pdf.setFont(ROW_FONT, 11)
    pdf.drawString(margin, top - 96, ellipsize(printable(f"Pickup slot(s): {slots}"), ROW_FONT, 11, usable))
    pdf.setFont(ROW_FONT, 9)
    printed = printable(f"Times in {manifest.time_zone}. Printed {when_text(printed_at, zone)}.")
    pdf.drawString(margin, top - 110, printed)


def _counts_draw(pdf: Canvas, sheet: Sheet, manifest: PickupManifest) -> None:
    """The boxed counts: the total in large type, then per carrier."""
    margin = sheet.margin
    box_top = sheet.top - 120
    box_height = _box_height(manifest)
    pdf.setLineWidth(1.5)
    pdf.rect(margin, box_top - box_height, sheet.usable, box_height, stroke=1, fill=0)
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(margin + 10, box_top - 16, "TOTAL PACKAGES")
    pdf.setFont(BOLD, 36)
    pdf.drawString(margin + 10, box_top - 52, quantity_text(manifest.total))
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(margin + 10, box_top - 66, f"{quantity_text(manifest.units)} units")
    x_carriers = margin + 170
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(x_carriers, box_top - 16, "BY CARRIER")
    y = box_top - 32
    for carrier, count in manifest.per_carrier:
        pdf.setFont(ROW_FONT, 12)
        pdf.drawString(x_carriers, y, ellipsize(printable(carrier), ROW_FONT, 12, 200))
        pdf.setFont(BOLD, 12)
        pdf.drawRightString(x_carriers + 260, y, quantity_text(count))
        y -= 16
    if manifest.per_carrier:
        pdf.setLineWidth(0.8)
        pdf.line(x_carriers, y + 11, x_carriers + 260, y + 11)
        pdf.setFont(BOLD, 12)
        pdf.drawString(x_carriers, y - 4, "Total")
        pdf.drawRightString(x_carriers + 260, y - 4, quantity_text(manifest.total))


def _cells_draw(
    pdf: Canvas, index: int, package: ManifestPackage, x: float, top: float, widths: dict[str, float], zone: tzinfo
) -> None:
    """One package's row: tick box, number, order and package, tracking number with its barcode, carrier, slot."""
    checkbox(pdf, x + (widths["tick"] - 14) / 2, top - _PAD - 16, 14)
    x += widths["tick"]
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(x + _PAD, top - _PAD - 12, str(index))
    x += widths["n"]
    w = widths["order"]
    pdf.setFont(BOLD, 10)
    pdf.drawString(x + _PAD, top - _PAD - 12, ellipsize(printable(package.order_ref), BOLD, 10, w - _PAD))
    pdf.setFont(ROW_FONT, 8)
    detail = printable(f"pkg {package.package_id or '—'}")
    pdf.drawString(x + _PAD, top - _PAD - 24, ellipsize(detail, ROW_FONT, 8, w - _PAD))
    x += w
    w = widths["tracking"]
    tracking = printable(package.tracking_number) or "(no tracking number yet)"
    pdf.setFont(BOLD, 11)
    pdf.drawString(x + _PAD, top - _PAD - 12, ellipsize(tracking, BOLD, 11, w - 2 * _PAD))
    if package.tracking_number:
        barcode_draw(
            pdf, package.tracking_number, left=x, right=x + w - _PAD, bottom=top - _PAD - 31, height=14, align="left"
        )
    x += w
    w = widths["carrier"]
    pdf.setFont(ROW_FONT, 10)
    carrier = printable(package.carrier) or "—"
    pdf.drawString(x + _PAD, top - _PAD - 12, ellipsize(carrier, ROW_FONT, 10, w - 2 * _PAD))
    if package.units != 1:  # a multi-unit package is easy to mistake for several
        pdf.setFont(BOLD, 9)
        pdf.drawString(x + _PAD, top - _PAD - 24, f"{quantity_text(package.units)} units")
    x += w
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(x + _PAD, top - _PAD - 12, _slot_text(package.slot_start, package.slot_end, zone))


def _signoff_draw(pdf: Canvas, margin: float, usable: float, top: float, total: int) -> None:
    """Both sides sign: the count handed over, then the driver's and the warehouse's name, signature and time."""
    pdf.setFillColor(black)
    pdf.setFont(BOLD, 12)
    pdf.drawString(margin, top, f"Packages handed to the driver: ________ of {quantity_text(total)}")
    half = usable / 2
    for column, who in ((0, "TikTok driver"), (1, "Warehouse")):
        x = margin + column * half
        y = top - 28
        pdf.setFont(BOLD, 11)
        pdf.drawString(x, y, who)
        pdf.setFont(ROW_FONT, 10)
        for label in ("Name", "Signature", "Date and time"):
            y -= 24
            pdf.drawString(x, y, label)
            pdf.setLineWidth(0.8)
            pdf.line(x + 80, y - 2, x + half - 16, y - 2)


def _row_drawer(
    index: int, package: ManifestPackage, left: float, widths: dict[str, float], zone: tzinfo
) -> Callable[[Canvas, float], None]:
    return lambda pdf, top: _cells_draw(pdf, index, package, left, top, widths, zone)


def pickup_manifest_pdf(manifest: PickupManifest, *, printed_at: datetime, paper: PaperSize = "Letter") -> bytes:
    """The manifest on Letter/A4: header (warehouse, day, slots, reference barcode), the counts per carrier and the
    total in large type, then one row per package (tick box, order, tracking number with its Code 128 barcode,
    carrier, package id, slot) and the signature block for the driver and the warehouse on the last page."""
    sheet = Sheet.of(paper)
    zone = clock.zone_named(manifest.time_zone)
    widths = {name: width for name, _, width in _COLUMNS}
    widths["tracking"] = sheet.usable - sum(widths.values())
    columns = [Column(name, title, widths[name]) for name, title, _ in _COLUMNS]
    first_header = 128.0 + _box_height(manifest) + 10.0
    table = PagedTable(sheet, columns, first_header=first_header, next_header=30.0, tail=_SIGNOFF)
    pages = table.paginate([_ROW_HEIGHT] * len(manifest.packages))
    warehouse = printable(manifest.warehouse_name)
    footer = f"Pickup manifest {manifest_ref(manifest)} · {warehouse}"

    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=(sheet.width, sheet.height), pageCompression=1)
    pdf.setTitle(printable(f"Pickup manifest {warehouse} {manifest.day:%Y-%m-%d}"))
    for number, indexes in enumerate(pages, start=1):
        pdf.setFillColor(black)
        if number == 1:
            _first_header_draw(pdf, sheet, manifest, printed_at)
            _counts_draw(pdf, sheet, manifest)
            y = sheet.top - first_header
        else:
            detail = f"{warehouse} · {manifest.day:%a %d %b %Y}"
            y = table.continued_header_draw(pdf, "PICKUP MANIFEST", detail, 380)
        if indexes or number == 1:  # no column header above the sign-off alone
            y = table.header_row_draw(pdf, y)
        rows = [(i + 1, manifest.packages[i]) for i in indexes]
        y = table.rows_draw(pdf, y, [(_ROW_HEIGHT, _row_drawer(n, p, sheet.margin, widths, zone)) for n, p in rows])
        if not manifest.packages and number == 1:
            pdf.setFont(ROW_FONT, 12)
            pdf.drawString(sheet.margin + _PAD, y - 24, "No packages for pickup at this warehouse on this day.")
            y -= 36
        if number == len(pages):
            _signoff_draw(pdf, sheet.margin, sheet.usable, y - 24, manifest.total)
        table.footer_draw(pdf, footer, number, len(pages))
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
