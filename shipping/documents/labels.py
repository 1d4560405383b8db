"""The merged label PDF of a batch, ready for a thermal printer, and the labels interleaved with packing slips.

- `labels_merge`: every platform label page, in stack order, fitted onto a 4x6 in thermal label (or A6). A missing
  or unreadable label becomes a placeholder page, so the stack stays aligned with the pick list and the slips.
- `labels_with_slips_pdf`: per order, its label page(s) followed by its packing slip.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject
from reportlab.pdfgen.canvas import Canvas

from shipping.documents.batch import BatchOrder
from shipping.documents.packing_slips import SlipBranding, slips_render
from shipping.documents.toolkit import BOLD, LABEL_PAGE_SIZES, ROW_FONT, LabelSize, ellipsize, printable, wrap

logger = logging.getLogger(__name__)


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
    pdf.setFont(BOLD, 30)
    pdf.drawCentredString(width / 2, height * 0.80, "NO LABEL")
    pdf.setFont(BOLD, 14)
    pdf.drawCentredString(width / 2, height * 0.72, "DO NOT SHIP")
    pdf.setFont(ROW_FONT, 11)
    y = height * 0.62
    for line in wrap(f"Order {printable(order.order_ref)}", ROW_FONT, 11, width - 48, 3):
        pdf.drawCentredString(width / 2, y, line)
        y -= 14
    if order.tracking_number:
        pdf.drawCentredString(
            width / 2, y, ellipsize(f"Tracking {printable(order.tracking_number)}", ROW_FONT, 11, width - 48)
        )
        y -= 14
    y -= 10
    pdf.setFont(ROW_FONT, 10)
    for line in wrap(printable(why), ROW_FONT, 10, width - 48, 12):
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


def labels_with_slips_pdf(
    orders: Sequence[BatchOrder], branding: SlipBranding, *, page_size: LabelSize = "4x6"
) -> bytes:
    """Per order, its label page(s) then its packing slip, for printing both on the same thermal roll."""
    size = LABEL_PAGE_SIZES[page_size]
    slips, counts = slips_render(orders, branding, size)
    reader = PdfReader(io.BytesIO(slips))
    stack = _Stack(size)
    start = 0
    for order, count in zip(orders, counts, strict=True):
        stack.add_label(order)
        stack.add_reader_pages(reader, start, start + count)
        start += count
    return stack.getvalue()
