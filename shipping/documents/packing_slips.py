"""Packing slips: one per order on a 4x6 in (or A6) page, more pages only when an order has too many lines for one.

Each slip: logo (if any) and seller name, order number as text and as a Code 128 barcode, the (possibly masked)
ship-to name, tracking number, the buyer's message and gift mark, the lines (tick box, quantity, SKU, name) and the
seller's message at the bottom.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reportlab.lib.colors import black, white
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from shipping.documents.batch import BatchOrder, PickLine, stack_lines
from shipping.documents.toolkit import (
    BOLD,
    ITALIC,
    LABEL_PAGE_SIZES,
    ROW_FONT,
    LabelSize,
    barcode_draw,
    checkbox,
    ellipsize,
    fit_size,
    flag,
    printable,
    quantity_text,
    wrap,
)

if TYPE_CHECKING:
    from erp.models import Organization

logger = logging.getLogger(__name__)

_SLIP_NOTE_LINES = 4  # lines of a buyer's message printed on the slip before it is cut with "…"


@dataclass(frozen=True)
class SlipBranding:
    seller_name: str
    logo_png: bytes | None = field(default=None, repr=False)  # PNG or JPEG bytes (reportlab reads both)
    message: str = ""  # e.g. "Thank you for your order!"

    @classmethod
    def of(cls, organization: Organization) -> SlipBranding:
        """What the seller set under Settings → Organization: its name, logo and message."""
        logo = None
        if organization.slip_logo:
            try:
                with organization.slip_logo.open("rb") as handle:
                    logo = handle.read()
            except FileNotFoundError:  # a lost file costs the slips their logo, never the print
                logger.warning("slip logo %s is missing: printing slips without it", organization.slip_logo.name)
        return cls(seller_name=organization.name, logo_png=logo, message=organization.slip_message)


def _logo(branding: SlipBranding) -> ImageReader | None:
    if not branding.logo_png:
        return None
    try:
        image = ImageReader(io.BytesIO(branding.logo_png))
        image.getSize()
    except Exception:
        logger.warning("packing slip logo of %s is not a readable image: left out", branding.seller_name)
        return None
    return image


@dataclass(frozen=True)
class _Slip:
    """What every slip of a batch shares: the page, the branding band and the seller's message at the bottom."""

    width: float
    height: float
    logo: ImageReader | None
    seller: str
    message_lines: list[str]
    margin: float = 14.0

    @classmethod
    def of(cls, branding: SlipBranding, size: tuple[float, float]) -> _Slip:
        width, height = size
        usable = width - 2 * cls.margin
        message = wrap(printable(branding.message), ITALIC, 11, usable - 8, 3) if branding.message else []
        return cls(width, height, _logo(branding), printable(branding.seller_name), message)

    @property
    def usable(self) -> float:
        return self.width - 2 * self.margin

    @property
    def message_height(self) -> float:
        return len(self.message_lines) * 13 + 14 if self.message_lines else 0


def _quantity_draw(pdf: Canvas, right: float, baseline: float, text: str, size: float, room: float) -> None:
    """A right-aligned bold quantity; anything but 1 is white on black so a packer cannot miss it."""
    pdf.saveState()
    pdf.setFont(BOLD, size)
    if text != "1":
        width = min(stringWidth(text, BOLD, size) + 6, room)
        pdf.setFillColor(black)
        pdf.roundRect(right - width + 3, baseline - size * 0.28, width, size * 1.12, 2, stroke=0, fill=1)
        pdf.setFillColor(white)
    pdf.drawRightString(right, baseline, text)
    pdf.restoreState()


def _branding_draw(pdf: Canvas, slip: _Slip, *, first_page: bool) -> float:
    """The logo (first page only), the seller's name and "PACKING SLIP"; returns the y of the rule under them."""
    top = slip.height - slip.margin
    pdf.setFillColor(black)
    text_x = slip.margin
    if slip.logo is not None and first_page:
        lw, lh = slip.logo.getSize()
        scale = min(96 / lw, 44 / lh)
        pdf.drawImage(slip.logo, slip.margin, top - lh * scale, lw * scale, lh * scale, mask="auto")
        text_x = slip.margin + lw * scale + 8
    name_lines = wrap(slip.seller, BOLD, 14, slip.width - slip.margin - text_x, 2)
    pdf.setFont(BOLD, 14)
    for i, text in enumerate(name_lines):
        pdf.drawString(text_x, top - 14 - i * 16, text)
    pdf.setFont(ROW_FONT, 9)
    pdf.drawString(text_x, top - 14 - len(name_lines) * 16, "PACKING SLIP")
    y = top - 50
    pdf.setLineWidth(1)
    pdf.line(slip.margin, y, slip.width - slip.margin, y)
    return y


