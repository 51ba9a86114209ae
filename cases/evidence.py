"""Evidence files: checked by their content, stored outside the web root, served back only as downloads.

``services.add_evidence`` and ``services.open_evidence`` (``cases/services/evidence.py``) put the steps below
together; the browser page and the API both call them, and neither takes a storage step of its own.

Rules: the content type is decided by the file's first bytes (magic numbers), never by its name or the
type the client declares; only JPEG, PNG, PDF and MP4 are accepted, so archives (ZIP, RAR, 7z, gzip) are refused
by their first bytes and never opened. The first bytes only say what a file claims to be: ``checked_content_type``
then proves it by the file's structure (``cases/evidence_structure.py``: PDFs open strictly and carry no active content,
MP4 boxes cover the file exactly) after the configured malware scanner, if any, found nothing in it
(``cases/malware.py``). The size is capped by ``RIGHTSGUARD_MAX_UPLOAD_BYTES`` (25 MiB by default)
and, when the case is given, by the room left under ``RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES`` (500 MiB per case by
default), both while the file is received; files are kept in the evidence storage (``cases/evidence_store.py``: the
local disk under ``MEDIA_ROOT/evidence``, or an S3-compatible object store) under a random name.

JPEG and PNG images are decoded and re-encoded before they are kept: the EXIF orientation is applied to the
pixels, then all metadata (EXIF with GPS positions, XMP, comments, PNG text chunks) is dropped, and an embedded
colour profile is converted to sRGB so the picture looks the same without it. Images over
``RIGHTSGUARD_MAX_IMAGE_PIXELS`` (60 megapixels by default) are refused before any pixel is decoded, as are
images that do not decode completely and animated PNGs. Of a multi-picture JPEG (MPO) the primary picture is
kept. The stored size and SHA-256 are those of the file as stored.

Storage and crashes. A file is received into a temporary file without a name (``tempfile.TemporaryFile``: the kernel
frees it when the process ends, however it ends) and checked, scanned and re-encoded there, so nothing of a refused
file, nor the raw upload of a picture still carrying its metadata, ever reaches the evidence storage. What passed is
then written, whole and durably, to ``.incoming/<random>.part`` in the evidence storage (nothing there is ever served,
as downloads go through an attachment row and only final names are opened). It gets its final name ``<stored_name>``
inside the transaction that records its attachment, as that transaction's last step (``Installation``, run by
``services.record_attachment``): renamed on disk (the directory flushed), copied server-side in an object store; then
the transaction commits. The database commit is the one moment the upload happens; a process killed at any point
before it leaves no row, and a file no row refers to:

- killed while receiving, checking or re-encoding: nothing;
- killed after writing to the storage, before the final name: a stale ``.part`` file, already checked and
  re-encoded;
- killed after the final name, before the commit: an evidence file without an attachment row (an orphan), already
  checked and re-encoded (in an object store possibly also its ``.part``, deleted right after the copy);
- killed after the commit: the row and its file, both durable.

A row therefore never refers to a missing file. Installing after the commit (``transaction.on_commit``) would leave
exactly that when the process dies, or the installation fails, between the two. ``sweep`` (Celery beat every 15
minutes, also ``manage.py sweep_evidence``) removes ``.part`` files and orphans once they are older than
``RIGHTSGUARD_EVIDENCE_STALE_SECONDS`` (an hour by default), so an upload still in progress is never touched: the
installation gives the file a fresh modification time. An exception (not a kill) cleans up at once: the received
file, and the installed file when its transaction rolled back; only when the commit itself fails is the file left to
the sweep, as whether it committed is then unknown (as it is when the recording transaction is part of a larger one,
the Idempotency-Key's, that fails after it).

Every write to ``.incoming`` goes to a name never used before, so a sweep that listed an old leftover can never take a
file that is being written or waits for its final name under that name. A retried API request with the same
``Idempotency-Key`` (``attempt``) writes under a name that starts with its attempt's digest, and first removes what its
killed attempts left under names with that start, so a retry does not keep a second copy of what an earlier attempt
stored; only one request with a key runs at a time (``cases/api/idempotency.py``), and one that committed is
replayed, not re-run. (An orphan of an attempt killed between installation and commit waits for the sweep.)

The sweep and the ledger take only what the application wrote (``EvidenceStorage.owns``): an object-store prefix may
hold other data, left alone and counted as foreign.

The per-case cap is exact only under the case's row lock: ``services.record_attachment`` checks the room again
(``ensure_room``) after locking the case, in the transaction that records the attachment, so concurrent uploads
to one case can never together exceed it. The check while receiving only refuses early.
"""

