"""Structure checks for the evidence kept as received: PDF documents and MP4 videos.

A file that merely starts like a PDF or an MP4 is not one. PDFs are opened strictly with pypdf, must have pages and
end at their last ``%%EOF``, and are refused when they carry active content a viewer would run or hand on:
JavaScript (in the names tree, an open action or any other action), launch actions, actions that open another
document or send or fetch form data (GoToR, GoToE, SubmitForm, ImportData), embedded files, rich media (Flash, video,
3D), sound, movie and rendition content, and XFA forms; plain web links (URI actions) are accepted. Every object
the cross-reference table lists is inspected, including those in compressed object streams, so neither a
hex-escaped name (``/J#61vaScript``) nor compression hides them.

MP4 videos are walked box by box (ISO base media file format, ISO/IEC 14496-12): the first box is ``ftyp`` with a
known MP4 brand, every box's size fits inside its parent, the top-level boxes cover the file exactly (no truncated
box, no appended bytes) and there is one ``moov`` box with its movie header (``mvhd``). Only box headers are read.

Each check raises ``ValidationError`` with a translated, complete sentence and a code: ``pdf_invalid``,
``pdf_encrypted``, ``pdf_too_complex``, ``pdf_active_content`` or ``mp4_invalid``.
"""

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from pypdf import PdfReader

# pypdf is imported where a PDF is checked, not with this module: it weighs some 25 MB and a third of a second in
# every process (web and task workers, report renderers) that never checks an upload.

# --- PDF --------------------------------------------------------------------------------------------------------

# Far above what a scanned or printed document has (hundreds to a few thousand objects), low enough to bound the
# time spent on a hostile file.
MAX_PDF_OBJECTS = 200_000
_MAX_PDF_NESTING = 100
# What may follow a PDF's final %%EOF: the PDF white-space characters (ISO 32000-1, 7.2.2) and nothing else.
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_TAIL_BYTES = 64 * 1024

# The names that mark each kind of active content, wherever they occur (as a key or as a value): the action types
# /JavaScript and /Launch, the /JS script key, the actions that reach another document or send form data, the
# /EmbeddedFiles names tree, embedded file streams and file attachment annotations, the RichMedia annotation and its
# dictionaries, sound, movie and rendition actions and annotations, and the /XFA form entry. A plain web link (a /URI
# action) is accepted: ordinary documents (a hospital's letter, a printed web page) carry them, and a viewer follows
# one only when the reader clicks it, never on opening.
_ACTIVE_NAMES = {
    "javascript": frozenset({"/JS", "/JavaScript"}),
    "launch": frozenset({"/Launch"}),
    # Actions that open another document (a remote or embedded one) or send or fetch form data: requests to
    # elsewhere made by opening or clicking.
    "remote_action": frozenset({"/GoToR", "/GoToE", "/SubmitForm", "/ImportData"}),
    "embedded_file": frozenset({"/EmbeddedFiles", "/EmbeddedFile", "/EF", "/FileAttachment"}),
    "rich_media": frozenset({"/RichMedia", "/RichMediaContent", "/RichMediaSettings", "/RichMediaExecute"}),
    "media": frozenset({"/Sound", "/Movie", "/Rendition"}),
    "xfa": frozenset({"/XFA"}),
}
_KIND_OF_NAME = {name: kind for kind, names in _ACTIVE_NAMES.items() for name in names}


def _active_content_message(kind: str) -> str:
    return {
        "javascript": _(
            "The PDF file contains JavaScript, which is not accepted; print it to a new PDF and upload that instead."
        ),
        "launch": _(
            "The PDF file contains an action that starts another program, which is not accepted; print it to a new "
            "PDF and upload that instead."
        ),
        "remote_action": _(
            "The PDF file contains an action that opens another document or sends or fetches form data, which is "
            "not accepted; print it to a new PDF and upload that instead."
        ),
        "embedded_file": _(
            "The PDF file contains embedded files, which are not accepted; upload each file on its own instead."
        ),
        "rich_media": _(
            "The PDF file contains rich media (Flash, video or 3D content), which is not accepted; print it to a new "
            "PDF and upload that instead."
        ),
        "media": _(
            "The PDF file contains sound or video that a viewer would play, which is not accepted; print it to a new "
            "PDF and upload that instead."
        ),
        "xfa": _(
            "The PDF file contains an XFA form, which is not accepted; print it to a new PDF and upload that instead."
        ),
    }[kind]


def _pdf_invalid() -> ValidationError:
    return ValidationError(
        _("The PDF file could not be read completely; it may be damaged or truncated."), code="pdf_invalid"
    )


def _ends_at_eof(f: BinaryIO) -> bool:
    f.seek(0, 2)
    f.seek(max(0, f.tell() - _TAIL_BYTES))
    tail = f.read()
    return tail.rstrip(_PDF_WHITESPACE).endswith(b"%%EOF")


def _objects(reader: "PdfReader") -> Iterator[object]:
    """The trailer and every object the cross-reference data lists, resolved (object streams included)."""
    from pypdf.generic import IndirectObject

    yield reader.trailer
    listed = {(generation, idnum) for generation, ids in reader.xref.items() for idnum in ids}
    listed |= {(0, idnum) for idnum in reader.xref_objStm}
    if len(listed) > MAX_PDF_OBJECTS:
        raise ValidationError(
            _("The PDF file has more than %(limit)s objects, which is more than is accepted.")
            % {"limit": number_format(MAX_PDF_OBJECTS, force_grouping=True)},
            code="pdf_too_complex",
        )
    for generation, idnum in sorted(listed):
        yield IndirectObject(idnum, generation, reader).get_object()


