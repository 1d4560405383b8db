"""The pick list of a batch: Letter/A4 pages, one row per SKU, in the order the SKUs first appear in the label stack
(or in bin order), with the orders each SKU goes to and the buyers' messages and gift marks under its name."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas

from erp import clock
from shipping.documents.batch import BatchOrder, natural_key, stack_lines
from shipping.documents.toolkit import (
    BOLD,
    ROW_FONT,
    Column,
    PagedTable,
    PaperSize,
    Sheet,
    checkbox,
    ellipsize,
    fit_size,
    flag,
    flags_width,
    printable,
    quantity_text,
    when_text,
    wrap,
)

PickListOrder = Literal["stack", "bin"]

_MAX_REFS = 8  # order refs listed per pick-list row before "+N more"
_NOTE_FONT = "Helvetica-BoldOblique"
_NOTE_SIZE = 9.0
_MAX_NOTES = 3  # orders whose message a pick-list row prints before "+N more"
_NOTE_LINES = 2  # lines of one order's message on a pick-list row before it is cut with "…"
_PAD = 4.0
_LEADING = 12.5
# Column widths: the name column takes what is left.
_FIXED = {"tick": 24.0, "bin": 74.0, "sku": 104.0, "qty": 46.0, "orders": 166.0}
_TITLES = {"tick": "", "bin": "Bin", "sku": "SKU", "name": "Name", "qty": "Qty", "orders": "Orders (last digits)"}
_ORDER_COLS = ("tick", "bin", "sku", "name", "qty", "orders")


@dataclass
class PickListRow:
    sku: str
    name: str
    bins: list[str]
    quantity: int = 0
    per_order: dict[str, int] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # order ref → the buyer's message, for orders with one
    gifts: list[str] = field(default_factory=list)  # refs of gift orders


def pick_list_rows(orders: Sequence[BatchOrder], *, row_order: PickListOrder = "stack") -> list[PickListRow]:
    """The pick list's rows: quantities summed per SKU.

    "stack": SKUs in the order they first appear in the label stack (each order's lines by bin, then SKU).
    "bin": by bin, then SKU, SKUs without a bin last: one walk through the aisles even when orders have several lines.
    """
    rows: dict[str, PickListRow] = {}
    for order in orders:
        for line in stack_lines(order):
            key = line.seller_sku or f"\x00{line.name}"
            row = rows.get(key)
            if row is None:
                row = rows[key] = PickListRow(sku=line.seller_sku, name=line.name, bins=[])
            bin_location = line.bin_location.strip()
            if bin_location and bin_location not in row.bins:
                row.bins.append(bin_location)
            row.quantity += line.quantity
            row.per_order[order.order_ref] = row.per_order.get(order.order_ref, 0) + line.quantity
            if order.buyer_message.strip():
                row.messages[order.order_ref] = order.buyer_message
            if order.is_gift and order.order_ref not in row.gifts:
                row.gifts.append(order.order_ref)
    if row_order == "bin":
        return sorted(
            rows.values(), key=lambda r: (not r.bins, natural_key(r.bins[0] if r.bins else ""), natural_key(r.sku))
        )
    return list(rows.values())


def _short_refs(refs: Iterable[str], keep: int = 6) -> dict[str, str]:
    """Order refs shortened to the fewest trailing characters (at least `keep`) that stay unique in the batch."""
    unique = sorted(set(refs))
    longest = max((len(r) for r in unique), default=0)
    size = keep
    while size < longest and len({r[-size:] for r in unique}) < len(unique):
        size += 1
    return {r: r[-size:] for r in unique}


@dataclass
class _Cell:
    lines: list[str]
    font: str
    size: float


@dataclass(frozen=True)
class _Note:
    flags: tuple[str, ...]  # "GIFT", "MSG": printed white on black
    text: str  # already printable and cut to fit
    indent: float = 0.0  # a message's second line starts under its first line's text


@dataclass
class _LaidRow:
    cells: list[_Cell]
    height: float
    notes: list[_Note] = field(default_factory=list)  # under the name: the orders' buyer messages and gift marks


def _pick_notes(row: PickListRow, short: dict[str, str], width: float) -> list[_Note]:
    """Per order of the row with a buyer message or a gift: its flags, then "…1234: message" in up to two lines."""
    refs = [ref for ref in row.per_order if ref in row.messages or ref in row.gifts]
    notes = []
    for ref in refs[:_MAX_NOTES]:
        flags = ("GIFT",) * (ref in row.gifts) + ("MSG",) * (ref in row.messages)
        text = printable(short[ref]) + (f": {printable(row.messages[ref])}" if ref in row.messages else "")
        indent = flags_width(flags, _NOTE_SIZE)
        lines = wrap(text, _NOTE_FONT, _NOTE_SIZE, width - indent, _NOTE_LINES)
        notes.append(_Note(flags, lines[0]))
        notes.extend(_Note((), line, indent) for line in lines[1:])
    if len(refs) > _MAX_NOTES:
        notes.append(_Note((), f"+{len(refs) - _MAX_NOTES} more orders with a message or gift"))
    return notes


def _notes_draw(pdf: Canvas, x: float, top: float, notes: Sequence[_Note], leading: float) -> None:
    for i, note in enumerate(notes):
        baseline = top - i * leading
        left = x + note.indent
        for name in note.flags:
            left += flag(pdf, left, baseline, name, _NOTE_SIZE)
        pdf.setFillColor(black)
        pdf.setFont(_NOTE_FONT, _NOTE_SIZE)
        pdf.drawString(left, baseline, note.text)


def _lay(row: PickListRow, short: dict[str, str], col: dict[str, float]) -> _LaidRow:
    """One row's cells wrapped to their columns, and the row's height."""
    refs = [printable(short[ref]) + (f"\xa0×{quantity_text(n)}" if n != 1 else "") for ref, n in row.per_order.items()]
    if len(refs) > _MAX_REFS:
        refs = [*refs[: _MAX_REFS - 1], f"+{len(refs) - _MAX_REFS + 1}\xa0more"]
    qty = quantity_text(row.quantity)
    cells = [
        _Cell([], BOLD, 10),
        _Cell(wrap(printable(", ".join(row.bins)) or "no bin", BOLD, 11, col["bin"] - 2 * _PAD, 3), BOLD, 11),
        _Cell(wrap(printable(row.sku) or "(no SKU)", BOLD, 11, col["sku"] - 2 * _PAD, 3), BOLD, 11),
        _Cell(wrap(printable(row.name), ROW_FONT, 10, col["name"] - 2 * _PAD, 3), ROW_FONT, 10),
        _Cell([qty], BOLD, fit_size(qty, BOLD, 14, col["qty"] - 2 * _PAD)),
        _Cell(wrap(", ".join(refs), ROW_FONT, 10, col["orders"] - 2 * _PAD), ROW_FONT, 10),
    ]
    notes = _pick_notes(row, short, col["name"] - 2 * _PAD)
    lines = max(*(len(c.lines) for c in cells), len(cells[3].lines) + len(notes))
    return _LaidRow(cells, max(lines * _LEADING + 2 * _PAD + 2, 24.0), notes)


def _cells_draw(pdf: Canvas, row: _LaidRow, left: float, top: float, col: dict[str, float]) -> None:
    x = left
    for name, cell in zip(_ORDER_COLS, row.cells, strict=True):
        if name == "tick":
            checkbox(pdf, x + (col[name] - 14) / 2, top - _PAD - 14, 14)
        elif name == "qty":
            pdf.setFont(cell.font, cell.size)
            pdf.drawRightString(x + col[name] - _PAD, top - _PAD - 14, cell.lines[0])
        else:
            pdf.setFont(cell.font, cell.size)
            for i, text in enumerate(cell.lines):
                pdf.drawString(x + _PAD, top - _PAD - 11 - i * _LEADING, text)
            if name == "name":
                _notes_draw(pdf, x + _PAD, top - _PAD - 11 - len(cell.lines) * _LEADING, row.notes, _LEADING)
        x += col[name]


@dataclass(frozen=True)
class _Heading:
    """What the first page's header says."""

    batch: str
    warehouse: str
    printed: str
    totals: str
    ship_by: str  # "" when no order has a ship-by
    guide: str


def _pick_heading(
    orders: Sequence[BatchOrder],
    rows: Sequence[PickListRow],
    batch_ref: str,
    warehouse_name: str,
    printed_at: datetime,
    row_order: PickListOrder,
    time_zone: tzinfo | None,
) -> _Heading:
    units = sum(r.quantity for r in rows)
    guide = "Rows follow the label stack." if row_order == "stack" else "Rows in bin order: one walk."
    if any(r.messages or r.gifts for r in rows):
        guide += " Orders: last digits; ×2 = two units. MSG: the buyer's message (in full on the slip)."
    else:
        guide += " Orders: last digits of the order number; ×2 = two units."
    ship_by = [o.ship_by for o in orders if o.ship_by is not None]
    zone = time_zone or clock.organization_zone()
    return _Heading(
        batch=printable(batch_ref),
        warehouse=printable(warehouse_name),
        printed=when_text(printed_at, zone),
        totals=(
            f"{quantity_text(len(orders))} orders    {quantity_text(units)} units    {quantity_text(len(rows))} SKUs"
        ),
        ship_by=when_text(min(ship_by), zone) if ship_by else "",
        guide=guide,
    )


def _row_drawer(row: _LaidRow, left: float, col: dict[str, float]) -> Callable[[Canvas, float], None]:
    return lambda pdf, top: _cells_draw(pdf, row, left, top, col)


def _first_header_draw(pdf: Canvas, sheet: Sheet, heading: _Heading) -> None:
    top, margin, usable, right = sheet.top, sheet.margin, sheet.usable, sheet.width - sheet.margin
    pdf.setFillColor(black)
    pdf.setFont(BOLD, 22)
    pdf.drawString(margin, top - 20, "PICK LIST")
    pdf.setFont(BOLD, 14)
    pdf.drawRightString(right, top - 18, ellipsize(f"Batch {heading.batch}", BOLD, 14, usable - 150))
    pdf.setFont(ROW_FONT, 11)
    pdf.drawString(margin, top - 40, ellipsize(f"Warehouse: {heading.warehouse}", ROW_FONT, 11, usable / 2))
    pdf.drawRightString(right, top - 40, f"Printed {heading.printed}")
    pdf.setFont(BOLD, 13)
    pdf.drawString(margin, top - 62, heading.totals)
    if heading.ship_by:
        pdf.setFont(ROW_FONT, 11)
        pdf.drawRightString(right, top - 62, f"Earliest ship-by {heading.ship_by}")
    pdf.setFont(ROW_FONT, 10)
    pdf.drawString(margin, top - 80, ellipsize(heading.guide, ROW_FONT, 10, usable))


def pick_list_pdf(
    orders: Sequence[BatchOrder],
    *,
    batch_ref: str,
    warehouse_name: str,
    printed_at: datetime,
    paper: PaperSize = "Letter",
    row_order: PickListOrder = "stack",
    time_zone: tzinfo | None = None,
) -> bytes:
    """The pick list of a batch: one row per SKU, in label-stack order (pass the list given to `labels_merge`).

    Columns: tick box, bin, SKU, name, total quantity, and the orders it goes to (order refs shortened to their
    last digits, unique within the batch; "×2" when an order takes more than one). Header with batch, warehouse,
    date and totals; the column header repeats on every page; "Page 2 of 5" in the footer; 10 pt and up. Times are
    in `time_zone` (default: the organization's in scope), named (docs/time.md).
    """
    sheet = Sheet.of(paper)
    col = {**_FIXED, "name": sheet.usable - sum(_FIXED.values())}
    columns = [Column(name, _TITLES[name], col[name], title_right=name == "qty") for name in _ORDER_COLS]
    table = PagedTable(sheet, columns, first_header=96.0, next_header=30.0, tail=40.0)
    rows = pick_list_rows(orders, row_order=row_order)
    short = _short_refs(o.order_ref for o in orders)
    laid = [_lay(row, short, col) for row in rows]
    pages = table.paginate([row.height for row in laid])
    heading = _pick_heading(orders, rows, batch_ref, warehouse_name, printed_at, row_order, time_zone)

    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=(sheet.width, sheet.height), pageCompression=1)
    pdf.setTitle(printable(f"Pick list {batch_ref}"))
    for number, indexes in enumerate(pages, start=1):
        if number == 1:
            _first_header_draw(pdf, sheet, heading)
            y = sheet.top - table.first_header
        else:
            detail = f"Batch {heading.batch} · {heading.warehouse}"
            y = table.continued_header_draw(pdf, "PICK LIST", detail, sheet.usable - 90)
        y = table.header_row_draw(pdf, y)
        y = table.rows_draw(pdf, y, [(laid[i].height, _row_drawer(laid[i], sheet.margin, col)) for i in indexes])
        if not rows and number == 1:
            pdf.setFont(ROW_FONT, 12)
            pdf.drawString(sheet.margin + _PAD, y - 24, "No orders in this batch.")
        if number == len(pages):
            pdf.setFillColor(black)
            pdf.setFont(ROW_FONT, 11)
            pdf.drawString(sheet.margin, y - 30, "Picked by ____________________")
            pdf.drawString(sheet.margin + sheet.usable / 2, y - 30, "Checked by ____________________")
        table.footer_draw(pdf, f"Pick list · batch {heading.batch}", number, len(pages))
        pdf.showPage()
    pdf.save()
    return buf.getvalue()
