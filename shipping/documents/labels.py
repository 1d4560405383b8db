"""Warehouse printing for a label batch: the merged label stack, the pick list and the packing slips.

Pure functions over the plain dataclasses below: no ORM, no HTTP. The caller loads a batch, builds `BatchOrder`s,
puts them in picking order with `picking_order` and passes that same list to every document, so the label stack,
the pick list and the packing slips agree with each other.

- `labels_merge`: every platform label page, in stack order, fitted onto a 4x6 in thermal label (or A6).
- `pick_list_pdf`: Letter/A4 pages, one row per SKU in the order the SKUs first appear in the stack.
- `packing_slips_pdf`: one slip per order (more pages only when an order has too many lines for one).
- `labels_with_slips_pdf`: per order, its label page(s) followed by its packing slip.

Text is drawn with the standard Helvetica family (nothing embedded). Those fonts only know Windows-1252, so any text
is first passed through `_printable`: accents are folded where possible, emoji and symbols dropped, anything else
replaced by "?". Nothing here raises on odd text, empty batches, empty bins or huge quantities.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Literal

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4, A6, LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from erp import clock

if TYPE_CHECKING:
    from erp.models import Organization

logger = logging.getLogger(__name__)

LabelSize = Literal["4x6", "A6"]
PaperSize = Literal["Letter", "A4"]
PickingSort = Literal["bin", "order"]
PickListOrder = Literal["stack", "bin"]

LABEL_PAGE_SIZES: dict[str, tuple[float, float]] = {"4x6": (4 * inch, 6 * inch), "A6": A6}
PAPER_SIZES: dict[str, tuple[float, float]] = {"Letter": LETTER, "A4": A4}

_ROW_FONT = "Helvetica"
_BOLD = "Helvetica-Bold"
_ZEBRA = Color(0.89, 0.89, 0.89)
_MAX_REFS = 8  # order refs listed per pick-list row before "+N more"


@dataclass(frozen=True)
class PickLine:
    """One SKU of one order in the batch."""

    order_ref: str  # the platform order id shown to people
    seller_sku: str
    name: str
    quantity: int
    bin_location: str = ""  # "" when unknown


@dataclass(frozen=True)
class BatchOrder:
    order_ref: str
    label_pdf: bytes = field(repr=False)  # the stored platform label (A6 PDF, one or more pages)
    lines: tuple[PickLine, ...]
    recipient_name: str  # as TikTok gives it, possibly masked ("D**** K***")
    ship_by: datetime | None
    tracking_number: str
    buyer_message: str = ""  # what the buyer wrote at checkout: printed on the slip and flagged on the pick list
    is_gift: bool = False  # a line of the order is a gift
    missing: str = ""  # why there is no label to print, and what to do (a placeholder page says it); "" when there is


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


# ---------------------------------------------------------------------------------------------------- ordering


def _natural(text: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key where "A-2-9" comes before "A-2-10" (bins and SKUs are numbered by people)."""
    parts = re.split(r"(\d+)", text.strip().casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def _line_key(line: PickLine) -> tuple[bool, tuple[tuple[str | int, ...], str], tuple[tuple[str | int, ...], str]]:
    return not line.bin_location.strip(), _natural(line.bin_location), _natural(line.seller_sku)


def _stack_lines(order: BatchOrder) -> list[PickLine]:
    """An order's lines in walking order: by bin, then SKU; lines without a bin last."""
    return sorted(order.lines, key=_line_key)


def picking_order(orders: Iterable[BatchOrder], *, sort: PickingSort = "bin") -> list[BatchOrder]:
    """Orders in the order their labels should be stacked (and picked).

    "bin": by the smallest (bin, SKU) of each order, so a picker walking the stack walks the aisles once; then order
    ref. Orders with no bin at all come last, by their smallest SKU. "order": by order ref. Numbers inside bins, SKUs
    and refs compare as numbers ("A-2-9" < "A-2-10"). Deterministic for any input order.
    """
    if sort == "order":
        return sorted(orders, key=lambda o: _natural(o.order_ref))
    if sort != "bin":
        raise ValueError(f"unknown sort {sort!r}: use 'bin' or 'order'")

    def key(order: BatchOrder) -> tuple[object, ...]:
        lines = _stack_lines(order)
        first = _line_key(lines[0]) if lines else (True, _natural(""), _natural(""))
        return (*first, _natural(order.order_ref))

    return sorted(orders, key=key)


# ---------------------------------------------------------------------------------------------------- text


_DROP_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn", "Cc", "Cf", "Mn", "Me"}
# Latin letters that Unicode does not decompose into a base letter plus an accent.
_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "\u0131": "i", "Ŧ": "T", "ŧ": "t"})


