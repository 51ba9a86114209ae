"""The yearly report of a unit's subtree: every figure for the report year and the year before, computed in SQL.

Which year a row belongs to (all boundaries are local midnights in ``settings.TIME_ZONE``, Asia/Shanghai, because
that is the calendar the offices report in, whatever the server's clock says):

- **Cases of the year** are the applications *submitted* in the year (``Case.submitted_at``). Submission is when
  the office first knows of a case; an incident date can be unknown or corrected later, and a creation date would
  count drafts nobody submitted. Drafts never count (they have no submission time, and are excluded explicitly).
  Everything describing those cases as they stand today follows them: types, months, sub-units, channels,
  current status, the involved officers and their injuries, the suspects, their status and dispositions.
- **Work done in the year** is dated by the act itself, so that a finished year's figures stop moving: flags
  *raised* in the year (and flags *resolved* in the year, for the resolutions), supervision findings *raised* in
  the year, look-back reviews of the year's *campaign*, support measures *delivered* in the year (and comfort
  payments among them), and the time taken by first referrals *made* in the year (submission → referral) and by
  cases *closed* in the year (submission → closure).

The scope is the unit's subtree, matched on the case's denormalised ``unit_path`` (the handling unit), so a
sibling's cases never appear and no unit table is joined.

How it is kept fast (DESIGN §9 targets a national report over a million cases in 1.5 s; benchmarks/reports.py
measures it) with a fixed number of queries whatever the number of cases:

- Each large table is read once. One grouped query counts its rows per *cell* of the report's dimensions (year,
  month, incident type, channel, status and sub-unit for cases; year, type and injury for officers; …), which
  leaves at most a few thousand cells; an outer query over those cells adds them up per year with
  ``SUM(n) FILTER (WHERE …)`` for every figure of the section. The database does all the counting; a
  ``COUNT(*) FILTER`` per figure straight over the rows would evaluate some sixty conditions per case instead.
- The month of a submission comes from comparing it with the local month boundaries, not from converting every
  timestamp to local time.
- Covering indexes (migration 0005) let the case queries read only the two years' index entries, the officers,
  suspects and referrals of those cases come from narrow indexes rather than the tables, and rows are counted
  with ``COUNT(*)`` so that no query needs a column those indexes leave out.
- PostgreSQL gets enough working memory for these queries to group in memory (``REPORT_WORK_MEM``), and parallel
  workers for their scans (``REPORT_PARALLEL_WORKERS``; requests run without).
- A unit with no parent and no other root covers every case: its report skips the subtree condition, and with
  it the join from the related tables to the cases.
- Percentiles use PostgreSQL's ``percentile_cont``; elsewhere a window query returns only the (at most four)
  rows around each percentile's position, and interpolating between two values is all that happens in Python.

The ministry's and the provinces' reports (``reads_summaries``) do not count cases at all on PostgreSQL: they add
up the report summaries (cases/summaries.py), which the case services keep in the transaction of every change,
per area (a city), month or year, and dimension. Each figure is the one the live computation gives (the tests
compare every figure both ways); the percentiles too: a whole-day histogram says which few cases hold each
percentile, and only their exact times are read (``_summary_spread``). Flags and overridden flags are few and are
still counted live. A city's or a county's report is computed live, as described above.

Other apps add sections of their own through ``sections.py`` (the oversight campaigns of the year): computed inside
the same snapshot and time zone, kept in ``YearlyReport.sections``, shown after the report's tables in every format.
"""

import math
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import NotSupportedError, connection
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models import Case as CaseWhen
from django.db.models.functions import Ceil, ExtractMonth, Floor, RowNumber, StrIndex, Substr
from django.utils import timezone

