"""Evidence files: validate an upload by its content and store it outside the web root.

Independent of DRF so the browser UI can use the same checks::

    stored = validate_and_store(request.FILES["file"])   # raises ValidationError({"file": ...}) when refused
    try:
        services.record_attachment(case=case, by=user, **stored.attachment_fields(), description=...)
    except Exception:
        discard(stored)   # the metadata was not recorded, so the file must not stay behind
        raise

Rules: the content type is decided by the file's first bytes (magic numbers), never by its name or the
type the client declares; only JPEG, PNG, PDF and MP4 are accepted; the size is capped by
``RIGHTSGUARD_MAX_UPLOAD_BYTES`` (25 MiB by default); files are written under ``MEDIA_ROOT/evidence`` with a
random name, and their SHA-256 is computed while they are written.
"""

import hashlib
import os
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# The longest signature checked below is the 12-byte ISO base-media header.
_SNIFF_BYTES = 32
# Major brands of the ISO base-media ("ftyp") family that are MP4 video. QuickTime, 3GPP and HEIF images share
# the container but are not accepted.
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"dash"}
)

ALLOWED_CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf", "video/mp4")


class Upload(Protocol):
    """What Django's ``UploadedFile`` offers and this module uses."""

    name: str | None
    size: int | None

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str

    def attachment_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``services.record_attachment``."""
        return {
            "original_name": self.original_name,
            "stored_name": self.stored_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def max_upload_bytes() -> int:
    return int(getattr(settings, "RIGHTSGUARD_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def evidence_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "evidence"


def path_of(stored_name: str) -> Path:
    """Where a stored file lives. Stored names are generated here (hex), so they never contain a separator."""
    if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError(f"not a stored evidence name: {stored_name!r}")
    return evidence_dir() / stored_name


def sniff_content_type(head: bytes) -> str | None:
    """The accepted content type the first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
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


def validate_and_store(uploaded_file: Upload) -> StoredFile:
    """Check the upload's size and content type and write it to evidence storage.

    Raises ``ValidationError({"file": …})`` (codes ``file_empty``, ``file_too_large``, ``file_type_not_allowed``)
    and leaves nothing on disk when the file is refused.
    """
    limit = max_upload_bytes()
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise _too_large(limit)
    directory = evidence_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = uuid.uuid4().hex
    path = directory / stored_name
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        # O_EXCL: a generated name never overwrites anything, even in the astronomically unlikely collision.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as out:
            for chunk in uploaded_file.chunks():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise _refuse(_("The file is empty."), "file_empty")
        content_type = sniff_content_type(head)
        if content_type is None:
            raise _refuse(
                _(
                    "Only JPEG, PNG, PDF and MP4 files are accepted, and this file's content is none of them "
                    "(the file name and the declared type are not taken into account)."
                ),
                "file_type_not_allowed",
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(
        stored_name=stored_name,
        original_name=clean_original_name(uploaded_file.name),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


def discard(stored: StoredFile) -> None:
    """Remove a stored file whose metadata could not be recorded."""
    path_of(stored.stored_name).unlink(missing_ok=True)


def open_stored(stored_name: str) -> BinaryIO:
    """Open a stored evidence file for reading (raises ``FileNotFoundError`` if it is gone)."""
    return path_of(stored_name).open("rb")