def _printable(text: str) -> str:
    """Text that Helvetica (Windows-1252) can draw: fold accents, drop emoji and controls, "?" for the rest."""
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).translate(_FOLD):
        if char in "\t\n\r":
            out.append(" ")
            continue
        if _encodable(char) and (char.isprintable() or char == "\xa0"):
            out.append(char)
            continue
        folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if folded and all(_encodable(c) and c.isprintable() for c in folded):
            out.append(folded)
        elif unicodedata.category(char) not in _DROP_CATEGORIES:
            out.append("?")
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _wrap(text: str, font: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap; words wider than the column are broken; the last line ends in "…" when cut short."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):  # only plain spaces: a no-break space (\xa0) keeps "…4567 ×2" together
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while stringWidth(current, font, size) > width and len(current) > 1:
            cut = _fit_chars(current, font, size, width)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1] + "…", font, size, width)
    return lines or [""]


def _fit_chars(text: str, font: str, size: float, width: float) -> int:
    """How many leading characters of `text` fit in `width` (at least one)."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid], font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    body = text.rstrip("…")
    while body and stringWidth(body + "…", font, size) > width:
        body = body[:-1]
    return body.rstrip() + "…"


def _fit_size(text: str, font: str, size: float, width: float, smallest: float = 7) -> float:
    """The font size (down to `smallest`) at which a single-line value such as a quantity fits its column."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _quantity(value: int) -> str:
    return f"{value:,}"


def _when(value: datetime, zone: tzinfo) -> str:
    """A time on a printout, in `zone` (passed explicitly: a worker has no active zone), the zone named."""
    return clock.format_local(value, zone)


def _short_refs(refs: Iterable[str], keep: int = 6) -> dict[str, str]:
    """Order refs shortened to the fewest trailing characters (at least `keep`) that stay unique in the batch."""
    unique = sorted(set(refs))
    longest = max((len(r) for r in unique), default=0)
    size = keep
    while size < longest and len({r[-size:] for r in unique}) < len(unique):
        size += 1
    return {r: r[-size:] for r in unique}


def _quantity_draw(pdf: Canvas, right: float, baseline: float, text: str, size: float, room: float) -> None:
    """A right-aligned bold quantity; anything but 1 is white on black so a packer cannot miss it."""
    pdf.saveState()
    pdf.setFont(_BOLD, size)
    if text != "1":
        width = min(stringWidth(text, _BOLD, size) + 6, room)
        pdf.setFillColor(black)
        pdf.roundRect(right - width + 3, baseline - size * 0.28, width, size * 1.12, 2, stroke=0, fill=1)
        pdf.setFillColor(white)
    pdf.drawRightString(right, baseline, text)
    pdf.restoreState()


def _checkbox(pdf: Canvas, x: float, y: float, side: float) -> None:
    pdf.saveState()
    pdf.setStrokeColor(black)
    pdf.setFillColor(white)
    pdf.setLineWidth(1.3)
    pdf.rect(x, y, side, side, stroke=1, fill=1)
    pdf.restoreState()


def _barcode(value: str, width: float, height: float) -> Code128 | None:
    """A Code 128 barcode of `value` at most `width` wide (quiet zones included), bars never thinner than 0.8 pt."""
    data = "".join(c for c in value if 32 <= ord(c) < 127)
    if not data:
        return None
    unit = Code128(data, barWidth=1, barHeight=height, quiet=1, lquiet=10, rquiet=10).width
    bar = min(2.0, width / unit)
    if bar < 0.8:
        return None
    return Code128(data, barWidth=bar, barHeight=height, quiet=1, lquiet=10 * bar, rquiet=10 * bar)


