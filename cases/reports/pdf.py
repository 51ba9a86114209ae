"""The yearly report as an A4 PDF (WeasyPrint): key figures, the charts as images, every table, and a footer with
the unit, the year, the generation time and page numbers on every page."""

import base64
import logging
import re
from typing import Any, BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases.reports.charts import CJK_FONT, chart_png
from cases.reports.layout import (
    column_headers,
    display_rows,
    generated_label,
    report_charts,
    report_tables,
    unit_label,
)
from cases.reports.yearly import YearlyReport


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for ``content:`` in page margin boxes)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    # The string sits inside a <style> element: never let a unit name close it.
    escaped = escaped.replace("<", "\\3C ").replace(">", "\\3E ")
    return f'"{escaped}"'


def page_counter_content() -> str:
    """The translated "Page N of M" as CSS ``content`` tokens around the page counters."""
    template = _("Page %(page)s of %(pages)s")
    parts = re.split(r"(%\(page\)s|%\(pages\)s)", template)
    tokens = []
    for part in parts:
        if part == "%(page)s":
            tokens.append("counter(page)")
        elif part == "%(pages)s":
            tokens.append("counter(pages)")
        elif part:
            tokens.append(css_string(part))
    return " ".join(tokens)


def pdf_context(report: YearlyReport) -> dict[str, Any]:
    tables = report_tables(report)
    rows = {t.key: display_rows(t, for_reading=True) for t in tables}
    charts = [
        {
            "title": chart.title,
            "src": "data:image/png;base64," + base64.b64encode(chart_png(chart)).decode(),
        }
        for chart in report_charts(report, tables)
    ]
    footer_left = f"{unit_label(report.unit)} · {report.year}"
    footer_centre = _("Generated %(time)s") % {"time": generated_label(report)}
    return {
        "report": report,
        "unit": unit_label(report.unit),
        "generated": generated_label(report),
        "headers": column_headers(report),
        "tables": [(t, rows[t.key]) for t in tables],
        "charts": charts,
        "language": get_language(),
        "font": CJK_FONT,
        # Margin boxes take CSS strings, not HTML; these are escaped by css_string().
        "footer_left": mark_safe(css_string(footer_left)),  # noqa: S308  # nosemgrep: no-mark-safe
        "footer_centre": mark_safe(css_string(footer_centre)),  # noqa: S308  # nosemgrep: no-mark-safe
        "footer_right": mark_safe(page_counter_content()),  # noqa: S308  # nosemgrep: no-mark-safe
    }


# WeasyPrint logs every layout step at INFO; the project's root logger would print them all.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def write_pdf(report: YearlyReport, out: BinaryIO) -> None:
    # Imported here: WeasyPrint loads Pango at import time, which the web pages never need.
    from weasyprint import HTML

    html = render_to_string("reports/pdf.html", pdf_context(report))
    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(out)
