"""A unit's training record: who read which typical case (which version) and which guidance tip, and when, for the
supervisors and administrators of the unit (library/policy.py ``read_count_paths``), filtered by period and sub-unit,
and its files (CSV and XLSX, written with the reports' formula-safe writers).

A read is counted once per reader and version (typical cases) or tip, when the reader first opens it (the page, or the
API's answer for one); it is recorded with the unit the reader belonged to within what they read, which this record
goes by."""

import heapq
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import OrgUnit, User
from cases.reports.cells import csv_blocks
from cases.reports.xlsx import sheet_name
from library import policy, selectors
from library.guidance import selectors as tip_selectors
from library.guidance.models import TipRead
from library.models import LibraryRead

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

TYPICAL_CASE, TIP = "typical_case", "tip"
MATERIALS = (TYPICAL_CASE, TIP)
# The page shows the latest reads; the files hold them all.
PAGE_ROWS = 500
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def material_label(material: str) -> str:
    return _("Typical case") if material == TYPICAL_CASE else _("Guidance tip")


@dataclass(frozen=True)
class TrainingFilters:
    unit: OrgUnit  # the reads of officers of this unit's subtree
    start: date | None = None  # from this day (local), included
    end: date | None = None  # to this day (local), included
    material: str = ""  # TYPICAL_CASE, TIP, or "" for both


@dataclass(frozen=True)
class TrainingRow:
    read_at: datetime
    reader: User
    unit: OrgUnit | None
    material: str
    title: str  # in the active language, or the other one
    version: int | None  # the typical case's version; None for a tip
    item: int  # the typical case's or the tip's number


def may_see(actor: Actor, unit: OrgUnit) -> bool:
    """Whether the actor sees the training record of ``unit``: they supervise or administer it or a unit above it."""
    return any(unit.path.startswith(path) for path in policy.read_count_paths(actor))


def default_unit(actor: Actor) -> OrgUnit | None:
    paths = policy.read_count_paths(actor)
    return OrgUnit.objects.filter(path__in=paths).order_by("depth", "path").first() if paths else None


def _window(reads: QuerySet, filters: TrainingFilters) -> QuerySet:
    found = reads.filter(unit__path__startswith=filters.unit.path)
    if filters.start is not None:
        found = found.filter(read_at__gte=timezone.make_aware(datetime.combine(filters.start, time.min)))
    if filters.end is not None:
        found = found.filter(
            read_at__lt=timezone.make_aware(datetime.combine(filters.end + timedelta(days=1), time.min))
        )
    return found.order_by("-read_at", "-id")


def _case_reads(filters: TrainingFilters) -> QuerySet[LibraryRead]:
    reads = LibraryRead.objects.select_related("version", "reader", "unit")
    return _window(reads, filters)


def _tip_reads(filters: TrainingFilters) -> QuerySet[TipRead]:
    return _window(TipRead.objects.select_related("tip", "reader", "unit"), filters)


def _case_rows(reads: Iterable[LibraryRead]) -> Iterator[TrainingRow]:
    for read in reads:
        version = read.version
        yield TrainingRow(
            read.read_at,
            read.reader,
            read.unit,
            TYPICAL_CASE,
            selectors.shown(version).title,
            version.number,
            version.writeup_id,
        )


def _tip_rows(reads: Iterable[TipRead]) -> Iterator[TrainingRow]:
    for read in reads:
        yield TrainingRow(
            read.read_at, read.reader, read.unit, TIP, tip_selectors.shown(read.tip).title, None, read.tip_id
        )


def training_rows(filters: TrainingFilters, limit: int | None = None) -> Iterator[TrainingRow]:
    """The reads of the unit's subtree in the period, the latest first: typical cases and tips merged by time. Two
    queries (streamed when there is no ``limit``) whatever the number of rows."""
    streams: list[Iterator[TrainingRow]] = []
    if filters.material in ("", TYPICAL_CASE):
        reads = _case_reads(filters)
        streams.append(_case_rows(reads[:limit] if limit else reads.iterator(chunk_size=2000)))
    if filters.material in ("", TIP):
        tips = _tip_reads(filters)
        streams.append(_tip_rows(tips[:limit] if limit else tips.iterator(chunk_size=2000)))
    merged = heapq.merge(*streams, key=lambda row: row.read_at, reverse=True)
    for n, row in enumerate(merged):
        if limit is not None and n >= limit:
            return
        yield row


def training_counts(filters: TrainingFilters) -> dict[str, int]:
    """How many reads and distinct readers the record holds."""
    cases, tips = _case_reads(filters).order_by(), _tip_reads(filters).order_by()
    return {
        "typical_case": cases.count() if filters.material in ("", TYPICAL_CASE) else 0,
        "tip": tips.count() if filters.material in ("", TIP) else 0,
        "readers": len(
            set(cases.values_list("reader_id", flat=True).distinct() if filters.material != TIP else [])
            | set(tips.values_list("reader_id", flat=True).distinct() if filters.material != TYPICAL_CASE else [])
        ),
    }


# --- files ---------------------------------------------------------------------------------------------------------


def headers() -> list[str]:
    return [
        _("Read at"),
        _("Officer"),
        _("Username"),
        _("Badge number"),
        _("Unit"),
        _("Unit code"),
        _("Material"),
        _("Number"),
        _("Version"),
        _("Title"),
    ]


def _cells(row: TrainingRow) -> list[str | int | None]:
    reader, unit = row.reader, row.unit
    return [
        timezone.localtime(row.read_at).strftime("%Y-%m-%d %H:%M"),
        reader.full_name,
        reader.username,
        reader.badge_number,
        unit.display_name if unit else "",
        unit.code if unit else "",
        material_label(row.material),
        row.item,
        row.version,
        row.title,
    ]


def csv_file(filters: TrainingFilters) -> Iterator[bytes]:
    """The record as CSV blocks (streamed in constant memory), every cell formula-safe (cases/reports/cells.py)."""
    rows = (_cells(row) for row in training_rows(filters))
    return csv_blocks(_with_header(rows))


def _with_header(rows: Iterable[list[str | int | None]]) -> Iterator[list[str | int | None]]:
    yield list(headers())
    yield from rows


def xlsx_file(filters: TrainingFilters) -> bytes:
    """The record as a workbook: every text written as text (never a formula), numbers as numbers."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1})
    ws: Worksheet = workbook.add_worksheet(sheet_name(_("Training record"), set()))
    for col, text in enumerate(headers()):
        ws.write_string(0, col, text, header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 17)
    ws.set_column(1, 8, 14)
    ws.set_column(9, 9, 50)
    for i, row in enumerate(training_rows(filters), start=1):
        for col, value in enumerate(_cells(row)):
            if value is None:
                ws.write_blank(i, col, None)
            elif isinstance(value, int):
                ws.write_number(i, col, value)
            else:
                ws.write_string(i, col, value)
    workbook.close()
    return buffer.getvalue()


def file_name(filters: TrainingFilters, fmt: str) -> str:
    period = "-".join(d.isoformat() for d in (filters.start, filters.end) if d is not None) or "all"
    return f"training-{filters.unit.code}-{period}.{fmt}"