def _order_draw(pdf: Canvas, slip: _Slip, order: BatchOrder, y: float, position: str, *, first_page: bool) -> float:
    """The order number as text (and, on the first page, as a barcode, with ship-to, tracking and the buyer's
    note); returns the y under it."""
    margin, usable = slip.margin, slip.usable
    pdf.setFont(ROW_FONT, 9)
    pdf.drawString(margin, y - 12, "Order")
    pdf.drawRightString(slip.width - margin, y - 12, position)
    pdf.setFont(BOLD, 14)
    pdf.drawString(margin, y - 28, ellipsize(printable(order.order_ref), BOLD, 14, usable))
    y -= 34
    if not first_page:
        pdf.setFont(ROW_FONT, 10)
        pdf.drawString(margin, y - 12, "(continued)")
        return y - 16
    if barcode_draw(
        pdf, order.order_ref, left=margin, right=slip.width - margin, bottom=y - 36, height=34, align="centre"
    ):
        y -= 40
    if order.combined_with:  # one parcel, several orders of one buyer: the slip names every one
        pdf.setFont(BOLD, 10)
        others = printable("Also in this parcel: " + ", ".join(order.combined_with))
        for i, text in enumerate(wrap(others, BOLD, 10, usable, 3)):
            pdf.drawString(margin, y - 12 - i * 12, text)
        y -= 4 + 12 * len(wrap(others, BOLD, 10, usable, 3))
    pdf.setFont(ROW_FONT, 9)
    pdf.drawString(margin, y - 12, "Ship to")
    pdf.setFont(BOLD, 12)
    recipient = printable(order.recipient_name) or "—"
    pdf.drawString(margin, y - 26, ellipsize(recipient, BOLD, 12, usable))
    y -= 30
    if order.tracking_number:
        pdf.setFont(ROW_FONT, 10)
        tracking = printable(f"Tracking {order.tracking_number}")
        pdf.drawString(margin, y - 12, ellipsize(tracking, ROW_FONT, 10, usable))
        y -= 16
    return _slip_note_draw(pdf, order, margin, y, usable)


def _slip_note_draw(pdf: Canvas, order: BatchOrder, x: float, top: float, width: float) -> float:
    """The buyer's message and the gift mark in a boxed panel under the ship-to; returns the y below it."""
    message = printable(order.buyer_message)
    if not message and not order.is_gift:
        return top
    flags = ("GIFT",) * order.is_gift + ("BUYER MESSAGE",) * bool(message)
    text = message or "This order is a gift."
    lines = wrap(text, ITALIC, 10, width - 12, _SLIP_NOTE_LINES)
    height = 20 + len(lines) * 12
    box_top = top - 4
    pdf.saveState()
    pdf.setStrokeColor(black)
    pdf.setLineWidth(1.5)
    pdf.rect(x, box_top - height, width, height, stroke=1, fill=0)
    pdf.restoreState()
    left = x + 5
    for name in flags:
        left += flag(pdf, left, box_top - 13, name, 9)
    pdf.setFillColor(black)
    pdf.setFont(ITALIC, 10)
    for i, line in enumerate(lines):
        pdf.drawString(x + 6, box_top - 28 - i * 12, line)
    return box_top - height - 2


