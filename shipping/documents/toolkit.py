"""The one PDF toolkit every warehouse document is drawn with: fonts and page sizes, text that Helvetica can draw,
tick boxes, white-on-black flags, the Code 128 barcode block, and the paged table (rows laid onto pages, the column
header row repeated on every page, zebra rows, the "continued" page header and the "Page 2 of 5" footer).

Text is drawn with the standard Helvetica family (nothing embedded). Those fonts only know Windows-1252, so any text
is first passed through `printable`: accents are folded where possible, emoji and symbols dropped, anything else
replaced by "?". Nothing here raises on odd text or huge quantities.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4, A6, LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from erp import clock

LabelSize = Literal["4x6", "A6"]
PaperSize = Literal["Letter", "A4"]

LABEL_PAGE_SIZES: dict[str, tuple[float, float]] = {"4x6": (4 * inch, 6 * inch), "A6": A6}
PAPER_SIZES: dict[str, tuple[float, float]] = {"Letter": LETTER, "A4": A4}

ROW_FONT = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"
ZEBRA = Color(0.89, 0.89, 0.89)
RULE_GREY = Color(0.6, 0.6, 0.6)


# ---------------------------------------------------------------------------------------------------- text
_DROP_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn", "Cc", "Cf", "Mn", "Me"}
# Latin letters that Unicode does not decompose into a base letter plus an accent.
_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "\u0131": "i", "Ŧ": "T", "ŧ": "t"})


def printable(text: str) -> str:
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


def wrap(text: str, font: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
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
        lines[-1] = ellipsize(lines[-1] + "…", font, size, width)
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


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    body = text.rstrip("…")
    while body and stringWidth(body + "…", font, size) > width:
        body = body[:-1]
    return body.rstrip() + "…"


def fit_size(text: str, font: str, size: float, width: float, smallest: float = 7) -> float:
    """The font size (down to `smallest`) at which a single-line value such as a quantity fits its column."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def quantity_text(value: int) -> str:
    return f"{value:,}"


def when_text(value: datetime, zone: tzinfo) -> str:
    """A time on a printout, in `zone` (passed explicitly: a worker has no active zone), the zone named."""
    return clock.format_local(value, zone)


# ---------------------------------------------------------------------------------------------------- marks
def checkbox(pdf: Canvas, x: float, y: float, side: float) -> None:
    pdf.saveState()
    pdf.setStrokeColor(black)
    pdf.setFillColor(white)
    pdf.setLineWidth(1.3)
    pdf.rect(x, y, side, side, stroke=1, fill=1)
    pdf.restoreState()


def flag(pdf: Canvas, x: float, baseline: float, text: str, size: float) -> float:
    """A white-on-black marker ("MSG", "GIFT") a packer cannot miss; returns the width it takes, gap included."""
    width = stringWidth(text, BOLD, size) + 4
    pdf.saveState()
    pdf.setFillColor(black)
    pdf.rect(x, baseline - size * 0.28, width, size * 1.15, stroke=0, fill=1)
    pdf.setFillColor(white)
    pdf.setFont(BOLD, size)
    pdf.drawString(x + 2, baseline, text)
    pdf.restoreState()
    return width + 3


def flags_width(flags: Iterable[str], size: float) -> float:
    return sum(stringWidth(flag, BOLD, size) + 7 for flag in flags)


def barcode(value: str, width: float, height: float) -> Code128 | None:
    """A Code 128 barcode of `value` at most `width` wide (quiet zones included), bars never thinner than 0.8 pt."""
    data = "".join(c for c in value if 32 <= ord(c) < 127)
    if not data:
        return None
    unit = Code128(data, barWidth=1, barHeight=height, quiet=1, lquiet=10, rquiet=10).width
    bar = min(2.0, width / unit)
    if bar < 0.8:
        return None
    return Code128(data, barWidth=bar, barHeight=height, quiet=1, lquiet=10 * bar, rquiet=10 * bar)


BarcodeAlign = Literal["left", "centre", "right"]


def barcode_draw(
    pdf: Canvas, value: str, *, left: float, right: float, bottom: float, height: float, align: BarcodeAlign
) -> bool:
    """The barcode of `value` drawn between `left` and `right`; False (nothing drawn) when it cannot be scanned at
    that width or `value` has nothing Code 128 can encode."""
    code = barcode(value, right - left, height)
    if code is None:
        return False
    x = {"left": left, "centre": (left + right - code.width) / 2, "right": right - code.width}[align]
    code.drawOn(pdf, x, bottom)
    return True


