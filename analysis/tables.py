"""The analysis as tables (grids: cases/reports/grid.py) in the active language, each figure with a link to the queue
that lists the cases it counts, and as CSV and XLSX files.

A link asks the queue for the same cases the figure counts: every status but a draft, the submission year or month,
the sub-unit's subtree, and the dimension's code (cases/dimensions.py: the queue reads each code with the condition
the summaries count it by). Two figures have no exact link and link to the nearest list instead, as their notes say:
officers injured link to the cases with an officer injured, and a unit's own cases (handled by the unit itself,
not a sub-unit) have no link, since the queue's unit filter takes the whole subtree. The queue lists the cases the
reader may open; a figure counts every case of the subtree.
"""

import io
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, unit_name
from analysis.figures import BREAKDOWNS, Analysis, HandlingRow, UnitRow, change_pct, codes_in_order
from cases import dimensions
from cases.choices import INJURY_RANK, CaseStatus, IncidentKind, InjuryGrade, ReviewVerdict
from cases.dimensions import NOT_RECORDED  # the queue's word for a dimension's empty code
from cases.reports.cells import csv_writer
from cases.reports.grid import Column, Grid, GridFormats, GridRow, Value, grid_csv_rows, write_grid_sheet
from cases.reports.xlsx import sheet_name

SUBMITTED = [s for s in CaseStatus.values if s != CaseStatus.DRAFT]
INJURED_RANK = INJURY_RANK[InjuryGrade.MINOR_2]
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def queue_link(unit: OrgUnit, period: str, **filters: Any) -> str:
    """The queue of ``unit``'s subtree, every status but a draft, submitted in ``period`` (YYYY or YYYY-MM), and
    ``filters`` (the queue's parameters: ``kind``, ``scenario``, ``place``…; an empty code is written "-")."""
    params: list[tuple[str, Any]] = [("status", s) for s in SUBMITTED]
    params += [("unit", unit.code), ("submitted", period)]
    params += [(k, NOT_RECORDED if v == "" else v) for k, v in filters.items() if v is not None]
    return f"{reverse('cases:queue')}?{urlencode(params)}"


def unit_title(unit: OrgUnit) -> str:
    return f"{unit_name(unit.name, unit.name_en)} ({unit.code})"


def _row(
    label: str, values: Iterable[Value], links: Iterable[str], *, total: bool = False, label_link: str = ""
) -> GridRow:
    """A row whose first figures link to ``links``, the rest to nothing."""
    figures, addresses = tuple(values), tuple(links)
    padded = addresses + ("",) * (len(figures) - len(addresses))
    return GridRow(label, figures, total=total, links=padded, label_link=label_link)


def analysis_link(unit: OrgUnit, year: int) -> str:
    """The analysis of ``unit`` for ``year``: a sub-unit's row leads to its own page."""
    return f"{reverse('analysis:page')}?{urlencode({'unit': unit.code, 'year': year})}"


def _sub_unit_label(unit: OrgUnit | None, own: bool, year: int) -> tuple[str, str]:
    """A sub-unit row's label, and its own analysis (none for the unit's own cases)."""
    if unit is None:  # only the total has none, and it has its own row
        raise ValueError("a sub-unit row names its unit")
    if own:
        return _("%(unit)s itself") % {"unit": unit_title(unit)}, ""
    return unit_title(unit), analysis_link(unit, year)


# --- the tables ----------------------------------------------------------------------------------------------------


def month_grid(a: Analysis) -> Grid:
    y, p = a.year, a.previous_year
    rows = []
    for m in range(1, 13):
        now, before = a.months[m]
        rows.append(
            _row(
                str(MONTHS[m]),
                (now, before, change_pct(now, before)),
                (queue_link(a.unit, f"{y}-{m:02d}"), queue_link(a.unit, f"{p}-{m:02d}"), ""),
            )
        )
    now, before = a.total.cases, a.total.cases_before
    rows.append(
        _row(
            _("Year"),
            (now, before, change_pct(now, before)),
            (queue_link(a.unit, str(y)), queue_link(a.unit, str(p)), ""),
            total=True,
        )
    )
    return Grid(
        key="months",
        title=_("Cases by month of submission"),
        label_title=_("Month"),
        columns=(Column(str(y), key="current"), Column(str(p), key="previous"), Column(_("Change (%)"), "pct")),
        rows=tuple(rows),
        note=_("Submitted applications by the local month they were submitted in; drafts never count."),
    )


