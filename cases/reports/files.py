"""Files prepared for download in the background (yearly-report exports, queue workbooks), kept in the exports storage
(``cases/evidence_store.py``: ``MEDIA_ROOT/exports`` on the disk, or ``PREFIX/exports/`` in the object store that
holds the evidence), so a web node serves what a worker on another machine wrote.

Writing: the job renders the file into a temporary file without a name on its own disk, then writes it whole to
``.incoming/<random>.part`` in the storage (encrypted in an object store, as evidence is) and gives it its final name,
``yearly-report-<id>.<ext>`` or ``queue-<id>.xlsx`` (a rename, a server-side copy), so a reader never sees half a
file; only then is the row marked done. The name is the export's id: a rerun replaces its file, never adds one.

Reading: a download opens the file first (a file gone is "not ready", a store that fails is 503 with a sentence of
its own, ``FilesUnavailable``), then writes the access log, then streams the file with its length; never a link into
the store.

Expiry (``sweep``, beat every hour): a finished export older than ``RIGHTSGUARD_EXPORT_KEEP_DAYS`` is marked expired,
then its file is removed (a download already under way finishes: an open file on disk, an object's body already
requested). What killed or failed jobs left (received parts, the file of an export that is not done) goes once older
than ``RIGHTSGUARD_EVIDENCE_STALE_SECONDS``, so a job that is installing its file right now is never touched. Only
names generated here, on files the application wrote (``owns``), are removed.
"""

import logging
import re
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from cases.evidence import INCOMING, stale_after
from cases.evidence_store import Reader, StoreError, exports_storage
from cases.models import ExportStatus, QueueExport, ReportExport

logger = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 7
# The prefix of each kind's names, and its model; the id follows it.
KINDS: dict[str, type[ReportExport] | type[QueueExport]] = {"yearly-report": ReportExport, "queue": QueueExport}
FILE_NAME = re.compile(r"(?P<kind>yearly-report|queue)-(?P<pk>[0-9]+)\.(?:csv|xlsx|pdf)")
_INCOMING_NAME = re.compile(r"[0-9a-f]{32}\.part")
_BATCH = 500


class FilesUnavailable(Exception):
    """The exports storage (an object store) did not answer or refused to hand a file out (503, with this sentence and
    nothing of the store's own); logged as an error."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            _(
                "The store of prepared files cannot be reached right now, so the file cannot be downloaded. "
                "Please try again in a few minutes, and tell your system administrator if this happens again."
            )
        )


def keep_for() -> timedelta:
    """How long a finished file can be downloaded."""
    return timedelta(days=float(getattr(settings, "RIGHTSGUARD_EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS)))


def file_name(kind: str, pk: int, extension: str) -> str:
    name = f"{kind}-{pk}.{extension}"
    if not FILE_NAME.fullmatch(name):
        raise ValueError(f"not a prepared file's name: {name!r}")
    return name


def write(name: str, render: Callable[[IO[bytes]], None]) -> None:
    """Render a file and put it in the exports storage under ``name``, whole or not at all."""
    storage = exports_storage()
    incoming = f"{INCOMING}/{uuid.uuid4().hex}.part"
    try:
        # No name on any disk: whatever happens to the worker, the rendering does not outlive it.
        with tempfile.TemporaryFile() as out:
            render(out)
            out.flush()
            out.seek(0)
            storage.put(incoming, out)
        storage.install(incoming, name)
    except BaseException:
        try:
            storage.remove(incoming)
        except StoreError as exc:
            logger.warning("The exports storage could not remove %s now; the sweep will: %s", incoming, exc)
        raise


def is_stored(name: str) -> bool:
    return exports_storage().exists(name)  # type: ignore[attr-defined]


def open_file(name: str) -> Reader:
    """A prepared file for reading, streamed: ``FileNotFoundError`` if it is not there, ``FilesUnavailable`` if the
    store fails otherwise (logged)."""
    try:
        return exports_storage().reader(name)
    except StoreError as exc:
        logger.error("The exports storage failed while %s was opened: %s", name, exc)
        raise FilesUnavailable from None


def download_response(handle: Reader, *, filename: str, content_type: str) -> FileResponse:
    """The file as a download, streamed from the storage with its length, never kept in a cache."""
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    if "Content-Length" not in response:  # a stream from an object store: its length as the store gave it
        response["Content-Length"] = str(handle.size)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Expire finished files past the keep time and remove what killed jobs left (module docstring). Idempotent;
    returns and logs the counts."""
    now = now or timezone.now()
    storage = exports_storage()
    result = {"expired": 0, "files_removed": 0, "incoming_removed": 0}
    for model in KINDS.values():
        old = model.objects.filter(status=ExportStatus.DONE, finished_at__lt=now - keep_for()).order_by("pk")
        while batch := list(old.values_list("pk", "file_name")[:_BATCH]):
            # Expired first: a download that starts from now on is refused, one under way finishes.
            result["expired"] += model.objects.filter(
                pk__in=[pk for pk, _name in batch], status=ExportStatus.DONE
            ).update(status=ExportStatus.EXPIRED)
            for _pk, name in batch:
                if FILE_NAME.fullmatch(name) and storage.remove(name):
                    result["files_removed"] += 1
    cutoff = (now - stale_after()).timestamp()
    for entry in storage.entries(INCOMING):
        name = f"{INCOMING}/{entry.name}"
        if _INCOMING_NAME.fullmatch(entry.name) and entry.modified < cutoff and storage.owns(name):
            result["incoming_removed"] += int(storage.remove(name))
    found: dict[str, dict[int, str]] = {}
    for entry in storage.entries():
        match = FILE_NAME.fullmatch(entry.name)
        if match and entry.modified < cutoff:
            found.setdefault(match["kind"], {})[int(match["pk"])] = entry.name
    for kind, files in found.items():
        done = set(
            KINDS[kind].objects.filter(pk__in=list(files), status=ExportStatus.DONE).values_list("pk", flat=True)
        )
        for pk, name in sorted(files.items()):
            if pk not in done and storage.owns(name) and storage.remove(name):
                result["files_removed"] += 1
    logger.log(
        logging.WARNING if result["incoming_removed"] else logging.INFO,
        "Exports sweep: %d prepared file(s) expired, %d file(s) and %d received part(s) removed",
        result["expired"],
        result["files_removed"],
        result["incoming_removed"],
    )
    return result