# ---------------------------------------------------------------------------------------------------- labels


def _fit_page(writer: PdfWriter, page: PageObject, target: tuple[float, float]) -> None:
    """Scale (never distort) and centre a page already added to `writer` onto `target`, rotating landscape pages.

    The page's content is wrapped between two tiny streams ("q <matrix> cm" … "Q") rather than re-parsed, which keeps
    1,000 labels well under a second.
    """
    if page.rotation:
        page.transfer_rotation_to_content()  # rare: bakes /Rotate into the content (slow path)
    box = page.cropbox
    llx, lly = float(box.left), float(box.bottom)
    width, height = float(box.width), float(box.height)
    tw, th = target
    if width <= 0 or height <= 0:
        return
    if abs(width - tw) < 1 and abs(height - th) < 1 and llx == 0 and lly == 0:
        matrix = None
    elif (width > height * 1.05) != (tw > th * 1.05):
        scale = min(tw / height, th / width)
        ox, oy = (tw - height * scale) / 2, (th - width * scale) / 2
        matrix = (0.0, scale, -scale, 0.0, scale * (lly + height) + ox, -scale * llx + oy)
    else:
        scale = min(tw / width, th / height)
        ox, oy = (tw - width * scale) / 2, (th - height * scale) / 2
        matrix = (scale, 0.0, 0.0, scale, ox - scale * llx, oy - scale * lly)
    if matrix is not None:
        before = DecodedStreamObject()
        before.set_data(("q " + " ".join(f"{v:.6f}" for v in matrix) + " cm\n").encode())
        after = DecodedStreamObject()
        after.set_data(b"\nQ\n")
        # pypdf has no public way to register a new indirect stream; _add_object is what its own helpers use.
        contents = ArrayObject([writer._add_object(before)])
        current = page.get("/Contents")
        resolved = current.get_object() if current is not None else None
        if isinstance(resolved, ArrayObject):
            contents.extend(resolved)
        elif current is not None:
            contents.append(current)
        contents.append(writer._add_object(after))
        page[NameObject("/Contents")] = contents
        page.pop("/Annots", None)  # link rectangles would no longer match the moved content
    for name in ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
        page.pop(name, None)
    page.mediabox = RectangleObject([0, 0, tw, th])


class _Stack:
    """Collects pages of one output PDF."""

    def __init__(self, page_size: tuple[float, float]) -> None:
        self.size = page_size
        self.writer = PdfWriter()
        prefs = self.writer.create_viewer_preferences()
        prefs.print_scaling = NameObject("/None")  # print at 100%: a "fit to page" dialog default shrinks labels

    def add_label(self, order: BatchOrder) -> int:
        if order.missing:
            return self.add_pdf(_missing_label_pdf(order, self.size, order.missing))
        try:
            reader = PdfReader(io.BytesIO(order.label_pdf))
            if reader.is_encrypted:
                reader.decrypt("")
            pages = list(reader.pages)
        except Exception:
            logger.warning("label of order %s is not a readable PDF: printing a placeholder", order.order_ref)
            pages = []
        if not pages:
            return self.add_pdf(_missing_label_pdf(order, self.size, UNREADABLE))
        for source in pages:
            _fit_page(self.writer, self.writer.add_page(source), self.size)
        return len(pages)

    def add_pdf(self, pdf: bytes) -> int:
        reader = PdfReader(io.BytesIO(pdf))
        self.add_reader_pages(reader, 0, len(reader.pages))
        return len(reader.pages)

    def add_reader_pages(self, reader: PdfReader, start: int, stop: int) -> None:
        for index in range(start, stop):
            self.writer.add_page(reader.pages[index])

    def getvalue(self) -> bytes:
        out = io.BytesIO()
        self.writer.write(out)
        return out.getvalue()


UNREADABLE = "The stored label is not a readable PDF. Reprint it from the platform's seller center."


