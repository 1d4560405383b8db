"""A label PDF of the plainest shape, read without pypdf's reader (docs/adr/0034).

Reading a 2.5 KB label with `pypdf.PdfReader` cost about 0.5 ms, three quarters of a big batch's merge: pypdf reads
the cross-reference table, the trailer, the catalog and the page tree a byte at a time through a file object.
`PlainPdf` reads the same structures of the shape nearly every label generator writes (one classic cross-reference
table, no encryption, no incremental update, a page tree of indirect `/Pages` and `/Page` dictionaries) with regular
expressions over the file's bytes, and builds the same pypdf objects pypdf would (`PageObject`, `DictionaryObject`,
`NameObject`, ...), so `PdfStream` copies its pages exactly as it copies pypdf's.

It reads only what it is sure of. Anything else (an object stream or cross-reference stream, `/Encrypt`, `/Prev`, a
string or a `#` escape where it would have to decode one, a duplicate key, an offset that does not point at its
object, a tree node without `/Type`) raises `NotPlain` and the caller reads the file with pypdf instead, which knows
every corner of the format and how to repair a damaged file. So the two readers never disagree: where this one
answers, the merged output is byte for byte the one pypdf's reading gives (tests/shipping/test_pdf_plain.py).
"""

from __future__ import annotations

import re

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
)

from shipping.documents.pdf_stream import literal_string_end

# Whitespace and delimiters are PDF's (not Python's \s: it has \v and lacks NUL). _ENDS: a token ends at a
# delimiter, whitespace or the end of the data.
_ENDS = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_TOKEN = re.compile(
    rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*"  # whitespace and comments before it
    rb"(?:(?P<ref>(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R" + _ENDS + rb")"
    rb"|(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)" + _ENDS + rb")"
    rb"|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"
    rb"|(?P<dict><<)|(?P<end_dict>>>)|(?P<array>\[)|(?P<end_array>\])"
    rb"|(?P<string>\()|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)"
    rb"|(?P<word>true|false|null)" + _ENDS + rb")"
)
_OBJECT_HEADER = re.compile(rb"[\x00\t\n\x0c\r ]*(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj" + _ENDS)
_ENDOBJ = re.compile(rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*endobj" + _ENDS)
_STARTXREF = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+%%EOF[\x00\t\n\x0c\r ]*\Z")
_XREF = re.compile(rb"xref[\x00\t\n\x0c\r ]+")
_SUBSECTION = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?:\r\n| \r| \n)")  # exactly 20 bytes, as the format fixes them
_TRAILER = re.compile(rb"trailer(?=[\x00\t\n\x0c\r <])[\x00\t\n\x0c\r ]*")
_TAIL = 1024  # "startxref" is looked for in the file's last KB
_MAX_DEPTH = 32  # nested arrays and dictionaries, and the page tree's levels
_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")  # in pypdf's order, which sets the output's
_TRAILER_UNSUPPORTED = ("/Encrypt", "/Prev", "/XRefStm")
_NAMES: dict[bytes, NameObject] = {}
_NAMES_CACHED = 4096
_WORDS: dict[bytes, PdfObject] = {b"true": BooleanObject(True), b"false": BooleanObject(False), b"null": NullObject()}


class NotPlain(Exception):
    """The file is not of the shape `PlainPdf` reads with certainty: read it with pypdf."""