def year_grid(a: Analysis) -> Grid:
    rows = []
    years = sorted(a.years)
    for i, year in enumerate(years):
        cases, injured = a.years[year]
        before = a.years[years[i - 1]][0] if i else None
        rows.append(
            _row(
                str(year),
                (cases, None if before is None else change_pct(cases, before), injured),
                (queue_link(a.unit, str(year)), "", queue_link(a.unit, str(year), injury=INJURED_RANK)),
            )
        )
    return Grid(
        key="years",
        title=_("Cases and officers injured by year"),
        label_title=_("Year"),
        columns=(
            Column(_("Cases"), key="cases"),
            Column(_("Change (%)"), "pct", key="change"),
            Column(_("Officers injured (minor injury or worse)"), key="injured"),
        ),
        rows=tuple(rows),
        note=_(
            "Officers injured: involved officers, regular and auxiliary, with an appraised minor injury or worse. "
            "Their figure links to the cases with such an officer."
        ),
    )


def _unit_values(r: UnitRow) -> tuple[Value, ...]:
    officers = r.strength.total if r.strength else None
    return (
        r.cases,
        r.cases_before,
        r.cases_change,
        r.injured,
        r.injured_before,
        officers,
        r.cases_per_100,
        r.injured_per_100,
    )


def unit_grid(a: Analysis) -> Grid:
    y, p = str(a.year), str(a.previous_year)

    def links(unit: OrgUnit | None) -> tuple[str, ...]:
        if unit is None:
            return ()
        return (
            queue_link(unit, y),
            queue_link(unit, p),
            "",
            queue_link(unit, y, injury=INJURED_RANK),
            queue_link(unit, p, injury=INJURED_RANK),
        )

    rows = []
    for r in a.rows:
        label, label_link = _sub_unit_label(r.unit, r.own, a.year)
        rows.append(_row(label, _unit_values(r), () if r.own else links(r.unit), label_link=label_link))
    rows.append(_row(_("Total"), _unit_values(a.total), links(a.unit), total=True))
    return Grid(
        key="units",
        title=_("Cases and officers injured per 100 officers, by sub-unit"),
        label_title=_("Unit"),
        columns=(
            Column(y, key="cases"),
            Column(p, key="cases_before"),
            Column(_("Change (%)"), "pct", key="change"),
            Column(_("Officers injured %(year)s") % {"year": y}, key="injured"),
            Column(_("Officers injured %(year)s") % {"year": p}, key="injured_before"),
            Column(_("Officer strength %(year)s") % {"year": y}, key="officers"),
            Column(_("Cases per 100 officers"), "ratio", key="cases_per_100"),
            Column(_("Officers injured per 100 officers"), "ratio", key="injured_per_100"),
        ),
        rows=tuple(rows),
        note=_(
            "Officer strength: regular and auxiliary officers as the unit recorded them for the year, or else the sum "
            "of the units directly below it when every one of them has a strength; no rate where some did not record "
            "one. A unit's own row counts the cases it handles itself; its officers are counted in the total."
        ),
    )


