"""The yearly report as an A4 PDF (WeasyPrint): key figures, the charts as images, every table, and a footer with
the unit, the year, the generation time and page numbers on every page."""

import logging
import re
import threading
from typing import Any, BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases.reports.charts import CJK_FONT, pdf_chart
from cases.reports.grid import display_grid, report_grids
from cases.reports.layout import (
    column_headers,
    display_rows,
    figures_as_of_label,
    generated_label,
    report_charts,
    report_tables,
    unit_label,
)
from cases.reports.yearly import YearlyReport


def page_counter_parts() -> list[tuple[str, str]]:
    """The translated "Page N of M" as (kind, text) parts: "text" is printed as it is, "page" and "pages" become the
    page counters (drawn by CSS ``counter()`` on an otherwise empty element)."""
    template = _("Page %(page)s of %(pages)s")
    parts = re.split(r"(%\(page\)s|%\(pages\)s)", template)
    counters = {"%(page)s": "page", "%(pages)s": "pages"}
    return [(counters[part], "") if part in counters else ("text", part) for part in parts if part]


def pdf_context(report: YearlyReport) -> dict[str, Any]:
    tables = report_tables(report)
    rows = {t.key: display_rows(t, for_reading=True) for t in tables}
    charts = [pdf_chart(chart) for chart in report_charts(report, tables)]
    footer_left = f"{unit_label(report.unit)} · {report.year}"
    footer_centre = _("Generated %(time)s") % {"time": generated_label(report)}
    return {
        "report": report,
        "unit": unit_label(report.unit),
        "generated": generated_label(report),
        "figures_as_of": figures_as_of_label(report),
        "headers": column_headers(report),
        "tables": [(t, rows[t.key]) for t in tables],
        "charts": charts,
        "grids": [(grid, display_grid(grid)) for grid in report_grids(report)],
        "language": get_language(),
        "font": CJK_FONT,
        # The footer is HTML text moved into the page margins (CSS running elements): no text of the report is ever
        # written into the style sheet, where a unit name could end a string and add rules of its own.
        "footer_left": footer_left,
        "footer_centre": footer_centre,
        "footer_right": page_counter_parts(),
    }


# Control characters have no glyph; WeasyPrint would draw a form feed in a unit name as a glyph whose text cannot be
# copied or searched, taking the text around it along. Tab, line feed and carriage return are ordinary white space.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Explicit bidirectional embeddings, overrides and isolates (LRE … RLO, LRI … PDI) have no glyph either, and in
# WeasyPrint a right-to-left override typed into one name reorders the rest of its printed line, closed or isolated or
# not (a campaign name "\u202e…" turned the unit after it around): dropped, so typed text can only print as itself.
# Text in a right-to-left script needs none of them; the bidirectional algorithm orders it.
BIDI_FORMATTING = re.compile("[\u202a-\u202e\u2066-\u2069]")

# WeasyPrint logs every layout step at INFO; the project's root logger would print them all.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


_fonts = threading.local()


def _font_config() -> Any:
    """This thread's WeasyPrint font configuration, made once: finding and loading the fonts (the CJK font is 5 MB)
    for every PDF cost a fifth of the rendering time, and each new configuration kept some memory. Per thread, as
    Pango's font maps are not meant to be shared between threads. The documents load no web fonts (the fetcher
    refuses them), so one document leaves nothing in it for the next."""
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


def render_pdf(template: str, context: dict[str, Any], out: BinaryIO) -> None:
    """Render a template to PDF (the yearly report, the case sheet). Every text reaches the template as data, so
    Django's escaping keeps it text; the URL fetcher loads nothing from outside the static files."""
    # Imported here: WeasyPrint loads Pango at import time, which the web pages never need.
    from weasyprint import HTML

    from cases.reports.pdf_fetch import StaticOnlyURLFetcher

    html = BIDI_FORMATTING.sub("", CONTROL_CHARACTERS.sub(" ", render_to_string(template, context)))
    # Relative URLs resolve into the static directory; the fetcher refuses anything outside it but data: URLs.
    base_url = str(settings.STATICFILES_DIRS[0])
    document = HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyURLFetcher())
    document.write_pdf(out, font_config=_font_config())


def write_pdf(report: YearlyReport, out: BinaryIO) -> None:
    render_pdf("reports/pdf.html", pdf_context(report), out)