def _missing_label_pdf(order: BatchOrder, size: tuple[float, float], why: str) -> bytes:
    """A loud stand-in page, so the stack stays aligned with the pick list and the slips: which order, why there is
    no label, and what to do about it."""
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=size, pageCompression=1)
    width, height = size
    pdf.setLineWidth(4)
    pdf.rect(12, 12, width - 24, height - 24)
    pdf.setFont(_BOLD, 30)
    pdf.drawCentredString(width / 2, height * 0.80, "NO LABEL")
    pdf.setFont(_BOLD, 14)
    pdf.drawCentredString(width / 2, height * 0.72, "DO NOT SHIP")
    pdf.setFont(_ROW_FONT, 11)
    y = height * 0.62
    for line in _wrap(f"Order {_printable(order.order_ref)}", _ROW_FONT, 11, width - 48, 3):
        pdf.drawCentredString(width / 2, y, line)
        y -= 14
    if order.tracking_number:
        pdf.drawCentredString(
            width / 2, y, _ellipsize(f"Tracking {_printable(order.tracking_number)}", _ROW_FONT, 11, width - 48)
        )
        y -= 14
    y -= 10
    pdf.setFont(_ROW_FONT, 10)
    for line in _wrap(_printable(why), _ROW_FONT, 10, width - 48, 12):
        pdf.drawCentredString(width / 2, y, line)
        y -= 13
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def labels_merge(orders: Sequence[BatchOrder], *, page_size: LabelSize = "4x6") -> bytes:
    """One PDF with every label page of `orders`, in that order, ready for a thermal printer.

    "4x6": each page is scaled without distortion and centred on a 4x6 in (288 x 432 pt) page; an A6 TikTok label
    shrinks by about 3%. "A6": A6 pages are copied untouched, other sizes fitted onto A6. Landscape labels are turned
    to portrait. A missing (`BatchOrder.missing`) or unreadable label becomes a "NO LABEL / DO NOT SHIP" page saying
    why and what to do, so the stack stays aligned with the pick list. An empty batch gives a valid PDF with no pages.
    The PDF asks viewers to print at 100%.
    """
    stack = _Stack(LABEL_PAGE_SIZES[page_size])
    for order in orders:
        stack.add_label(order)
    return stack.getvalue()


# ---------------------------------------------------------------------------------------------------- pick list


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
        for line in _stack_lines(order):
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
        return sorted(rows.values(), key=lambda r: (not r.bins, _natural(r.bins[0] if r.bins else ""), _natural(r.sku)))
    return list(rows.values())


@dataclass
class _Cell:
    lines: list[str]
    font: str
    size: float


@dataclass
class _LaidRow:
    cells: list[_Cell]
    height: float
    notes: list[_Note] = field(default_factory=list)  # under the name: the orders' buyer messages and gift marks


@dataclass(frozen=True)
class _Note:
    flags: tuple[str, ...]  # "GIFT", "MSG": printed white on black
    text: str  # already printable and cut to fit
    indent: float = 0.0  # a message's second line starts under its first line's text


_NOTE_FONT = "Helvetica-BoldOblique"
_NOTE_SIZE = 9.0
_MAX_NOTES = 3  # orders whose message a pick-list row prints before "+N more"
_NOTE_LINES = 2  # lines of one order's message on a pick-list row before it is cut with "…"


def _flag(pdf: Canvas, x: float, baseline: float, text: str, size: float) -> float:
    """A white-on-black marker ("MSG", "GIFT") a packer cannot miss; returns the width it takes, gap included."""
    width = stringWidth(text, _BOLD, size) + 4
    pdf.saveState()
    pdf.setFillColor(black)
    pdf.rect(x, baseline - size * 0.28, width, size * 1.15, stroke=0, fill=1)
    pdf.setFillColor(white)
    pdf.setFont(_BOLD, size)
    pdf.drawString(x + 2, baseline, text)
    pdf.restoreState()
    return width + 3


def _flags_width(flags: Iterable[str], size: float) -> float:
    return sum(stringWidth(flag, _BOLD, size) + 7 for flag in flags)


