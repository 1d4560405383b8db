"""Warehouse documents of a label batch: merged labels, pick list, packing slips. No database, no HTTP."""

from __future__ import annotations

import io
import random
import tracemalloc
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from reportlab.lib.pagesizes import A6, landscape
from reportlab.pdfgen.canvas import Canvas

from sandboxes.tiktok.documents import render
from shipping.documents.batch import BatchOrder, PickLine, picking_order
from shipping.documents.labels import labels_merge, labels_merge_to, labels_with_slips_pdf
from shipping.documents.packing_slips import SlipBranding, packing_slips_pdf
from shipping.documents.pick_list import pick_list_pdf, pick_list_rows
from shipping.documents.toolkit import barcode, printable
from tests.shipping.batches import batch, label_pdf

PRINTED = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
BRANDING = SlipBranding("Acme Goods", None, "Thank you for your order!")


def order(ref: str, *lines: tuple[str, int, str], name: str = "Widget", label: bytes | None = None) -> BatchOrder:
    picks = tuple(PickLine(ref, sku, f"{name} {sku}", qty, bin_) for sku, qty, bin_ in lines)
    if label is None:
        label = label_pdf(ref, f"TRK{ref}", "Dana Kim", [(p.quantity, p.seller_sku, p.name) for p in picks])
    return BatchOrder(ref, label, picks, "D*** K**", None, f"TRK{ref}")


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def page_sizes(pdf: bytes) -> set[tuple[float, float]]:
    return {
        (round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
        for p in PdfReader(io.BytesIO(pdf)).pages
    }


def pick_list(orders: list[BatchOrder], **kwargs: object) -> bytes:
    return pick_list_pdf(orders, batch_ref="B-42", warehouse_name="Reno Main", printed_at=PRINTED, **kwargs)


@pytest.fixture(scope="module")
def twelve() -> list[BatchOrder]:
    return batch(12, skus=20, seed=3)


# ------------------------------------------------------------------------------------------------ picking order


def test_picking_order_by_bin_walks_once_and_puts_orders_without_a_bin_last() -> None:
    # given orders whose smallest bins are out of order, numbered bins, and orders with no bin at all
    orders = [
        order("1005", ("SKU-9", 1, "B-10")),
        order("1001", ("SKU-2", 1, "B-9"), ("SKU-1", 1, "C-1")),
        order("1004", ("SKU-5", 1, "")),
        order("1003", ("SKU-3", 1, "A-1"), ("SKU-4", 1, "")),
        order("1002", ("SKU-3", 2, "A-1")),
        order("1000", ("SKU-0", 1, "")),
    ]
    # when they are put in picking order (from any starting order)
    results = set()
    for seed in range(5):
        shuffled = orders[:]
        random.Random(seed).shuffle(shuffled)
        results.add(tuple(o.order_ref for o in picking_order(shuffled, sort="bin")))
    # then A-1 (ties by order ref) < B-9 < B-10 (numbers compare as numbers), then the bin-less ones by SKU
    assert results == {("1002", "1003", "1001", "1005", "1000", "1004")}


def test_picking_order_by_order_ref() -> None:
    orders = [order("20", ("A", 1, "Z-1")), order("3", ("B", 1, "A-1")), order("100", ("C", 1, ""))]
    assert [o.order_ref for o in picking_order(orders, sort="order")] == ["3", "20", "100"]


def test_picking_order_rejects_an_unknown_sort() -> None:
    with pytest.raises(ValueError, match="unknown sort"):
        picking_order([], sort="weight")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ merged labels


def test_labels_merge_4x6_keeps_every_page_in_stack_order(twelve: list[BatchOrder]) -> None:
    stack = picking_order(twelve, sort="bin")
    pdf = labels_merge(stack, page_size="4x6")
    texts = pages_text(pdf)
    assert len(texts) == 12
    assert page_sizes(pdf) == {(288.0, 432.0)}
    for text, o in zip(texts, stack, strict=True):
        assert f"Order: {o.order_ref}" in text
        assert o.tracking_number in text


def test_labels_merge_a6_copies_a6_pages_untouched(twelve: list[BatchOrder]) -> None:
    pdf = labels_merge(twelve, page_size="A6")
    assert page_sizes(pdf) == {(round(A6[0], 1), round(A6[1], 1))}
    assert [t.split("Order: ")[1].split()[0] for t in pages_text(pdf)] == [o.order_ref for o in twelve]


def test_labels_merge_keeps_multi_page_labels_and_fits_other_sizes() -> None:
    # given a two-page label (label + TikTok's own slip), an A5 label, a landscape one and one with /Rotate 90
    content = {
        "package_id": "P1",
        "order_id": "777",
        "tracking_number": "T777",
        "carrier": "USPS",
        "service": "Ground",
        "weight": "1 lb",
        "sender": ["WH"],
        "recipient": ["Dana"],
        "items": [(1, "SKU-1", "Mug")],
        "buyer_message": "",
    }
    two_pages = render("SHIPPING_LABEL_AND_PACKING_SLIP", "A6", content)
    a5 = render("SHIPPING_LABEL", "A5", {**content, "order_id": "888"})
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=landscape(A6))
    canvas.drawString(40, 40, "Order: 999 landscape")
    canvas.save()
    rotated = PdfWriter()
    rotated.add_page(PdfReader(io.BytesIO(render("SHIPPING_LABEL", "A6", {**content, "order_id": "555"}))).pages[0])
    rotated.pages[0].rotate(90)
    rotated_pdf = io.BytesIO()
    rotated.write(rotated_pdf)
    orders = [
        order("777", ("A", 1, "A-1"), label=two_pages),
        order("888", ("B", 1, "A-2"), label=a5),
        order("999", ("C", 1, "A-3"), label=buf.getvalue()),
        order("555", ("D", 1, "A-4"), label=rotated_pdf.getvalue()),
    ]
    # when merged onto 4x6
    pdf = labels_merge(orders)
    # then every page is there, in order, on 4x6 portrait
    texts = pages_text(pdf)
    assert len(texts) == 5
    assert "Order: 777" in texts[0]
    assert "PACKING SLIP" in texts[1]
    assert "Order: 888" in texts[2]
    assert "999 landscape" in texts[3]
    assert "Order: 555" in texts[4]
    assert page_sizes(pdf) == {(288.0, 432.0)}


