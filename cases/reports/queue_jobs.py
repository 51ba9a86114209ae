"""The queue's workbook prepared in the background, when it has too many rows to write while the supervisor waits.

The request keeps the page's filters (``QueueFilters``) and sort, never a list of cases: the job lists the queue
again with them, through ``queue_cases`` and the requester's authority at that moment, and writes the same rows as
the inline export (cases/reports/queue_export.py: no personal data, every text a text cell) in XlsxWriter's
constant-memory mode from a server-side cursor, so memory stays flat. A workbook has at most ``queue_export_max()``
rows: a bigger queue is refused when asked for, and a job that finds more (the queue grew meanwhile) fails with a
sentence rather than writing part of it. Only the requester may download the file, after a recent password; asking
and downloading are both in the access log, as the inline export is.
"""

import dataclasses
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import outbox, policy
from cases.choices import AccessAction
from cases.models import AccessLog, Case, ExportStatus, QueueExport, QueueExportRefusal
from cases.queue_filters import QueueFilters, queue_cases
from cases.reports import files, queue_export
from cases.reports.services import ProgressPercent, needs_producing, produce_file

PROGRESS_EVERY = 5000  # rows between two progress updates


class QueueExportRefused(Exception):
    """The job will not write this workbook; the message is the sentence the requester reads."""


def queue_export_max() -> int:
    """The most rows a queue workbook may have."""
    return int(getattr(settings, "RIGHTSGUARD_QUEUE_EXPORT_MAX_ROWS", 200_000))


def too_many_rows(count: int) -> str:
    return _(
        "%(n)s cases are more than a workbook may hold (at most %(max)s); export them as CSV, or narrow the filter."
    ) % {"n": count, "max": queue_export_max()}


def filters_as_json(filters: QueueFilters) -> dict[str, Any]:
    """The filters that are set, as JSON values (tuples as lists, moments in ISO 8601 with their offset)."""
    stored: dict[str, Any] = {}
    for field in dataclasses.fields(filters):
        value = getattr(filters, field.name)
        if value == field.default:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        stored[field.name] = value
    return stored


def filters_from_json(stored: dict[str, Any]) -> QueueFilters:
    """The filters ``filters_as_json`` kept; a name the filters no longer have is an error, never ignored (ignoring
    it would list more cases than the page did)."""
    hints = typing.get_type_hints(QueueFilters)
    values: dict[str, Any] = {}
    for name, value in stored.items():
        hint = hints[name]  # KeyError: not a filter (any more)
        kinds = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
        if value is not None and datetime in kinds:
            value = datetime.fromisoformat(value)
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[name] = value
    return QueueFilters(**values)


def queue_file(export: QueueExport) -> str:
    """The workbook's name in the exports storage (cases/reports/files.py): the export's id, so a rerun replaces,
    never duplicates."""
    return files.file_name("queue", export.pk, "xlsx")


def download_name(export: QueueExport) -> str:
    return f"rightsguard-queue-{timezone.localdate(export.created_at):%Y%m%d}.xlsx"


def log_queue_export(
    *,
    user: User,
    fmt: str,
    rows: int,
    query: str,
    source_ip: str | None,
    via: str = "",
    action: str = AccessAction.EXPORT,
) -> AccessLog:
    """The access-log row of a queue export: format, rows, how (a background job's number) and the page's filter."""
    how = f" via={via}" if via else ""
    return AccessLog.objects.create(
        user=user,
        action=action,
        object_ref=f"queue format={fmt} rows={rows}{how} filter={query}"[:200],
        at=timezone.now(),
        source_ip=source_ip or None,
    )


@transaction.atomic
def request_queue_export(
    *, user: User, filters: QueueFilters, order: str, query: str, rows: int, language: str, source_ip: str | None
) -> QueueExport:
    """Keep the request, log it, and start the job once the row is committed (the worker reads it). The same
    workbook asked for again while one is waiting or under way (a second click, a resent form) is that one: no second
    job is started."""
    if rows > queue_export_max():
        raise QueueExportRefused(too_many_rows(rows))
    User.objects.select_for_update().filter(pk=user.pk).exists()  # one request of this user at a time
    waiting = QueueExport.objects.filter(
        requested_by=user,
        filters=filters_as_json(filters),
        order=order,
        language=language,
        status__in=(ExportStatus.PENDING, ExportStatus.RUNNING),
    ).first()
    if waiting is not None:
        return waiting
    export = QueueExport.objects.create(
        requested_by=user,
        filters=filters_as_json(filters),
        order=order,
        query=query,
        language=language,
        rows=rows,
        created_at=timezone.now(),
    )
    log_queue_export(user=user, fmt="xlsx", rows=rows, query=query, source_ip=source_ip, via=f"task:{export.pk}")
    outbox.enqueue("cases.reports.export_queue", [export.pk, language], key=f"queue-export:{export.pk}")
    return export


def _counted(rows: Iterator[list[Any]], total: int, progress: ProgressPercent) -> Iterator[list[Any]]:
    """``rows`` unchanged, the progress told every few thousand (5 … 95 %)."""
    for done, row in enumerate(rows):
        if done and done % PROGRESS_EVERY == 0:
            progress(5 + 90 * done // max(total, 1))
        yield row


def failure_sentence(export: QueueExport) -> str:
    """What the requester reads about a failed workbook."""
    if export.refusal == QueueExportRefusal.TOO_MANY:
        return too_many_rows(export.rows)
    if export.refusal == QueueExportRefusal.NO_QUEUE:
        return _("You no longer supervise a unit, so the workbook was not prepared.")
    return _("The workbook could not be prepared. Ask for it again from the queue, or tell your system administrator.")


def produce_queue_export(*, export_id: int) -> QueueExport:
    """The job's work, safe to run twice (``services.needs_producing``). A refusal (the requester
    no longer works the queue, or more rows than a workbook may hold) leaves the export failed, saying why."""
    export = QueueExport.objects.select_related("requested_by").get(pk=export_id)
    name = queue_file(export)
    if not needs_producing(export, name):
        return export
    jobs = QueueExport.objects.all()
    actor = actor_for(export.requested_by)
    cases: QuerySet[Case] = queue_cases(actor, filters_from_json(export.filters))
    total = cases.order_by().count()
    refusal = ""
    if not policy.works_the_queue(actor):
        refusal = QueueExportRefusal.NO_QUEUE
    elif total > queue_export_max():
        refusal = QueueExportRefusal.TOO_MANY
    jobs.filter(pk=export_id).update(rows=total, refusal=refusal)
    if refusal:
        jobs.filter(pk=export_id).update(status=ExportStatus.FAILED, error=refusal, finished_at=timezone.now())
    else:

        def render(out: IO[bytes], progress: ProgressPercent) -> None:
            progress(5)
            queue_export.write_xlsx(_counted(queue_export.export_rows(cases, export.order), total, progress), out)

        produce_file(jobs=jobs, export_id=export_id, name=name, render=render)
    export.refresh_from_db()
    return export