import contextlib
import errno
import hashlib
import io
import logging
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

from cases import evidence_structure, malware
from cases.evidence_store import Reader, StoreError, evidence_storage
from cases.models import Attachment, Case

DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_CASE_EVIDENCE_BYTES = 500 * 1024 * 1024
DEFAULT_MAX_IMAGE_PIXELS = 60_000_000
DEFAULT_STALE_SECONDS = 60 * 60
# Checked files wait here, in the evidence storage, until they are recorded.
INCOMING = ".incoming"
_INCOMING_NAME = re.compile(r"[0-9a-f]{32}(?:[0-9a-f]{32})?\.part")
STORED_NAME = re.compile(r"[0-9a-f]{32}")
JPEG_QUALITY = 92
# The longest signature checked below is the 12-byte ISO base-media header.
_SNIFF_BYTES = 32

ALLOWED_CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf", "video/mp4")

logger = logging.getLogger(__name__)


class Upload(Protocol):
    """What Django's ``UploadedFile`` offers and this module uses."""

    name: str | None
    size: int | None

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...


@dataclass(frozen=True)
class StoredFile:
    """A received and checked file, waiting under ``.incoming`` in the evidence storage until its attachment is
    recorded."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    incoming: str

    @property
    def waiting_as(self) -> str:
        """Its name in the evidence storage until ``Installation`` gives it its final name, ``stored_name``."""
        return incoming_name(self.incoming)

    def attachment_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``services.record_attachment``."""
        return {
            "original_name": self.original_name,
            "stored_name": self.stored_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "incoming": self.incoming,
        }