def _items_draw(pdf: Canvas, slip: _Slip, items: Sequence[PickLine], index: int, y: float) -> tuple[float, int]:
    """The items' header and as many items from `index` as fit above the seller's message (at least one);
    returns the y under them and the index of the first item left for the next page."""
    margin = slip.margin
    y -= 4
    pdf.setLineWidth(1)
    pdf.line(margin, y, slip.width - margin, y)
    pdf.setFont(BOLD, 9)
    pdf.drawString(margin + 22, y - 11, "Qty")
    pdf.drawString(margin + 62, y - 11, "Item")
    y -= 15
    bottom = margin + 14 + slip.message_height
    text_w = slip.usable - 62
    drawn = 0
    while index < len(items):
        line = items[index]
        qty = quantity_text(line.quantity)
        sku = wrap(printable(line.seller_sku) or "(no SKU)", BOLD, 11, text_w, 2)
        name = wrap(printable(line.name), ROW_FONT, 10, text_w, 2)
        needed = len(sku) * 13 + 3 + len(name) * 12 + 6
        if y - needed < bottom and drawn:
            break
        checkbox(pdf, margin, y - 16, 13)
        _quantity_draw(pdf, margin + 52, y - 14, qty, fit_size(qty, BOLD, 13, 30), 34)
        pdf.setFont(BOLD, 11)
        for i, text in enumerate(sku):
            pdf.drawString(margin + 62, y - 13 - i * 13, text)
        pdf.setFont(ROW_FONT, 10)
        for i, text in enumerate(name):
            pdf.drawString(margin + 62, y - 13 - len(sku) * 13 - i * 12, text)
        y -= needed
        index += 1
        drawn += 1
        if y < bottom:
            break
    return y, index


def _message_draw(pdf: Canvas, slip: _Slip) -> None:
    """The seller's message, centred at the bottom of the slip's last page."""
    if not slip.message_lines:
        return
    base = slip.margin + 10
    top = base + slip.message_height
    pdf.setLineWidth(0.6)
    pdf.line(slip.margin, top - 4, slip.width - slip.margin, top - 4)
    pdf.setFont(ITALIC, 11)
    for i, text in enumerate(slip.message_lines):
        pdf.drawCentredString(slip.width / 2, top - 18 - i * 13, text)


def _slip_draw(pdf: Canvas, slip: _Slip, order: BatchOrder, position: str) -> int:
    """One order's slip, onto as many pages as its lines need; returns that number of pages."""
    items = stack_lines(order)
    pages = 0
    index = 0
    while True:
        pages += 1
        y = _branding_draw(pdf, slip, first_page=pages == 1)
        y = _order_draw(pdf, slip, order, y, position, first_page=pages == 1)
        y, index = _items_draw(pdf, slip, items, index, y)
        if index < len(items):
            pdf.setFont(ROW_FONT, 9)
            pdf.drawRightString(slip.width - slip.margin, slip.margin, "continued on next page")
            pdf.showPage()
            continue
        if not items:
            pdf.setFont(ROW_FONT, 10)
            pdf.drawString(slip.margin, y - 14, "No items.")
        _message_draw(pdf, slip)
        if pages > 1:
            pdf.setFont(ROW_FONT, 9)
            pdf.drawRightString(slip.width - slip.margin, slip.margin - 4, f"page {pages} of {pages}")
        pdf.showPage()
        return pages


def slips_render(
    orders: Sequence[BatchOrder], branding: SlipBranding, size: tuple[float, float]
) -> tuple[bytes, list[int]]:
    """The slips of `orders` as one PDF, and how many pages each order took (1 unless it has many lines)."""
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=size, pageCompression=1)
    pdf.setTitle(printable(f"Packing slips {branding.seller_name}"))
    slip = _Slip.of(branding, size)
    counts = [
        _slip_draw(pdf, slip, order, f"{position} of {len(orders)}") for position, order in enumerate(orders, start=1)
    ]
    if not counts:
        pdf.setFont(ROW_FONT, 10)
        pdf.drawString(14, size[1] - 28, "No orders.")
        pdf.showPage()
    pdf.save()
    return buf.getvalue(), counts


def packing_slips_pdf(orders: Sequence[BatchOrder], branding: SlipBranding, *, page_size: LabelSize = "4x6") -> bytes:
    """One packing slip per order, in the given order, on 4x6 in (or A6) pages.

    Each slip: logo (if any) and seller name, order number as text and as a Code 128 barcode, the (possibly masked)
    ship-to name, tracking number, the lines (tick box, quantity, SKU, name) and the seller's message. An order with
    more lines than fit runs onto further pages. An empty batch gives a single "No orders." page.
    """
    pdf, _counts = slips_render(orders, branding, LABEL_PAGE_SIZES[page_size])
    return pdf
