"""The analysis of a unit's cases in a year: trends, rates per 100 officers by sub-unit, and the breakdowns of where,
when and how officers were attacked. Read from ``cases.selectors.case_breakdown`` (the report summaries above the
cities, the cases live below) and the officer strengths the units recorded; nothing here writes.

What the figures count, so every table says the same:

- a **case** is a submitted application (drafts never count), in the local month and year it was submitted
  (settings.TIME_ZONE), under the direct sub-unit of the analysed unit it belongs to;
- an **officer injured** is an involved officer, regular or auxiliary, whose appraised injury is a minor injury or
  worse (``MINOR_OR_WORSE``), counted in the year of the case's submission;
- a **rate per 100 officers** divides by the unit's officer strength for that year, regular and auxiliary together:
  the unit's own record, or else the sum of its direct sub-units' strengths when every one of them has one (by the
  same rule, ``strength``); a subtree only partly recorded has no rate, never a guess;
- a **change** is this year's figure against last year's, in per cent of last year's (none when last year had none).
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from accounts.models import OrgUnit
from analysis.models import OfficerStrength
from cases import dimensions, reading, selectors
from cases.choices import INJURY_RANK, InjuryGrade

MINOR_OR_WORSE = frozenset(g for g, rank in INJURY_RANK.items() if rank >= INJURY_RANK[InjuryGrade.MINOR_2])
TREND_YEARS = 5  # the yearly trend: the chosen year and the four before it
BREAKDOWNS = (
    dimensions.PLACE,
    dimensions.WEAPON,
    dimensions.INTOX,
    dimensions.CROWD,
)


def change_pct(current: int, previous: int) -> float | None:
    return None if previous == 0 else round((current - previous) * 100 / previous, 1)


def per_hundred(count: int, officers: int | None) -> float | None:
    return None if not officers else round(count * 100 / officers, 2)


@dataclass(frozen=True)
class Strength:
    regular: int
    auxiliary: int

    @property
    def total(self) -> int:
        return self.regular + self.auxiliary


@dataclass(frozen=True)
class UnitRow:
    """One sub-unit's (or the total's) figures for the year and the year before."""

    path: str
    unit: OrgUnit | None  # None for the total
    own: bool  # the cases the analysed unit handles itself, not through a sub-unit
    cases: int
    cases_before: int
    injured: int
    injured_before: int
    strength: Strength | None

    @property
    def cases_change(self) -> float | None:
        return change_pct(self.cases, self.cases_before)

    @property
    def cases_per_100(self) -> float | None:
        return per_hundred(self.cases, self.strength.total if self.strength else None)

    @property
    def injured_per_100(self) -> float | None:
        return per_hundred(self.injured, self.strength.total if self.strength else None)


def median_days(histogram: Mapping[int, int]) -> int | None:
    """The median of whole days given as a histogram: the smallest value with at least half the cases at or below it
    (a discrete median: a number of days some case took)."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen * 2 >= total:
            return days
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class HandlingRow:
    """How a sub-unit (or the total) handled its cases in the year."""

    unit: OrgUnit | None  # None for the total
    own: bool
    cases: int  # submitted in the year: the denominator of the share downgraded
    referred: int  # cases first referred in the year
    median_days_to_referral: int | None
    downgraded: int  # cases submitted in the year flagged as downgraded, so far
    overridden: int  # downgraded flags overridden in the year
    verdicts: Counter[str]  # look-back reviews of the year's campaign by verdict

    @property
    def downgraded_share(self) -> float | None:
        return None if not self.cases else round(self.downgraded * 100 / self.cases, 1)

    @property
    def reviews(self) -> int:
        return sum(self.verdicts.values())


@dataclass(frozen=True)
class Analysis:
    unit: OrgUnit
    year: int
    generated_at: datetime
    # month number -> (cases this year, cases last year)
    months: dict[int, tuple[int, int]]
    # year -> (cases, officers injured), oldest first
    years: dict[int, tuple[int, int]]
    rows: tuple[UnitRow, ...]
    total: UnitRow
    # (incident type, duty scenario) -> cases this year ("" scenario: not recorded)
    scenarios: Counter[tuple[str, str]]
    # dimension -> code -> (this year, last year)
    distributions: dict[str, dict[str, tuple[int, int]]]
    # (ISO weekday, hour) -> cases this year; and those whose time is not recorded
    heat: Counter[tuple[int, int]] = field(default_factory=Counter)
    heat_unknown: int = 0
    handling: tuple[HandlingRow, ...] = ()
    handling_total: HandlingRow | None = None
    # Read from the read replica: the commit time of the last change it had applied (cases/reading.py); None: the
    # primary, current.
    figures_as_of: datetime | None = None

    @property
    def previous_year(self) -> int:
        return self.year - 1


