"""The plain label reader (`shipping.documents.pdf_plain`, docs/adr/0034) against pypdf's, as the merge uses them.

The oracle is the merged label PDF itself: for every file, the merge through `PlainPdf` must give byte for byte the
PDF the merge gives when every label is read by pypdf. Files of the plainest shape must be read plainly (pypdf never
opened); every other shape must raise `NotPlain`, so pypdf decides; and no damage to a label (hypothesis mutates
real labels and a hand-written file with every structure the reader follows) may make the two disagree. No database.
"""

from __future__ import annotations

import io
import re
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A6, landscape
from reportlab.pdfgen.canvas import Canvas

from shipping.documents import labels
from shipping.documents.batch import BatchOrder
from shipping.documents.labels import labels_merge
from shipping.documents.pdf_plain import NotPlain, PlainPdf
from tests.shipping.batches import batch

FUZZ = settings(max_examples=150, derandomize=True, deadline=None)


def pdf(objects: dict[int, bytes], *, root: int = 1, trailer: bytes = b"", eol: bytes = b" \n") -> bytes:
    """A PDF of `objects` (number -> the bytes between "obj" and "endobj") with a correct classic cross-reference
    table, one subsection per run of consecutive numbers."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f" + eol
    runs: list[list[int]] = []
    for number in sorted(offsets):
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    for run in runs:
        out += b"%d %d\n" % (run[0], len(run))
        out += b"".join(b"%010d 00000 n%b" % (offsets[number], eol) for number in run)
    size = max(objects) + 1
    out += b"trailer\n<< /Size %d /Root %d 0 R %b>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer, xref)
    return bytes(out)


def stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %b>>\nstream\n%b\nendstream" % (len(content), extra, content)


# Every structure the plain reader follows: a two-level page tree whose intermediate node passes on /MediaBox,
# /Resources and /Rotate (one page overrides them), an indirect /MediaBox, an indirect /Length, /Contents as an
# indirect array, inline dictionaries nested in arrays, comments, booleans, null, reals, a crop box, a font shared
# by two pages, CRLF cross-reference entries and several subsections (object 9 is free).
TREE = pdf(
    {
        1: b"<< /Type /Catalog /Pages 2 0 R % the catalog\n/PageMode /UseNone >>",
        2: b"<< /Type /Pages /Kids [ 3 0 R 4 0 R ] /Count 3 /MediaBox [ 0 0 288 432 ] >>",
        3: b"<< /Type /Pages /Parent 2 0 R /Kids [ 5 0 R 6 0 R ] /Count 2 /Rotate 90 "
        b"/Resources << /Font << /F1 7 0 R >> /ProcSet [ /PDF /Text ] >> >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox 8 0 R /Contents [ 10 0 R ] /Resources << >> "
        b"/Group << /S /Transparency /I true /K false >> /Dur null >>",
        5: b"<< /Type /Page /Parent 3 0 R /Contents 11 0 R /CropBox [ 10.5 20 280.25 400 ] >>",
        6: b"<< /Type /Page /Parent 3 0 R /Contents 12 0 R /Rotate 0 /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 7 0 R >> /ExtGState << /G0 << /CA 1.0 /ca .5 >> >> >> >>",
        7: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        8: b"[ 0 0 300 450 ]",
        10: b"<< /Length 13 0 R >>\nstream\nBT /F1 12 Tf 20 20 Td (fourth) Tj ET\nendstream",
        11: stream(b"BT /F1 12 Tf 20 20 Td (first \\(a\\)) Tj ET"),
        12: b"[ 14 0 R 15 0 R ]",
        13: b"38",
        14: stream(b"q 1 0 0 RG"),
        15: stream(b"BT /F1 9 Tf 10 10 Td (second) Tj ET Q"),
    },
    eol=b"\r\n",
)


def reportlab_pages() -> bytes:
    """Pages of different sizes and a rotated one, as a generator of shipping labels writes them."""
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A6, pageCompression=1)
    canvas.drawString(20, 20, "A6 portrait")
    canvas.showPage()
    canvas.setPageSize(landscape(A6))
    canvas.drawString(20, 20, "A6 landscape")
    canvas.showPage()
    canvas.setPageRotation(90)
    canvas.drawString(20, 20, "turned")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def by_pypdf_only() -> mock._patch[mock.MagicMock]:
    return mock.patch.object(labels, "PlainPdf", side_effect=NotPlain("switched off"))


def merged(pdfs: list[bytes]) -> bytes:
    return labels_merge([BatchOrder(f"O{i}", data, (), "D*** K**", None, f"TRK{i}") for i, data in enumerate(pdfs)])


def assert_same_as_pypdf(pdfs: list[bytes]) -> None:
    ours = merged(pdfs)
    with by_pypdf_only():
        theirs = merged(pdfs)
    assert ours == theirs


@pytest.fixture(scope="module")
def sandbox_labels() -> list[bytes]:
    return [order.label_pdf for order in batch(4, skus=10, seed=5)]


# ----------------------------------------------------------------------------------------------- the plainest shape


def test_sandbox_labels_are_read_without_pypdf_and_merge_to_the_same_bytes(sandbox_labels: list[bytes]) -> None:
    # given real sandbox labels (reportlab: one classic cross-reference table, one page)
    # when they are merged with pypdf's reader unavailable
    with mock.patch.object(labels, "PdfReader", side_effect=AssertionError("pypdf read a plain label")):
        ours = merged(sandbox_labels)
    # then every label was copied (no placeholder) and the file is the one pypdf's reading gives
    assert len(PdfReader(io.BytesIO(ours)).pages) == 4
    assert "NO LABEL" not in PdfReader(io.BytesIO(ours)).pages[0].extract_text()
    with by_pypdf_only():
        assert merged(sandbox_labels) == ours


@pytest.mark.parametrize("name", ["tree", "reportlab", "pypdf-written"])
def test_every_structure_the_reader_follows_merges_to_the_same_bytes_as_pypdf(name: str) -> None:
    # given a file with a page tree, inheritance, indirect values (or several pages from a generator)
    writer = PdfWriter(clone_from=io.BytesIO(reportlab_pages()))
    written = io.BytesIO()
    writer.write(written)
    data = {"tree": TREE, "reportlab": reportlab_pages(), "pypdf-written": written.getvalue()}[name]
    # when it is read plainly
    plain = PlainPdf(data)
    # then it has the pages pypdf finds, with the attributes they inherit, and merges to the same bytes
    reader = PdfReader(io.BytesIO(data))
    assert len(plain.pages) == len(reader.pages)
    for ours, theirs in zip(plain.pages, reader.pages, strict=True):
        assert list(ours.keys()) == list(theirs.keys())
        assert ours.mediabox == theirs.mediabox
        assert ours.cropbox == theirs.cropbox
        assert ours.rotation == theirs.rotation
    assert_same_as_pypdf([data])


def test_the_tree_pages_inherit_from_their_own_branch_only() -> None:
    # given TREE: the root's kids are a node (pages 5 and 6, turned 90 degrees, with a font) and then page 4
    pages = PlainPdf(TREE).pages
    # then the pages come in tree order, and pypdf's rules hold: inherited from the nearest node, never over the
    # page's own value
    assert [page.indirect_reference.idnum for page in pages] == [5, 6, 4]  # type: ignore[union-attr]
    assert [page.rotation for page in pages] == [90, 0, 0]
    assert [float(page.mediabox.width) for page in pages] == [288, 612, 300]
    assert "/F1" in pages[0]["/Resources"]["/Font"]
    assert "/Font" not in pages[2]["/Resources"]


# ----------------------------------------------------------------------------------------- shapes left to pypdf


def edit(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with `old` replaced, the cross-reference offsets still right (a same-length edit)."""
    assert data.count(old) == 1
    assert len(old) == len(new)
    return data.replace(old, new)


