"""A PDF written to a file-like object page by page, holding no page once it is written (docs/adr/0027).

`PdfStream` copies pages of other PDFs (read with pypdf, or with `pdf_plain.PlainPdf` when they are of the plainest
shape: docs/adr/0034) straight to its output: each page object and everything it refers to (content streams, fonts,
images) is serialised as it is reached, with new object numbers, its stream data copied as stored (never decoded or
recompressed). What stays in memory is one file offset per written object and one object number per page; the page tree,
the cross-reference table and the trailer are written by `close`. A page can be placed onto the output's page size by a
transformation matrix (`Placement`), which wraps its content between a shared prologue stream ("q <matrix> cm <crop box>
re W n") and a shared "Q" stream instead of re-parsing it.

`add_pages` is all-or-nothing: a page set is serialised into a buffer first and only appended once every object it
needs was read, so a source PDF that turns out to be broken halfway through leaves the output untouched (the caller
then prints a placeholder instead).
"""

from __future__ import annotations

import io
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from pypdf import PageObject
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

_CATALOG, _PAGES, _RESTORE = 1, 2, 3  # object numbers reserved by every output
# Page keys never copied: the new page states its own tree parent, boxes, rotation (baked into the placement) and
# contents; thread beads, structure-tree keys and thumbnails point into the source document's own structures.
_PAGE_KEYS_DROPPED = frozenset(
    {
        "/Type",
        "/Parent",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Rotate",
        "/Contents",
        "/B",
        "/StructParents",
        "/Thumb",
    }
)
_NAMES: dict[str, bytes] = {}  # a name as written (NameObject.renumber escapes it character by character: slow)
_NAMES_CACHED = 4096
_PROLOGUE_CACHE = 64  # distinct placements remembered (a batch's labels come in a handful of sizes)
_CHUNK = 1024  # page references and cross-reference entries written per write() by close()
# The raw copy of a stored object: its header, then the tokens that matter between it and "endobj" or the stream
# data: references (renumbered), literal strings and comments (skipped: they may hold anything).
_OBJECT_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj(?![\w#])")
_TOKEN = re.compile(
    rb"(?P<ref>(?<![\w.#+/-])(\d+)\s+(\d+)\s+R(?![\w#]))"
    rb"|(?P<string>\()|(?P<comment>%)"
    rb"|(?P<endobj>(?<![\w/#])endobj(?![\w#]))"
    rb"|(?P<stream>(?<![\w/#])stream(?:\r\n|\n|\r))"
)
_STORED_DICT = re.compile(rb"\s*\d+\s+\d+\s+obj\s*<<")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?:\s+(\d+)\s+R(?![\w#]))?")
_END_STREAM = re.compile(rb"\s*endstream(?![\w#])")
_EOL = re.compile(rb"[\r\n]")
_STRING_SPECIALS = re.compile(rb"[()\\]")


@dataclass(frozen=True)
class Placement:
    """Where a source page's content goes on the output page: `matrix` (a b c d e f, as for the `cm` operator) maps
    the source's user space onto the output page; `clip` (x, y, width, height, in source user space) is the source's
    crop box, outside which nothing of the source was visible."""

    matrix: tuple[float, float, float, float, float, float]
    clip: tuple[float, float, float, float]

    def prologue(self) -> bytes:
        numbers = " ".join(f"{v:.6f}" for v in self.matrix)
        x, y, width, height = (f"{v:.6f}" for v in self.clip)
        return f"q {numbers} cm {x} {y} {width} {height} re W n\n".encode()


def _name(name: str) -> bytes:
    written = _NAMES.get(name)
    if written is None:
        written = NameObject(name).renumber()
        if len(_NAMES) < _NAMES_CACHED:
            _NAMES[name] = written
    return written


def literal_string_end(data: bytes, start: int) -> int:
    """The end of the literal string opening at `start` (balanced parentheses, backslash escapes), or -1 if it has
    none."""
    depth, pos = 0, start
    while (special := _STRING_SPECIALS.search(data, pos)) is not None:
        char = data[special.start()]
        pos = special.start() + (2 if char == 0x5C else 1)
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return pos
    return -1


class Document(Protocol):
    """What a source PDF is read through: pypdf's `PdfReader`, or `pdf_plain.PlainPdf` for the plainest files."""

    @property
    def xref(self) -> dict[int, dict[Any, Any]]: ...  # generation -> object number -> offset in the file

    @property
    def trailer(self) -> DictionaryObject: ...

    @property
    def pages(self) -> Sequence[PageObject]: ...

    @property
    def is_encrypted(self) -> bool: ...

    def get_object(self, indirect_reference: IndirectObject, /) -> PdfObject | None: ...


class Source:
    """One source PDF: its reader (for its pages and any object it cannot copy as stored) and its bytes (an object
    stored plainly is copied from them, references renumbered, without being parsed: parsing was most of the cost)."""

    def __init__(self, reader: Document, data: bytes | None) -> None:
        self.reader = reader
        # Encrypted strings and streams must go through pypdf's decryption.
        self.data = data if data is not None and not reader.is_encrypted else None
        # The page tree and the catalog are never copied: a reference to them (a link to another page, a page's
        # parent) is written as null. Found from the parsed pages, so nothing is read to decide it.
        self.excluded: set[tuple[int, int]] = set()
        root = reader.trailer.raw_get("/Root")
        if isinstance(root, IndirectObject):
            self.excluded.add((root.idnum, root.generation))
        for page in reader.pages:
            node: PdfObject | None = page.indirect_reference
            while isinstance(node, IndirectObject) and (node.idnum, node.generation) not in self.excluded:
                self.excluded.add((node.idnum, node.generation))
                parent = node.get_object()
                node = parent.get("/Parent") if isinstance(parent, DictionaryObject) else None

    def contents(self, page: PageObject) -> list[PdfObject]:
        """The page's content streams, as the references its /Contents holds (one stream, or an array of them),
        without parsing a stream only to learn that it is not an array."""
        current = page.get("/Contents")
        if current is None:
            return []
        if isinstance(current, IndirectObject):
            offset = self.stored_at(current)
            if offset is not None and self.data is not None and _STORED_DICT.match(self.data, offset):
                return [current]
        resolved = current.get_object()
        if isinstance(resolved, ArrayObject):
            return list(resolved)
        return [current]

    def stored_at(self, ref: IndirectObject) -> int | None:
        """Where an object is stored plainly (not in an object stream), if its bytes can be copied."""
        if self.data is None:
            return None
        return self.reader.xref.get(ref.generation, {}).get(ref.idnum)


class _Batch:
    """The objects of one `add_pages` call, serialised into a buffer with numbers from `first` on."""

    def __init__(self, first: int, source: Source, refs: dict[tuple[int, int], int]) -> None:
        self.buf = io.BytesIO()
        self.next = first
        self.source = source
        self.offsets: list[tuple[int, int]] = []  # (object number, offset in buf)
        self.refs = refs  # source (idnum, generation) -> output number; shared by the pages of one source
        self.added: dict[tuple[int, int], int] = {}  # entries of `refs` made by this batch (dropped if it fails)
        self.todo: list[tuple[int, IndirectObject]] = []
        self.prologues: dict[bytes, int] = {}  # new this batch
        self.written_prologues = first  # prologues numbered from here on are not written yet
        self.content_refs: set[tuple[int, int]] = set()  # the pages' content streams: these must be readable

    def number(self) -> int:
        self.next += 1
        return self.next - 1

    def ref(self, indirect: IndirectObject) -> bytes:
        return self.ref_to(indirect.idnum, indirect.generation)

    def ref_to(self, idnum: int, generation: int) -> bytes:
        key = (idnum, generation)
        num = self.refs.get(key) or self.added.get(key)
        if num is None:
            if key in self.source.excluded:
                return b"null"
            num = self.number()
            self.added[key] = num
            self.todo.append((num, IndirectObject(idnum, generation, self.source.reader)))
        return b"%d 0 R" % num

    def emit(self, obj: PdfObject) -> None:
        write = self.buf.write
        if isinstance(obj, IndirectObject):
            write(self.ref(obj))
        elif isinstance(obj, DictionaryObject):
            write(b"<<")
            for key, value in obj.items():
                write(_name(key))
                write(b" ")
                self.emit(value)
                write(b"\n")
            write(b">>")
        elif isinstance(obj, ArrayObject):
            write(b"[")
            for value in obj:
                write(b" ")
                self.emit(value)
            write(b" ]")
        elif isinstance(obj, NameObject):
            write(_name(obj))
        else:
            obj.write_to_stream(self.buf)

    def object(self, num: int, ref: IndirectObject) -> None:
        """One indirect object: its stored bytes with references renumbered, or else as pypdf parsed it. A stream's
        data is copied as stored, with its filters (never decoded)."""
        start = self.buf.tell()
        self.offsets.append((num, start))
        self.buf.write(b"%d 0 obj\n" % num)
        offset = self.source.stored_at(ref)
        if offset is not None and self.copy_stored(ref, offset):
            return
        self.buf.seek(start + len(b"%d 0 obj\n" % num))
        self.buf.truncate()
        obj = ref.get_object()
        if (ref.idnum, ref.generation) in self.content_refs and not isinstance(obj, StreamObject):
            # pypdf reads a missing or broken object as null: a page without its content is not a label.
            raise PdfReadError(f"the content stream {ref.idnum} {ref.generation} R cannot be read")
        self.parsed(obj)
        self.buf.write(b"\nendobj\n")

    def copy_stored(self, ref: IndirectObject, offset: int) -> bool:
        """Copy an object from the source's bytes, renumbering its references: False (having written nothing
        that counts) when it is not where the cross-reference table says or its syntax is not understood."""
        data = self.source.data
        assert data is not None
        header = _OBJECT_HEADER.match(data, offset)
        if header is None or int(header[1]) != ref.idnum or int(header[2]) != ref.generation:
            return False
        write = self.buf.write
        pos = header.end()
        while (token := _TOKEN.search(data, pos)) is not None:
            write(data[pos : token.start()])
            kind = token.lastgroup
            if kind == "ref":
                write(self.ref_to(int(token[2]), int(token[3])))
                pos = token.end()
            elif kind == "string":
                end = literal_string_end(data, token.start())
                if end < 0:
                    return False
                write(data[token.start() : end])
                pos = end
            elif kind == "comment":  # dropped; the end of line that ends it stays a delimiter
                eol = _EOL.search(data, token.start())
                pos = eol.start() if eol is not None else len(data)
            elif kind == "endobj":
                if (ref.idnum, ref.generation) in self.content_refs:
                    return False  # not a stream: object() decides (pypdf may still find one)
                write(b"\nendobj\n")
                return True
            else:  # stream: its data is exactly /Length bytes, then "endstream"
                stream = self.stored_stream(data, header.end(), token.start(), token.end())
                if stream is None:
                    return False
                write(b"stream\n")
                write(stream)
                write(b"\nendstream\nendobj\n")
                return True
        return False

    def stored_stream(self, data: bytes, dict_start: int, dict_end: int, data_start: int) -> bytes | None:
        length = _LENGTH.search(data, dict_start, dict_end)
        if length is None:
            return None
        if length[2] is not None:  # an indirect /Length: a number object
            value = IndirectObject(int(length[1]), int(length[2]), self.source.reader).get_object()
            if not isinstance(value, int):
                return None
            size = int(value)
        else:
            size = int(length[1])
        if not _END_STREAM.match(data, data_start + size):
            return None
        return data[data_start : data_start + size]

    def parsed(self, obj: PdfObject | None) -> None:
        """An object as pypdf parsed it (in an object stream, encrypted, or not stored where the table says)."""
        write = self.buf.write
        if obj is None:
            write(b"null")
        elif isinstance(obj, StreamObject):
            # pypdf keeps a stream's stored (still encoded) bytes in _data; get_data() would decode them.
            data = obj.get_data() if isinstance(obj, ContentStream) else obj._data
            write(b"<<")
            for key, value in obj.items():
                if key != "/Length":
                    write(_name(key))
                    write(b" ")
                    self.emit(value)
                    write(b"\n")
            write(b"/Length %d>>\nstream\n" % len(data))
            write(data)
            write(b"\nendstream")
        else:
            self.emit(obj)

    def drain(self) -> None:
        """Write every object reached so far (and the placement prologues not yet written)."""
        while self.todo:
            self.object(*self.todo.pop())
        for data, num in self.prologues.items():
            if num >= self.written_prologues:
                self.offsets.append((num, self.buf.tell()))
                self.buf.write(b"%d 0 obj\n<</Length %d>>\nstream\n%b\nendstream\nendobj\n" % (num, len(data), data))
        self.written_prologues = self.next


class PdfStream:
    """Writes a PDF of pages of `page_size` to `out` as pages are added; `close` finishes the file (see the module
    docstring). `out` is only ever written to, in order: a file, a socket wrapper or a BytesIO."""

    def __init__(self, out: BinaryIO, page_size: tuple[float, float]) -> None:
        self.out = out
        self.size = page_size
        self.pos = 0
        self.offsets = array("Q", [0, 0, 0, 0])  # by object number; 1 and 2 are written by close()
        self.pages = array("Q")  # the page objects' numbers, in order
        self.prologues: dict[bytes, int] = {}
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets[_RESTORE] = self.pos
        self._write(b"%d 0 obj\n<</Length 3>>\nstream\n\nQ\n\nendstream\nendobj\n" % _RESTORE)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)

    def add_pages(
        self,
        source: Source,
        pages: Sequence[PageObject],
        placements: Sequence[Placement | None],
        refs: dict[tuple[int, int], int] | None = None,
    ) -> None:
        """Append `pages` (of `source`), each placed by its placement (None: copied at its place, only its page
        box set to the output size). All or nothing: raises, writing nothing, if the source cannot be read. Pass the
        same `refs` for several calls over one source so the objects its pages share are written once."""
        shared = refs if refs is not None else {}
        batch = _Batch(len(self.offsets), source, shared)
        numbers = []
        for page, placement in zip(pages, placements, strict=True):
            num = batch.number()
            if page.indirect_reference is not None:
                batch.added[(page.indirect_reference.idnum, page.indirect_reference.generation)] = num
            self._page(batch, num, page, placement)
            batch.drain()
            numbers.append(num)
        self._commit(batch)
        shared.update(batch.added)
        self.pages.extend(numbers)

    def _page(self, batch: _Batch, num: int, page: PageObject, placement: Placement | None) -> None:
        write = batch.buf.write
        batch.offsets.append((num, batch.buf.tell()))
        width, height = self.size
        write(
            b"%d 0 obj\n<</Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s]\n" % (num, _PAGES, _num(width), _num(height))
        )
        for key, value in page.items():
            # Annotations are positioned in the source's space: where the content moves, they would point elsewhere.
            if key in _PAGE_KEYS_DROPPED or (placement is not None and key == "/Annots"):
                continue
            write(_name(key))
            write(b" ")
            batch.emit(value)
            write(b"\n")
        if "/Resources" not in page:
            write(b"/Resources <<>>\n")
        write(b"/Contents [")
        if placement is not None:
            write(b" %d 0 R" % self._prologue(batch, placement))
        for ref in batch.source.contents(page):
            if isinstance(ref, IndirectObject):
                batch.content_refs.add((ref.idnum, ref.generation))
            write(b" ")
            batch.emit(ref)
        if placement is not None:
            write(b" %d 0 R" % _RESTORE)
        write(b" ]>>\nendobj\n")

    def _prologue(self, batch: _Batch, placement: Placement) -> int:
        data = placement.prologue()
        num = self.prologues.get(data) or batch.prologues.get(data)
        if num is None:
            num = batch.number()
            batch.prologues[data] = num  # written by drain(), once the page object is complete
        return num

    def _commit(self, batch: _Batch) -> None:
        base = self.pos
        self.offsets.extend([0] * (batch.next - len(self.offsets)))
        for num, offset in batch.offsets:
            self.offsets[num] = base + offset
        self._write(batch.buf.getbuffer())  # type: ignore[arg-type]  # a memoryview writes like bytes
        if len(self.prologues) < _PROLOGUE_CACHE:
            self.prologues.update(batch.prologues)

    def close(self) -> None:
        """The page tree, the catalog (asking viewers to print at 100%), the cross-reference table and the trailer."""
        self.offsets[_PAGES] = self.pos
        self._write(b"%d 0 obj\n<</Type /Pages /Count %d /Kids [" % (_PAGES, len(self.pages)))
        for start in range(0, len(self.pages), _CHUNK):  # in chunks: a list of every page's bytes would grow
            self._write(b"".join(b"%d 0 R " % num for num in self.pages[start : start + _CHUNK]))
        self._write(b"]>>\nendobj\n")
        self.offsets[_CATALOG] = self.pos
        # "Fit to page", a print dialog's usual default, would shrink every label.
        self._write(
            b"%d 0 obj\n<</Type /Catalog /Pages %d 0 R /ViewerPreferences <</PrintScaling /None>>>>\nendobj\n"
            % (_CATALOG, _PAGES)
        )
        xref = self.pos
        count = len(self.offsets)
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for start in range(1, count, _CHUNK):
            self._write(b"".join(b"%010d 00000 n \n" % offset for offset in self.offsets[start : start + _CHUNK]))
        self._write(b"trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (count, _CATALOG, xref))


def _num(value: float) -> bytes:
    return (f"{value:.4f}".rstrip("0").rstrip(".") or "0").encode()