from accounts.models import OrgUnit
from cases import reading
from cases.choices import (
    INJURY_RANK,
    PENDING_DISPOSITIONS,
    CaseStatus,
    Channel,
    Disposition,
    FindingProblem,
    FlagKind,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    OverrideReason,
    ReviewVerdict,
    SupportKind,
    SupportStatus,
    SuspectStatus,
)
from cases.models import (
    Case,
    Flag,
    FlagOverride,
    InvolvedOfficer,
    LookBackReview,
    Referral,
    ReportCaseSummary,
    ReportFindingSummary,
    ReportOfficerSummary,
    ReportReviewSummary,
    ReportSpreadSummary,
    ReportSupportSummary,
    ReportSuspectSummary,
    SpreadMeasure,
    SummaryDimension,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.overrides import downgrade_q
from cases.reports.sections import ReportSection, extra_sections
from cases.summaries import AREA_DEPTH, one_snapshot, report_tz_literal

Number = int | float | Decimal

# --- The result ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One figure for the report year (``current``) and the year before (``previous``); None means no data."""

    current: Number | None
    previous: Number | None

    @property
    def change(self) -> Number | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous  # type: ignore[operator]  # both years' figures have one type

    @property
    def change_ratio(self) -> float | None:
        """Relative change as a fraction (0.25 for +25 %); None when last year had nothing to compare with."""
        if self.current is None or not self.previous:
            return None
        return float(self.current - self.previous) / float(self.previous)  # type: ignore[operator]

    @property
    def change_pct(self) -> float | None:
        """Relative change in percent, one decimal."""
        ratio = self.change_ratio
        return None if ratio is None else round(ratio * 100, 1)


@dataclass(frozen=True)
class Item(Pair):
    """A row of a breakdown: ``code`` is the stored value (incident type, month number, injury grade, …)."""

    code: str


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str
    name_en: str
    path: str
    level: str


@dataclass(frozen=True)
class SubunitItem(Pair):
    """Cases of one direct sub-unit's subtree; ``own`` is the row for cases handled by the unit itself."""

    unit: UnitRef
    own: bool


@dataclass(frozen=True)
class CaseFigures:
    total: Pair
    by_month: tuple[Item, ...]  # codes "1" … "12"
    by_kind: tuple[Item, ...]
    by_channel: tuple[Item, ...]
    by_status: tuple[Item, ...]  # where the year's cases stand today
    by_subunit: tuple[SubunitItem, ...]


@dataclass(frozen=True)
class OfficerFigures:
    """Involved (infringed) officers of the year's cases; an officer in two cases counts twice."""

    total: Pair
    by_type: tuple[Item, ...]
    by_injury: tuple[Item, ...]
    injured: Pair  # slight injury or worse, deaths included
    deaths: Pair


@dataclass(frozen=True)
class SuspectFigures:
    total: Pair
    identified: Pair
    per_case: Pair  # suspects per case of the year, two decimals
    by_status: tuple[Item, ...]
    arrested: Pair
    at_large: Pair


# Dispositions grouped by rung of the ladder (research/domain.md §6.3), lowest first after the pending states.
DISPOSITION_LEVELS: dict[str, tuple[str, ...]] = {
    "pending": tuple(sorted(PENDING_DISPOSITIONS)),
    "no_penalty": (
        Disposition.NO_ACTION,
        Disposition.NON_LEGAL_HANDLING,
        Disposition.MEDIATION,
        Disposition.NO_PUNISHMENT,
    ),
    "administrative": (
        Disposition.ADMIN_WARNING,
        Disposition.ADMIN_FINE,
        Disposition.ADMIN_DETENTION_1_5,
        Disposition.ADMIN_DETENTION_6_10,
        Disposition.ADMIN_DETENTION_11_15,
    ),
    "criminal_filed": (Disposition.CRIMINAL_FILED,),
    "non_prosecution": (Disposition.CRIMINAL_NON_PROSECUTION,),
    "convicted": (
        Disposition.CONVICTED_277_1,
        Disposition.CONVICTED_277_5_BASIC,
        Disposition.CONVICTED_277_5_AGGRAVATED,
        Disposition.CONVICTED_OTHER,
        Disposition.CONVICTED_SERIOUS,
    ),
}
CONVICTIONS = DISPOSITION_LEVELS["convicted"]


@dataclass(frozen=True)
class DispositionFigures:
    """Where the suspects of the year's cases stand on the disposition ladder today."""

    by_level: tuple[Item, ...]
    by_disposition: tuple[Item, ...]
    convicted_by_article: tuple[Item, ...]


@dataclass(frozen=True)
class FlagFigures:
    """Flags of one kind raised in each year, and of those how many are resolved by now and how many still open;
    ``resolved_in_year`` counts the flags resolved in each year, whenever raised (the act dates it)."""

    kind: str
    raised: Pair
    resolved: Pair
    still_open: Pair
    resolved_in_year: Pair


@dataclass(frozen=True)
class OverrideFigures:
    """Downgraded flags a supervisor overrode while concluding or closing a case, dated by the override."""

    downgraded: Pair
    by_reason: tuple[Item, ...]


@dataclass(frozen=True)
class FindingFigures:
    total: Pair
    by_problem: tuple[Item, ...]
    rectified: Pair
    rectified_on_time: Pair  # by the rectify-by date (local), or rectified with no date set
    officers_held_accountable: Pair


@dataclass(frozen=True)
class ReviewFigures:
    total: Pair
    by_verdict: tuple[Item, ...]
    officer_informed: Pair
    support_delivered: Pair
    clarification_issued: Pair


@dataclass(frozen=True)
class SupportFigures:
    delivered: Pair
    by_kind: tuple[Item, ...]
    comfort_payment_total: Pair  # CNY, Decimal
    clarification_notices: Pair


@dataclass(frozen=True)
class Spread:
    """Days between two moments: how many measured, the median and the 90th percentile (one decimal)."""

    count: Pair
    median: Pair
    p90: Pair


@dataclass(frozen=True)
class YearlyReport:
    unit: UnitRef
    year: int
    generated_at: datetime
    cases: CaseFigures
    officers: OfficerFigures
    suspects: SuspectFigures
    dispositions: DispositionFigures
    flags: tuple[FlagFigures, ...]
    overrides: OverrideFigures
    findings: FindingFigures
    reviews: ReviewFigures
    support: SupportFigures
    intake_to_referral: Spread
    intake_to_closure: Spread
    # What other apps add (cases/reports/sections.py): the oversight campaigns of the year.
    sections: tuple[ReportSection, ...] = ()
    # Read from the read replica: the commit time of the last change it had applied (cases/reading.py); None: read
    # from the primary, current.
    figures_as_of: datetime | None = None

    @property
    def previous_year(self) -> int:
        return self.year - 1


# --- SQL building blocks -------------------------------------------------------------------------------------------


class PercentilesCont(Aggregate):
    """PostgreSQL's ``percentile_cont(ARRAY[…]) WITHIN GROUP (ORDER BY expr)``: several percentiles, one sort."""

    function = "percentile_cont"
    name = "PercentilesCont"
    template = "%(function)s(ARRAY[%(fractions)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fractions: Iterable[float], **extra: Any) -> None:
        from django.contrib.postgres.fields import ArrayField

        values = [float(f) for f in fractions]
        if not all(0.0 <= f <= 1.0 for f in values):
            raise ValueError("fractions must lie between 0 and 1")
        # Floats formatted here, not user input: safe in the SQL text, and it keeps the ordered-set syntax simple.
        super().__init__(
            expression, fractions=", ".join(map(repr, values)), output_field=ArrayField(FloatField()), **extra
        )

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        if connection.vendor != "postgresql":
            raise NotSupportedError("percentile_cont needs PostgreSQL")
        return super().as_sql(compiler, connection, **extra_context)


class DaysBetween(Func):
    """``end - start`` in days, as a float (fractions of a day kept)."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # EXTRACT returns numeric since PostgreSQL 14; percentile_cont wants double precision.
        template = "(CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Django stores SQLite datetimes as UTC text that julianday() reads.
        template = "(julianday(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra_context)


def report_timezone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class _Window:
    """The two calendar years of a report, as aware local datetimes and as dates."""

    year: int
    previous_start: datetime
    start: datetime
    end: datetime

    @classmethod
    def of(cls, year: int) -> "_Window":
        tz = report_timezone()
        return cls(
            year=year,
            previous_start=datetime(year - 1, 1, 1, tzinfo=tz),
            start=datetime(year, 1, 1, tzinfo=tz),
            end=datetime(year + 1, 1, 1, tzinfo=tz),
        )

    def within(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.previous_start, f"{field}__lt": self.end})

    def within_dates(self, field: str) -> Q:
        return Q(**{f"{field}__gte": date(self.year - 1, 1, 1), f"{field}__lt": date(self.year + 1, 1, 1)})

    def bucket(self, field: str, *, dates: bool = False) -> CaseWhen:
        """The report year for rows at or after 1 January, else the year before (rows are already filtered)."""
        start: date | datetime = date(self.year, 1, 1) if dates else self.start
        return CaseWhen(
            When(**{f"{field}__gte": start}, then=Value(self.year)),
            default=Value(self.year - 1),
            output_field=IntegerField(),
        )

    def month(self, field: str) -> CaseWhen:
        """The local calendar month (1–12) of a moment inside the two years, by comparison with the month starts."""
        tz = report_timezone()
        whens = []
        for year in (self.year - 1, self.year):
            for month in range(1, 13):
                following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
                whens.append(When(**{f"{field}__lt": following}, then=Value(month)))
        return CaseWhen(*whens, default=Value(12), output_field=IntegerField())


@dataclass(frozen=True)
class Sum_:
    """One figure of a cross-tab: the sum of a cell column over the cells matching ``where`` (all if empty)."""

    column: str = "n"
    where: Mapping[str, Any] = field(default_factory=dict)


# COUNT(*) rather than COUNT(id): the row count needs no column, so PostgreSQL can answer from the narrow covering
# indexes of migration 0005, which do not all carry the id.
ROWS = Count("*")


def _crosstab(cells: QuerySet[Any], year: int, figures: Mapping[str, Sum_]) -> dict[str, Pair]:
    """Add up a grouped query's cells into figures for the report year and the year before.

    ``cells`` is a ``values(<dimensions incl. report_year>).annotate(n=Count(…), …)`` query; the outer query sums
    its cells per year with a FILTER per figure, so every number comes from the database in one round trip.
    """
    qn = connection.ops.quote_name
    inner, inner_params = cells.order_by().query.sql_with_params()
    selects: list[str] = []
    params: list[Any] = []
    for figure in figures.values():
        conditions = []
        for dimension, wanted in figure.where.items():
            values = list(wanted) if isinstance(wanted, list | tuple | set | frozenset) else [wanted]
            conditions.append(f"{qn(dimension)} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
        where = f" FILTER (WHERE {' AND '.join(conditions)})" if conditions else ""
        selects.append(f"SUM({qn(figure.column)}){where}")
    year_column = qn("report_year")
    # Names are ours and quoted, every value is a parameter.
    sql = f"SELECT {year_column}, {', '.join(selects)} FROM ({inner}) cells GROUP BY {year_column}"  # noqa: S608
    with reading.db().cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    current, previous = rows.get(year), rows.get(year - 1)
    out = {}
    for i, name in enumerate(figures):
        out[name] = Pair(_number(current[i] if current else None), _number(previous[i] if previous else None))
    return out


def _whole_exponent(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= 0


def _number(value: Any) -> int | Decimal:
    """A cell sum: counts as int (PostgreSQL sums bigints as numeric), money stays Decimal, nothing is zero."""
    if value is None:
        return 0
    if isinstance(value, Decimal) and value == value.to_integral_value() and _whole_exponent(value):
        return int(value)
    return value


def _grouped(
    qs: QuerySet[Any], bucket: Any, aggregates: Mapping[str, Any], year: int, *, none_is_zero: bool = True
) -> dict[str, Pair]:
    """One grouped query over small tables (two rows at most), each aggregate paired for the two years.

    A year without rows has no group at all; its counts are zero, but a percentile of nothing is "no data"
    (``none_is_zero=False``)."""
    rows = qs.annotate(report_year=bucket).values("report_year").annotate(**aggregates).order_by()
    by_year = {row["report_year"]: row for row in rows}
    current, previous = by_year.get(year, {}), by_year.get(year - 1, {})

    def value(row: Mapping[str, Any], name: str) -> Any:
        v = row.get(name)
        return 0 if v is None and none_is_zero else v

    return {name: Pair(value(current, name), value(previous, name)) for name in aggregates}


def _each(prefix: str, dimension: str, codes: Iterable[Any], column: str = "n") -> dict[str, Sum_]:
    return {f"{prefix}{code}": Sum_(column, {dimension: code}) for code in codes}


def _items(pairs: Mapping[str, Pair], prefix: str, codes: Iterable[Any]) -> tuple[Item, ...]:
    return tuple(Item(pairs[f"{prefix}{c}"].current, pairs[f"{prefix}{c}"].previous, code=str(c)) for c in codes)


def _ratio(numerator: Pair, denominator: Pair) -> Pair:
    def div(a: Number | None, b: Number | None) -> float | None:
        return round(float(a) / float(b), 2) if a is not None and b else None

    return Pair(div(numerator.current, denominator.current), div(numerator.previous, denominator.previous))


def unit_ref(unit: OrgUnit) -> UnitRef:
    return UnitRef(code=unit.code, name=unit.name, name_en=unit.name_en, path=unit.path, level=unit.level)


@dataclass(frozen=True)
class _Scope:
    """The subtree condition, or nothing at all for the one root unit (whose subtree is every case)."""

    unit: OrgUnit
    everything: bool
    summaries: bool = False  # read the report summaries rather than the cases (see ``reads_summaries``)

    @classmethod
    def of(cls, unit: OrgUnit, *, summaries: bool = False) -> "_Scope":
        only_root = (
            unit.parent_id is None and not OrgUnit.objects.filter(parent__isnull=True).exclude(pk=unit.pk).exists()
        )
        return cls(unit=unit, everything=only_root, summaries=summaries)

    def q(self, case_prefix: str = "", field: str = "unit_path") -> Q:
        return Q() if self.everything else Q(**{f"{case_prefix}{field}__startswith": self.unit.path})


# --- The sections --------------------------------------------------------------------------------------------------


def _year_cases(scope: _Scope, w: _Window) -> QuerySet[Case]:
    # A merged record's incident is its survivor's: it is not counted again (cases/summaries.py).
    return Case.objects.filter(w.within("submitted_at"), scope.q(), merged_into__isnull=True).exclude(
        status=CaseStatus.DRAFT
    )


def _child_path(unit: OrgUnit, field: str = "unit_path") -> Substr:
    """The path of the direct sub-unit a case belongs to: its path cut after the first segment below ``unit``
    (the unit's own path for cases it handles itself)."""
    offset = len(unit.path)
    return Substr(field, 1, Value(offset) + StrIndex(Substr(field, offset + 1), Value("/")))


def _case_figures(scope: _Scope, w: _Window) -> CaseFigures:
    unit = scope.unit
    children = list(OrgUnit.objects.filter(parent=unit).order_by("path"))
    paths = [unit.path, *(c.path for c in children)]
    statuses = [s for s in CaseStatus.values if s != CaseStatus.DRAFT]
    months = range(1, 13)
    figures: dict[str, Sum_]
    cells: QuerySet[Any]
    if scope.summaries:
        # One row per case and dimension: the status rows count each case once.
        cells = (
            ReportCaseSummary.objects.filter(w.within_dates("month"), scope.q(field="area_path"))
            .annotate(
                report_year=w.bucket("month", dates=True),
                month_no=ExtractMonth("month"),
                child=_child_path(unit, "area_path"),
            )
            .values("report_year", "month_no", "dimension", "code", "child")
            .annotate(n=Sum("n"))
        )
        once = {"dimension": SummaryDimension.STATUS}
        figures = {
            "total": Sum_("n", once),
            **{f"month_{m}": Sum_("n", {**once, "month_no": m}) for m in months},
            **{f"kind_{c}": Sum_("n", {"dimension": SummaryDimension.KIND, "code": c}) for c in IncidentKind.values},
            **{f"channel_{c}": Sum_("n", {"dimension": SummaryDimension.CHANNEL, "code": c}) for c in Channel.values},
            **{f"status_{c}": Sum_("n", {**once, "code": c}) for c in statuses},
            **{f"child_{i}": Sum_("n", {**once, "child": path}) for i, path in enumerate(paths)},
        }
    else:
        cells = (
            _year_cases(scope, w)
            .annotate(report_year=w.bucket("submitted_at"), month=w.month("submitted_at"), child=_child_path(unit))
            .values("report_year", "month", "kind", "channel", "status", "child")
            .annotate(n=ROWS)
        )
        figures = {
            "total": Sum_(),
            **_each("month_", "month", months),
            **_each("kind_", "kind", IncidentKind.values),
            **_each("channel_", "channel", Channel.values),
            **_each("status_", "status", statuses),
            **{f"child_{i}": Sum_("n", {"child": path}) for i, path in enumerate(paths)},
        }
    pairs = _crosstab(cells, w.year, figures)
    subunits = tuple(
        SubunitItem(pairs[f"child_{i}"].current, pairs[f"child_{i}"].previous, unit_ref(u), i == 0)
        for i, u in enumerate([unit, *children])
    )
    return CaseFigures(
        total=pairs["total"],
        by_month=_items(pairs, "month_", months),
        by_kind=_items(pairs, "kind_", IncidentKind.values),
        by_channel=_items(pairs, "channel_", Channel.values),
        by_status=_items(pairs, "status_", statuses),
        by_subunit=subunits,
    )


def _party_cells(scope: _Scope, w: _Window, summary: Any, party: Any, dimensions: tuple[str, ...]) -> QuerySet[Any]:
    """A party's counts per report year by ``dimensions``: from its summary table (``summary``, per month and area), or
    live from the party's own rows (``party``) for the cases submitted in the window."""
    if scope.summaries:
        return (
            summary.objects.filter(w.within_dates("month"), scope.q(field="area_path"))
            .annotate(report_year=w.bucket("month", dates=True))
            .values("report_year", *dimensions)
            .annotate(n=Sum("n"))
        )
    rows = party.objects.filter(
        w.within("case__submitted_at"), scope.q("case__"), case__merged_into__isnull=True
    ).exclude(case__status=CaseStatus.DRAFT)
    return rows.annotate(report_year=w.bucket("case__submitted_at")).values("report_year", *dimensions).annotate(n=ROWS)


def _officer_figures(scope: _Scope, w: _Window) -> OfficerFigures:
    cells = _party_cells(scope, w, ReportOfficerSummary, InvolvedOfficer, ("officer_type", "injury"))
    hurt = [grade for grade, rank in INJURY_RANK.items() if rank >= INJURY_RANK[InjuryGrade.SLIGHT]]
    pairs = _crosstab(
        cells,
        w.year,
        {
            "total": Sum_(),
            **_each("type_", "officer_type", OfficerType.values),
            **_each("injury_", "injury", InjuryGrade.values),
            "injured": Sum_("n", {"injury": hurt}),
        },
    )
    return OfficerFigures(
        total=pairs["total"],
        by_type=_items(pairs, "type_", OfficerType.values),
        by_injury=_items(pairs, "injury_", InjuryGrade.values),
        injured=pairs["injured"],
        deaths=pairs[f"injury_{InjuryGrade.DEATH}"],
    )


def _suspect_figures(scope: _Scope, w: _Window, cases_total: Pair) -> tuple[SuspectFigures, DispositionFigures]:
    cells = _party_cells(scope, w, ReportSuspectSummary, Suspect, ("status", "disposition"))
    identified = [s for s in SuspectStatus.values if s != SuspectStatus.UNIDENTIFIED]
    pairs = _crosstab(
        cells,
        w.year,
        {
            "total": Sum_(),
            "identified": Sum_("n", {"status": identified}),
            **_each("status_", "status", SuspectStatus.values),
            **_each("disp_", "disposition", Disposition.values),
            **{f"level_{lvl}": Sum_("n", {"disposition": codes}) for lvl, codes in DISPOSITION_LEVELS.items()},
        },
    )
    figures = SuspectFigures(
        total=pairs["total"],
        identified=pairs["identified"],
        per_case=_ratio(pairs["total"], cases_total),
        by_status=_items(pairs, "status_", SuspectStatus.values),
        arrested=pairs[f"status_{SuspectStatus.ARRESTED}"],
        at_large=pairs[f"status_{SuspectStatus.AT_LARGE}"],
    )
    dispositions = DispositionFigures(
        by_level=_items(pairs, "level_", DISPOSITION_LEVELS),
        by_disposition=_items(pairs, "disp_", Disposition.values),
        convicted_by_article=_items(pairs, "disp_", CONVICTIONS),
    )
    return figures, dispositions


def _flag_figures(scope: _Scope, w: _Window) -> tuple[FlagFigures, ...]:
    # Flags and findings are few (prompts, not cases): plain conditional aggregation is cheap here.
    flags = Flag.objects.filter(w.within("raised_at"), scope.q("case__"))
    aggregates: dict[str, Any] = {}
    for kind in FlagKind.values:
        aggregates[f"raised_{kind}"] = Count("pk", filter=Q(kind=kind))
        aggregates[f"resolved_{kind}"] = Count("pk", filter=Q(kind=kind, resolved_at__isnull=False))
        aggregates[f"open_{kind}"] = Count("pk", filter=Q(kind=kind, resolved_at__isnull=True))
    pairs = _grouped(flags, w.bucket("raised_at"), aggregates, w.year)
    # Resolutions are dated by the resolution: a flag raised one year and resolved the next counts in the next.
    resolved = Flag.objects.filter(w.within("resolved_at"), scope.q("case__"))
    resolutions = _grouped(
        resolved,
        w.bucket("resolved_at"),
        {f"resolved_in_{kind}": Count("pk", filter=Q(kind=kind)) for kind in FlagKind.values},
        w.year,
    )
    return tuple(
        FlagFigures(
            kind,
            pairs[f"raised_{kind}"],
            pairs[f"resolved_{kind}"],
            pairs[f"open_{kind}"],
            resolutions[f"resolved_in_{kind}"],
        )
        for kind in FlagKind.values
    )


def _override_figures(scope: _Scope, w: _Window) -> OverrideFigures:
    # A downgrade flag, not a review prompt recorded under the same kind (a flag from before findings had a severity
    # counts as a downgrade, as cases/overrides.py treats it).
    overrides = FlagOverride.objects.filter(w.within("at"), scope.q("flag__case__"), downgrade_q("flag__"))
    aggregates: dict[str, Any] = {
        "total": Count("pk"),
        **{f"reason_{r}": Count("pk", filter=Q(reason=r)) for r in OverrideReason.values},
    }
    pairs = _grouped(overrides, w.bucket("at"), aggregates, w.year)
    return OverrideFigures(downgraded=pairs["total"], by_reason=_items(pairs, "reason_", OverrideReason.values))


def _finding_figures(scope: _Scope, w: _Window) -> FindingFigures:
    if scope.summaries:
        cells = (
            ReportFindingSummary.objects.filter(scope.q(field="area_path"), year__in=[w.year - 1, w.year])
            .annotate(report_year=F("year"))
            .values("report_year", "problem", "rectified", "on_time")
            .annotate(n=Sum("n"), accountable=Sum("accountable"))
        )
        pairs = _crosstab(
            cells,
            w.year,
            {
                "total": Sum_(),
                **_each("problem_", "problem", FindingProblem.values),
                "rectified": Sum_("n", {"rectified": True}),
                "on_time": Sum_("n", {"on_time": True}),
                "accountable": Sum_("accountable"),
            },
        )
        return FindingFigures(
            total=pairs["total"],
            by_problem=_items(pairs, "problem_", FindingProblem.values),
            rectified=pairs["rectified"],
            rectified_on_time=pairs["on_time"],
            officers_held_accountable=pairs["accountable"],
        )
    findings = SupervisionFinding.objects.filter(w.within("raised_at"), scope.q("case__"))
    on_time = Q(rectified_at__isnull=False) & (Q(rectify_by__isnull=True) | Q(rectified_at__date__lte=F("rectify_by")))
    aggregates: dict[str, Any] = {
        "total": Count("pk"),
        **{f"problem_{p}": Count("pk", filter=Q(problem=p)) for p in FindingProblem.values},
        "rectified": Count("pk", filter=Q(rectified_at__isnull=False)),
        "on_time": Count("pk", filter=on_time),
        "accountable": Sum("officers_held_accountable"),
    }
    pairs = _grouped(findings, w.bucket("raised_at"), aggregates, w.year)
    return FindingFigures(
        total=pairs["total"],
        by_problem=_items(pairs, "problem_", FindingProblem.values),
        rectified=pairs["rectified"],
        rectified_on_time=pairs["on_time"],
        officers_held_accountable=pairs["accountable"],
    )


def _review_figures(scope: _Scope, w: _Window) -> ReviewFigures:
    dimensions = ("report_year", "verdict", "officer_informed", "support_delivered", "clarification_issued")
    cells: QuerySet[Any]
    if scope.summaries:
        cells = (
            ReportReviewSummary.objects.filter(scope.q(field="area_path"), year__in=[w.year - 1, w.year])
            .annotate(report_year=F("year"))
            .values(*dimensions)
            .annotate(n=Sum("n"))
        )
    else:
        reviews = LookBackReview.objects.filter(campaign_year__in=[w.year - 1, w.year]).filter(scope.q("case__"))
        cells = reviews.annotate(report_year=F("campaign_year")).values(*dimensions).annotate(n=ROWS)
    pairs = _crosstab(
        cells,
        w.year,
        {
            "total": Sum_(),
            **_each("verdict_", "verdict", ReviewVerdict.values),
            "informed": Sum_("n", {"officer_informed": True}),
            "support": Sum_("n", {"support_delivered": True}),
            "clarification": Sum_("n", {"clarification_issued": True}),
        },
    )
    return ReviewFigures(
        total=pairs["total"],
        by_verdict=_items(pairs, "verdict_", ReviewVerdict.values),
        officer_informed=pairs["informed"],
        support_delivered=pairs["support"],
        clarification_issued=pairs["clarification"],
    )


def _support_figures(scope: _Scope, w: _Window) -> SupportFigures:
    cells: QuerySet[Any]
    if scope.summaries:
        # Fen back to yuan, exactly: a bigint times a two-place numeric.
        amount = ExpressionWrapper(
            Sum("cents") * Value(Decimal("0.01")), output_field=DecimalField(max_digits=20, decimal_places=2)
        )
        cells = (
            ReportSupportSummary.objects.filter(scope.q(field="area_path"), year__in=[w.year - 1, w.year])
            .annotate(report_year=F("year"))
            .values("report_year", "kind")
            .annotate(n=Sum("n"), amount=amount)
        )
    else:
        measures = SupportMeasure.objects.filter(
            w.within_dates("delivered_on"), scope.q("case__"), status=SupportStatus.DELIVERED
        )
        cells = (
            measures.annotate(report_year=w.bucket("delivered_on", dates=True))
            .values("report_year", "kind")
            .annotate(n=ROWS, amount=Sum("amount"))
        )
    pairs = _crosstab(
        cells,
        w.year,
        {
            "total": Sum_(),
            **_each("kind_", "kind", SupportKind.values),
            "payments": Sum_("amount", {"kind": SupportKind.COMFORT_PAYMENT}),
        },
    )
    payments = pairs["payments"]
    return SupportFigures(
        delivered=pairs["total"],
        by_kind=_items(pairs, "kind_", SupportKind.values),
        # Money stays Decimal, two places, also when nothing was paid.
        comfort_payment_total=Pair(_money(payments.current), _money(payments.previous)),
        clarification_notices=pairs[f"kind_{SupportKind.CLARIFICATION_NOTICE}"],
    )


def _money(value: Number | None) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


FRACTIONS = (0.5, 0.9)


def _spread(qs: QuerySet[Any], bucket: Any, days: DaysBetween, year: int) -> Spread:
    """Count, median and 90th percentile of ``days`` for both years, in one query."""
    values: dict[tuple[int, float], float | None] = {}
    if connection.vendor == "postgresql":
        aggregates = {"n": ROWS, "p": PercentilesCont(days, FRACTIONS)}
        pairs = _grouped(qs, bucket, aggregates, year, none_is_zero=False)
        count = Pair(pairs["n"].current or 0, pairs["n"].previous or 0)
        for y, found in ((year, pairs["p"].current), (year - 1, pairs["p"].previous)):
            for f, v in zip(FRACTIONS, found or [None] * len(FRACTIONS), strict=True):  # type: ignore[arg-type]
                values[(y, f)] = v
    else:
        sizes, percentiles = window_percentiles(qs, bucket, days)
        count = Pair(sizes.get(year, 0), sizes.get(year - 1, 0))
        values.update(percentiles)
    return Spread(
        count=count,
        median=Pair(_round(values.get((year, 0.5))), _round(values.get((year - 1, 0.5)))),
        p90=Pair(_round(values.get((year, 0.9))), _round(values.get((year - 1, 0.9)))),
    )


def window_percentiles(
    qs: QuerySet[Any], bucket: Any, days: DaysBetween
) -> tuple[dict[int, int], dict[tuple[int, float], float]]:
    """``percentile_cont`` for databases without it: the rows per year, and ``{(year, fraction): value}``.

    Window functions number each year's rows by ``days``; the query returns only the rows at the floor and the
    ceiling of each percentile's position ``1 + f·(n−1)`` (at most four per year), and the value is interpolated
    between those two, exactly as ``percentile_cont`` does.
    """
    partition = [F("report_year")]
    ranked = qs.annotate(
        report_year=bucket,
        d=days,
        rn=Window(RowNumber(), partition_by=partition, order_by=[F("d").asc(), F("pk").asc()]),
        n=Window(Count("pk"), partition_by=partition),
    )
    positions = [Value(1.0) + Value(f) * (F("n") - Value(1)) for f in FRACTIONS]
    wanted = reduce(operator.or_, [Q(rn=Floor(p)) | Q(rn=Ceil(p)) for p in positions])
    rows = ranked.filter(wanted).values_list("report_year", "rn", "n", "d").order_by()
    ranked_days: dict[tuple[int, int], float] = {}
    sizes: dict[int, int] = {}
    for year, rn, n, d in rows:
        ranked_days[(year, int(rn))] = d
        sizes[year] = n
    out: dict[tuple[int, float], float] = {}
    for year, n in sizes.items():
        for f in FRACTIONS:
            position = 1 + f * (n - 1)
            low, high = math.floor(position), math.ceil(position)
            a, b = ranked_days[(year, low)], ranked_days[(year, high)]
            out[(year, f)] = a + (position - low) * (b - a)
    return sizes, out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _referral_spread(scope: _Scope, w: _Window) -> Spread:
    """Days from submission to the case's first referral, for first referrals made in each year."""
    if scope.summaries:
        return _summary_spread(scope, w, SpreadMeasure.REFERRAL)
    earlier = Referral.objects.filter(case=OuterRef("case"), referred_at__lt=OuterRef("referred_at"))
    first = Referral.objects.filter(
        w.within("referred_at"), ~Exists(earlier), scope.q("case__"), case__merged_into__isnull=True
    )
    return _spread(first, w.bucket("referred_at"), DaysBetween(F("referred_at"), F("case__submitted_at")), w.year)


def _closure_spread(scope: _Scope, w: _Window) -> Spread:
    """Days from submission to closure, for cases closed in each year."""
    if scope.summaries:
        return _summary_spread(scope, w, SpreadMeasure.CLOSURE)
    closed = Case.objects.filter(
        w.within("closed_at"), scope.q(), submitted_at__isnull=False, merged_into__isnull=True
    ).exclude(status=CaseStatus.DRAFT)
    return _spread(closed, w.bucket("closed_at"), DaysBetween(F("closed_at"), F("submitted_at")), w.year)


# The conditions of each spread's cases, as the live queries above select them (the first referral of a case is its
# stored ``first_referred_at``), written to match the partial indexes of migration 0032.
_SPREAD_SQL = {
    SpreadMeasure.REFERRAL: (
        "first_referred_at",
        "c.first_referred_at IS NOT NULL AND c.submitted_at IS NOT NULL AND c.merged_into_id IS NULL",
    ),
    SpreadMeasure.CLOSURE: (
        "closed_at",
        f"c.closed_at IS NOT NULL AND c.submitted_at IS NOT NULL AND c.status <> '{CaseStatus.DRAFT.value}' "
        "AND c.merged_into_id IS NULL",
    ),
}


def _summary_spread(scope: _Scope, w: _Window, measure: SpreadMeasure) -> Spread:
    """A spread from the whole-day histogram of ``ReportSpreadSummary``, exactly as ``percentile_cont`` computes it.

    The histogram gives each year's count and, for each percentile, the ranks of the two cases it lies between
    (``percentile_cont`` interpolates between the values at ranks ⌊f·(n−1)⌋ and ⌈f·(n−1)⌉, from 0), and which
    whole day those cases took. Only the cases of those days are then read, in order, from the duration index
    (migration 0032) for their exact times; the interpolation is PostgreSQL's own arithmetic, in the same order.
    """
    rows = (
        ReportSpreadSummary.objects.filter(scope.q(field="area_path"), measure=measure, year__in=[w.year - 1, w.year])
        .values_list("year", "days")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .order_by("year", "days")
    )
    histogram: dict[int, list[tuple[int, int]]] = {w.year: [], w.year - 1: []}
    for year, days, n in rows:
        histogram[year].append((days, n))
    # (year, whole days) -> the 0-based ranks wanted among that day's cases, and each percentile's two ranks.
    wanted: dict[tuple[int, int], set[int]] = {}
    plan: dict[tuple[int, float], tuple[int, int, float]] = {}
    where: dict[tuple[int, int], tuple[int, int]] = {}  # (year, overall rank) -> (days, rank within the day)
    counts: dict[int, int] = {}
    for year, buckets in histogram.items():
        counts[year] = total = sum(n for _, n in buckets)
        if not total:
            continue
        for f in FRACTIONS:
            position = f * (total - 1)
            first, second = math.floor(position), math.ceil(position)
            plan[(year, f)] = (first, second, position - first)
            for rank in (first, second):
                seen = 0
                for days, n in buckets:
                    if rank < seen + n:
                        where[(year, rank)] = (days, rank - seen)
                        wanted.setdefault((year, days), set()).add(rank - seen)
                        break
                    seen += n
    exact = _exact_days(scope, w, measure, wanted)
    values: dict[tuple[int, float], float | None] = {}
    for (year, f), (first, second, proportion) in plan.items():
        low = exact[(year, *where[(year, first)])]
        if second > first:
            high = exact[(year, *where[(year, second)])]
            values[(year, f)] = low + (proportion * (high - low))
        else:
            values[(year, f)] = low
    return Spread(
        count=Pair(counts[w.year], counts[w.year - 1]),
        median=Pair(_round(values.get((w.year, 0.5))), _round(values.get((w.year - 1, 0.5)))),
        p90=Pair(_round(values.get((w.year, 0.9))), _round(values.get((w.year - 1, 0.9)))),
    )


def _exact_days(
    scope: _Scope, w: _Window, measure: SpreadMeasure, wanted: Mapping[tuple[int, int], set[int]]
) -> dict[tuple[int, int, int], float]:
    """``{(year, whole days, rank within the day): exact days}`` for the ranks ``wanted``, in one query."""
    if not wanted:
        return {}
    end, condition = _SPREAD_SQL[measure]
    # The expression DaysBetween writes, so each value is the very number the live percentile sorts.
    days = f"(CAST(EXTRACT(EPOCH FROM (c.{end} - c.submitted_at)) AS double precision) / 86400.0)"
    parts: list[str] = []
    params: list[Any] = []
    tz = report_tz_literal()
    for (year, whole), ranks in sorted(wanted.items()):
        subtree = ""
        if not scope.everything:
            subtree = " AND c.unit_path LIKE %s"
        # The local year and the duration as the indexes of migration 0032 write them: the read walks the entries of
        # one year and one whole day, in order of the time taken.
        part = (
            f"(SELECT %s::int AS y, %s::int AS w, {days} AS d FROM cases_case c WHERE {condition} "  # noqa: S608
            f"AND date_part('year', timezone('{tz}', c.{end})) = %s "
            f"AND (c.{end} - c.submitted_at) >= make_interval(days => %s) "
            f"AND (c.{end} - c.submitted_at) < make_interval(days => %s){subtree} "
            f"ORDER BY (c.{end} - c.submitted_at) OFFSET %s LIMIT %s)"
        )
        parts.append(part)
        params += [year, whole, year, whole, whole + 1]
        if not scope.everything:
            params.append(connection.ops.prep_for_like_query(scope.unit.path) + "%")
        params += [min(ranks), max(ranks) - min(ranks) + 1]
    out: dict[tuple[int, int, int], float] = {}
    with reading.db().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        ordered: dict[tuple[int, int], list[float]] = {}
        for year, whole, value in cursor.fetchall():
            ordered.setdefault((year, whole), []).append(value)
    for (year, whole), ranks in wanted.items():
        # Each part is the day's slice in order; UNION ALL need not keep that order, so it is restored here.
        found = sorted(ordered.get((year, whole), []))
        for rank in ranks:
            out[(year, whole, rank)] = found[rank - min(ranks)]
    return out


# Memory for each sort or hash of the report's queries. At PostgreSQL's default (4 MB) grouping two years of a
# national caseload spills to disk and sorts; with this it hashes in memory, several times faster.
REPORT_WORK_MEM = "64MB"
# Parallel workers per query for the report's scans of a year of cases (requests run without: rightsguard/settings.py).
REPORT_PARALLEL_WORKERS = 2


@dataclass(frozen=True)
class CaseSummary:
    """The report's case figures for the report year alone, added up over one or more disjoint subtrees: what the
    API's yearly summary answers, so that it and the report never disagree."""

    year: int
    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    by_month: list[int]  # twelve counts, January first
    downgraded_overridden: int  # downgraded flags overridden in the year (dated by the override)
    # Per flag kind: flags raised in the year, and flags resolved in the year (the report's flag figures).
    flags_raised: dict[str, int] = field(default_factory=dict)
    flags_resolved: dict[str, int] = field(default_factory=dict)


def case_summary(*, units: Iterable[OrgUnit], year: int) -> CaseSummary:
    """The year's cases of the subtrees of ``units`` (which must not overlap), counted as the report counts them:
    submitted in the year (local time), drafts excluded; and their flags raised and resolved in the year, by kind."""
    w = _Window.of(year)
    total, by_kind, by_status, by_month = 0, dict[str, int](), dict[str, int](), [0] * 12
    raised, resolved = dict.fromkeys(FlagKind.values, 0), dict.fromkeys(FlagKind.values, 0)
    overridden = 0
    with one_snapshot(), timezone.override(report_timezone()):
        for unit in units:
            scope = _Scope.of(unit, summaries=reads_summaries(unit))
            for flag in _flag_figures(scope, w):
                raised[flag.kind] += int(flag.raised.current or 0)
                resolved[flag.kind] += int(flag.resolved_in_year.current or 0)
            overridden += int(_override_figures(scope, w).downgraded.current or 0)
            figures = _case_figures(scope, w)
            total += int(figures.total.current or 0)
            for items, into in ((figures.by_kind, by_kind), (figures.by_status, by_status)):
                for item in items:
                    if item.current:
                        into[item.code] = into.get(item.code, 0) + int(item.current)
            for item in figures.by_month:
                by_month[int(item.code) - 1] += int(item.current or 0)
    return CaseSummary(
        year=year,
        total=total,
        by_kind=by_kind,
        by_status=by_status,
        by_month=by_month,
        downgraded_overridden=overridden,
        flags_raised=raised,
        flags_resolved=resolved,
    )


def reads_summaries(unit: OrgUnit, source: str = "auto") -> bool:
    """Whether the report of ``unit`` adds up the summaries (cases/summaries.py) rather than counts the cases.

    The units above the summaries' areas do (the ministry and the provinces: large subtrees, broken down by
    province or by city); a city or a county counts its own cases live, through the subtree index, quickly enough,
    and only live can break them down by county or station. PostgreSQL only (the exact percentiles read the
    duration indexes of migration 0032); elsewhere always live. ``source`` "live" or "summaries" chooses."""
    if source not in ("auto", "live", "summaries"):
        raise ValueError(f"unknown report source {source!r}")
    above_areas = unit.depth < AREA_DEPTH
    if source == "summaries" and not above_areas:
        raise ValueError("the summaries break figures down no finer than by city: a city's report is computed live")
    return connection.vendor == "postgresql" and source != "live" and above_areas


def yearly_report(*, unit: OrgUnit, year: int, source: str = "auto") -> YearlyReport:
    """The yearly report of ``unit``'s subtree for ``year``, each figure beside last year's (see the module doc).

    ``source`` is for the tests and benchmarks that compare the two ways of counting (``reads_summaries``)."""
    w = _Window.of(year)
    scope = _Scope.of(unit, summaries=reads_summaries(unit, source))

    # __date lookups convert to the current time zone; pin it so a worker's setting cannot shift days. The
    # transaction scopes the memory setting to these queries (SET LOCAL ends with it), and its one snapshot keeps
    # the figures of a change committed meanwhile out of every section alike: a spread's histogram and the exact
    # times of the cases it points at, the summaries and the cases. All of it from the read replica when there is
    # one, and read again from the primary if the replica fails meanwhile (cases/reading.py).
    def read(freshness: reading.Freshness) -> YearlyReport:
        with one_snapshot(), timezone.override(report_timezone()):
            if connection.vendor == "postgresql":
                with reading.db().cursor() as cursor:
                    cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
                    cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = {REPORT_PARALLEL_WORKERS}")
            cases = _case_figures(scope, w)
            suspects, dispositions = _suspect_figures(scope, w, cases.total)
            return YearlyReport(
                unit=unit_ref(unit),
                year=year,
                generated_at=timezone.now(),
                cases=cases,
                officers=_officer_figures(scope, w),
                suspects=suspects,
                dispositions=dispositions,
                flags=_flag_figures(scope, w),
                overrides=_override_figures(scope, w),
                findings=_finding_figures(scope, w),
                reviews=_review_figures(scope, w),
                support=_support_figures(scope, w),
                intake_to_referral=_referral_spread(scope, w),
                intake_to_closure=_closure_spread(scope, w),
                sections=extra_sections(unit=unit, year=year),
                figures_as_of=freshness.as_of,
            )

    return reading.read_from_replica(read)
