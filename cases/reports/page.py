"""What the reports page shows, prepared from the report: key-figure cards, chart data for Chart.js (passed to the
page with ``json_script``), table rows as text with drill-down links, and the unit picker's options."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from accounts.models import OrgUnit
from cases.reports.grid import linked_grid, report_grids
from cases.reports.layout import (
    Chart,
    Table,
    display_rows,
    figures_as_of_label,
    format_value,
    report_charts,
    report_tables,
    unit_label,
)
from cases.reports.yearly import YearlyReport, unit_ref

KPIS = ("cases", "officers", "injured", "deaths", "convicted", "findings", "support", "closure_median")


def kpis(tables: tuple[Table, ...]) -> list[dict[str, Any]]:
    """The headline figures shown as cards above the charts."""
    overview = {row.key: row for row in tables[0].rows}
    return [
        {
            "label": row.label,
            "value": format_value(row.current, row.format, grouped=True),
            "previous": format_value(row.previous, row.format, grouped=True),
            "pct": row.change_pct,
        }
        for row in (overview[key] for key in KPIS)
    ]


def chart_data(charts: tuple[Chart, ...]) -> dict[str, Any]:
    return {
        "charts": [
            {
                "key": c.key,
                "title": c.title,
                "kind": c.kind,
                "labels": list(c.labels),
                "series": [{"name": s.name, "values": list(s.values)} for s in c.series],
            }
            for c in charts
        ]
    }


def page_rows(table: Table, report: YearlyReport) -> list[dict[str, Any]]:
    """A table's rows as text; each sub-unit links to its own report (a drill-down)."""
    links: dict[str, str] = {}
    if table.key == "by_subunit":
        base = reverse("cases:reports")
        links = {
            row.label: f"{base}?{urlencode({'unit': s.unit.code, 'year': report.year})}"
            for row, s in zip(table.rows, report.cases.by_subunit, strict=True)
            if not s.own
        }
    return [
        {
            "label": row.label,
            "current": current,
            "previous": previous,
            "change": change,
            "pct": pct,
            "href": links.get(row.label, ""),
        }
        for row, current, previous, change, pct in display_rows(table, for_reading=True)
    ]


def unit_options(units: list[OrgUnit], current: OrgUnit) -> list[tuple[str, str, bool]]:
    """(code, label indented by depth, selected) for the picker; the current unit is always offered."""
    if current not in units:
        units = sorted([*units, current], key=lambda u: u.path)
    top = min(u.depth for u in units)
    # Ideographic spaces indent in both languages and survive in a <select>, which ignores leading ASCII spaces.
    return [(u.code, "\u3000" * (u.depth - top) + unit_label(unit_ref(u)), u == current) for u in units]


def report_context(report: YearlyReport) -> dict[str, Any]:
    """The report's part of the page context."""
    tables = report_tables(report)
    charts = report_charts(report, tables)
    return {
        "report": report,
        "unit_label": unit_label(report.unit),
        "kpis": kpis(tables),
        "tables": [(table, page_rows(table, report)) for table in tables],
        "charts": charts,
        "chart_data": chart_data(charts),
        "grids": [(grid, linked_grid(grid)) for grid in report_grids(report)],
        "figures_as_of": figures_as_of_label(report),
    }