def test_an_unreadable_label_becomes_a_do_not_ship_page() -> None:
    orders = [order("1", ("A", 1, "A-1")), order("2", ("B", 1, "A-2"), label=b"not a pdf"), order("3", ("C", 1, ""))]
    texts = pages_text(labels_merge(orders))
    assert len(texts) == 3
    assert "NO LABEL" in texts[1]
    assert "DO NOT SHIP" in texts[1]
    assert "Order 2" in texts[1]


def test_a_label_broken_halfway_becomes_a_placeholder_and_the_stack_stays_a_valid_pdf() -> None:
    # given labels that open as PDFs but whose page content cannot be had: cut off before it, or not a stream
    good = label_pdf("1", "T1", "Dana", [])
    at = good.index(b" 0 obj\n<<\n/Filter")  # the content stream (drawn last by reportlab)
    start = good.rindex(b"\n", 0, at) + 1
    cut = good[:start]
    not_a_stream = good[:start] + good[start:at] + b" 0 obj\n(x)\nendobj\n" + good[good.index(b"endobj", at) + 6 :]
    orders = [
        order("1", ("A", 1, "A-1"), label=cut),
        order("2", ("B", 1, "A-2")),
        order("3", ("C", 1, "A-3"), label=not_a_stream),
    ]
    # when merged
    pdf = labels_merge(orders)
    # then each is a placeholder, nothing of them leaked into the file, and it reads strictly
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) == 3
    assert "NO LABEL" in texts[0]
    assert "Order 1" in texts[0]
    assert "Order: 2" in texts[1]
    assert "NO LABEL" in texts[2]
    assert "Order 3" in texts[2]


def test_the_merged_pdf_is_well_formed_and_asks_to_print_at_100_percent(twelve: list[BatchOrder]) -> None:
    pdf = labels_merge(twelve)
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 12
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/PrintScaling"] == "/None"
    # every cross-reference entry points at its object
    objects = reader.xref[0]
    assert len(objects) == int(reader.trailer["/Size"]) - 1
    for idnum, offset in objects.items():
        assert pdf[offset:].startswith(b"%d 0 obj" % idnum)


