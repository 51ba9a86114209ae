"""The queue as a file: the cases the queue page lists for the same filters and sort, as CSV (streamed) or XLSX.

The rows come from ``queue_cases`` (cases/queue_filters.py), the page's own filter, in the page's order. Like the
report's detail export (cases/reports/detail.py) the file carries no personal data: no names or ID numbers of
suspects, no officers' names or medical details, no narrative, summary or location, which the filer may have written
names into; a case is identified by its reference, the supervisor in charge by name (a work assignment). Every text
cell goes through the CSV injection guard (cases/reports/cells.py, which also streams the CSV in blocks); the workbook
writes text as text cells, never as formulas. The rows come from a server-side cursor, so memory stays flat; the
workbook is built in XlsxWriter's constant-memory mode and is offered up to the inline export limit (larger: CSV).
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import unit_name
from cases.choices import CaseStatus, IncidentKind
from cases.keyset import order_keys
from cases.models import Case
from cases.reports.cells import csv_cell
from cases.reports.yearly import report_timezone

CHUNK_ROWS = 2000
COLUMNS = (
    "reference",
    "kind",
    "status",
    "unit__code",
    "unit__name",
    "unit__name_en",
    "occurred_at",
    "submitted_at",
    "stage_due_at",
    "last_activity_at",
    "assigned_to__full_name",
    "assigned_to__username",
    "is_stalled",
    "has_overdue_referral",
    "is_downgraded",
    "has_review_prompt",
    "is_idle",
)
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def headers() -> list[str]:
    return [
        _("Reference"),
        _("Incident type"),
        _("Status"),
        _("Unit code"),
        _("Unit"),
        _("Occurred"),
        _("Submitted"),
        _("Stage deadline"),
        _("Last activity"),
        _("Assigned"),
        _("Stalled"),
        _("Overdue referral"),
        _("Downgraded"),
        _("Review prompt"),
        _("Idle"),
    ]


def ordered(cases: QuerySet[Case], order: str) -> QuerySet[Case]:
    """``cases`` in the queue page's order: the paginator's keys, cases without a value last."""
    return cases.order_by(*[key.order_by(backwards=False) for key in order_keys(Case, [order])])


def export_rows(cases: QuerySet[Case], order: str) -> Iterator[list[Any]]:
    """The header, then one list per case, labels in the active language."""
    tz = report_timezone()
    kinds = {k: str(v) for k, v in IncidentKind.choices}
    statuses = {k: str(v) for k, v in CaseStatus.choices}

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    yield headers()
    for row in ordered(cases, order).values_list(*COLUMNS).iterator(chunk_size=CHUNK_ROWS):
        (ref, kind, status, code, name, name_en, occurred, submitted, due, activity, full_name, username) = row[:12]
        yield [
            ref,
            kinds.get(kind, kind),
            statuses.get(status, status),
            code,
            unit_name(name, name_en),
            when(occurred),
            when(submitted),
            when(due),
            when(activity),
            full_name or username or "",
            *(int(flag) for flag in row[12:]),
        ]


def write_xlsx(rows: Iterator[Sequence[Any]], out: IO[bytes]) -> None:
    """One sheet, header row frozen; numbers as numbers, every text as a text cell (never a formula)."""
    import xlsxwriter  # here, not with the module: only a workbook export needs it

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(_("Queue")[:31])
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                # The same guard as the CSV's: a file saved again as CSV from the workbook stays safe.
                sheet.write_string(r, c, str(csv_cell(value)), bold if r == 0 else None)
        if r == 0:
            sheet.freeze_panes(1, 0)
    workbook.close()