def handling_grid(a: Analysis) -> Grid:
    y = str(a.year)
    verdicts = ReviewVerdict.values

    def values(r: HandlingRow) -> tuple[Value, ...]:
        return (
            r.referred,
            r.median_days_to_referral,
            r.downgraded,
            r.downgraded_share,
            r.overridden,
            r.reviews,
            *(r.verdicts[v] for v in verdicts),
        )

    rows = []
    for r in a.handling:
        label, label_link = _sub_unit_label(r.unit, r.own, a.year)
        rows.append(_row(label, values(r), (), label_link=label_link))
    if a.handling_total is not None:
        rows.append(_row(_("Total"), values(a.handling_total), (), total=True))
    return Grid(
        key="handling",
        title=_("How the cases were handled, %(year)s") % {"year": y},
        label_title=_("Unit"),
        columns=(
            Column(_("Cases first referred"), key="referred"),
            Column(_("Median days to the first referral"), key="median_days"),
            Column(_("Cases flagged as downgraded"), key="downgraded"),
            Column(_("Share downgraded (%)"), "pct", key="downgraded_share"),
            Column(_("Downgrade flags overridden"), key="overridden"),
            Column(_("Look-back reviews"), key="reviews"),
            *(Column(str(label), key=f"verdict_{code}") for code, label in ReviewVerdict.choices),
        ),
        rows=tuple(rows),
        note=_(
            "Cases first referred: referred for the first time in the year, whenever submitted; the median counts "
            "whole days from submission. Flagged as downgraded: cases submitted in the year that the rules flagged as "
            "handled below what the facts call for, open or resolved; the share is of the year's cases. Overridden: "
            "downgrade flags the office overrode in the year, with a recorded reason. Look-back reviews: those of the "
            "year's look-back campaign, by verdict."
        ),
    )


def scenario_grid(a: Analysis) -> Grid:
    y = str(a.year)
    kinds = sorted(
        {k for k, _s in a.scenarios}, key=lambda k: IncidentKind.values.index(k) if k in IncidentKind.values else 99
    )
    scenarios = codes_in_order(dimensions.SCENARIO, (s for _k, s in a.scenarios))
    kind_labels = dict(IncidentKind.choices)
    rows = []
    for kind in kinds:
        values = [a.scenarios[(kind, s)] for s in scenarios]
        links = [queue_link(a.unit, y, kind=kind, scenario=s) for s in scenarios]
        rows.append(
            _row(str(kind_labels.get(kind, kind)), (*values, sum(values)), (*links, queue_link(a.unit, y, kind=kind)))
        )
    totals = [sum(a.scenarios[(k, s)] for k in kinds) for s in scenarios]
    rows.append(
        _row(
            _("Total"),
            (*totals, sum(totals)),
            (*(queue_link(a.unit, y, scenario=s) for s in scenarios), queue_link(a.unit, y)),
            total=True,
        )
    )
    return Grid(
        key="scenarios",
        title=_("Cases by incident type and duty scenario, %(year)s") % {"year": y},
        label_title=_("Incident type"),
        columns=(
            *(Column(dimensions.label(dimensions.SCENARIO, s), key=s or NOT_RECORDED) for s in scenarios),
            Column(_("Total"), key="total"),
        ),
        rows=tuple(rows) if kinds else (),
        note=_("What the officers were doing when it happened, as recorded on the case."),
        empty=_("No cases in this year."),
    )


BREAKDOWN_TITLES: dict[str, Callable[[], str]] = {
    dimensions.PLACE: lambda: _("Cases by place category"),
    dimensions.WEAPON: lambda: _("Cases by weapon"),
    dimensions.INTOX: lambda: _("Cases by whether the attacker was drunk"),
    dimensions.CROWD: lambda: _("Cases by number of attackers and organisation"),
}
QUEUE_PARAM = {
    dimensions.PLACE: "place",
    dimensions.WEAPON: "weapon",
    dimensions.INTOX: "intox",
    dimensions.CROWD: "crowd",
}


def breakdown_grid(a: Analysis, dimension: str) -> Grid:
    y, p = str(a.year), str(a.previous_year)
    counts = a.distributions[dimension]
    total_now = sum(now for now, _b in counts.values())
    rows = []
    for code in codes_in_order(dimension, counts):
        now, before = counts[code]
        param = {QUEUE_PARAM[dimension]: code}
        rows.append(
            _row(
                dimensions.label(dimension, code),
                (now, before, change_pct(now, before), round(now * 100 / total_now, 1) if total_now else None),
                (queue_link(a.unit, y, **param), queue_link(a.unit, p, **param), "", ""),
            )
        )
    total_before = sum(b for _n, b in counts.values())
    rows.append(
        _row(
            _("Total"),
            (total_now, total_before, change_pct(total_now, total_before), 100.0 if total_now else None),
            (queue_link(a.unit, y), queue_link(a.unit, p), "", ""),
            total=True,
        )
    )
    return Grid(
        key=dimension,
        title=BREAKDOWN_TITLES[dimension](),
        label_title=_("Recorded"),
        columns=(
            Column(y, key="current"),
            Column(p, key="previous"),
            Column(_("Change (%)"), "pct", key="change"),
            Column(_("Share %(year)s (%%)") % {"year": y}, "pct", key="share"),
        ),
        rows=tuple(rows) if len(rows) > 1 else (),
        empty=_("No cases in these two years."),
    )


