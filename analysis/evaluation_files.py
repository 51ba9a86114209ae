"""A case analysis and evaluation report as its page shows it and as files (PDF, XLSX), on the reports' building
blocks (cases/reports: the grids and their renderers, the PDF charts, the PDF machinery with its CJK font and
footer), as the campaign report (oversight/report_files.py).

The figures are a ``Reading`` (analysis/evaluation.py): what this reader may be told, from the frozen figures of an
approved report or the live ones before. Every text — the lessons and measures, unit and people's names, a case's
reference, a masked suspect's name — reaches the formats as data: escaped in HTML and in the PDF, written as strings
in the XLSX (never a formula), and never into a file name, which names the report by its id.
"""

import io
from collections import Counter
from datetime import datetime
from typing import Any, BinaryIO

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import unit_name
from analysis import explain
from analysis.choices import EvaluationState, WarningKind
from analysis.evaluation import Reading
from analysis.figures import change_pct, per_hundred
from analysis.models import EvaluationReport
from cases import dimensions
from cases.reports.charts import CJK_FONT, pdf_chart
from cases.reports.grid import (
    Column,
    Grid,
    GridFormats,
    GridRow,
    add_grid_chart,
    display_grid,
    linked_grid,
    write_grid_sheet,
)
from cases.reports.layout import Chart, Series
from cases.reports.page import chart_data
from cases.reports.pdf import page_counter_parts, render_pdf
from cases.reports.xlsx import sheet_name
from rightsguard.text import when

FORMATS = ("pdf", "xlsx")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def file_name(report: EvaluationReport, fmt: str) -> str:
    """By the report's id: the unit's name and the lessons are people's text, which has no place in a header."""
    return f"rightsguard-evaluation-{report.pk}.{fmt}"


