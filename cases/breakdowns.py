"""Counts of submitted cases and their officers by direct sub-unit, local month of submission and dimension: what
the analysis of cases (the ``analysis`` app) adds up, read through ``cases.selectors``.

A unit above the summaries' areas (the ministry, a province: ``summaries.AREA_DEPTH``) reads the report summaries,
kept by the services with every change (cases/summaries.py); a city or a unit below it counts its own cases live,
with the same SQL the summaries are rebuilt with, since only live can break its cases down by county or station.
On databases other than PostgreSQL every unit counts live, in Python, with the same definitions
(cases/dimensions.py ``codes``). The three ways agree: tests/cases/test_breakdowns.py compares them.

Drafts never count. A case counts in the month it was submitted, in settings.TIME_ZONE, and under the direct sub-unit
of ``unit`` it belongs to (the unit's own path for the cases it handles itself).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from accounts.models import OrgUnit
from cases import dimensions, reading, summaries
from cases.choices import CaseStatus
from cases.models import (
    Case,
    Flag,
    FlagOverride,
    InvolvedOfficer,
    LookBackReview,
    ReportCaseSummary,
    ReportOfficerSummary,
    ReportReviewSummary,
    ReportSpreadSummary,
    SpreadMeasure,
    SummaryDimension,
)
from cases.overrides import downgrade_q

# Memory for the live counts' sorts and hashes (as the yearly report's: cases/reports/yearly.py REPORT_WORK_MEM).
WORK_MEM = "64MB"
# The dimensions a breakdown may ask for: the report's three and the analysis's six.
ALL_DIMENSIONS: tuple[str, ...] = tuple(SummaryDimension.values)
# The case fields the analysis's codes read (cases/dimensions.py ``codes``).
_FACT_FIELDS = (
    "duty_scenario",
    "place_category",
    "occurred_at",
    "weapon",
    "intoxicated",
    "organised_or_incited",
    "attackers",
)


@dataclass(frozen=True)
class Breakdown:
    """``cases[(child path, month, dimension, code)]``: submitted cases; ``officers[(child path, month, officer type,
    injury)]``: their involved officers. Months are first days of local months."""

    cases: Counter[tuple[str, date, str, str]]
    officers: Counter[tuple[str, date, str, str]]


def reads_summaries(unit: OrgUnit) -> bool:
    return connection.vendor == "postgresql" and unit.depth < summaries.AREA_DEPTH


def _child_regex(unit: OrgUnit) -> str:
    """Cuts a path to the direct sub-unit of ``unit`` (or to the unit itself, for a path that ends there)."""
    return f"^(?:/[^/]+){{1,{unit.depth + 2}}}/"


def _child_of(unit: OrgUnit, path: str) -> str:
    segments = [s for s in path.split("/") if s][: unit.depth + 2]
    return "/" + "/".join(segments) + "/"


def breakdown(*, unit: OrgUnit, start: date, end: date, dims: Iterable[str], officers: bool = True) -> Breakdown:
    """The submitted cases of ``unit``'s subtree whose local month of submission is in [``start``, ``end``) (first days
    of months), on each of ``dims``, and their officers (unless ``officers`` is False: then none are counted)."""
    wanted = [d for d in ALL_DIMENSIONS if d in set(dims)]
    unknown = set(dims) - set(ALL_DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}")
    if reads_summaries(unit):
        return _from_summaries(unit, start, end, wanted, officers)
    if connection.vendor == "postgresql":
        return _live_sql(unit, start, end, wanted, officers)
    return _live_python(unit, start, end, wanted, officers)


def _from_summaries(unit: OrgUnit, start: date, end: date, wanted: list[str], with_officers: bool = True) -> Breakdown:
    regex = _child_regex(unit)
    cases_table = ReportCaseSummary._meta.db_table
    officers_table = ReportOfficerSummary._meta.db_table
    cases: Counter[tuple[str, date, str, str]] = Counter()
    officers: Counter[tuple[str, date, str, str]] = Counter()
    with reading.db().cursor() as cursor:
        # Table names are ours; every value is a parameter.
        cursor.execute(
            f"SELECT substring(area_path from %s), month, dimension, code, SUM(n) FROM {cases_table} "  # noqa: S608
            "WHERE month >= %s AND month < %s AND dimension = ANY(%s) AND area_path LIKE %s "
            "GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0",
            [regex, start, end, wanted, _like(unit.path)],
        )
        for child, month, dimension, code, n in cursor.fetchall():
            cases[(child, month, dimension, code)] += int(n)
        if not with_officers:
            return Breakdown(cases, officers)
        cursor.execute(
            f"SELECT substring(area_path from %s), month, officer_type, injury, SUM(n) "  # noqa: S608
            f"FROM {officers_table} WHERE month >= %s AND month < %s AND area_path LIKE %s "
            "GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0",
            [regex, start, end, _like(unit.path)],
        )
        for child, month, officer_type, injury, n in cursor.fetchall():
            officers[(child, month, officer_type, injury)] += int(n)
    return Breakdown(cases, officers)


def _like(path: str) -> str:
    # Unit paths are digits and slashes (accounts.models.OrgUnit): nothing to escape, but never trust that twice.
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _live_sql(unit: OrgUnit, start: date, end: date, wanted: list[str], with_officers: bool = True) -> Breakdown:
    case_table = Case._meta.db_table
    officer_table = InvolvedOfficer._meta.db_table
    month = "(date_trunc('month', c.submitted_at AT TIME ZONE %(tz)s))::date"
    window = (
        "c.submitted_at IS NOT NULL AND c.status <> %(draft)s AND c.merged_into_id IS NULL "
        "AND c.unit_path LIKE %(like)s "
        "AND c.submitted_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s) "
        "AND c.submitted_at < (%(end)s::timestamp AT TIME ZONE %(tz)s)"
    )
    params = {
        **summaries.rebuild_params(),
        "regex": _child_regex(unit),
        "like": _like(unit.path),
        "draft": CaseStatus.DRAFT.value,
        "start": start,
        "end": end,
    }
    cases: Counter[tuple[str, date, str, str]] = Counter()
    officers: Counter[tuple[str, date, str, str]] = Counter()
    # Each case's sub-unit, month and codes are worked out once (the materialised rows), then counted per dimension:
    # cheaper than repeating the expressions for every (case, dimension) pair. Sorting and hashing in memory.
    columns = ", ".join(f"{_code_sql(d)} AS d{i}" for i, d in enumerate(wanted))
    counted = " UNION ALL ".join(
        f"SELECT child, month, '{d}', d{i}, COUNT(*) FROM x GROUP BY child, month, d{i}"  # noqa: S608  (ours)
        for i, d in enumerate(wanted)
    )
    with transaction.atomic(using=reading.alias()), reading.db().cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        if wanted:
            cursor.execute(
                f"WITH x AS MATERIALIZED (SELECT substring(c.unit_path from %(regex)s) AS child, {month} AS month, "  # noqa: S608
                f"{columns} FROM {case_table} c WHERE {window}) {counted}",
                params,
            )
            for child, m, dimension, code, n in cursor.fetchall():
                cases[(child, m, dimension, code)] += n
        if not with_officers:
            return Breakdown(cases, officers)
        cursor.execute(
            f"SELECT substring(c.unit_path from %(regex)s), {month}, o.officer_type, o.injury, COUNT(*) "  # noqa: S608
            f"FROM {officer_table} o JOIN {case_table} c ON c.id = o.case_id WHERE {window} GROUP BY 1, 2, 3, 4",
            params,
        )
        for child, m, officer_type, injury, n in cursor.fetchall():
            officers[(child, m, officer_type, injury)] += n
    return Breakdown(cases, officers)


def _code_sql(dimension: str) -> str:
    return {"kind": "c.kind", "channel": "c.channel", "status": "c.status"}.get(dimension) or dimensions.SQL[dimension]


def _live_python(unit: OrgUnit, start: date, end: date, wanted: list[str], with_officers: bool = True) -> Breakdown:
    cases: Counter[tuple[str, date, str, str]] = Counter()
    officers: Counter[tuple[str, date, str, str]] = Counter()
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = (
        Case.objects.filter(
            unit_path__startswith=unit.path,
            submitted_at__gte=datetime.combine(start, time(), zone),
            submitted_at__lt=datetime.combine(end, time(), zone),
            merged_into__isnull=True,
        )
        .exclude(status=CaseStatus.DRAFT)
        .only("unit_path", "submitted_at", "status", "kind", "channel", *_FACT_FIELDS)
    )
    months: dict[int, tuple[str, date]] = {}
    for case in rows.iterator(chunk_size=2000):
        month = summaries.local_month(case.submitted_at)  # type: ignore[arg-type]  # filtered: never None
        child = _child_of(unit, case.unit_path)
        months[case.pk] = (child, month)
        codes = {"kind": case.kind, "channel": case.channel, "status": case.status, **dimensions.codes(case)}
        for d in wanted:
            cases[(child, month, d, codes[d])] += 1
    if not with_officers:
        return Breakdown(cases, officers)
    people = InvolvedOfficer.objects.filter(case_id__in=list(months)).values_list("case_id", "officer_type", "injury")
    for case_id, officer_type, injury in people.iterator(chunk_size=2000):
        child, month = months[case_id]
        officers[(child, month, officer_type, injury)] += 1
    return Breakdown(cases, officers)


# --- How the cases were handled ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handling:
    """How ``unit``'s sub-units handled their cases in a year, by child path (see ``handling``)."""

    # whole days from submission to the first referral -> cases first referred in the year
    referral_days: dict[str, Counter[int]]
    # cases submitted in the year that were flagged as downgraded (a downgrade, not a review prompt), so far
    downgraded: Counter[str]
    # downgraded flags overridden in the year (the office kept the disposition, with a recorded reason)
    overridden: Counter[str]
    # look-back reviews of the year's campaign by verdict
    verdicts: dict[str, Counter[str]]


