"""Producing report files: rendering a format, recording every export in the access log, and background exports.

A file is rendered in the language active when ``render_export`` runs; the web request, the Celery task (which
activates the requester's language) and the management command each set it first.
"""

from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import OrgUnit, User
from cases import outbox
from cases.choices import AccessAction
from cases.models import AccessLog, ExportStatus, QueueExport, ReportExport, ReportFormat
from cases.reports import files
from cases.reports.detail import detail_cases, write_detail_csv
from cases.reports.yearly import yearly_report

ProgressPercent = Callable[[int], None]

EXTENSIONS = {ReportFormat.CSV: "csv", ReportFormat.XLSX: "xlsx", ReportFormat.PDF: "pdf", ReportFormat.DETAIL: "csv"}
CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.DETAIL: "text/csv; charset=utf-8",
}
# Imported when used: WeasyPrint takes a while to load (Pango, HarfBuzz), and most processes never render a PDF.
SUMMARY_WRITERS = {
    ReportFormat.CSV: "cases.reports.csv.write_csv",
    ReportFormat.XLSX: "cases.reports.xlsx.write_xlsx",
    ReportFormat.PDF: "cases.reports.pdf.write_pdf",
}


def inline_export_max() -> int:
    """Exports of fewer cases than this run inside the request; bigger ones go to a Celery worker."""
    return int(getattr(settings, "RIGHTSGUARD_INLINE_EXPORT_MAX", 20000))


def year_case_count(*, unit: OrgUnit, year: int) -> int:
    """Cases of the report year in the subtree: what decides between an inline and a background export."""
    return detail_cases(unit=unit, year=year).order_by().count()


def runs_in_background(*, unit: OrgUnit, year: int) -> bool:
    return year_case_count(unit=unit, year=year) >= inline_export_max()


def download_name(*, unit: OrgUnit, year: int, fmt: str) -> str:
    stem = f"rightsguard-{year}-{unit.code}"
    if fmt == ReportFormat.DETAIL:
        stem += "-cases"
    return f"{stem}.{EXTENSIONS[ReportFormat(fmt)]}"


def export_object_ref(*, unit: OrgUnit, year: int, fmt: str, language: str, via: str) -> str:
    """What the access log says was exported: scope, year, format, language and how."""
    return f"yearly-report unit={unit.code} year={year} format={fmt} lang={language} via={via}"[:200]


def record_export(
    *,
    user: User | None,
    unit: OrgUnit,
    year: int,
    fmt: str,
    language: str,
    via: str,
    source_ip: str | None = None,
    action: str = AccessAction.EXPORT,
) -> AccessLog:
    """Append the access-log row for an export (``user`` is None for the management command)."""
    return AccessLog.objects.create(
        user=user,
        action=action,
        object_ref=export_object_ref(unit=unit, year=year, fmt=fmt, language=language, via=via),
        at=timezone.now(),
        source_ip=source_ip or None,
    )


def render_export(
    *, unit: OrgUnit, year: int, fmt: str, out: IO[bytes], progress: ProgressPercent | None = None
) -> None:
    """Write one format of the year's report for ``unit`` to ``out``."""
    step = progress or (lambda _pct: None)
    if fmt == ReportFormat.DETAIL:
        # 5 … 95 % while rows stream; the count behind it is one indexed query.
        write_detail_csv(
            unit=unit,
            year=year,
            out=out,
            progress=lambda done, total: step(5 + (90 * done // total if total else 90)),
        )
    else:
        step(5)
        report = yearly_report(unit=unit, year=year)
        step(60)
        import_string(SUMMARY_WRITERS[ReportFormat(fmt)])(report, out)
    step(100)


def export_file(export: ReportExport) -> str:
    """A background export's file's name in the exports storage (cases/reports/files.py): the export's id, so a rerun
    replaces, never duplicates."""
    return files.file_name("yearly-report", export.pk, EXTENSIONS[ReportFormat(export.format)])


@transaction.atomic
def request_export(
    *, user: User, unit: OrgUnit, year: int, fmt: str, language: str, source_ip: str | None
) -> ReportExport:
    """Queue a background export, log it, and start the task once the row is committed (the worker reads it)."""
    export = ReportExport.objects.create(
        requested_by=user, unit=unit, year=year, format=fmt, language=language, created_at=timezone.now()
    )
    record_export(user=user, unit=unit, year=year, fmt=fmt, language=language, via="task", source_ip=source_ip)
    outbox.enqueue("cases.reports.export_yearly_report", [export.pk, language], key=f"export:{export.pk}")
    return export


Render = Callable[[IO[bytes], ProgressPercent], None]


def produce_file(*, jobs: QuerySet[Any], export_id: int, name: str, render: Render) -> None:
    """A background export's file: the row ``export_id`` of ``jobs`` marked running, its progress kept (1 … 99 %),
    the file put whole into the exports storage under ``name`` (``files.write``), so a reader never sees half a file;
    then marked done (100 %) with the file's name, or failed with the error, which is raised again."""

    def update(**fields: object) -> None:
        # Plain UPDATEs outside any transaction, so the page polling from another process sees each step at once.
        jobs.filter(pk=export_id).update(**fields)

    update(status=ExportStatus.RUNNING, progress=1, error="", finished_at=None)
    last = [1]

    def progress(pct: int) -> None:
        pct = max(1, min(99, pct))  # 100 only once the file is in place
        if pct > last[0]:
            last[0] = pct
            update(progress=pct)

    try:
        files.write(name, lambda out: render(out, progress))
    except Exception as error:
        update(status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        raise
    update(status=ExportStatus.DONE, progress=100, file_name=name, finished_at=timezone.now())


def needs_producing(export: ReportExport | QueueExport, name: str) -> bool:
    """Whether a job's run has work to do: a finished export with its file, or one that expired, is left alone."""
    if export.status == ExportStatus.EXPIRED:
        return False
    return not (export.status == ExportStatus.DONE and files.is_stored(name))


def produce_export(*, export_id: int) -> ReportExport:
    """The background export's work, safe to run twice (``needs_producing``)."""
    export = ReportExport.objects.select_related("unit").get(pk=export_id)
    name = export_file(export)
    if not needs_producing(export, name):
        return export
    produce_file(
        jobs=ReportExport.objects.all(),
        export_id=export_id,
        name=name,
        render=lambda out, progress: render_export(
            unit=export.unit, year=export.year, fmt=export.format, out=out, progress=progress
        ),
    )
    export.refresh_from_db()
    return export
