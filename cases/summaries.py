"""The yearly report's summaries: what each case adds to them, keeping them in step, rebuilding and reconciling them.

A case adds, while it is submitted (drafts never count, as in the report) and not merged into another as its
duplicate (a merged record's victims are listed on the case that carries on, and count there; its incident is that
case's: cases/services/duplicates.py):

- one to each of nine rows of ``ReportCaseSummary`` (its area, local month of submission, and its type, its channel,
  its status now, and its code on each of the analysis's six breakdowns, cases/dimensions.py: one row per
  dimension);
- its officers to ``ReportOfficerSummary`` (type, injury) and its suspects to ``ReportSuspectSummary`` (status,
  disposition), in the case's area and month;
- one to the ``ReportSpreadSummary`` histogram of its first referral (local year of the referral, whole days since
  submission) and, once closed, of its closure.

And, whatever its status (the report dates these by their own acts): its look-back reviews to
``ReportReviewSummary`` (campaign year), its delivered support measures to ``ReportSupportSummary`` (year of
delivery, with their amounts) and its supervision findings to ``ReportFindingSummary`` (local year raised).

The services keep them: ``change_case`` notes what the locked case adds before the change, ``CaseChange.save``
what it adds after, and the difference is written in the same transaction with ``INSERT … ON CONFLICT DO UPDATE
SET n = n + delta`` (``apply``), so concurrent writers never lose a count, and rows are written in key order, so two
changes meeting on the same rows wait for each other rather than deadlock. "Status now" is a dimension: a status
change moves one from one row to another.

The area of a case is its handling unit's path cut below ``AREA_DEPTH`` (the cities): the reports that read the
summaries are those of units above it, which break their figures down by their direct sub-units at most.

``rebuild_rows`` recomputes every row from the cases in SQL; ``reconcile`` compares it with what is stored and,
asked to, repairs the difference. Anything that writes cases around the services (the bulk seeder, a data fix)
ends with ``reconcile(repair=True)``.
"""

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from cases import dimensions, reading
from cases.choices import CaseStatus, SupportStatus
from cases.models import (
    Case,
    InvolvedOfficer,
    LookBackReview,
    ReportCaseSummary,
    ReportFindingSummary,
    ReportOfficerSummary,
    ReportReviewSummary,
    ReportSpreadSummary,
    ReportSupportSummary,
    ReportSuspectSummary,
    SpreadMeasure,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)

# One count of a summary row: the table's name first (``name.column`` for a column other than ``n``), then the row's
# dimensions in the order of ``TABLES``.
Key = tuple[Any, ...]

TABLES: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "cases": (ReportCaseSummary, ("area_path", "month", "dimension", "code")),
    "officers": (ReportOfficerSummary, ("area_path", "month", "officer_type", "injury")),
    "suspects": (ReportSuspectSummary, ("area_path", "month", "status", "disposition")),
    "spreads": (ReportSpreadSummary, ("measure", "year", "area_path", "days")),
    "reviews": (
        ReportReviewSummary,
        ("year", "area_path", "verdict", "officer_informed", "support_delivered", "clarification_issued"),
    ),
    "support": (ReportSupportSummary, ("year", "area_path", "kind")),
    "findings": (ReportFindingSummary, ("year", "area_path", "problem", "rectified", "on_time")),
}
# The columns each table counts in: ``n`` and, for some, a sum.
COLUMNS: dict[str, tuple[str, ...]] = {"support": ("n", "cents"), "findings": ("n", "accountable")}


def columns_of(table: str) -> tuple[str, ...]:
    return COLUMNS.get(table, ("n",))


def _name(table: str, column: str) -> str:
    return table if column == "n" else f"{table}.{column}"


# The deepest units the summaries keep apart (OrgUnit.depth: the ministry 0, provinces 1, cities 2).
AREA_DEPTH = 2
DAY = timedelta(days=1)
_DRAFT = CaseStatus.DRAFT.value