def max_upload_bytes() -> int:
    return int(getattr(settings, "RIGHTSGUARD_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def max_case_evidence_bytes() -> int:
    return int(getattr(settings, "RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES", DEFAULT_MAX_CASE_EVIDENCE_BYTES))


def max_image_pixels() -> int:
    return int(getattr(settings, "RIGHTSGUARD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


def stale_after() -> timedelta:
    """How old a received or orphaned file must be before the sweep removes it."""
    return timedelta(seconds=float(getattr(settings, "RIGHTSGUARD_EVIDENCE_STALE_SECONDS", DEFAULT_STALE_SECONDS)))


def case_evidence_bytes(case: Case) -> int:
    """The total size of the evidence a case already holds."""
    return Attachment.objects.filter(case=case).aggregate(total=Sum("size"))["total"] or 0


def stored_key(stored_name: str) -> str:
    """A stored file's name in the evidence storage. Stored names are generated here (hex), so they never contain a
    separator."""
    if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError(f"not a stored evidence name: {stored_name!r}")
    return stored_name


def incoming_name(name: str) -> str:
    """A received file's name in the evidence storage while it waits. Generated here too: hex and ``.part``."""
    if not _INCOMING_NAME.fullmatch(name):
        raise ValueError(f"not a received evidence name: {name!r}")
    return f"{INCOMING}/{name}"


# The local disk's paths, for the disk backend only (tests, the fault stack); an object store has none (Django's
# ``Storage.path`` raises NotImplementedError). The application itself goes through ``evidence_storage()``.


def evidence_dir() -> Path:
    return Path(evidence_storage().path(""))  # type: ignore[attr-defined]


def incoming_dir() -> Path:
    return evidence_dir() / INCOMING


def path_of(stored_name: str) -> Path:
    return evidence_dir() / stored_key(stored_name)


def sniff_content_type(head: bytes) -> str | None:
    """The accepted content type the first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in evidence_structure.MP4_BRANDS:
        return "video/mp4"
    return None


def clean_original_name(name: str | None) -> str:
    """The client's file name reduced to a safe display name: no directories, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip()
    base = base.lstrip(".") or "evidence"
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 20 else base[:255]
    return base


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=code)})


def _too_large(limit: int) -> ValidationError:
    return _refuse(
        _("The file is larger than the %(limit)s allowed.") % {"limit": filesizeformat(limit)}, "file_too_large"
    )


def _case_full(used: int, limit: int) -> ValidationError:
    return _refuse(
        _("This case already holds %(used)s of evidence; the limit per case is %(limit)s.")
        % {"used": filesizeformat(used), "limit": filesizeformat(limit)},
        "case_evidence_full",
    )


def _image_invalid() -> ValidationError:
    return _refuse(_("The image could not be read completely; it may be damaged or truncated."), "image_invalid")


def _image_too_large(limit: int) -> ValidationError:
    return _refuse(
        _("The image has too many pixels; at most %(limit)s pixels are accepted.")
        % {"limit": number_format(limit, force_grouping=True)},
        "image_too_large",
    )


@dataclass(frozen=True)
class _CaseRoom:
    """How much evidence a case holds and may hold."""

    used: int
    limit: int

    @property
    def left(self) -> int:
        return self.limit - self.used

    def full(self) -> ValidationError:
        return _case_full(self.used, self.limit)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Modes whose transparency PNG keeps in a tRNS chunk (RGBA and LA carry it in the pixels).
_TRNS_MODES = frozenset({"1", "L", "I", "I;16", "P", "RGB"})


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width * height > limit:
        raise _image_too_large(limit)


def sanitised_image(received: BinaryIO, content_type: str) -> bytes:
    """The image in the seekable file ``received`` decoded and re-encoded without metadata, upright, in sRGB.

    Raises ``ValidationError({"file": …})`` (codes ``image_too_large``, ``image_invalid``, ``image_animated``) when
    the image is over the pixel limit, does not decode completely, or is an animated PNG. The pixel count is
    checked from the header, before any pixel is decoded.
    """
    image_format = "JPEG" if content_type == "image/jpeg" else "PNG"
    limit = max_image_pixels()
    try:
        if image_format == "PNG":
            # verify() walks every chunk with its checksum up to IEND, which decoding alone does not.
            received.seek(0)
            with Image.open(received, formats=["PNG"]) as probe:
                _check_pixels(probe.size, limit)
                probe.verify()
        received.seek(0)
        with Image.open(received, formats=[image_format]) as image:
            _check_pixels(image.size, limit)
            if image_format == "PNG" and getattr(image, "is_animated", False):
                raise _refuse(
                    _("Animated PNG images are not accepted; upload a recording as an MP4 video."), "image_animated"
                )
            image.load()
            picture = ImageOps.exif_transpose(image) or image
            icc_profile = picture.info.get("icc_profile")
            transparency = picture.info.get("transparency")
        if icc_profile and picture.mode in ("RGB", "RGBA", "CMYK"):
            # An unusable profile is dropped and the pixels are kept as they are.
            with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
                picture = ImageCms.profileToProfile(  # type: ignore[assignment]
                    picture,
                    ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                    _SRGB,
                    outputMode="RGBA" if picture.mode == "RGBA" else "RGB",
                )
        # Nothing of the original's metadata travels to the encoder: it only sees what is passed below.
        picture.info = {}
        picture.encoderinfo = {}
        out = io.BytesIO()
        if image_format == "JPEG":
            if picture.mode not in ("L", "RGB", "CMYK"):
                picture = picture.convert("RGB")
                picture.info = {}
            picture.save(out, "JPEG", quality=JPEG_QUALITY)
        else:
            options = {"transparency": transparency} if transparency is not None and picture.mode in _TRNS_MODES else {}
            picture.save(out, "PNG", **options)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own, higher limit (its MAX_IMAGE_PIXELS) refused the header first.
        raise _image_too_large(limit) from None
    except Exception:
        # Any failure to decode untrusted image data is a refusal of the file, never a server error.
        raise _image_invalid() from None
    return out.getvalue()


# No space left, quota exceeded, file-size limit: the evidence store cannot take the file.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class CannotKeep(Exception):
    """The file could not be kept, and not through any fault of the file or the user; nothing is kept. ``status`` is
    the HTTP answer both doors give."""

    code: str
    status: int


class StorageFull(CannotKeep):
    """The evidence store has no room (507); nothing is kept."""

    code = "storage_full"
    status = 507

    def __init__(self) -> None:
        super().__init__(
            _(
                "The evidence store is full, so the file could not be saved and nothing was kept. "
                "Please tell your system administrator and try again later."
            )
        )


class StoreUnavailable(CannotKeep):
    """The evidence storage (an object store) did not answer or refused the file (503); nothing is kept."""

    code = "storage_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            _(
                "The evidence store cannot be reached right now, so the file could not be saved and nothing was kept. "
                "Please try again in a few minutes, and tell your system administrator if this happens again."
            )
        )