def heat_grid(a: Analysis) -> Grid:
    y = str(a.year)
    rows = []
    for day in dimensions.WEEKDAYS:
        values = [a.heat[(day, h)] for h in dimensions.HOURS]
        links = [queue_link(a.unit, y, weekday=day, hour=h) for h in dimensions.HOURS]
        rows.append(_row(str(WEEKDAYS[day - 1]), (*values, sum(values)), (*links, queue_link(a.unit, y, weekday=day))))
    totals = [sum(a.heat[(d, h)] for d in dimensions.WEEKDAYS) for h in dimensions.HOURS]
    rows.append(
        _row(
            _("Total"),
            (*totals, sum(totals)),
            (*(queue_link(a.unit, y, hour=h) for h in dimensions.HOURS), ""),
            total=True,
        )
    )
    return Grid(
        key="heat",
        title=_("Cases by weekday and hour it happened, %(year)s") % {"year": y},
        label_title=_("Weekday"),
        columns=(*(Column(str(h), key=f"h{h}") for h in dimensions.HOURS), Column(_("Total"), key="total")),
        rows=tuple(rows),
        note=_("Local time the incident occurred. Cases whose time is not recorded: %(n)s.") % {"n": a.heat_unknown},
    )


def grids(a: Analysis) -> tuple[Grid, ...]:
    return (
        year_grid(a),
        month_grid(a),
        unit_grid(a),
        handling_grid(a),
        scenario_grid(a),
        heat_grid(a),
        *(breakdown_grid(a, d) for d in BREAKDOWNS),
    )


# The tables' keys, in the page's order: the CSV download names one.
TABLE_KEYS = ("years", "months", "units", "handling", "scenarios", "heat", *BREAKDOWNS)


def grid_named(a: Analysis, key: str) -> Grid | None:
    return next((g for g in grids(a) if g.key == key), None)


# --- files ---------------------------------------------------------------------------------------------------------


def file_name(a: Analysis, fmt: str, key: str = "") -> str:
    """By the unit's code, the year and the table's key (the view quotes it for the header: a code is an
    administrator's text)."""
    suffix = f"-{key}" if key else ""
    return f"rightsguard-analysis-{a.unit.code}-{a.year}{suffix}.{fmt}"


def _meta(a: Analysis) -> list[list[str]]:
    return [[_("Analysis of cases")], [_("Unit"), unit_title(a.unit)], [_("Year"), str(a.year)]]


def write_csv(a: Analysis, grid: Grid, out: BinaryIO) -> None:
    """One table as CSV, after what it is about; formula-safe (cases/reports/cells.py)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv_writer(text)
        for row in [*_meta(a), [], *grid_csv_rows(grid)]:
            writer.writerow(row)
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open


def write_xlsx(a: Analysis, out: BinaryIO) -> None:
    """Every table on a sheet of its own."""
    import xlsxwriter  # here, not with the module: only a workbook download needs it

    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties({"title": _("Analysis of cases"), "subject": unit_title(a.unit)})
    formats = GridFormats(workbook)
    used: set[str] = set()
    for grid in grids(a):
        name = sheet_name(grid.title, used)
        ws = workbook.add_worksheet(name)
        ws.write_string(0, 0, grid.title, formats.title)
        ws.write_string(1, 0, f"{unit_title(a.unit)} · {a.year}")
        if grid.rows:
            write_grid_sheet(ws, grid, formats, first_row=3)
        else:
            ws.write_string(3, 0, grid.empty)
    workbook.close()


def render_file(a: Analysis, fmt: str, key: str = "") -> bytes:
    buffer = io.BytesIO()
    if fmt == "csv":
        grid = grid_named(a, key)
        if grid is None:
            raise KeyError(key)
        write_csv(a, grid, buffer)
    else:
        write_xlsx(a, buffer)
    return buffer.getvalue()
