"""Real evidence files built in the tests: PDFs written by pypdf or assembled object by object, and MP4 videos
assembled box by box. The evidence store checks the structure of both, so fakes that only start right are refused.
"""

import io
import struct
import zlib

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def pdf_writer(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)  # A4 in points
    return writer


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_document(size: int | None = None, *, pages: int = 1) -> bytes:
    """A valid PDF written by pypdf; with ``size``, exactly that many bytes (its producer string is padded)."""
    if size is None:
        return written(pdf_writer(pages))
    pad = 0
    for _ in range(4):  # the padding can move the xref offset's digit count once
        writer = pdf_writer(pages)
        writer.add_metadata({"/Producer": TextStringObject("x" * pad)})
        content = written(writer)
        if len(content) == size:
            return content
        pad += size - len(content)
        if pad < 0:
            raise ValueError(f"a PDF cannot be as small as {size} bytes")
    raise AssertionError(f"could not pad a PDF to {size} bytes")


def raw_pdf(*objects: bytes, trailer: bytes = b"") -> bytes:
    """A PDF assembled from the bodies of objects 1, 2, … (object 1 is the catalog) with a correct xref table."""
    out = bytearray(PDF_HEAD)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


ONE_PAGE = (
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
)


def raw_pdf_with_catalog(extra: bytes, *more: bytes) -> bytes:
    """A one-page PDF whose catalog has ``extra`` entries; ``more`` are objects 4, 5, …"""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>", *ONE_PAGE, *more)


def pdf_with_compressed_objects(catalog_extra: bytes) -> bytes:
    """A PDF 1.5 whose catalog, page tree and page sit in a deflated object stream, listed by an xref stream, so
    none of their names appear in the file's bytes."""
    bodies = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>", *ONE_PAGE]
    offsets, data = [], b""
    for body in bodies:
        offsets.append(len(data))
        data += body + b"\n"
    index = b" ".join(b"%d %d" % (number, offset) for number, offset in enumerate(offsets, 1)) + b"\n"
    packed = zlib.compress(index + data)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    stream_at = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(bodies),
        len(index),
        len(packed),
    )
    out += packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    # /W [1 4 2]: type 0 free, 1 at an offset, 2 inside object stream 4 at an index.
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 2, 4, i) for i in range(len(bodies))]
    rows += [struct.pack(">BIH", 1, stream_at, 0), struct.pack(">BIH", 1, xref_at, 0)]
    table = b"".join(rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_with_open_action(action: dict[str, object]) -> bytes:
    """A pypdf-written PDF whose catalog runs ``action`` when the document opens."""
    writer = pdf_writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject(key): value for key, value in action.items()}
    )
    return written(writer)


# --- MP4 --------------------------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes = b"", *, large: bool = False) -> bytes:
    """An ISO base-media box; ``large`` writes its size in the 64-bit form."""
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def ftyp(brand: bytes = b"isom") -> bytes:
    return box(b"ftyp", brand + struct.pack(">I", 512) + b"isomiso2avc1mp41")


def mvhd(duration: int = 1000) -> bytes:
    """A version-0 movie header: times, 1000 units a second, rate 1.0, volume 1.0, identity matrix, next track 2."""
    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    payload = (
        struct.pack(">B3xIIII", 0, 0, 0, 1000, duration)
        + struct.pack(">IH10x", 0x00010000, 0x0100)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2)
    )
    return box(b"mvhd", payload)


def mp4_video(*, brand: bytes = b"isom", media: bytes = b"\x00\x00\x00\x02\x09\xf0" * 8) -> bytes:
    """A tiny MP4: ftyp, a movie box with its header, and the media data."""
    return ftyp(brand) + box(b"moov", mvhd()) + box(b"mdat", media)