class ScanUnavailable(CannotKeep):
    """The configured malware scanner could not check the file (503); nothing is kept."""

    code = "scanner_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            _(
                "The file cannot be checked for malware right now, so it was not accepted and nothing was kept. "
                "Please try again in a few minutes, and tell your system administrator if this happens again."
            )
        )


def checked_content_type(received: BinaryIO, head: bytes) -> str:
    """The content type of the seekable received file (whose first bytes are ``head``), once it passed the
    checks on its content: a type announced by its first bytes, nothing found by the malware scanner, and for
    PDF and MP4 a structure that proves the type (images are proven by decoding them, ``sanitised_image``).

    Raises ``ValidationError({"file": …})`` (codes ``file_type_not_allowed``, ``malware_found``, ``pdf_invalid``,
    ``pdf_encrypted``, ``pdf_too_complex``, ``pdf_active_content``, ``mp4_invalid``) or ``ScanUnavailable``.
    """
    content_type = sniff_content_type(head)
    if content_type is None:
        raise _refuse(
            _(
                "Only JPEG, PNG, PDF and MP4 files are accepted, and this file's content is none of them "
                "(the file name and the declared type are not taken into account)."
            ),
            "file_type_not_allowed",
        )
    # The scanner sees the bytes as received, before any parser here touches them.
    try:
        finding = malware.scan(received)
    except malware.ScannerUnavailable:
        raise ScanUnavailable from None
    if finding is not None:
        raise _refuse(
            _("The file was refused because the malware scanner found “%(finding)s” in it.") % {"finding": finding},
            "malware_found",
        )
    try:
        if content_type == "application/pdf":
            evidence_structure.check_pdf(received)
        elif content_type == "video/mp4":
            evidence_structure.check_mp4(received)
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from None
    return content_type


