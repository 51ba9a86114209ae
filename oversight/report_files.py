"""A campaign's report as the page shows it and as files: tables (grids) and charts with labels in the active language,
then CSV, XLSX and PDF, on the yearly report's building blocks (cases/reports: the grid renderers, the formula-safe CSV
writer, the bar rows of the PDF charts, the PDF machinery with its CJK font and footer).

The figures come from ``report.campaign_report`` and are the same in every format; only their presentation differs.
Every text — the campaign's name, unit names — reaches the formats as data: escaped in HTML and in the PDF, guarded
against formulas in the CSV, written as strings in the XLSX, never put into a file name.
"""

import io
from typing import Any, BinaryIO

from django.utils import formats
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from cases.reports.cells import csv_writer
from cases.reports.charts import CJK_FONT, pdf_chart
from cases.reports.grid import (
    Column,
    Grid,
    GridFormats,
    GridRow,
    add_grid_chart,
    display_grid,
    grid_csv_rows,
    linked_grid,
    write_grid_sheet,
)
from cases.reports.layout import Chart, Series
from cases.reports.page import chart_data
from cases.reports.pdf import page_counter_parts, render_pdf
from cases.reports.xlsx import sheet_name
from oversight.choices import Measure, ProblemType, PursuitStatus
from oversight.report import CampaignReport, figure_label