def _local(moment: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def area_of(unit_path: str) -> str:
    """The unit path cut below ``AREA_DEPTH``: a station's cases count in their city's area."""
    segments = [s for s in unit_path.split("/") if s][: AREA_DEPTH + 1]
    return "/" + "/".join(segments) + "/"


def report_tz_literal() -> str:
    """settings.TIME_ZONE for writing into SQL text (the spread indexes and the queries that must match them)."""
    tz = settings.TIME_ZONE
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
        raise ValueError(f"unexpected time zone name {tz!r}")
    return tz


def local_month(moment: datetime) -> date:
    return _local(moment).date().replace(day=1)


def whole_days(end: datetime, start: datetime) -> int:
    """Whole days from ``start`` to ``end``, rounded down, exactly (microseconds, no floating point)."""
    return (end - start) // DAY


def _party_counts(case_id: int) -> list[tuple[str, str, str, int]]:
    """The case's officers by (type, injury) and suspects by (status, disposition), in one query."""
    qn = connection.ops.quote_name
    officers, suspects = qn(InvolvedOfficer._meta.db_table), qn(Suspect._meta.db_table)
    sql = (
        f"SELECT 'officers', officer_type, injury, COUNT(*) FROM {officers} WHERE case_id = %s "  # noqa: S608
        f"GROUP BY officer_type, injury UNION ALL SELECT 'suspects', status, disposition, COUNT(*) FROM {suspects} "
        "WHERE case_id = %s GROUP BY status, disposition"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id, case_id])
        return list(cursor.fetchall())


def contribution(case: Case) -> Counter[Key]:
    """What ``case`` adds to the summaries as it is now (its officers and suspects read from the database)."""
    out: Counter[Key] = Counter()
    path = area_of(case.unit_path)
    _acts(case.pk, path, out)
    submitted = case.submitted_at
    if submitted is None or case.merged_into_id is not None:
        return out
    if case.first_referred_at is not None:
        year = _local(case.first_referred_at).year
        out[("spreads", SpreadMeasure.REFERRAL.value, year, path, whole_days(case.first_referred_at, submitted))] += 1
    if case.status == _DRAFT:
        return out
    month = local_month(submitted)
    for dimension, code in (("kind", case.kind), ("channel", case.channel), ("status", case.status)):
        out[("cases", path, month, dimension, code)] += 1
    for dimension, code in dimensions.codes(case).items():
        out[("cases", path, month, dimension, code)] += 1
    if case.closed_at is not None:
        year = _local(case.closed_at).year
        out[("spreads", SpreadMeasure.CLOSURE.value, year, path, whole_days(case.closed_at, submitted))] += 1
    for table, a, b, n in _party_counts(case.pk):
        out[(table, path, month, a, b)] += n
    return out


def _acts(case_id: int, path: str, out: Counter[Key]) -> None:
    """The case's reviews, delivered support and findings, as the report selects and dates them."""
    for year, verdict, informed, support, clarification in LookBackReview.objects.filter(case_id=case_id).values_list(
        "campaign_year", "verdict", "officer_informed", "support_delivered", "clarification_issued"
    ):
        out[("reviews", year, path, verdict, informed is True, support is True, clarification is True)] += 1
    delivered = SupportMeasure.objects.filter(
        case_id=case_id, status=SupportStatus.DELIVERED, delivered_on__isnull=False
    ).values_list("delivered_on", "kind", "amount")
    for on, kind, amount in delivered:
        year = on.year  # type: ignore[union-attr]  # filtered: never None
        out[("support", year, path, kind)] += 1
        out[("support.cents", year, path, kind)] += int((amount or 0) * 100)
    findings = SupervisionFinding.objects.filter(case_id=case_id).values_list(
        "raised_at", "problem", "rectified_at", "rectify_by", "officers_held_accountable"
    )
    for raised, problem, rectified, rectify_by, accountable in findings:
        # On time: by the rectify-by date in local time, or rectified with no date set (the report's rule).
        on_time = rectified is not None and (rectify_by is None or _local(rectified).date() <= rectify_by)
        key = (_local(raised).year, path, problem, rectified is not None, on_time)
        out[("findings", *key)] += 1
        out[("findings.accountable", *key)] += accountable


def difference(before: Mapping[Key, int], after: Mapping[Key, int]) -> dict[Key, int]:
    return {k: d for k in before.keys() | after.keys() if (d := after.get(k, 0) - before.get(k, 0))}