def validate_and_store(uploaded_file: Upload, case: Case | None = None, *, attempt: str | None = None) -> StoredFile:
    """Check the upload's size and content, then write it to the evidence storage, under ``.incoming`` until
    ``services.record_attachment`` records it and gives it its final name (module docstring).

    With a ``case``, the file must also fit in the room the case has left under
    ``RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES`` (checked again, exactly, when it is recorded). JPEG and PNG images are
    kept re-encoded without metadata (see the module docstring). ``attempt`` names a request that may be retried
    (the user and the ``Idempotency-Key``): what its attempts killed on the way left under ``.incoming`` is removed
    before this one writes there.

    Raises ``ValidationError({"file": …})`` (codes ``file_empty``, ``file_too_large``, ``case_evidence_full``,
    those of ``checked_content_type``, ``image_too_large``, ``image_invalid``, ``image_animated``) and writes nothing
    to the evidence storage when the file is refused; ``ScanUnavailable`` when the malware scanner cannot check it,
    ``StorageFull`` when the disk is full and ``StoreUnavailable`` when the object store fails (nothing is kept).
    """
    room = _CaseRoom(used=case_evidence_bytes(case), limit=max_case_evidence_bytes()) if case is not None else None
    if room is not None and room.left <= 0:
        raise room.full()
    per_file = max_upload_bytes()
    limit = per_file if room is None else min(per_file, room.left)

    def refusal(size: int) -> ValidationError:
        return _too_large(per_file) if room is None or size > per_file else room.full()

    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise refusal(uploaded_file.size)
    stored_name = uuid.uuid4().hex
    # Never a name used before (module docstring); a retry's starts with its attempt's digest.
    attempt_start = hashlib.sha256(attempt.encode()).hexdigest()[:32] if attempt else ""
    incoming = attempt_start + uuid.uuid4().hex + ".part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        # No name on any disk: whatever happens to this process, the raw upload does not outlive it.
        with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as received:
            for chunk in uploaded_file.chunks():
                size += len(chunk)
                if size > limit:
                    raise refusal(size)
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                received.write(chunk)
            if size == 0:
                raise _refuse(_("The file is empty."), "file_empty")
            received.flush()
            content_type = checked_content_type(received, head)
            if content_type in ("image/jpeg", "image/png"):
                clean = sanitised_image(received, content_type)
                size = len(clean)
                if size > per_file:
                    # Re-encoding can make a heavily compressed picture larger: what is kept stays within the limit.
                    raise _refuse(
                        _(
                            "Without its hidden data this picture would be larger than the %(limit)s allowed. Save it "
                            "at a smaller size or lower quality and add it again."
                        )
                        % {"limit": filesizeformat(per_file)},
                        "image_too_large_after_cleaning",
                    )
                if room is not None and size > room.left:
                    raise room.full()
                digest = hashlib.sha256(clean)
                _rewrite(received, clean)
            received.seek(0)
            if attempt_start:
                _remove(*_left_by_attempts(attempt_start))
            try:
                _put(incoming_name(incoming), received)
            except BaseException:
                # The write failed, maybe after the store took the file (a timeout on its answer): not kept.
                _remove(incoming_name(incoming))
                raise
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise StorageFull from exc
        raise
    except StoreError as exc:
        logger.error("Evidence storage failed while an upload was stored: %s", exc)
        raise StoreUnavailable from exc
    return StoredFile(
        stored_name=stored_name,
        original_name=clean_original_name(uploaded_file.name),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        incoming=incoming,
    )


def _rewrite(received: BinaryIO, content: bytes) -> None:
    """The same received file, rewritten: what is kept is only the re-encoded picture."""
    received.seek(0)
    received.truncate()
    received.write(content)
    received.flush()


def _put(name: str, received: BinaryIO) -> None:
    """Write the checked file to the evidence storage, whole and durably (a failure leaves nothing there)."""
    evidence_storage().put(name, received)


def _left_by_attempts(attempt_start: str) -> list[str]:
    """What earlier attempts of a request left under ``.incoming`` (killed before they were recorded)."""
    return [
        incoming_name(entry.name)
        for entry in evidence_storage().entries(INCOMING)
        if entry.name.startswith(attempt_start) and _INCOMING_NAME.fullmatch(entry.name)
    ]


def _remove(*names: str) -> None:
    """Remove files from the evidence storage while cleaning up after a failure: one the storage cannot remove now
    is left to the sweep, never allowed to hide the failure being cleaned up after."""
    storage = evidence_storage()
    for name in names:
        try:
            storage.remove(name)
        except StoreError as exc:
            logger.warning("Evidence storage could not remove %s now; the sweep will: %s", name, exc)


def ensure_room(case: Case, size: int) -> None:
    """Refuse ``size`` more bytes of evidence for ``case`` (``case_evidence_full``) if they do not fit under its cap.

    Exact only while the case's row is locked, as in ``services.record_attachment``; without the lock a concurrent
    upload may be recording a file at the same moment.
    """
    room = _CaseRoom(used=case_evidence_bytes(case), limit=max_case_evidence_bytes())
    if size > room.left:
        raise room.full()


@dataclass
class Installation:
    """Giving one received file its final name, as the last step of the transaction that records its attachment, so
    the row commits only with its file in place and a crash before the commit leaves at most a file without a row
    (module docstring). ``services.record_attachment`` runs it, and undoes it if the transaction rolls back."""

    incoming: str
    stored_name: str
    started: bool = False

    def run(self) -> None:
        """Give the file (durable since it was written) its final name, durably, so a committed row never outlives
        its file.

        Raises ``StorageFull`` when the disk turns out to be full only now (a flush can report it), and
        ``StoreUnavailable`` when the object store fails.
        """
        # Never replaces an evidence file: the attachment row, inserted first, has a unique stored name; so from here
        # on the final name is this upload's own.
        self.started = True
        try:
            evidence_storage().install(incoming_name(self.incoming), stored_key(self.stored_name))
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise StorageFull from exc
            raise
        except StoreError as exc:
            logger.error("Evidence storage failed while an upload was recorded: %s", exc)
            raise StoreUnavailable from exc

    def undo(self) -> None:
        """The transaction rolled back: remove the received file, and the final one only if this installed it (a
        refused second record of the same file must not take the first one's)."""
        _remove(incoming_name(self.incoming), *([stored_key(self.stored_name)] if self.started else []))