def _active_content(reader: "PdfReader") -> list[str]:
    """The kinds of active content anywhere in the document, in a fixed order."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found: set[str] = set()
    for top in _objects(reader):
        # Iterative, so a deeply nested object cannot exhaust the stack; references are not followed because
        # every indirect object is visited on its own.
        stack: list[tuple[object, int]] = [(top, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > _MAX_PDF_NESTING:
                raise _pdf_invalid()
            if isinstance(item, NameObject):
                if item in _KIND_OF_NAME:
                    found.add(_KIND_OF_NAME[item])
            elif isinstance(item, DictionaryObject):  # stream dictionaries included
                for key, value in item.items():
                    stack.append((NameObject(key), depth + 1))
                    if not isinstance(value, IndirectObject):
                        stack.append((value, depth + 1))
            elif isinstance(item, ArrayObject):
                stack.extend((value, depth + 1) for value in item if not isinstance(value, IndirectObject))
    return [kind for kind in _ACTIVE_NAMES if kind in found]


def check_pdf(f: BinaryIO) -> None:
    """Refuse the PDF in the seekable file ``f`` unless it opens strictly, has pages, ends at ``%%EOF`` and has no
    active content."""
    from pypdf import PasswordType, PdfReader

    if not _ends_at_eof(f):
        raise ValidationError(
            _("The PDF file does not end with its end-of-file marker; it may be truncated or have data appended."),
            code="pdf_invalid",
        )
    try:
        f.seek(0)
        reader = PdfReader(f, strict=True)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ValidationError(
                _("The PDF file is protected by a password; remove the password and upload it again."),
                code="pdf_encrypted",
            )
        pages = reader.pages
        if len(pages) == 0:
            raise ValidationError(_("The PDF file has no pages."), code="pdf_invalid")
        for page in pages:
            if page.mediabox.width <= 0 or page.mediabox.height <= 0:
                raise _pdf_invalid()
        active = _active_content(reader)
    except ValidationError:
        raise
    except Exception:
        # Any failure to parse untrusted PDF data is a refusal of the file, never a server error.
        raise _pdf_invalid() from None
    if active:
        raise ValidationError(
            [ValidationError(_active_content_message(kind), code="pdf_active_content") for kind in active]
        )


# --- MP4 --------------------------------------------------------------------------------------------------------

# Major brands of the ISO base-media ("ftyp") family that are MP4 video. QuickTime, 3GPP and HEIF images share
# the container but are not accepted.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"dash"}
)
# Boxes whose payload is nothing but boxes (ISO/IEC 14496-12); their children are walked too. Boxes with a header
# before their children (meta, stsd, …) or free-form payload (udta in QuickTime files) are treated as opaque.
_MP4_CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf", b"mfra"}
)
# A fragmented recording of a few hours has some thousands of boxes.
MAX_MP4_BOXES = 100_000
_MAX_MP4_NESTING = 8


class _Mp4Invalid(Exception):
    pass


def _mp4_invalid() -> ValidationError:
    return ValidationError(
        _("The video could not be read as an MP4 file; it may be damaged, truncated or have other data appended."),
        code="mp4_invalid",
    )


class _BoxWalk:
    """Reads box headers only, counting every box so a hostile file cannot make the walk unbounded."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.count = f, 0

    def boxes(self, start: int, end: int, depth: int) -> Iterator[tuple[bytes, int, int]]:
        """(type, payload start, end) of each box from ``start`` to exactly ``end``."""
        at = start
        while at < end:
            self.count += 1
            if self.count > MAX_MP4_BOXES or depth > _MAX_MP4_NESTING or end - at < 8:
                raise _Mp4Invalid
            self.f.seek(at)
            size, kind = struct.unpack(">I4s", self.f.read(8))
            header = 8
            if size == 1:  # a 64-bit size follows the type
                if end - at < 16:
                    raise _Mp4Invalid
                (size,) = struct.unpack(">Q", self.f.read(8))
                header = 16
            elif size == 0 and depth == 0:  # the last top-level box runs to the end of the file
                size = end - at
            if size < header or size > end - at or not all(0x20 <= c <= 0x7E for c in kind):
                raise _Mp4Invalid
            yield kind, at + header, at + size
            at += size

    def children(self, start: int, end: int, depth: int) -> list[bytes]:
        """The types of a container's children, after walking their own children."""
        kinds = []
        for kind, payload, child_end in self.boxes(start, end, depth):
            kinds.append(kind)
            if kind in _MP4_CONTAINERS:
                self.children(payload, child_end, depth + 1)
        return kinds


def check_mp4(f: BinaryIO) -> None:
    """Refuse the seekable file ``f`` unless its ISO base-media boxes are consistent and make a playable MP4."""
    kinds: list[bytes] = []
    movie: list[bytes] = []
    size = f.seek(0, 2)
    walk = _BoxWalk(f)
    try:
        for kind, payload, end in walk.boxes(0, size, 0):
            if not kinds:
                f.seek(payload)
                # ftyp: major brand, minor version, then whole compatible brands.
                if kind != b"ftyp" or end - payload < 8 or (end - payload) % 4 or f.read(4) not in MP4_BRANDS:
                    raise _Mp4Invalid
            kinds.append(kind)
            if kind in _MP4_CONTAINERS:
                children = walk.children(payload, end, 1)
                if kind == b"moov":
                    movie = children
    except _Mp4Invalid:
        raise _mp4_invalid() from None
    if kinds.count(b"ftyp") != 1 or kinds.count(b"moov") > 1 or movie.count(b"mvhd") > 1:
        raise _mp4_invalid()
    if movie.count(b"mvhd") != 1:
        raise ValidationError(
            _("The MP4 file has no movie header, so it cannot be played; it may be a recording that was not finished."),
            code="mp4_invalid",
        )