def _pick_notes(row: PickListRow, short: dict[str, str], width: float) -> list[_Note]:
    """Per order of the row with a buyer message or a gift: its flags, then "…1234: message" in up to two lines."""
    refs = [ref for ref in row.per_order if ref in row.messages or ref in row.gifts]
    notes = []
    for ref in refs[:_MAX_NOTES]:
        flags = ("GIFT",) * (ref in row.gifts) + ("MSG",) * (ref in row.messages)
        text = _printable(short[ref]) + (f": {_printable(row.messages[ref])}" if ref in row.messages else "")
        indent = _flags_width(flags, _NOTE_SIZE)
        lines = _wrap(text, _NOTE_FONT, _NOTE_SIZE, width - indent, _NOTE_LINES)
        notes.append(_Note(flags, lines[0]))
        notes.extend(_Note((), line, indent) for line in lines[1:])
    if len(refs) > _MAX_NOTES:
        notes.append(_Note((), f"+{len(refs) - _MAX_NOTES} more orders with a message or gift"))
    return notes


def _notes_draw(pdf: Canvas, x: float, top: float, notes: Sequence[_Note], leading: float) -> None:
    for i, note in enumerate(notes):
        baseline = top - i * leading
        left = x + note.indent
        for flag in note.flags:
            left += _flag(pdf, left, baseline, flag, _NOTE_SIZE)
        pdf.setFillColor(black)
        pdf.setFont(_NOTE_FONT, _NOTE_SIZE)
        pdf.drawString(left, baseline, note.text)


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
    width, height = PAPER_SIZES[paper]
    margin = 0.5 * inch
    usable = width - 2 * margin
    rows = pick_list_rows(orders, row_order=row_order)
    short = _short_refs(o.order_ref for o in orders)

    # Column widths: the name column takes what is left.
    fixed = {"tick": 24.0, "bin": 74.0, "sku": 104.0, "qty": 46.0, "orders": 166.0}
    col = {**fixed, "name": usable - sum(fixed.values())}
    order_cols = ("tick", "bin", "sku", "name", "qty", "orders")
    pad = 4.0
    leading = 12.5

    laid: list[_LaidRow] = []
    for row in rows:
        refs = [_printable(short[ref]) + (f"\xa0×{_quantity(n)}" if n != 1 else "") for ref, n in row.per_order.items()]
        if len(refs) > _MAX_REFS:
            refs = [*refs[: _MAX_REFS - 1], f"+{len(refs) - _MAX_REFS + 1}\xa0more"]
        qty = _quantity(row.quantity)
        cells = [
            _Cell([], _BOLD, 10),
            _Cell(_wrap(_printable(", ".join(row.bins)) or "no bin", _BOLD, 11, col["bin"] - 2 * pad, 3), _BOLD, 11),
            _Cell(_wrap(_printable(row.sku) or "(no SKU)", _BOLD, 11, col["sku"] - 2 * pad, 3), _BOLD, 11),
            _Cell(_wrap(_printable(row.name), _ROW_FONT, 10, col["name"] - 2 * pad, 3), _ROW_FONT, 10),
            _Cell([qty], _BOLD, _fit_size(qty, _BOLD, 14, col["qty"] - 2 * pad)),
            _Cell(_wrap(", ".join(refs), _ROW_FONT, 10, col["orders"] - 2 * pad), _ROW_FONT, 10),
        ]
        notes = _pick_notes(row, short, col["name"] - 2 * pad)
        lines = max(*(len(c.lines) for c in cells), len(cells[3].lines) + len(notes))
        laid.append(_LaidRow(cells, max(lines * leading + 2 * pad + 2, 24.0), notes))

    first_header = 96.0
    next_header = 30.0
    column_header = 20.0
    footer = 30.0
    signoff = 40.0
    pages: list[list[_LaidRow]] = [[]]
    room = height - 2 * margin - first_header - column_header - footer
    for row in laid:
        if row.height > room and pages[-1]:
            pages.append([])
            room = height - 2 * margin - next_header - column_header - footer
        pages[-1].append(row)
        room -= row.height
    if room < signoff:
        pages.append([])
    total_pages = len(pages)

    units = sum(r.quantity for r in rows)
    guide = "Rows follow the label stack." if row_order == "stack" else "Rows in bin order: one walk."
    if any(r.messages or r.gifts for r in rows):
        guide += " Orders: last digits; ×2 = two units. MSG: the buyer's message (in full on the slip)."
    else:
        guide += " Orders: last digits of the order number; ×2 = two units."
    ship_by = [o.ship_by for o in orders if o.ship_by is not None]
    zone = time_zone or clock.organization_zone()
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(_printable(f"Pick list {batch_ref}"))
    batch = _printable(batch_ref)
    warehouse = _printable(warehouse_name)
    for number, page_rows in enumerate(pages, start=1):
        top = height - margin
        if number == 1:
            pdf.setFillColor(black)
            pdf.setFont(_BOLD, 22)
            pdf.drawString(margin, top - 20, "PICK LIST")
            pdf.setFont(_BOLD, 14)
            pdf.drawRightString(width - margin, top - 18, _ellipsize(f"Batch {batch}", _BOLD, 14, usable - 150))
            pdf.setFont(_ROW_FONT, 11)
            pdf.drawString(margin, top - 40, _ellipsize(f"Warehouse: {warehouse}", _ROW_FONT, 11, usable / 2))
            pdf.drawRightString(width - margin, top - 40, f"Printed {_when(printed_at, zone)}")
            pdf.setFont(_BOLD, 13)
            pdf.drawString(
                margin,
                top - 62,
                f"{_quantity(len(orders))} orders    {_quantity(units)} units    {_quantity(len(rows))} SKUs",
            )
            if ship_by:
                pdf.setFont(_ROW_FONT, 11)
                pdf.drawRightString(width - margin, top - 62, f"Earliest ship-by {_when(min(ship_by), zone)}")
            pdf.setFont(_ROW_FONT, 10)
            pdf.drawString(
                margin,
                top - 80,
                _ellipsize(guide, _ROW_FONT, 10, usable),
            )
            y = top - first_header
        else:
            pdf.setFont(_BOLD, 12)
            pdf.drawString(margin, top - 14, "PICK LIST")
            pdf.setFont(_ROW_FONT, 11)
            pdf.drawRightString(
                width - margin, top - 14, _ellipsize(f"Batch {batch} · {warehouse}", _ROW_FONT, 11, usable - 90)
            )
            y = top - next_header

        # Column header row, black with white text.
        pdf.setFillColor(black)
        pdf.rect(margin, y - column_header, usable, column_header, stroke=0, fill=1)
        pdf.setFillColor(white)
        pdf.setFont(_BOLD, 10)
        x = margin
        for name, title in zip(order_cols, ("", "Bin", "SKU", "Name", "Qty", "Orders (last digits)"), strict=True):
            if name == "qty":
                pdf.drawRightString(x + col[name] - pad, y - 14, title)
            else:
                pdf.drawString(x + pad, y - 14, title)
            x += col[name]
        y -= column_header

        for index, row in enumerate(page_rows):
            if index % 2:
                pdf.setFillColor(_ZEBRA)
                pdf.rect(margin, y - row.height, usable, row.height, stroke=0, fill=1)
            pdf.setFillColor(black)
            x = margin
            for name, cell in zip(order_cols, row.cells, strict=True):
                if name == "tick":
                    _checkbox(pdf, x + (col[name] - 14) / 2, y - pad - 14, 14)
                elif name == "qty":
                    pdf.setFont(cell.font, cell.size)
                    pdf.drawRightString(x + col[name] - pad, y - pad - 14, cell.lines[0])
                else:
                    pdf.setFont(cell.font, cell.size)
                    for i, text in enumerate(cell.lines):
                        pdf.drawString(x + pad, y - pad - 11 - i * leading, text)
                    if name == "name":
                        _notes_draw(pdf, x + pad, y - pad - 11 - len(cell.lines) * leading, row.notes, leading)
                x += col[name]
            y -= row.height
            pdf.setStrokeColor(Color(0.6, 0.6, 0.6))
            pdf.setLineWidth(0.5)
            pdf.line(margin, y, margin + usable, y)

        if not rows and number == 1:
            pdf.setFont(_ROW_FONT, 12)
            pdf.drawString(margin + pad, y - 24, "No orders in this batch.")
        if number == total_pages:
            pdf.setFillColor(black)
            pdf.setFont(_ROW_FONT, 11)
            pdf.drawString(margin, y - 30, "Picked by ____________________")
            pdf.drawString(margin + usable / 2, y - 30, "Checked by ____________________")

        pdf.setFillColor(black)
        pdf.setFont(_ROW_FONT, 10)
        pdf.drawString(margin, margin - 12, _ellipsize(f"Pick list · batch {batch}", _ROW_FONT, 10, usable - 120))
        pdf.setFont(_BOLD, 11)
        pdf.drawRightString(width - margin, margin - 12, f"Page {number} of {total_pages}")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------- packing slips


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