def apply(delta: Mapping[Key, int]) -> None:
    """Add ``delta`` to the stored rows: one atomic upsert per table, rows in key order (see the module doc)."""
    qn = connection.ops.quote_name
    for table, (model, dims) in TABLES.items():
        counts = columns_of(table)
        cells: dict[tuple[Any, ...], list[int]] = {}
        for i, column in enumerate(counts):
            name = _name(table, column)
            for key, n in delta.items():
                if key[0] == name and n:
                    cells.setdefault(key[1:], [0] * len(counts))[i] += n
        if not cells:
            continue
        rows = sorted(cells.items())
        db_table = qn(model._meta.db_table)
        columns = ", ".join(qn(d) for d in (*dims, *counts))
        placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(dims) + len(counts))) + ")"] * len(rows))
        conflict = ", ".join(qn(d) for d in dims)
        updates = ", ".join(f"{qn(c)} = {db_table}.{qn(c)} + EXCLUDED.{qn(c)}" for c in counts)
        # Table and column names are ours and quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {db_table} ({columns}) VALUES {placeholders} "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )
        params = [value for dims_values, values in rows for value in (*dims_values, *values)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def note_referral(case: Case, at: datetime) -> list[str]:
    """A referral made at ``at``: the case's first, unless it has an earlier one. Returns the fields changed."""
    if case.first_referred_at is None or at < case.first_referred_at:
        case.first_referred_at = at
        return ["first_referred_at"]
    return []


# --- Rebuilding and reconciling ------------------------------------------------------------------------------------

_CASE = Case._meta.db_table
_OFFICER = InvolvedOfficer._meta.db_table
_SUSPECT = Suspect._meta.db_table
_REVIEW = LookBackReview._meta.db_table
_SUPPORT = SupportMeasure._meta.db_table
_FINDING = SupervisionFinding._meta.db_table
# Local months and years by the report's calendar (settings.TIME_ZONE), whole days exactly (EXTRACT gives numeric).
_MONTH = "(date_trunc('month', c.submitted_at AT TIME ZONE %(tz)s))::date"
_AREA = f"substring(c.unit_path from '^(?:/[^/]+){{1,{AREA_DEPTH + 1}}}/')"
_DAYS = "floor(EXTRACT(EPOCH FROM ({end} - c.submitted_at)) / 86400)::int"
_YEAR = "EXTRACT(YEAR FROM {end} AT TIME ZONE %(tz)s)::int"
_SUBMITTED = f"c.submitted_at IS NOT NULL AND c.status <> '{_DRAFT}' AND c.merged_into_id IS NULL"
# Each case once per dimension: its type, channel and status, and its code on each analysis dimension.
_CASE_DIMENSIONS = ", ".join(
    [
        "('kind', c.kind)",
        "('channel', c.channel)",
        "('status', c.status)",
        *(f"('{d}', {dimensions.SQL[d]})" for d in dimensions.DIMENSIONS),
    ]
)
REBUILD_SQL: dict[str, str] = {
    "cases": f"SELECT {_AREA}, {_MONTH}, d.dimension, d.code, COUNT(*) FROM {_CASE} c "  # noqa: S608
    f"CROSS JOIN LATERAL (VALUES {_CASE_DIMENSIONS}) d(dimension, code) WHERE {_SUBMITTED} GROUP BY 1, 2, 3, 4",
    "officers": f"SELECT {_AREA}, {_MONTH}, o.officer_type, o.injury, COUNT(*) "  # noqa: S608
    f"FROM {_OFFICER} o JOIN {_CASE} c ON c.id = o.case_id WHERE {_SUBMITTED} GROUP BY 1, 2, 3, 4",
    "suspects": f"SELECT {_AREA}, {_MONTH}, s.status, s.disposition, COUNT(*) "  # noqa: S608
    f"FROM {_SUSPECT} s JOIN {_CASE} c ON c.id = s.case_id WHERE {_SUBMITTED} GROUP BY 1, 2, 3, 4",
    "spreads": (
        f"SELECT '{SpreadMeasure.REFERRAL.value}', {_YEAR.format(end='c.first_referred_at')}, {_AREA}, "  # noqa: S608
        f"{_DAYS.format(end='c.first_referred_at')}, COUNT(*) FROM {_CASE} c "
        "WHERE c.first_referred_at IS NOT NULL AND c.submitted_at IS NOT NULL AND c.merged_into_id IS NULL "
        "GROUP BY 1, 2, 3, 4 "
        f"UNION ALL SELECT '{SpreadMeasure.CLOSURE.value}', {_YEAR.format(end='c.closed_at')}, {_AREA}, "
        f"{_DAYS.format(end='c.closed_at')}, COUNT(*) FROM {_CASE} c "
        f"WHERE c.closed_at IS NOT NULL AND {_SUBMITTED} GROUP BY 1, 2, 3, 4"
    ),
    "reviews": f"SELECT r.campaign_year, {_AREA}, r.verdict, r.officer_informed IS TRUE, "  # noqa: S608
    f"r.support_delivered IS TRUE, r.clarification_issued IS TRUE, COUNT(*) FROM {_REVIEW} r "
    f"JOIN {_CASE} c ON c.id = r.case_id GROUP BY 1, 2, 3, 4, 5, 6",
    "support": f"SELECT EXTRACT(YEAR FROM m.delivered_on)::int, {_AREA}, m.kind, COUNT(*), "  # noqa: S608
    f"COALESCE(SUM(m.amount * 100), 0)::bigint FROM {_SUPPORT} m JOIN {_CASE} c ON c.id = m.case_id "
    f"WHERE m.status = '{SupportStatus.DELIVERED.value}' AND m.delivered_on IS NOT NULL GROUP BY 1, 2, 3",
    "findings": f"SELECT EXTRACT(YEAR FROM f.raised_at AT TIME ZONE %(tz)s)::int, {_AREA}, f.problem, "  # noqa: S608
    "f.rectified_at IS NOT NULL, f.rectified_at IS NOT NULL AND (f.rectify_by IS NULL OR "
    "(f.rectified_at AT TIME ZONE %(tz)s)::date <= f.rectify_by), COUNT(*), SUM(f.officers_held_accountable) "
    f"FROM {_FINDING} f JOIN {_CASE} c ON c.id = f.case_id GROUP BY 1, 2, 3, 4, 5",
}


@contextmanager
def one_snapshot() -> Iterator[None]:
    """A transaction whose reads all see the database as it was at its first: REPEATABLE READ on PostgreSQL.

    The services write a case and its summaries in one transaction, so within one snapshot the summaries and the
    cases agree; read statement by statement (READ COMMITTED), a change committed between two reads of a report
    or a reconcile is seen by one and not the other. Inside a caller's transaction, the caller's snapshot rules.
    """
    db = reading.db()  # the read replica's inside ``reading.from_replica()``
    outermost = not db.in_atomic_block
    with transaction.atomic(using=reading.alias()):
        if outermost and db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def rebuild_params() -> dict[str, Any]:
    return {"tz": settings.TIME_ZONE}


def rebuild_rows() -> Counter[Key]:
    """Every summary row, computed from scratch from the cases, their officers and their suspects."""
    out: Counter[Key] = Counter()
    if connection.vendor != "postgresql":
        for case in Case.objects.iterator(chunk_size=2000):
            out.update(contribution(case))
        return out
    with connection.cursor() as cursor:
        for table, sql in REBUILD_SQL.items():
            cursor.execute(sql, rebuild_params())
            counts = columns_of(table)
            for row in cursor.fetchall():
                dims = row[: -len(counts)]
                for column, value in zip(counts, row[-len(counts) :], strict=True):
                    out[(_name(table, column), *dims)] += int(value)
    return +out


def stored_rows() -> Counter[Key]:
    out: Counter[Key] = Counter()
    for table, (model, dims) in TABLES.items():
        for column in columns_of(table):
            rows = model._default_manager.exclude(**{column: 0}).values_list(*dims, column)
            for row in rows.iterator(chunk_size=10_000):
                out[(_name(table, column), *row[:-1])] += row[-1]
    return out


@dataclass
class SummaryCheck:
    rows: int = 0  # rows expected (non-zero)
    mismatches: list[tuple[Key, int, int]] = field(default_factory=list)  # (row, stored, expected)
    repaired: bool = False

    @property
    def problems(self) -> list[str]:
        return [
            f"summary {'/'.join(map(str, key))}: stored {got}, expected {want}" for key, got, want in self.mismatches
        ]


def reconcile(*, repair: bool = False) -> SummaryCheck:
    """Rebuild the summaries from scratch and compare them with the stored ones; ``repair`` writes the difference.

    Both are read from one snapshot (``one_snapshot``), so a change under way is seen whole or not at all. Repairing
    locks the summaries against the services' writes (which wait) while the difference is written.
    """
    with transaction.atomic() if repair else one_snapshot():
        if repair and connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m, _ in TABLES.values())
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        expected = rebuild_rows()
        stored = stored_rows()
        check = SummaryCheck(rows=len(expected))
        for key in sorted(expected.keys() | stored.keys(), key=repr):
            got, want = stored.get(key, 0), expected.get(key, 0)
            if got != want:
                check.mismatches.append((key, got, want))
        if repair and check.mismatches:
            apply({key: want - got for key, got, want in check.mismatches})
            check.repaired = True
    return check