def test_encrypted_and_odd_labels_are_copied_whole() -> None:
    # given an encrypted label (no user password: its objects go through pypdf's decryption) and an A6 label with a
    # link annotation whose text holds a reference-like string, parentheses and a comment-like percent sign
    plain = label_pdf("1", "T1", "Dana", [])
    encrypted = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    encrypted.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    encrypted_pdf = io.BytesIO()
    encrypted.write(encrypted_pdf)
    noted = PdfWriter(clone_from=PdfReader(io.BytesIO(label_pdf("2", "T2", "Dana", []))))
    note = "see 4 0 R (nested (parens)) \\ 100% done"
    noted.add_annotation(0, Text(rect=(10, 10, 40, 40), text=note))
    noted_pdf = io.BytesIO()
    noted.write(noted_pdf)
    orders = [
        order("1", ("A", 1, "A-1"), label=encrypted_pdf.getvalue()),
        order("2", ("B", 1, "A-2"), label=noted_pdf.getvalue()),
    ]
    # when merged onto A6 (an A6 page is copied untouched, its annotations with it)
    pdf = labels_merge(orders, page_size="A6")
    # then both labels are there, and the annotation's text is exactly what it was
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert "Order: 1" in reader.pages[0].extract_text()
    assert "Order: 2" in reader.pages[1].extract_text()
    (annotation,) = reader.pages[1]["/Annots"]
    assert annotation.get_object()["/Contents"] == note


def test_merging_memory_does_not_grow_with_the_labels() -> None:
    # given a warm merge (imports, caches)
    labels = batch(200, skus=20, seed=9)
    labels_merge_to(io.BytesIO(), labels[:5])

    def peak(count: int) -> int:
        class Discard(io.RawIOBase):
            def write(self, data: object) -> int:
                return len(data)  # type: ignore[arg-type]  # bytes or memoryview

        tracemalloc.start()
        try:
            labels_merge_to(Discard(), labels[:count])  # type: ignore[arg-type]  # a write-only file
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # when 40 and 200 labels are merged to an output that keeps nothing
    small, large = peak(40), peak(200)
    # then 160 more labels cost next to nothing: what stays per label is a file offset per object and a number per
    # page (~50 bytes); the bound leaves room for when the collector happens to run. Holding the pages, as a
    # whole-document writer does, costs ~35 KB per label.
    assert large - small < 160 * 2048


# ------------------------------------------------------------------------------------------------ pick list


def test_pick_list_sums_each_sku_across_orders_in_stack_order() -> None:
    # given three orders sharing SKUs
    orders = picking_order(
        [
            order("9001", ("SKU-B", 2, "B-1"), ("SKU-A", 1, "A-1")),
            order("9002", ("SKU-C", 5, "C-1")),
            order("9003", ("SKU-B", 3, "B-1"), ("SKU-D", 1, "")),
        ]
    )
    # when the rows are built
    rows = pick_list_rows(orders)
    # then quantities add up per SKU, in the order the SKUs first appear in the stack
    assert [(r.sku, r.quantity) for r in rows] == [("SKU-A", 1), ("SKU-B", 5), ("SKU-D", 1), ("SKU-C", 5)]
    assert rows[1].per_order == {"9001": 2, "9003": 3}
    assert [r.sku for r in pick_list_rows(orders, row_order="bin")] == ["SKU-A", "SKU-B", "SKU-C", "SKU-D"]

    # and the PDF shows bins, SKUs, totals and the orders, in that same order
    (text,) = pages_text(pick_list(orders))
    positions = [text.index(sku) for sku in ("SKU-A", "SKU-B", "SKU-D", "SKU-C")]
    assert positions == sorted(positions)
    for expected in (
        "B-42",
        "Reno Main",
        "3 orders",
        "12 units",
        "4 SKUs",
        "A-1",
        "B-1",
        "C-1",
        "no bin",
        "Page 1 of 1",
    ):
        assert expected in text
    assert "9001 ×2, 9003 ×3" in text.replace("\xa0", " ")


def test_pick_list_of_a_big_batch_repeats_the_header_and_numbers_pages() -> None:
    orders = picking_order(batch(60, skus=300, seed=5))
    texts = pages_text(pick_list(orders, paper="A4"))
    assert len(texts) > 1
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
        assert "Bin" in text
        assert "SKU" in text
    assert page_sizes(pick_list(orders)) == {(612.0, 792.0)}
    assert "Picked by" in texts[-1]


def test_pick_list_shortens_order_refs_but_keeps_them_unique() -> None:
    orders = [order("576400000000123456", ("A", 1, "A-1")), order("576499999999123456", ("A", 1, "A-1"))]
    (text,) = pages_text(pick_list(orders))
    assert "0123456, 9123456" in text  # seven digits: six would be ambiguous
    assert "576400000000123456" not in text


# ------------------------------------------------------------------------------------------------ packing slips