def _year_window(year: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def _live_verdicts(unit: OrgUnit, year: int) -> dict[str, Counter[str]]:
    verdicts: dict[str, Counter[str]] = {}
    reviews = (
        LookBackReview.objects.filter(campaign_year=year, case__unit_path__startswith=unit.path)
        .values_list("case__unit_path", "verdict")
        .annotate(n=Count("pk"))
    )
    for path, verdict, n in reviews:
        verdicts.setdefault(_child_of(unit, path), Counter())[verdict] += n
    return verdicts


def _referrals_sql(unit: OrgUnit, start: datetime, end: datetime) -> dict[str, Counter[int]]:
    """First referrals in [start, end) by sub-unit and whole days, as the summaries count them (cases/summaries.py
    REBUILD_SQL), grouped in the database."""
    found: dict[str, Counter[int]] = {}
    whole_days_sql = summaries._DAYS.format(end="c.first_referred_at")
    with reading.db().cursor() as cursor:
        cursor.execute(
            f"SELECT substring(c.unit_path from %(regex)s), {whole_days_sql}, COUNT(*) "  # noqa: S608
            f"FROM {Case._meta.db_table} c WHERE c.unit_path LIKE %(like)s AND c.first_referred_at >= %(start)s "
            "AND c.first_referred_at < %(end)s AND c.submitted_at IS NOT NULL GROUP BY 1, 2",
            {"regex": _child_regex(unit), "like": _like(unit.path), "start": start, "end": end},
        )
        for child, whole, n in cursor.fetchall():
            found.setdefault(child, Counter())[whole] += n
    return found


def _referrals_python(unit: OrgUnit, start: datetime, end: datetime) -> dict[str, Counter[int]]:
    """``_referrals_sql`` elsewhere than on PostgreSQL, case by case (``summaries.whole_days``)."""
    found: dict[str, Counter[int]] = {}
    referred = Case.objects.filter(
        unit_path__startswith=unit.path,
        first_referred_at__gte=start,
        first_referred_at__lt=end,
        submitted_at__isnull=False,
    ).values_list("unit_path", "first_referred_at", "submitted_at")
    for path, first, submitted in referred.iterator(chunk_size=2000):
        days = summaries.whole_days(first, submitted)  # type: ignore[arg-type]  # filtered: neither is None
        found.setdefault(_child_of(unit, path), Counter())[days] += 1
    return found


def handling(*, unit: OrgUnit, year: int) -> Handling:
    """The handling figures of ``unit``'s subtree for ``year``, by its direct sub-units: the first referrals of the
    year (local year of the referral, as the report's spread) and the look-back reviews of the year's campaign from the
    report summaries above the areas, live below; the downgraded flags and their overrides, which are few, live."""
    start, end = _year_window(year)
    referral_days: dict[str, Counter[int]] = {}
    verdicts: dict[str, Counter[str]] = {}
    if reads_summaries(unit):
        spreads = ReportSpreadSummary.objects.filter(
            measure=SpreadMeasure.REFERRAL, year=year, area_path__startswith=unit.path
        ).values_list("area_path", "days", "n")
        for path, days, n in spreads:
            if n:
                referral_days.setdefault(_child_of(unit, path), Counter())[days] += n
        reviews = ReportReviewSummary.objects.filter(year=year, area_path__startswith=unit.path).values_list(
            "area_path", "verdict", "n"
        )
        for path, verdict, n in reviews:
            if n:
                verdicts.setdefault(_child_of(unit, path), Counter())[verdict] += n
    else:
        referral_days = (_referrals_sql if connection.vendor == "postgresql" else _referrals_python)(unit, start, end)
        verdicts = _live_verdicts(unit, year)
    downgraded: Counter[str] = Counter()
    flagged = (
        Flag.objects.filter(
            downgrade_q(),
            case__unit_path__startswith=unit.path,
            case__submitted_at__gte=start,
            case__submitted_at__lt=end,
            case__merged_into__isnull=True,
        )
        .exclude(case__status=CaseStatus.DRAFT)
        .values_list("case__unit_path")
        .annotate(n=Count("case", distinct=True))
    )
    for path, n in flagged:
        downgraded[_child_of(unit, path)] += n
    overridden: Counter[str] = Counter()
    overrides = (
        FlagOverride.objects.filter(
            downgrade_q("flag__"), flag__case__unit_path__startswith=unit.path, at__gte=start, at__lt=end
        )
        .values_list("flag__case__unit_path")
        .annotate(n=Count("pk"))
    )
    for path, n in overrides:
        overridden[_child_of(unit, path)] += n
    return Handling(referral_days, downgraded, overridden, verdicts)