def _slips_draw(
    pdf: Canvas, orders: Sequence[BatchOrder], branding: SlipBranding, size: tuple[float, float]
) -> list[int]:
    """Draw every order's slip on `pdf`; return how many pages each order took (1 unless it has many lines)."""
    width, height = size
    margin = 14.0
    usable = width - 2 * margin
    logo = _logo(branding)
    seller = _printable(branding.seller_name)
    message_lines = (
        _wrap(_printable(branding.message), "Helvetica-Oblique", 11, usable - 8, 3) if branding.message else []
    )
    message_height = len(message_lines) * 13 + 14 if message_lines else 0
    counts: list[int] = []
    total = len(orders)

    for position, order in enumerate(orders, start=1):
        ref = _printable(order.order_ref)
        items = _stack_lines(order)
        pages = 0
        index = 0
        while True:
            pages += 1
            top = height - margin
            pdf.setFillColor(black)
            # Branding band.
            text_x = margin
            if logo is not None and pages == 1:
                lw, lh = logo.getSize()
                scale = min(96 / lw, 44 / lh)
                pdf.drawImage(logo, margin, top - lh * scale, lw * scale, lh * scale, mask="auto")
                text_x = margin + lw * scale + 8
            name_lines = _wrap(seller, _BOLD, 14, width - margin - text_x, 2)
            pdf.setFont(_BOLD, 14)
            for i, text in enumerate(name_lines):
                pdf.drawString(text_x, top - 14 - i * 16, text)
            pdf.setFont(_ROW_FONT, 9)
            pdf.drawString(text_x, top - 14 - len(name_lines) * 16, "PACKING SLIP")
            y = top - 50
            pdf.setLineWidth(1)
            pdf.line(margin, y, width - margin, y)

            # Order number, as text and as a barcode.
            pdf.setFont(_ROW_FONT, 9)
            pdf.drawString(margin, y - 12, "Order")
            pdf.drawRightString(width - margin, y - 12, f"{position} of {total}")
            pdf.setFont(_BOLD, 14)
            pdf.drawString(margin, y - 28, _ellipsize(ref, _BOLD, 14, usable))
            y -= 34
            if pages == 1:
                code = _barcode(order.order_ref, usable, 34)
                if code is not None:
                    code.drawOn(pdf, (width - code.width) / 2, y - 36)
                    y -= 40
                # Ship to and tracking.
                pdf.setFont(_ROW_FONT, 9)
                pdf.drawString(margin, y - 12, "Ship to")
                pdf.setFont(_BOLD, 12)
                recipient = _printable(order.recipient_name) or "—"
                pdf.drawString(margin, y - 26, _ellipsize(recipient, _BOLD, 12, usable))
                y -= 30
                if order.tracking_number:
                    pdf.setFont(_ROW_FONT, 10)
                    tracking = _printable(f"Tracking {order.tracking_number}")
                    pdf.drawString(margin, y - 12, _ellipsize(tracking, _ROW_FONT, 10, usable))
                    y -= 16
                y = _slip_note_draw(pdf, order, margin, y, usable)
            else:
                pdf.setFont(_ROW_FONT, 10)
                pdf.drawString(margin, y - 12, "(continued)")
                y -= 16

            # Items: tick box, quantity, SKU, name.
            y -= 4
            pdf.setLineWidth(1)
            pdf.line(margin, y, width - margin, y)
            pdf.setFont(_BOLD, 9)
            pdf.drawString(margin + 22, y - 11, "Qty")
            pdf.drawString(margin + 62, y - 11, "Item")
            y -= 15
            bottom = margin + 14 + message_height
            text_w = usable - 62
            drawn = 0
            while index < len(items):
                line = items[index]
                qty = _quantity(line.quantity)
                sku = _wrap(_printable(line.seller_sku) or "(no SKU)", _BOLD, 11, text_w, 2)
                name = _wrap(_printable(line.name), _ROW_FONT, 10, text_w, 2)
                needed = len(sku) * 13 + 3 + len(name) * 12 + 6
                if y - needed < bottom and drawn:
                    break
                _checkbox(pdf, margin, y - 16, 13)
                _quantity_draw(pdf, margin + 52, y - 14, qty, _fit_size(qty, _BOLD, 13, 30), 34)
                pdf.setFont(_BOLD, 11)
                for i, text in enumerate(sku):
                    pdf.drawString(margin + 62, y - 13 - i * 13, text)
                pdf.setFont(_ROW_FONT, 10)
                for i, text in enumerate(name):
                    pdf.drawString(margin + 62, y - 13 - len(sku) * 13 - i * 12, text)
                y -= needed
                index += 1
                drawn += 1
                if y < bottom:
                    break
            if index < len(items):
                pdf.setFont(_ROW_FONT, 9)
                pdf.drawRightString(width - margin, margin, "continued on next page")
                pdf.showPage()
                continue
            if not items:
                pdf.setFont(_ROW_FONT, 10)
                pdf.drawString(margin, y - 14, "No items.")

            # The seller's message at the bottom.
            if message_lines:
                base = margin + 10
                pdf.setLineWidth(0.6)
                pdf.line(margin, base + message_height - 4, width - margin, base + message_height - 4)
                pdf.setFont("Helvetica-Oblique", 11)
                for i, text in enumerate(message_lines):
                    pdf.drawCentredString(width / 2, base + message_height - 18 - i * 13, text)
            if pages > 1:
                pdf.setFont(_ROW_FONT, 9)
                pdf.drawRightString(width - margin, margin - 4, f"page {pages} of {pages}")
            pdf.showPage()
            break
        counts.append(pages)
    return counts