FORMATS = ("csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def file_name(report: CampaignReport, fmt: str) -> str:
    """By the campaign's id: its name is the user's text, which has no place in a header."""
    return f"rightsguard-campaign-{report.campaign.pk}-report.{fmt}"


def _day(value: Any) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def meta(report: CampaignReport) -> list[tuple[str, str]]:
    """What the report is about, label and value: the header of every format."""
    c = report.campaign
    return [
        (_("Campaign"), c.name),
        (_("Kind"), str(c.get_kind_display())),
        (_("Owner unit"), str(c.owner_unit)),
        (_("Period"), f"{_day(c.period_start)} – {_day(c.period_end)}"),
        (_("State"), str(c.get_state_display())),
        (_("Figures as of"), _day(report.as_of)),
    ]


def generated_label(report: CampaignReport) -> str:
    return formats.date_format(report.generated_at, "DATETIME_FORMAT")


# --- the tables ----------------------------------------------------------------------------------------------------


def _rows(report: CampaignReport, values: Any) -> tuple[GridRow, ...]:
    """A row per sub-unit, then the total, each with ``values(figures)``."""
    return (
        *(GridRow(str(r.unit), tuple(values(r.figures))) for r in report.rows),
        GridRow(_("Total"), tuple(values(report.total)), total=True),
    )


def report_grids(report: CampaignReport) -> tuple[Grid, ...]:
    sub_unit = _("Sub-unit")
    empty = _("No selected cases to count.")
    main = tuple(
        Column(figure_label(key), key=key)
        for key in (
            "selected",
            "reviewed",
            "problems",
            "rectified",
            "rectified_on_time",
            "rectified_late",
            "overdue",
            "made_up",
            "officers_accountable",
        )
    )
    grids = [
        Grid(
            key="figures",
            title=_("Figures by sub-unit"),
            label_title=sub_unit,
            columns=main,
            rows=_rows(report, lambda f: (getattr(f, c.key) for c in main)),
            note=_(
                "Rectified on time: on or before the rectify-by date. Overdue: not rectified and past that date on "
                "%(day)s. Officers held accountable: each officer once, however many decisions; the total counts each "
                "officer once over the campaign."
            )
            % {"day": _day(report.as_of)},
            empty=empty,
        ),
        Grid(
            key="problems",
            title=_("Problems found by type"),
            label_title=sub_unit,
            columns=tuple(Column(str(label), key=code) for code, label in ProblemType.choices),
            rows=_rows(report, lambda f: (f.problems_by_type[t] for t in ProblemType.values)),
            empty=empty,
        ),
        Grid(
            key="accountability",
            title=_("Accountability"),
            label_title=sub_unit,
            columns=(
                Column(_("Officers held accountable"), key="officers_accountable"),
                Column(_("Accountability decisions"), key="accountability_records"),
                *(Column(str(label), key=code) for code, label in Measure.choices),
            ),
            rows=_rows(
                report,
                lambda f: (
                    f.officers_accountable,
                    f.accountability_records,
                    *(f.accountability_by_measure[m] for m in Measure.values),
                ),
            ),
            note=_("Each decision counts under its measure: one officer may receive two measures."),
            empty=empty,
        ),
    ]
    if report.pursuit:
        grids.append(
            Grid(
                key="pursuit",
                title=_("Fugitive pursuit"),
                label_title=sub_unit,
                columns=(
                    Column(_("Fugitives pursued"), key="pursued"),
                    *(Column(str(label), key=code) for code, label in PursuitStatus.choices),
                    Column(_("Still at large"), key="still_at_large"),
                    Column(_("Across the border"), key="cross_border"),
                ),
                rows=_rows(
                    report,
                    lambda f: (
                        f.pursued,
                        *(f.pursuit_by_status[s] for s in PursuitStatus.values),
                        f.still_at_large,
                        f.cross_border,
                    ),
                ),
                note=_("Still at large: at large or located, not yet caught. Across the border: whatever the status."),
                empty=empty,
            )
        )
    return tuple(grids)


def key_figures(report: CampaignReport) -> list[tuple[str, int]]:
    """The headline figures of the page's cards and the PDF's first table."""
    t = report.total
    figures = [
        (_("Cases selected"), t.selected),
        (_("Cases reviewed"), t.reviewed),
        (_("Problems found"), t.problems),
        (_("Rectified on time"), t.rectified_on_time),
        (_("Overdue rectifications"), t.overdue),
        (_("Cases made up"), t.made_up),
        (_("Officers held accountable"), t.officers_accountable),
    ]
    if report.pursuit:
        figures += [
            (_("Fugitives pursued"), t.pursued),
            (pgettext("fugitive pursuit", "Arrested"), t.pursuit_by_status[PursuitStatus.ARRESTED]),
            (_("Still at large"), t.still_at_large),
        ]
    return figures


# --- the charts ----------------------------------------------------------------------------------------------------


def _chart(key: str, title: str, table: str, labels: list[str], series: list[tuple[str, list[int]]]) -> Chart:
    return Chart(
        key=key,
        title=title,
        kind="hbar",
        labels=tuple(labels),
        series=tuple(Series(name, tuple(float(v) for v in values)) for name, values in series),
        table=table,
        rows=tuple(range(len(labels))),
        span=(0, len(labels)),
    )


def report_charts(report: CampaignReport) -> tuple[Chart, ...]:
    units = [str(r.unit) for r in report.rows]
    f = [r.figures for r in report.rows]
    types = [(code, str(label)) for code, label in ProblemType.choices if report.total.problems_by_type[code]]
    charts = [
        _chart(
            "reviewed",
            _("Cases selected and reviewed by sub-unit"),
            "figures",
            units,
            [(_("Cases selected"), [x.selected for x in f]), (_("Cases reviewed"), [x.reviewed for x in f])],
        ),
        _chart(
            "problem_types",
            _("Problems found by type"),
            "problems",
            [label for _code, label in types],
            [(_("Problems found"), [report.total.problems_by_type[code] for code, _label in types])],
        ),
        _chart(
            "rectification",
            _("Problems found and rectified on time by sub-unit"),
            "figures",
            units,
            [
                (_("Problems found"), [x.problems for x in f]),
                (_("Rectified on time"), [x.rectified_on_time for x in f]),
            ],
        ),
    ]
    if report.pursuit:
        statuses = [(code, str(label)) for code, label in PursuitStatus.choices]
        charts.append(
            _chart(
                "pursuit",
                _("Fugitives by where their pursuit stands"),
                "pursuit",
                [label for _code, label in statuses],
                [(_("Fugitives pursued"), [report.total.pursuit_by_status[code] for code, _label in statuses])],
            )
        )
    return tuple(charts)


# --- the page ------------------------------------------------------------------------------------------------------


def page_context(report: CampaignReport) -> dict[str, Any]:
    grids = report_grids(report)
    charts = report_charts(report)
    return {
        "report": report,
        "meta": meta(report),
        "kpis": key_figures(report),
        "grids": [(grid, linked_grid(grid)) for grid in grids],
        "charts": charts,
        "chart_data": chart_data(charts),
        "downloads": [
            ("csv", _("Download CSV")),
            ("xlsx", _("Download Excel")),
            ("pdf", _("Download PDF")),
        ],
    }


# --- the files -----------------------------------------------------------------------------------------------------


def write_csv(report: CampaignReport, out: BinaryIO) -> None:
    """UTF-8 with a byte-order mark (spreadsheet programs then read Chinese); every cell through the formula guard."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv_writer(text)
        writer.writerow([_("RightsGuard campaign report")])
        for label, value in meta(report):
            writer.writerow([label, value])
        writer.writerow([_("Generated"), generated_label(report)])
        for grid in report_grids(report):
            writer.writerow([])
            for line in grid_csv_rows(grid):
                writer.writerow(line)
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open


def write_xlsx(report: CampaignReport, out: BinaryIO) -> None:
    """A summary sheet, a sheet per table with real numbers, and a sheet of native charts pointing at them."""
    import xlsxwriter  # here, not with the module: only a workbook download needs it

    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties({"title": _("RightsGuard campaign report"), "subject": str(report.campaign.owner_unit)})
    f = GridFormats(workbook)
    taken: set[str] = set()
    summary = workbook.add_worksheet(sheet_name(_("Summary"), taken))
    summary.set_column(0, 0, 30)
    summary.set_column(1, 1, 60)
    summary.write_string(0, 0, _("RightsGuard campaign report"), f.title)
    lines = [*meta(report), (_("Generated"), generated_label(report))]
    for i, (label, value) in enumerate(lines, start=1):
        summary.write_string(i, 0, label, f.label)
        summary.write_string(i, 1, value)
    for i, (heading, figure) in enumerate(key_figures(report), start=len(lines) + 2):
        summary.write_string(i, 0, heading, f.label)
        summary.write_number(i, 1, figure, f.numbers["int"])
    sheets: dict[str, str] = {}
    grids = {grid.key: grid for grid in report_grids(report)}
    for grid in grids.values():
        sheets[grid.key] = sheet_name(grid.title, taken)
        write_grid_sheet(workbook.add_worksheet(sheets[grid.key]), grid, f)
    charts = workbook.add_worksheet(sheet_name(_("Charts"), taken))
    figures, units = grids["figures"], len(report.rows)
    anchor = 0
    for columns, title in (
        (("selected", "reviewed"), _("Cases selected and reviewed by sub-unit")),
        (("problems", "rectified_on_time"), _("Problems found and rectified on time by sub-unit")),
    ):
        # Over the sub-units' rows, without the total's.
        chart = add_grid_chart(workbook, sheets["figures"], figures, columns=columns, title=title, rows=units)
        charts.insert_chart(anchor, 0, chart)
        anchor += max(260, 24 * units + 90) // 20 + 2
    workbook.close()


def pdf_context(report: CampaignReport) -> dict[str, Any]:
    return {
        "report": report,
        "meta": meta(report),
        "generated": generated_label(report),
        "kpis": key_figures(report),
        "grids": [(grid, display_grid(grid)) for grid in report_grids(report)],
        "charts": [pdf_chart(chart) for chart in report_charts(report)],
        "language": get_language(),
        "font": CJK_FONT,
        "footer_left": f"{report.campaign.name} · {report.campaign.owner_unit}",
        "footer_centre": _("Generated %(time)s") % {"time": generated_label(report)},
        "footer_right": page_counter_parts(),
    }


def write_pdf(report: CampaignReport, out: BinaryIO) -> None:
    render_pdf("oversight/report_pdf.html", pdf_context(report), out)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}


def render_file(report: CampaignReport, fmt: str) -> bytes:
    """The report in one format, in the active language."""
    buffer = io.BytesIO()
    WRITERS[fmt](report, buffer)
    return buffer.getvalue()