class PlainPdf:
    """A PDF's cross-reference table, trailer and pages, read from its bytes (see the module docstring).

    It has what `pdf_stream.Source` asks of a pypdf `PdfReader`: `xref` (generation -> object number -> offset),
    `trailer`, `pages` (pypdf `PageObject`s with their inherited attributes, as pypdf flattens them),
    `is_encrypted` and `get_object`. Raises `NotPlain` when it cannot be sure, here or in `get_object` later."""

    is_encrypted = False

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.xref: dict[int, dict[int, int]] = {}
        self._objects: dict[tuple[int, int], PdfObject] = {}
        try:
            self.trailer = self._read_xref_and_trailer()
            root = self.trailer.get("/Root")
            if not isinstance(root, IndirectObject):
                raise NotPlain("the trailer names no catalog")
            catalog = self.get_object(root)
            tree = catalog.get("/Pages") if isinstance(catalog, DictionaryObject) else None
            if not isinstance(tree, IndirectObject):
                raise NotPlain("the catalog names no page tree")
            self.pages: list[PageObject] = []
            self._visit(tree, {}, 0, set())
        except (ValueError, IndexError, RecursionError) as exc:  # a malformed number, a cut-off file
            raise NotPlain(str(exc)) from exc
        if not self.pages:
            raise NotPlain("no pages")

    def __enter__(self) -> PlainPdf:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drops what it parsed: its objects refer back to it, a cycle only a full garbage collection would free
        (memory would grow with the labels of a batch otherwise)."""
        self._objects.clear()
        self.pages = []
        self.trailer = DictionaryObject()

    def get_object(self, indirect_reference: IndirectObject, /) -> PdfObject:
        """The object a reference points at, parsed (streams are not: `PdfStream` copies them from the bytes)."""
        key = (indirect_reference.idnum, indirect_reference.generation)
        found = self._objects.get(key)
        if found is None:
            found = self._objects[key] = self._read_object(*key)
        return found

    def _read_xref_and_trailer(self) -> DictionaryObject:
        data = self.data
        at = data.rfind(b"startxref", max(len(data) - _TAIL, 0))
        start = _STARTXREF.match(data, at) if at >= 0 else None
        if start is None:
            raise NotPlain("no startxref at the end")
        xref = _XREF.match(data, int(start[1]))
        if xref is None:
            raise NotPlain("not a classic cross-reference table")
        pos = xref.end()
        while (section := _SUBSECTION.match(data, pos)) is not None:
            pos = section.end()
            for number in range(int(section[1]), int(section[1]) + int(section[2])):
                entry = _ENTRY.match(data, pos)
                if entry is None:
                    raise NotPlain("a cross-reference entry out of shape")
                pos = entry.end()
                if entry[3] == b"n":
                    generation = self.xref.setdefault(int(entry[2]), {})
                    if number in generation:
                        raise NotPlain("an object listed twice")
                    generation[number] = int(entry[1])
        trailer = _TRAILER.match(data, pos)
        if trailer is None:
            raise NotPlain("no trailer after the table")
        value, _ = self._parse(trailer.end(), 0, strings_allowed=True)  # its /ID is a string, never written out
        if not isinstance(value, DictionaryObject) or any(key in value for key in _TRAILER_UNSUPPORTED):
            raise NotPlain("a trailer this reader does not follow")
        return value

    def _read_object(self, number: int, generation: int) -> PdfObject:
        offset = self.xref.get(generation, {}).get(number)
        header = _OBJECT_HEADER.match(self.data, offset) if offset is not None else None
        if header is None or int(header[1]) != number or int(header[2]) != generation:
            raise NotPlain(f"object {number} {generation} is not where the table says")
        try:
            value, end = self._parse(header.end(), 0, strings_allowed=False)
        except (ValueError, IndexError, RecursionError) as exc:
            raise NotPlain(str(exc)) from exc
        if _ENDOBJ.match(self.data, end) is None:  # a stream, or something after the value
            raise NotPlain(f"object {number} {generation} is not a plain value")
        return value

    def _parse(self, pos: int, depth: int, *, strings_allowed: bool) -> tuple[PdfObject, int]:
        """The value starting at `pos` (after whitespace and comments) and where it ends."""
        data = self.data
        token = _TOKEN.match(data, pos)
        if token is None:
            raise NotPlain(f"unexpected bytes at {pos}")
        kind, end = token.lastgroup, token.end()
        if kind == "ref":
            return IndirectObject(int(token[2]), int(token[3]), self), end
        if kind == "number":
            number = token["number"]
            # As pypdf reads a number: with a point it is a float, kept as written.
            return (FloatObject(number.decode()) if b"." in number else NumberObject(int(number))), end
        if kind == "name":
            return _name(token["name"]), end
        if kind == "word":
            return _WORDS[token["word"]], end
        if depth >= _MAX_DEPTH:
            raise NotPlain("nested too deep")
        if kind == "dict":
            result = DictionaryObject()
            while True:
                key = _TOKEN.match(data, end)
                if key is None:
                    raise NotPlain(f"unexpected bytes at {end}")
                if key.lastgroup == "end_dict":
                    return result, key.end()
                if key.lastgroup != "name":
                    raise NotPlain("a dictionary key that is not a name")
                name = _name(key["name"])
                if name in result:
                    raise NotPlain("a key given twice")  # pypdf keeps the first, with a warning: its call
                result[name], end = self._parse(key.end(), depth + 1, strings_allowed=strings_allowed)
        if kind == "array":
            items = ArrayObject()
            while True:
                close = _TOKEN.match(data, end)
                if close is not None and close.lastgroup == "end_array":
                    return items, close.end()
                value, end = self._parse(end, depth + 1, strings_allowed=strings_allowed)
                items.append(value)
        if strings_allowed and kind == "hex":
            return NullObject(), end
        if strings_allowed and kind == "string" and (string_end := literal_string_end(data, token.start("string"))) > 0:
            return NullObject(), string_end
        # A string would have to be decoded as pypdf decodes it; a ">>" or "]" out of place is damage.
        raise NotPlain(f"{kind} at {pos}")

    def _visit(
        self, ref: IndirectObject, inherited: dict[str, PdfObject], depth: int, seen: set[tuple[int, int]]
    ) -> None:
        """The page tree from `ref` on, depth first in /Kids order, each page with the attributes it inherits."""
        key = (ref.idnum, ref.generation)
        if depth > _MAX_DEPTH or key in seen:
            raise NotPlain("a page tree too deep, or with a cycle")
        seen.add(key)
        node = self.get_object(ref)
        kind = node.get("/Type") if isinstance(node, DictionaryObject) else None
        if kind == "/Pages":
            assert isinstance(node, DictionaryObject)
            inherited = inherited | {name: node[name] for name in _INHERITABLE if name in node}
            kids = node.get("/Kids")
            if not isinstance(kids, ArrayObject) or not all(isinstance(kid, IndirectObject) for kid in kids):
                raise NotPlain("/Kids is not an array of references")
            for kid in kids:
                self._visit(kid, inherited, depth + 1, seen)
        elif kind == "/Page":
            assert isinstance(node, DictionaryObject)
            page = PageObject(None, None)
            page.indirect_reference = ref
            page.update(node)
            for name, value in inherited.items():
                if name not in page:
                    page[NameObject(name)] = value
            self.pages.append(page)
        else:
            raise NotPlain("a page tree node that is neither /Pages nor /Page")


def _name(raw: bytes) -> NameObject:
    name = _NAMES.get(raw)
    if name is None:
        if b"#" in raw or not raw.isascii():  # escaped or non-ASCII: decoded by pypdf's rules, not ours
            raise NotPlain("a name this reader does not decode")
        name = NameObject(raw.decode())
        if len(_NAMES) < _NAMES_CACHED:  # labels use a few dozen names; a hostile file cannot grow this
            _NAMES[raw] = name
    return name