_SLIP_NOTE_LINES = 4  # lines of a buyer's message printed on the slip before it is cut with "…"


def _slip_note_draw(pdf: Canvas, order: BatchOrder, x: float, top: float, width: float) -> float:
    """The buyer's message and the gift mark in a boxed panel under the ship-to; returns the y below it."""
    message = _printable(order.buyer_message)
    if not message and not order.is_gift:
        return top
    flags = ("GIFT",) * order.is_gift + ("BUYER MESSAGE",) * bool(message)
    text = message or "This order is a gift."
    lines = _wrap(text, "Helvetica-Oblique", 10, width - 12, _SLIP_NOTE_LINES)
    height = 20 + len(lines) * 12
    box_top = top - 4
    pdf.saveState()
    pdf.setStrokeColor(black)
    pdf.setLineWidth(1.5)
    pdf.rect(x, box_top - height, width, height, stroke=1, fill=0)
    pdf.restoreState()
    left = x + 5
    for flag in flags:
        left += _flag(pdf, left, box_top - 13, flag, 9)
    pdf.setFillColor(black)
    pdf.setFont("Helvetica-Oblique", 10)
    for i, line in enumerate(lines):
        pdf.drawString(x + 6, box_top - 28 - i * 12, line)
    return box_top - height - 2


def _slips_render(
    orders: Sequence[BatchOrder], branding: SlipBranding, size: tuple[float, float]
) -> tuple[bytes, list[int]]:
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=size, pageCompression=1)
    pdf.setTitle(_printable(f"Packing slips {branding.seller_name}"))
    counts = _slips_draw(pdf, orders, branding, size)
    if not counts:
        pdf.setFont(_ROW_FONT, 10)
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
    pdf, _counts = _slips_render(orders, branding, LABEL_PAGE_SIZES[page_size])
    return pdf


def labels_with_slips_pdf(
    orders: Sequence[BatchOrder], branding: SlipBranding, *, page_size: LabelSize = "4x6"
) -> bytes:
    """Per order, its label page(s) then its packing slip, for printing both on the same thermal roll."""
    size = LABEL_PAGE_SIZES[page_size]
    slips, counts = _slips_render(orders, branding, size)
    reader = PdfReader(io.BytesIO(slips))
    stack = _Stack(size)
    start = 0
    for order, count in zip(orders, counts, strict=True):
        stack.add_label(order)
        stack.add_reader_pages(reader, start, start + count)
        start += count
    return stack.getvalue()