# ---------------------------------------------------------------------------------------------------- paged table
@dataclass(frozen=True)
class Column:
    name: str
    title: str
    width: float
    title_right: bool = False  # a number column's title is right-aligned over its numbers


@dataclass(frozen=True)
class Sheet:
    """A Letter/A4 page with half-inch margins."""

    width: float
    height: float
    margin: float = 0.5 * inch

    @classmethod
    def of(cls, paper: PaperSize) -> Sheet:
        width, height = PAPER_SIZES[paper]
        return cls(width, height)

    @property
    def top(self) -> float:
        return self.height - self.margin

    @property
    def usable(self) -> float:
        return self.width - 2 * self.margin


@dataclass(frozen=True)
class PagedTable:
    """Rows of a document laid onto pages: the first page has a tall header, later pages a one-line one; every
    page has the column header row and a footer; the last page keeps `tail` points free under its last row (the
    sign-off). `paginate` decides the pages, `draw` draws them."""

    sheet: Sheet
    columns: Sequence[Column]
    first_header: float
    next_header: float
    tail: float
    column_header: float = 20.0
    footer: float = 30.0
    pad: float = 4.0

    def paginate(self, heights: Sequence[float]) -> list[list[int]]:
        """Row indexes per page. A row that does not fit what is left of a page starts the next one, unless the
        page is still empty and a fresh page would not hold it either; a last page too full for `tail` is followed
        by an empty one."""
        body = self.sheet.height - 2 * self.sheet.margin - self.column_header - self.footer
        fresh = body - self.next_header
        pages: list[list[int]] = [[]]
        room = body - self.first_header
        for index, height in enumerate(heights):
            if height > room and (pages[-1] or height <= fresh):
                pages.append([])
                room = fresh
            pages[-1].append(index)
            room -= height
        if room < self.tail:
            pages.append([])
        return pages

    def header_row_draw(self, pdf: Canvas, y: float) -> float:
        """The column header row, black with white text; returns the y under it."""
        sheet = self.sheet
        pdf.setFillColor(black)
        pdf.rect(sheet.margin, y - self.column_header, sheet.usable, self.column_header, stroke=0, fill=1)
        pdf.setFillColor(white)
        pdf.setFont(BOLD, 10)
        x = sheet.margin
        for column in self.columns:
            if column.title_right:
                pdf.drawRightString(x + column.width - self.pad, y - 14, column.title)
            else:
                pdf.drawString(x + self.pad, y - 14, column.title)
            x += column.width
        return y - self.column_header

    def rows_draw(
        self,
        pdf: Canvas,
        y: float,
        rows: Sequence[tuple[float, Callable[[Canvas, float], None]]],
    ) -> float:
        """Each (height, draw) row under the previous one: zebra band on every second row, `draw(pdf, top)` for the
        cells, a grey rule under it. Returns the y under the last row."""
        sheet = self.sheet
        for position, (height, draw) in enumerate(rows):
            if position % 2:
                pdf.setFillColor(ZEBRA)
                pdf.rect(sheet.margin, y - height, sheet.usable, height, stroke=0, fill=1)
            pdf.setFillColor(black)
            draw(pdf, y)
            y -= height
            pdf.setStrokeColor(RULE_GREY)
            pdf.setLineWidth(0.5)
            pdf.line(sheet.margin, y, sheet.margin + sheet.usable, y)
            pdf.setStrokeColor(black)
        return y

    def continued_header_draw(self, pdf: Canvas, title: str, detail: str, detail_width: float) -> float:
        """The one-line header of pages after the first: the document's name left, `detail` right."""
        sheet = self.sheet
        pdf.setFillColor(black)
        pdf.setFont(BOLD, 12)
        pdf.drawString(sheet.margin, sheet.top - 14, title)
        pdf.setFont(ROW_FONT, 11)
        pdf.drawRightString(sheet.width - sheet.margin, sheet.top - 14, ellipsize(detail, ROW_FONT, 11, detail_width))
        return sheet.top - self.next_header

    def footer_draw(self, pdf: Canvas, text: str, number: int, total: int) -> None:
        """What the page is, left, and "Page 2 of 5", right, under the bottom margin."""
        sheet = self.sheet
        pdf.setFillColor(black)
        pdf.setFont(ROW_FONT, 10)
        pdf.drawString(sheet.margin, sheet.margin - 12, ellipsize(text, ROW_FONT, 10, sheet.usable - 120))
        pdf.setFont(BOLD, 11)
        pdf.drawRightString(sheet.width - sheet.margin, sheet.margin - 12, f"Page {number} of {total}")