def discard(stored: StoredFile) -> None:
    """Remove a received file that was not recorded. A recorded one has its final name, which this never touches."""
    _remove(stored.waiting_as)


def open_stored(stored_name: str) -> Reader:
    """Open a stored evidence file for reading, streamed (raises ``FileNotFoundError`` if it is gone, ``StoreError``
    when the object store fails otherwise)."""
    return evidence_storage().reader(stored_key(stored_name))


class EvidenceMissing(Exception):
    """An attachment row whose file is not in evidence storage (a restore without its media, a deleted file): a 404
    in both doors, with this message; nothing a user did, so it is logged as an error."""

    code = "evidence_missing"

    def __init__(self) -> None:
        super().__init__(
            _(
                "The file of this evidence is missing from the evidence store, so it cannot be downloaded. "
                "Please tell your system administrator."
            )
        )


class EvidenceUnavailable(Exception):
    """The evidence storage (an object store) did not answer or refused to hand a file out (503 in both doors, with
    this message and nothing of the store's own); logged as an error."""

    code = "storage_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            _(
                "The evidence store cannot be reached right now, so the file cannot be downloaded. "
                "Please try again in a few minutes, and tell your system administrator if this happens again."
            )
        )


def download_response(attachment: Attachment, handle: Reader) -> FileResponse:
    """The stored file as a download, streamed from the evidence storage: always an attachment (never shown inline),
    under its cleaned display name (``Content-Disposition`` with an RFC 5987 ``filename*``), with the content type its
    content proved, never sniffed by the browser and never kept in a cache."""
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    if "Content-Length" not in response:  # a stream from an object store: its length as the store gave it
        response["Content-Length"] = str(handle.size)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


_SWEEP_BATCH = 1000


def sweep(*, now: datetime | None = None, older_than: timedelta | None = None) -> dict[str, int]:
    """Remove what crashed or killed uploads left in evidence storage: received files never recorded, and evidence
    files no attachment row refers to, once older than ``older_than`` (``RIGHTSGUARD_EVIDENCE_STALE_SECONDS``), so
    an upload in progress is never touched. Only names this module generates, on files the application wrote
    (``owns``), are removed. Idempotent; returns and logs the counts."""
    cutoff = ((now or timezone.now()) - (older_than if older_than is not None else stale_after())).timestamp()
    storage = evidence_storage()
    result = {"incoming_removed": 0, "orphans_removed": 0, "bytes_removed": 0}
    for entry in storage.entries(INCOMING):
        if (
            _INCOMING_NAME.fullmatch(entry.name)
            and entry.modified < cutoff
            and storage.owns(incoming_name(entry.name))
            and storage.remove(incoming_name(entry.name))
        ):
            result["incoming_removed"] += 1
            result["bytes_removed"] += entry.size
    candidates = {
        entry.name: entry
        for entry in storage.entries()
        if STORED_NAME.fullmatch(entry.name) and entry.modified < cutoff
    }
    names = sorted(candidates)
    for start in range(0, len(names), _SWEEP_BATCH):
        batch = names[start : start + _SWEEP_BATCH]
        recorded = set(Attachment.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True))
        for name in batch:
            if name not in recorded and storage.owns(name) and storage.remove(name):
                result["orphans_removed"] += 1
                result["bytes_removed"] += candidates[name].size
    removed = result["incoming_removed"] + result["orphans_removed"]
    logger.log(
        logging.WARNING if removed else logging.INFO,
        "Evidence sweep: removed %d received file(s) never recorded and %d evidence file(s) without an attachment "
        "(%d bytes)",
        result["incoming_removed"],
        result["orphans_removed"],
        result["bytes_removed"],
    )
    return result