def _person(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _unit_title(figures: dict[str, Any]) -> str:
    unit = figures["unit"]
    return f"{unit_name(unit['name'], unit['name_en'])} ({unit['code']})"


def generated_label(reading: Reading) -> str:
    return when(reading.generated_at)


def meta(report: EvaluationReport, reading: Reading) -> list[tuple[str, str]]:
    """What the report is about and where it stands, label and value: the header of every format."""
    rows = [
        (_("Unit"), _unit_title(reading.figures)),
        (_("Period"), reading.period.label()),
        (_("Compared with"), reading.period.previous().label()),
        (_("State"), str(report.get_state_display())),
        (
            _("Figures as approved on") if report.state == EvaluationState.APPROVED else _("Figures as of"),
            generated_label(reading),
        ),
        (_("Lessons written by"), _person(report.written_by)),
    ]
    if report.submitted_at:
        rows.append((_("Submitted by"), f"{_person(report.submitted_by)} · {when(report.submitted_at)}"))
    if report.approved_at:
        rows.append((_("Approved by"), f"{_person(report.approved_by)} · {when(report.approved_at)}"))
    return rows


# --- the tables ----------------------------------------------------------------------------------------------------


def summary_grid(reading: Reading) -> Grid:
    f = reading.figures
    now, before = reading.period.label(), reading.period.previous().label()
    officers_now, officers_before = f["officers"]["current"], f["officers"]["previous"]

    def row(label: str, key: str) -> GridRow:
        current, previous = f[key]["current"], f[key]["previous"]
        return GridRow(
            label,
            (
                current,
                previous,
                change_pct(current, previous),
                per_hundred(current, officers_now),
                per_hundred(previous, officers_before),
            ),
        )

    return Grid(
        key="summary",
        title=_("Cases and officers injured"),
        label_title=_("Figure"),
        columns=(
            Column(now, key="current"),
            Column(before, key="previous"),
            Column(_("Change (%)"), "pct", key="change"),
            Column(_("Per 100 officers, %(period)s") % {"period": now}, "ratio", key="rate"),
            Column(_("Per 100 officers, %(period)s") % {"period": before}, "ratio", key="rate_previous"),
        ),
        rows=(
            row(_("Cases"), "cases"),
            row(_("Officers injured (minor injury or worse)"), "injured"),
            GridRow(
                _("Officer strength"),
                (
                    officers_now,
                    officers_before,
                    None
                    if officers_now is None or officers_before is None
                    else change_pct(officers_now, officers_before),
                    None,
                    None,
                ),
            ),
        ),
        note=_(
            "Cases: submitted applications of the unit and the units below it, by the local month they were "
            "submitted in. Officers injured: involved officers, regular and auxiliary, with an appraised minor injury "
            "or worse. Per 100 officers: by the officer strength of the period's year (regular and auxiliary), where "
            "the units recorded it; a quarter's rate counts the quarter's cases."
        ),
    )


def month_grid(reading: Reading) -> Grid:
    period, previous = reading.period, reading.period.previous()
    rows = [
        GridRow(str(MONTHS[m["month"]]), (m["cases"], m["previous"], change_pct(m["cases"], m["previous"])))
        for m in reading.figures["months"]
    ]
    cases = reading.figures["cases"]
    rows.append(
        GridRow(
            _("Total"),
            (cases["current"], cases["previous"], change_pct(cases["current"], cases["previous"])),
            total=True,
        )
    )
    return Grid(
        key="months",
        title=_("Cases by month of submission"),
        label_title=_("Month"),
        columns=(
            Column(str(period.year), key="current"),
            Column(str(previous.year), key="previous"),
            Column(_("Change (%)"), "pct", key="change"),
        ),
        rows=tuple(rows),
    )


def _share(n: int, total: int) -> float | None:
    return round(n * 100 / total, 1) if total else None


def top_grid(reading: Reading, dimension: str) -> Grid:
    key = "scenarios" if dimension == dimensions.SCENARIO else "places"
    top = reading.figures[key]
    total = top["total"]
    rows = [
        GridRow(dimensions.label(dimension, item["code"]), (item["cases"], _share(item["cases"], total)))
        for item in top["top"]
    ]
    if top["other"]:
        other = _("Other duty scenarios") if key == "scenarios" else _("Other place categories")
        rows.append(GridRow(other, (top["other"], _share(top["other"], total))))
    if top["not_recorded"]:
        rows.append(
            GridRow(str(dimensions.NOT_RECORDED_LABEL), (top["not_recorded"], _share(top["not_recorded"], total)))
        )
    if rows:
        rows.append(GridRow(_("Total"), (total, 100.0), total=True))
    return Grid(
        key=key,
        title=_("Top duty scenarios") if key == "scenarios" else _("Top place categories"),
        label_title=_("Duty scenario") if key == "scenarios" else _("Place category"),
        columns=(Column(_("Cases"), key="cases"), Column(_("Share (%)"), "pct", key="share")),
        rows=tuple(rows),
        note=_(
            "The five most frequent recorded, then the others together; cases with nothing recorded are counted "
            "apart. Shares are of all the period's cases."
        ),
        empty=_("No cases in this period."),
    )


def repeat_grid(reading: Reading) -> Grid:
    counts = {"suspects": reading.repeat_suspects, "cases": reading.repeat_cases}
    said = _(
        "%(suspects)d suspects in %(cases)d of the period's cases have earlier cases against police in the unit's area."
    )
    if reading.repeat_listed:
        note = (
            said % counts
            + " "
            + _(
                "Names are masked; the earlier cases are those on record in the unit's area whose suspect has the same "
                "ID number."
            )
        )
        empty = _("No suspect of the period's cases has earlier cases against police in the unit's area.")
    else:
        note = ""
        empty = (
            said % counts
            + " "
            + _("Which suspects and cases is told only to the supervisors of the unit or of a unit above it.")
            if reading.repeat_suspects
            else _("No suspect of the period's cases has earlier cases against police in the unit's area.")
        )
    return Grid(
        key="repeat",
        title=_("Repeat attackers"),
        label_title=_("Case"),
        columns=(
            Column(_("Suspect (masked)"), "text", key="suspect"),
            Column(_("Earlier cases against police"), key="earlier"),
        ),
        # On the page each reference leads to its case: only the readers who are told of the match see the row, and
        # they cover the case.
        rows=tuple(
            GridRow(r["reference"], (r["suspect"], r["earlier"]), label_link=reverse("cases:detail", args=[r["case"]]))
            for r in reading.repeat_rows
        ),
        note=note,
        empty=empty,
    )


def warning_kind_grid(reading: Reading) -> Grid:
    raised: Counter[str] = Counter()
    acknowledged: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for w in reading.warnings:
        raised[w["kind"]] += 1
        acknowledged[w["kind"]] += w["acknowledged"]
        resolved[w["kind"]] += w["resolved"]

    def values(kinds: list[str]) -> tuple[int, ...]:
        r, a, s = (sum(c[k] for k in kinds) for c in (raised, acknowledged, resolved))
        return (r, a, s, r - a)

    rows = [GridRow(str(label), values([code])) for code, label in WarningKind.choices]
    rows.append(GridRow(_("Total"), values(list(WarningKind.values)), total=True))
    return Grid(
        key="warnings",
        title=_("Early warnings raised in the period"),
        label_title=_("Kind"),
        columns=(
            Column(_("Warnings raised"), key="raised"),
            Column(_("Acknowledged"), key="acknowledged"),
            Column(_("Resolved"), key="resolved"),
            Column(_("Still open"), key="open"),
        ),
        rows=tuple(rows),
        note=_(
            "The warnings owned by the unit or a unit below it and raised in the period, as they stood when the "
            "figures were read: acknowledged counts those resolved since too. Only the warnings you may open are "
            "counted."
        ),
    )


def warning_state(w: dict[str, Any]) -> str:
    if w["resolved"]:
        return _("Resolved")
    return _("Acknowledged") if w["acknowledged"] else _("Open")


def warning_list_grid(reading: Reading) -> Grid:
    rows = []
    for w in reading.warnings:
        owner = unit_name(w["owner"]["name"], w["owner"]["name_en"])
        rows.append(
            GridRow(
                when(datetime.fromisoformat(w["raised_at"]).date()),
                (owner, warning_state(w), explain.explanation(w["kind"], w["figures"], owner)),
            )
        )
    return Grid(
        key="warning_list",
        title=_("The warnings"),
        label_title=_("Raised"),
        columns=(
            Column(_("Unit"), "text", key="unit"),
            Column(_("State"), "text", key="state"),
            Column(_("What it found"), "text", key="sentence"),
        ),
        rows=tuple(rows),
        empty=_("No warning you may open was raised in this period."),
    )


def report_grids(reading: Reading) -> tuple[Grid, ...]:
    return (
        summary_grid(reading),
        month_grid(reading),
        top_grid(reading, dimensions.SCENARIO),
        top_grid(reading, dimensions.PLACE),
        repeat_grid(reading),
        warning_kind_grid(reading),
        warning_list_grid(reading),
    )


def key_figures(reading: Reading) -> list[tuple[str, str]]:
    """The headline figures of the page's cards."""
    f = reading.figures
    cases, injured = f["cases"], f["injured"]
    change = change_pct(cases["current"], cases["previous"])
    rate = per_hundred(cases["current"], f["officers"]["current"])
    return [
        (_("Cases"), str(cases["current"])),
        (_("Change on a year earlier"), "—" if change is None else f"{change:+.1f}%"),
        (_("Officers injured"), str(injured["current"])),
        (_("Cases per 100 officers"), "—" if rate is None else f"{rate:.2f}"),
    ]


# --- the charts ----------------------------------------------------------------------------------------------------


def report_charts(reading: Reading) -> tuple[Chart, ...]:
    months = reading.figures["months"]
    charts = [
        Chart(
            key="months",
            title=_("Cases by month of submission"),
            kind="bar",
            labels=tuple(str(MONTHS[m["month"]]) for m in months),
            series=(
                Series(str(reading.period.year), tuple(float(m["cases"]) for m in months)),
                Series(str(reading.period.previous().year), tuple(float(m["previous"]) for m in months)),
            ),
            table="months",
            rows=tuple(range(len(months))),
            span=(0, len(months)),
        )
    ]
    for dimension, key, title in (
        (dimensions.SCENARIO, "scenarios", _("Top duty scenarios")),
        (dimensions.PLACE, "places", _("Top place categories")),
    ):
        top = reading.figures[key]["top"]
        charts.append(
            Chart(
                key=key,
                title=title,
                kind="hbar",
                labels=tuple(dimensions.label(dimension, item["code"]) for item in top),
                series=(Series(reading.period.label(), tuple(float(item["cases"]) for item in top)),),
                table=key,
                rows=tuple(range(len(top))),
                span=(0, len(top)),
            )
        )
    return tuple(charts)


# --- the page ------------------------------------------------------------------------------------------------------


def page_context(report: EvaluationReport, reading: Reading) -> dict[str, Any]:
    charts = report_charts(reading)
    return {
        "reading": reading,
        "meta": meta(report, reading),
        "kpis": key_figures(reading),
        "grids": [(grid, linked_grid(grid)) for grid in report_grids(reading)],
        "charts": charts,
        "chart_data": chart_data(charts),
        "downloads": [("pdf", _("Download PDF")), ("xlsx", _("Download Excel"))],
    }


# --- the files -----------------------------------------------------------------------------------------------------


def write_xlsx(report: EvaluationReport, reading: Reading, out: BinaryIO) -> None:
    """A summary sheet, the lessons and measures (a line a row), a sheet per table, and a chart of the months."""
    import xlsxwriter  # here, not with the module: only a workbook download needs it

    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": _("Case analysis and evaluation"), "subject": f"report {report.pk}"})
    f = GridFormats(workbook)
    taken: set[str] = set()
    summary = workbook.add_worksheet(sheet_name(_("Summary"), taken))
    summary.set_column(0, 0, 30)
    summary.set_column(1, 1, 60)
    summary.write_string(0, 0, _("Case analysis and evaluation"), f.title)
    for i, (label, value) in enumerate(meta(report, reading), start=1):
        summary.write_string(i, 0, label, f.label)
        summary.write_string(i, 1, value)
    lessons = workbook.add_worksheet(sheet_name(_("Lessons and measures"), taken))
    lessons.set_column(0, 0, 120)
    lessons.write_string(0, 0, _("Lessons and measures"), f.title)
    for i, line in enumerate(report.lessons.splitlines() or [""], start=2):
        lessons.write_string(i, 0, line)
    sheets: dict[str, str] = {}
    grids = {grid.key: grid for grid in report_grids(reading)}
    for grid in grids.values():
        sheets[grid.key] = sheet_name(grid.title, taken)
        ws = workbook.add_worksheet(sheets[grid.key])
        if grid.rows:
            write_grid_sheet(ws, grid, f)
        else:
            ws.write_string(0, 0, grid.title, f.title)
            ws.write_string(2, 0, grid.empty)
    charts = workbook.add_worksheet(sheet_name(_("Charts"), taken))
    months = grids["months"]
    chart = add_grid_chart(
        workbook,
        sheets["months"],
        months,
        columns=("current", "previous"),
        title=_("Cases by month of submission"),
        kind="bar",
        rows=len(months.rows) - 1,  # without the total
    )
    charts.insert_chart(0, 0, chart)
    workbook.close()


def pdf_context(report: EvaluationReport, reading: Reading) -> dict[str, Any]:
    return {
        "report": report,
        "reading": reading,
        "meta": meta(report, reading),
        "kpis": key_figures(reading),
        "lessons": report.lessons,
        "approved": report.state == EvaluationState.APPROVED,
        "approval": (
            (_person(report.approved_by), when(report.approved_at))
            if report.state == EvaluationState.APPROVED
            else None
        ),
        "return_note": report.return_note if report.state != EvaluationState.APPROVED else "",
        "grids": [(grid, display_grid(grid)) for grid in report_grids(reading)],
        "charts": [pdf_chart(chart) for chart in report_charts(reading)],
        "language": get_language(),
        "font": CJK_FONT,
        "footer_left": f"{_unit_title(reading.figures)} · {reading.period.label()}",
        "footer_centre": _("Generated %(time)s") % {"time": when(timezone.now())},
        "footer_right": page_counter_parts(),
    }


def write_pdf(report: EvaluationReport, reading: Reading, out: BinaryIO) -> None:
    render_pdf("analysis/evaluation_pdf.html", pdf_context(report, reading), out)


WRITERS = {"xlsx": write_xlsx, "pdf": write_pdf}


def render_file(report: EvaluationReport, reading: Reading, fmt: str) -> bytes:
    """The report in one format, in the active language."""
    buffer = io.BytesIO()
    WRITERS[fmt](report, reading, buffer)
    return buffer.getvalue()
