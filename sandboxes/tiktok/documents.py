"""Shipping documents: real PDFs drawn with reportlab, served from a CDN-like path with 24 h expiry."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A5, A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

if TYPE_CHECKING:
    from .app import TikTokSandbox

DOC_PATH_PREFIX = "/wsos_v2/oec_fulfillment_doc_tts/object/"
DOC_TTL = 24 * 3600
DOCUMENT_TYPES = (
    "SHIPPING_LABEL",
    "PACKING_SLIP",
    "SHIPPING_LABEL_AND_PACKING_SLIP",
    "SHIPPING_LABEL_PICTURE",
    "HAZMAT_LABEL",
    "INVOICE_LABEL",
)
SUPPORTED_TYPES = ("SHIPPING_LABEL", "PACKING_SLIP", "SHIPPING_LABEL_AND_PACKING_SLIP")


@dataclass
class DocLink:
    key: str
    package_id: str
    document_type: str
    document_size: str
    expires: int
    content: dict[str, Any]  # everything needed to draw the document, captured at issue time
    pdf: bytes | None = None


class DocumentStore:
    def __init__(self) -> None:
        self.links: dict[str, DocLink] = {}

    def issue(self, package_id: str, document_type: str, document_size: str, now: int, content: dict[str, Any]) -> str:
        key = "wsos" + secrets.token_hex(16)
        self.links[key] = DocLink(key, package_id, document_type, document_size, now + DOC_TTL, content)
        return key

    def download(self, sb: TikTokSandbox, path: str) -> tuple[int, str, bytes]:
        key = path[len(DOC_PATH_PREFIX) :]
        link = self.links.get(key)
        if link is None:
            return 404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>"
        if sb.clock.now() >= link.expires:
            # What an expired signed CDN URL answers.
            return (
                403,
                "application/xml",
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            )
        if link.pdf is None:
            link.pdf = render(link.document_type, link.document_size, link.content)
        return 200, "application/pdf", link.pdf


def render(document_type: str, size: str, c: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    page = A5 if size == "A5" else A6
    pdf = canvas.Canvas(buf, pagesize=page)
    pdf.setTitle(f"{document_type} {c['package_id']}")
    pdf.setAuthor("TikTok Shop sandbox")
    if document_type in ("SHIPPING_LABEL", "SHIPPING_LABEL_AND_PACKING_SLIP"):
        _label(pdf, page, c)
        pdf.showPage()
    if document_type in ("PACKING_SLIP", "SHIPPING_LABEL_AND_PACKING_SLIP"):
        _packing_slip(pdf, page, c)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _lines(
    pdf: canvas.Canvas, x: float, y: float, lines: list[str], size: float, lead: float, bold_first: bool = False
) -> float:
    for i, text in enumerate(lines):
        pdf.setFont("Helvetica-Bold" if bold_first and i == 0 else "Helvetica", size)
        pdf.drawString(x, y, text)
        y -= lead
    return y


def _label(pdf: canvas.Canvas, page: tuple[float, float], c: dict[str, Any]) -> None:
    w, h = page
    m = 4 * mm
    scale = w / A6[0]
    pdf.setLineWidth(1.2)
    pdf.rect(m, m, w - 2 * m, h - 2 * m)
    # Carrier band
    pdf.setFont("Helvetica-Bold", 16 * scale)
    pdf.drawString(m + 3 * mm, h - m - 9 * mm, c["carrier"])
    pdf.setFont("Helvetica", 8 * scale)
    pdf.drawRightString(w - m - 3 * mm, h - m - 6 * mm, c["service"])
    pdf.drawRightString(w - m - 3 * mm, h - m - 10 * mm, f"Weight: {c['weight']}")
    pdf.line(m, h - m - 13 * mm, w - m, h - m - 13 * mm)
    # Sender
    y = _lines(pdf, m + 3 * mm, h - m - 17 * mm, ["FROM:", *c["sender"]], 7 * scale, 3.2 * mm * scale, True)
    pdf.line(m, y, w - m, y)
    # Recipient (unmasked: the label must be deliverable)
    y = _lines(pdf, m + 3 * mm, y - 5 * mm, ["SHIP TO:"], 8 * scale, 5 * mm)
    y = _lines(pdf, m + 8 * mm, y, c["recipient"], 10 * scale, 4.6 * mm * scale, True)
    pdf.line(m, y - 1 * mm, w - m, y - 1 * mm)
    # Barcode of the tracking number
    tracking = c["tracking_number"]
    bar_w = w - 2 * m - 8 * mm
    barcode = code128.Code128(tracking, barHeight=18 * mm * scale, barWidth=0.3 * mm)
    if barcode.width > bar_w:
        barcode = code128.Code128(tracking, barHeight=18 * mm * scale, barWidth=0.3 * mm * bar_w / barcode.width)
    bx = (w - barcode.width) / 2
    by = y - 24 * mm * scale
    barcode.drawOn(pdf, bx, by)
    pdf.setFont("Helvetica-Bold", 9 * scale)
    pdf.drawCentredString(w / 2, by - 4 * mm, f"TRACKING #: {tracking}")
    pdf.setFont("Helvetica", 6.5 * scale)
    pdf.drawString(m + 3 * mm, m + 7 * mm, f"Order: {c['order_id']}")
    pdf.drawString(m + 3 * mm, m + 3.5 * mm, f"Package: {c['package_id']}")
    pdf.drawRightString(w - m - 3 * mm, m + 3.5 * mm, "TikTok Shop sandbox")


def _packing_slip(pdf: canvas.Canvas, page: tuple[float, float], c: dict[str, Any]) -> None:
    _w, h = page
    m = 6 * mm
    y = _lines(
        pdf,
        m,
        h - m - 4 * mm,
        ["PACKING SLIP", f"Order {c['order_id']}", f"Package {c['package_id']}", f"Tracking {c['tracking_number']}"],
        8,
        4.2 * mm,
        True,
    )
    y = _lines(pdf, m, y - 2 * mm, ["Ship to:", *c["recipient"]], 7, 3.4 * mm, True)
    y -= 2 * mm
    pdf.setFont("Helvetica-Bold", 7)
    pdf.drawString(m, y, "Qty  Seller SKU / Item")
    y -= 3.6 * mm
    pdf.setFont("Helvetica", 7)
    for qty, sku, name in c["items"]:
        pdf.drawString(m, y, f"{qty:>3}  {sku}")
        y -= 3.2 * mm
        pdf.drawString(m + 8 * mm, y, name[:48])
        y -= 3.8 * mm
        if y < m + 10 * mm:
            pdf.showPage()
            y = h - m - 4 * mm
            pdf.setFont("Helvetica", 7)
    if c.get("buyer_message"):
        _lines(pdf, m, y - 2 * mm, ["Buyer note:", c["buyer_message"][:60]], 7, 3.4 * mm, True)