def moved(data: bytes, number: int) -> bytes:
    """`data` with object `number`'s cross-reference entry pointing one byte past the object."""
    offset = data.index(b"\n%d 0 obj" % number) + 1
    return edit(data, b"%010d 00000 n" % offset, b"%010d 00000 n" % (offset + 1))


def appended_update(data: bytes) -> bytes:
    """An incremental update: a changed catalog and a second table whose trailer points back with /Prev."""
    first_xref = int(re.search(rb"startxref\s+(\d+)", data)[1])  # type: ignore[index]
    offset = len(data)
    body = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    table = b"xref\n1 1\n%010d 00000 n \ntrailer\n<< /Size 16 /Root 1 0 R /Prev %d >>\n" % (offset, first_xref)
    return data + body + table + b"startxref\n%d\n%%%%EOF\n" % (offset + len(body))


def encrypted() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(reportlab_pages()))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


LEFT_TO_PYPDF = {
    "incremental update": lambda: appended_update(TREE),
    "encrypted": encrypted,
    "escaped name": lambda: edit(TREE, b"/PageMode /UseNone", b"/PageMode /U#73eNo"),
    "string in a page": lambda: edit(TREE, b"/Dur null", b"/Dur (ab)"),
    "duplicate key": lambda: edit(TREE, b"/Dur null", b"/Type /XY"),
    "offset off by one": lambda: moved(TREE, 2),
    "node without /Type": lambda: edit(TREE, b"/Type /Page /Parent 2 0 R /Media", b"/Tipe /Page /Parent 2 0 R /Media"),
    "page tree cycle": lambda: edit(TREE, b"/Kids [ 5 0 R 6 0 R ]", b"/Kids [ 5 0 R 3 0 R ]"),
    "no startxref": lambda: TREE.replace(b"startxref", b"startXref"),
    "cross-reference stream": lambda: re.sub(rb"xref\n0 1", b"XRef\n0 1", TREE),
}