def strength(path: str, records: Mapping[str, Strength], children: Mapping[str, list[str]]) -> Strength | None:
    """The officer strength of the unit at ``path``: its own record; else, when every unit directly below it has a
    strength (by the same rule), their sum; else None. A subtree only partly recorded has no strength: dividing all
    of its cases by some of its officers would be a guess. ``children``: each unit's direct sub-units' paths."""
    if path in records:
        return records[path]
    below = children.get(path, [])
    if not below:
        return None
    parts = [strength(child, records, children) for child in below]
    if any(part is None for part in parts):
        return None
    return Strength(sum(p.regular for p in parts if p), sum(p.auxiliary for p in parts if p))


def _tree(unit: OrgUnit) -> dict[str, list[str]]:
    """Each unit of ``unit``'s subtree by its path: the paths of its direct sub-units."""
    children: dict[str, list[str]] = {}
    paths = OrgUnit.objects.filter(path__startswith=unit.path).exclude(pk=unit.pk).values_list("path", flat=True)
    for path in paths:
        parent = path[: path.rstrip("/").rindex("/") + 1]
        children.setdefault(parent, []).append(path)
    return children


def _strengths(unit: OrgUnit, year: int) -> dict[str, Strength]:
    rows = OfficerStrength.objects.filter(year=year, unit__path__startswith=unit.path).values_list(
        "unit__path", "regular", "auxiliary"
    )
    return {path: Strength(regular, auxiliary) for path, regular, auxiliary in rows}


def unit_strength(unit: OrgUnit, year: int) -> Strength | None:
    """The officer strength of ``unit``'s subtree for ``year`` by the rule of ``strength`` (None: not recorded)."""
    records = _strengths(unit, year)
    if not records:
        return None
    return strength(unit.path, records, _tree(unit))


def injured(officers: Counter[tuple[str, date, str, str]], months: set[date]) -> int:
    """The officers injured, minor injury or worse, in the cases of these months (first days of local months)."""
    return sum(n for (_c, month, _type, injury), n in officers.items() if month in months and injury in MINOR_OR_WORSE)


def _injured(officers: Counter[tuple[str, date, str, str]], year: int, child: str | None = None) -> int:
    return sum(
        n
        for (c, month, _type, injury), n in officers.items()
        if month.year == year and injury in MINOR_OR_WORSE and (child is None or c == child)
    )


def analyse(*, unit: OrgUnit, year: int) -> Analysis:
    """The analysis of ``unit``'s subtree for ``year`` (see the module doc), read from the read replica when there is
    one (``cases.reading``). The caller has checked that the reader may see this unit's figures
    (``cases.policy.can_report_on``)."""
    return reading.read_from_replica(
        lambda freshness: replace(_analyse(unit=unit, year=year), figures_as_of=freshness.as_of)
    )


