"""The merged label PDF of a batch, ready for a thermal printer, and the labels interleaved with packing slips.

- `labels_merge` / `labels_merge_to`: every platform label page, in stack order, fitted onto a 4x6 in thermal label
  (or A6), written to the output as each label is read. A missing or unreadable label becomes a placeholder page, so
  the stack stays aligned with the pick list and the slips.
- `labels_with_slips_pdf`: per order, its label page(s) followed by its packing slip.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from pypdf import PageObject, PdfReader
from reportlab.pdfgen.canvas import Canvas

from shipping.documents.batch import BatchOrder
from shipping.documents.packing_slips import SlipBranding, slips_render
from shipping.documents.pdf_plain import PlainPdf
from shipping.documents.pdf_stream import PdfStream, Placement, Source
from shipping.documents.toolkit import BOLD, LABEL_PAGE_SIZES, ROW_FONT, LabelSize, ellipsize, printable, wrap

logger = logging.getLogger(__name__)


def _placement(page: PageObject, target: tuple[float, float]) -> Placement | None:
    """How a source page goes onto a `target` page: its crop box, turned as a viewer shows it (/Rotate), scaled
    without distortion and centred, turned a quarter anticlockwise when its orientation differs from the target's.
    None when the page already is the target (exactly, at the origin, unrotated): it is copied untouched."""
    box = page.cropbox
    llx, urx = sorted((float(box[0]), float(box[2])))
    lly, ury = sorted((float(box[1]), float(box[3])))
    width, height = urx - llx, ury - lly
    if width <= 0 or height <= 0:
        return None
    tw, th = target
    rotate = round(page.rotation / 90) * 90 % 360
    if not rotate and abs(width - tw) < 1 and abs(height - th) < 1 and llx == 0 and lly == 0:
        return None
    # The crop box as shown: /Rotate turns the page clockwise, with its lower-left corner to the origin.
    shown = {
        0: (1.0, 0.0, 0.0, 1.0, -llx, -lly),
        90: (0.0, -1.0, 1.0, 0.0, -lly, urx),
        180: (-1.0, 0.0, 0.0, -1.0, urx, ury),
        270: (0.0, 1.0, -1.0, 0.0, ury, -llx),
    }[rotate]
    sw, sh = (height, width) if rotate in (90, 270) else (width, height)
    if (sw > sh * 1.05) != (tw > th * 1.05):
        scale = min(tw / sh, th / sw)
        ox, oy = (tw - sh * scale) / 2, (th - sw * scale) / 2
        fit = (0.0, scale, -scale, 0.0, scale * sh + ox, oy)
    else:
        scale = min(tw / sw, th / sh)
        ox, oy = (tw - sw * scale) / 2, (th - sh * scale) / 2
        fit = (scale, 0.0, 0.0, scale, ox, oy)
    return Placement(_concat(shown, fit), (llx, lly, width, height))


def _concat(
    first: tuple[float, float, float, float, float, float], then: tuple[float, float, float, float, float, float]
) -> tuple[float, float, float, float, float, float]:
    """The matrix applying `first`, then `then` (PDF's row-vector convention: first x then)."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


class _Stack:
    """The pages of one output PDF, written to `out` as they are added (`PdfStream`); `close` finishes it."""

    def __init__(self, out: BinaryIO, page_size: tuple[float, float]) -> None:
        self.size = page_size
        self.pdf = PdfStream(out, page_size)

    def add_label(self, order: BatchOrder) -> int:
        if order.missing:
            return self.add_pdf(_missing_label_pdf(order, self.size, order.missing))
        try:
            with PlainPdf(order.label_pdf) as plain:
                return self.add_source(Source(plain, order.label_pdf))
        except Exception:  # not of the plainest shape (NotPlain), or damaged: pypdf reads it, and decides
            logger.debug("label of order %s is read by pypdf", order.order_ref, exc_info=True)
        try:
            # Closing the reader clears its object cache, whose references back to the reader would otherwise keep
            # each label's objects alive until a full garbage collection (memory growing with the labels).
            with PdfReader(io.BytesIO(order.label_pdf)) as reader:
                if reader.is_encrypted:
                    reader.decrypt("")
                if len(reader.pages):
                    return self.add_source(Source(reader, order.label_pdf))
        except Exception:
            # A broken object can surface while the page is copied, not only when the file is opened: add_pages
            # wrote nothing then, so the placeholder takes the label's place.
            logger.warning("label of order %s is not a readable PDF: printing a placeholder", order.order_ref)
        return self.add_pdf(_missing_label_pdf(order, self.size, UNREADABLE))

    def add_source(self, source: Source) -> int:
        """Every page of `source`, fitted onto the output's page size (all or nothing, as `PdfStream.add_pages`)."""
        pages = list(source.reader.pages)
        self.pdf.add_pages(source, pages, [_placement(page, self.size) for page in pages])
        return len(pages)

    def add_pdf(self, pdf: bytes) -> int:
        with PdfReader(io.BytesIO(pdf)) as reader:
            return self.add_source(Source(reader, pdf))

    def add_source_pages(self, source: Source, start: int, stop: int, refs: dict[tuple[int, int], int]) -> None:
        """Pages of a document drawn at the output size (placeholders, packing slips); `refs` as for `add_pages`."""
        pages = [source.reader.pages[index] for index in range(start, stop)]
        self.pdf.add_pages(source, pages, [_placement(page, self.size) for page in pages], refs)

    def close(self) -> None:
        self.pdf.close()


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
    """One PDF with every label page of `orders`, in that order, ready for a thermal printer (`labels_merge_to`)."""
    out = io.BytesIO()
    labels_merge_to(out, orders, page_size=page_size)
    return out.getvalue()


def labels_merge_to(out: BinaryIO, orders: Iterable[BatchOrder], *, page_size: LabelSize = "4x6") -> None:
    """Write to `out` one PDF with every label page of `orders`, in that order, ready for a thermal printer.

    "4x6": each page is scaled without distortion and centred on a 4x6 in (288 x 432 pt) page; an A6 TikTok label
    shrinks by about 3%. "A6": A6 pages are copied untouched, other sizes fitted onto A6. Landscape labels are turned
    to portrait. A missing (`BatchOrder.missing`) or unreadable label becomes a "NO LABEL / DO NOT SHIP" page saying
    why and what to do, so the stack stays aligned with the pick list. An empty batch gives a valid PDF with no pages.
    The PDF asks viewers to print at 100%. Each label is written as it is read: memory does not grow with the
    number of labels (docs/adr/0027).
    """
    stack = _Stack(out, LABEL_PAGE_SIZES[page_size])
    for order in orders:
        stack.add_label(order)
    stack.close()


def labels_with_slips_pdf(
    orders: Sequence[BatchOrder], branding: SlipBranding, *, page_size: LabelSize = "4x6"
) -> bytes:
    """Per order, its label page(s) then its packing slip, for printing both on the same thermal roll."""
    size = LABEL_PAGE_SIZES[page_size]
    slips, counts = slips_render(orders, branding, size)
    out = io.BytesIO()
    stack = _Stack(out, size)
    start = 0
    slip_refs: dict[tuple[int, int], int] = {}  # the slips share their fonts: written once
    with PdfReader(io.BytesIO(slips)) as reader:
        source = Source(reader, slips)
        for order, count in zip(orders, counts, strict=True):
            stack.add_label(order)
            stack.add_source_pages(source, start, start + count, slip_refs)
            start += count
    stack.close()
    return out.getvalue()
