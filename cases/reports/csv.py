"""The yearly report as CSV: a short header, then each table with the report year, last year and the change."""

import io
from typing import BinaryIO

from django.utils.translation import gettext as _

from cases.reports.cells import csv_writer
from cases.reports.grid import grid_csv_rows, report_grids
from cases.reports.layout import (
    column_headers,
    figures_as_of_label,
    format_change,
    format_value,
    generated_label,
    report_tables,
    unit_label,
)
from cases.reports.yearly import YearlyReport


def write_csv(report: YearlyReport, out: BinaryIO) -> None:
    """Write the report to a binary stream as UTF-8 with a byte-order mark, so spreadsheet programs read Chinese."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv_writer(text)
        writer.writerow([_("RightsGuard yearly report")])
        writer.writerow([_("Unit"), unit_label(report.unit)])
        writer.writerow([_("Year"), report.year])
        writer.writerow([_("Compared with"), report.previous_year])
        writer.writerow([_("Generated"), generated_label(report)])
        if as_of := figures_as_of_label(report):
            writer.writerow([_("Figures as of"), as_of])
        headers = column_headers(report)
        for table in report_tables(report):
            writer.writerow([])
            writer.writerow([table.title])
            writer.writerow(headers)
            for row in table.rows:
                change, pct = format_change(row)
                writer.writerow(
                    [
                        row.label,
                        format_value(row.current, row.format),
                        format_value(row.previous, row.format),
                        change,
                        pct,
                    ]
                )
        for grid in report_grids(report):
            writer.writerow([])
            for line in grid_csv_rows(grid):
                writer.writerow(line)
        text.flush()
    finally:
        # Leave the caller's stream open: the wrapper would close it when collected.
        text.detach()