def test_packing_slips_one_4x6_page_per_order_with_ref_message_and_lines(twelve: list[BatchOrder]) -> None:
    logo = io.BytesIO()
    Image.new("RGB", (200, 80), (20, 90, 160)).save(logo, "PNG")
    pdf = packing_slips_pdf(twelve, SlipBranding("Acme Goods", logo.getvalue(), "Thank you for your order!"))
    texts = pages_text(pdf)
    assert len(texts) == 12
    assert page_sizes(pdf) == {(288.0, 432.0)}
    for text, o in zip(texts, twelve, strict=True):
        assert o.order_ref in text
        assert "Thank you for your order!" in text
        assert "Acme Goods" in text
        assert o.recipient_name in text
        for line in o.lines:
            assert line.seller_sku in text


def test_labels_with_slips_interleaves_label_then_slip(twelve: list[BatchOrder]) -> None:
    texts = pages_text(labels_with_slips_pdf(twelve[:4], BRANDING, page_size="A6"))
    assert len(texts) == 8
    for i, o in enumerate(twelve[:4]):
        assert f"Order: {o.order_ref}" in texts[2 * i]
        assert "PACKING SLIP" in texts[2 * i + 1]
        assert o.order_ref in texts[2 * i + 1]


def test_order_barcodes_keep_bars_scannable() -> None:
    code = barcode("5764727677810487927", 260, 34)
    assert code is not None
    assert code.barWidth >= 0.8
    assert code.width <= 260
    assert code.lquiet >= 10 * code.barWidth
    assert barcode("x" * 80, 260, 34) is None  # too long to print scannably: text only


# ------------------------------------------------------------------------------------------------ odd inputs


def test_an_empty_batch_gives_valid_pdfs() -> None:
    assert len(PdfReader(io.BytesIO(labels_merge([]))).pages) == 0
    assert "No orders in this batch." in pages_text(pick_list([]))[0]
    assert "0 orders" in pages_text(pick_list([]))[0]
    assert [t.strip() for t in pages_text(packing_slips_pdf([], BRANDING))] == ["No orders."]
    assert len(PdfReader(io.BytesIO(labels_with_slips_pdf([], BRANDING))).pages) == 0


def test_one_order() -> None:
    (o,) = [order("42", ("SKU-1", 1, "A-1"))]
    assert len(PdfReader(io.BytesIO(labels_merge([o]))).pages) == 1
    assert "SKU-1" in pages_text(pick_list([o]))[0]
    assert len(pages_text(packing_slips_pdf([o], BRANDING))) == 1


def test_weird_text_huge_quantities_and_long_lines_do_not_crash() -> None:
    # given names of 200 characters, emoji, CJK, controls, unbroken SKUs and huge quantities
    long_name = "Extra large ceramic coffee mug with handle " * 5
    weird = [
        PickLine("1", "SKU-" + "X" * 120, long_name[:200], 10**12, "AISLE-" + "9" * 60),
        PickLine("1", "MUG-😀", "Tasse café ☕ für Jürgen — 日本語 Łódź\x00\t", 3, "Ü-1"),
        PickLine("1", "", "Nameless", 1, ""),
    ]
    o = BatchOrder("1", label_pdf("1", "T1", "Dana", []), tuple(weird), "Zoë 😀 Ł***", None, "T1")
    branding = SlipBranding("Café 😀 Ünïcode Store " * 4, b"not a png", "Merci 🙏 — 谢谢! " * 10)
    # when every document is drawn
    pick = pages_text(pick_list([o]))[0]
    slips = pages_text(packing_slips_pdf([o], branding))
    labels_with_slips_pdf([o], branding)
    # then nothing crashed and the text reads sensibly
    assert "1,000,000,000,000" in pick
    assert "Tasse café" in pick
    assert "für Jürgen" in pick
    assert "Lódz" in pick  # Ł and ź have no Windows-1252 glyph: folded to L and z
    assert "(no SKU)" in pick
    assert "Zoë" in slips[0]


def test_an_order_with_many_lines_runs_onto_a_second_slip_page() -> None:
    lines = [(f"SKU-{i:03d}", 1, f"A-{i}") for i in range(30)]
    texts = pages_text(packing_slips_pdf([order("55", *lines)], BRANDING))
    assert len(texts) > 1
    assert all("55" in t for t in texts)
    assert "SKU-029" in texts[-1]
    assert "Thank you for your order!" in texts[-1]
    assert "Thank you for your order!" not in texts[0]


def test_printable_folds_or_drops_what_helvetica_cannot_draw() -> None:
    assert printable("Zoë Łódź 😀 日本\x07") == "Zoë Lódz ??"
    assert printable("plain") == "plain"