@pytest.mark.parametrize("shape", list(LEFT_TO_PYPDF))
def test_shapes_the_reader_is_not_sure_of_are_left_to_pypdf(shape: str) -> None:
    data = LEFT_TO_PYPDF[shape]()
    with pytest.raises(NotPlain):
        PlainPdf(data)
    assert_same_as_pypdf([data, TREE])


def test_a_page_whose_content_is_not_a_stream_is_left_to_pypdf_which_prints_the_placeholder() -> None:
    # given a page whose /Contents points at a number, which PdfStream refuses as a label's content
    data = edit(TREE, b"/Contents 11 0 R", b"/Contents 13 0 R")
    # then the plain reading fails while copying (not while reading), and both readings give the placeholder
    PlainPdf(data)
    assert_same_as_pypdf([data])
    assert "NO LABEL" in PdfReader(io.BytesIO(merged([data]))).pages[0].extract_text()


def test_a_closed_reader_holds_nothing_of_the_file() -> None:
    with PlainPdf(TREE) as plain:
        assert len(plain.pages) == 3
    assert plain.pages == []
    assert not plain.trailer


# ------------------------------------------------------------------------------------------------ damaged labels


@st.composite
def damaged(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """One of `originals` with 1-4 bytes replaced, inserted or deleted, or cut short, somewhere."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        # Mostly replaced: the offsets still hold, so the damage reaches the objects rather than the table.
        how = draw(st.sampled_from(["replace", "replace", "replace", "insert", "delete", "cut"]))
        byte = draw(st.sampled_from([b"0", b"9", b" ", b"\n", b"/", b"<", b">", b"[", b"]", b"(", b"R", b"%", b"x"]))
        if how == "replace":
            data[at : at + 1] = byte
        elif how == "insert":
            data[at:at] = byte
        elif how == "delete":
            del data[at]
        else:
            del data[max(at, len(data) - 64) :]
    return bytes(data)


SANDBOX_LABEL = batch(1, skus=3, seed=9)[0].label_pdf


@FUZZ
@given(damaged([SANDBOX_LABEL, TREE]))
def test_no_damage_makes_the_plain_reading_disagree_with_pypdf(data: bytes) -> None:
    assert_same_as_pypdf([data])