def _analyse(*, unit: OrgUnit, year: int) -> Analysis:
    trend = selectors.case_breakdown(
        unit=unit, start=date(year - TREND_YEARS + 1, 1, 1), end=date(year + 1, 1, 1), dims=["status"]
    )
    detail = selectors.case_breakdown(
        unit=unit,
        start=date(year - 1, 1, 1),
        end=date(year + 1, 1, 1),
        dims=["kind", dimensions.SCENARIO, dimensions.WEEKHOUR, *BREAKDOWNS],
        officers=False,  # the trend's call counts them
    )
    cases_by: Counter[tuple[str, int]] = Counter()  # (child, year)
    months: Counter[tuple[int, int]] = Counter()  # (year, month)
    for (child, month, _dimension, _code), n in trend.cases.items():
        cases_by[(child, month.year)] += n
        months[(month.year, month.month)] += n
    years = {
        y: (sum(n for (_c, cy), n in cases_by.items() if cy == y), _injured(trend.officers, y))
        for y in range(year - TREND_YEARS + 1, year + 1)
    }
    records = _strengths(unit, year)
    tree = _tree(unit) if records else {}
    children = list(OrgUnit.objects.filter(parent=unit).order_by("path"))
    rows = [_unit_row(child.path, child, False, cases_by, trend.officers, year, records, tree) for child in children]
    own = _unit_row(unit.path, unit, True, cases_by, trend.officers, year, records, tree, strength_of_own=False)
    handled = selectors.case_handling(unit=unit, year=year)
    me = unit.path
    handled_here = (
        me in handled.referral_days or me in handled.verdicts or handled.downgraded[me] or handled.overridden[me]
    )
    if own.cases or own.cases_before or own.injured or own.injured_before or handled_here:
        rows.insert(0, own)
    total = UnitRow(
        path=unit.path,
        unit=None,
        own=False,
        cases=years[year][0],
        cases_before=years[year - 1][0],
        injured=years[year][1],
        injured_before=years[year - 1][1],
        strength=strength(unit.path, records, tree),
    )
    scenarios: Counter[tuple[str, str]] = Counter()
    distributions: dict[str, dict[str, tuple[int, int]]] = {d: {} for d in BREAKDOWNS}
    heat: Counter[tuple[int, int]] = Counter()
    heat_unknown = 0
    for (_child, month, dimension, code), n in detail.cases.items():
        this_year = month.year == year
        if dimension == dimensions.SCENARIO and this_year:
            kind, _sep, scenario = code.partition(":")
            scenarios[(kind, scenario)] += n
        elif dimension == dimensions.WEEKHOUR and this_year:
            if code:
                day, _sep, hour = code.partition(":")
                heat[(int(day), int(hour))] += n
            else:
                heat_unknown += n
        elif dimension in distributions:
            now, before = distributions[dimension].get(code, (0, 0))
            distributions[dimension][code] = (now + n, before) if this_year else (now, before + n)

    def handling_row(path: str | None, row_unit: OrgUnit | None, own: bool, cases: int) -> HandlingRow:
        def pick(counts: Mapping[str, Any]) -> Any:
            return counts.get(path) if path is not None else None

        if path is None:  # the total: every child's
            days: Counter[int] = sum(handled.referral_days.values(), Counter())
            verdicts: Counter[str] = sum(handled.verdicts.values(), Counter())
            downgraded, overridden = sum(handled.downgraded.values()), sum(handled.overridden.values())
        else:
            days = pick(handled.referral_days) or Counter()
            verdicts = pick(handled.verdicts) or Counter()
            downgraded, overridden = handled.downgraded[path], handled.overridden[path]
        return HandlingRow(
            unit=row_unit,
            own=own,
            cases=cases,
            referred=sum(days.values()),
            median_days_to_referral=median_days(days),
            downgraded=downgraded,
            overridden=overridden,
            verdicts=verdicts,
        )

    handling = tuple(handling_row(r.path, r.unit, r.own, r.cases) for r in rows)
    return Analysis(
        unit=unit,
        year=year,
        generated_at=timezone.now(),
        months={m: (months[(year, m)], months[(year - 1, m)]) for m in range(1, 13)},
        years=years,
        rows=tuple(rows),
        total=total,
        scenarios=+scenarios,
        distributions=distributions,
        heat=+heat,
        heat_unknown=heat_unknown,
        handling=handling,
        handling_total=handling_row(None, None, False, total.cases),
    )


def _unit_row(
    path: str,
    unit: OrgUnit,
    own: bool,
    cases_by: Counter[tuple[str, int]],
    officers: Counter[tuple[str, date, str, str]],
    year: int,
    records: Mapping[str, Strength],
    tree: Mapping[str, list[str]],
    *,
    strength_of_own: bool = True,
) -> UnitRow:
    return UnitRow(
        path=path,
        unit=unit,
        own=own,
        cases=cases_by[(path, year)],
        cases_before=cases_by[(path, year - 1)],
        injured=_injured(officers, year, path),
        injured_before=_injured(officers, year - 1, path),
        # The unit's own cases have no strength of their own: its record counts the officers of its whole subtree.
        strength=strength(path, records, tree) if strength_of_own else None,
    )


def codes_in_order(dimension: str, seen: Iterable[str]) -> list[str]:
    """A dimension's codes in the order of its choices, then "not recorded" last; only those seen."""
    order = {code: i for i, code in enumerate(dimensions.ordered_codes(dimension))}
    return sorted(set(seen), key=lambda c: (c == "", order.get(c, len(order)), c))
