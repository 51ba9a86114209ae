"""The report selector's cost does not grow with the data: a fixed number of grouped queries."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, SupportKind, SupportStatus
from cases.reports.yearly import yearly_report
from tests.factories import add_convicted_suspect, case_in

STATUSES = [CaseStatus.INTAKE, CaseStatus.REFERRED, CaseStatus.SUPERVISION, CaseStatus.CLOSED, CaseStatus.REJECTED]


def add_cases(world, n: int) -> None:
    for i in range(n):
        case = case_in(world, STATUSES[i % len(STATUSES)])
        if case.status == CaseStatus.SUPERVISION:
            add_convicted_suspect(world, case)
            services.record_support_measure(
                case=case,
                by=world.supervisor,
                kind=SupportKind.COMFORT_VISIT,
                status=SupportStatus.DELIVERED,
                delivered_on=timezone.localdate(),
            )


def report_queries(unit) -> int:
    with CaptureQueriesContext(connection) as ctx:
        yearly_report(unit=unit, year=timezone.localdate().year)
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_5_and_50_cases(world, monkeypatch):
    # A fixed clock: fifty cases filed across midnight on 31 December would be split between two report years.
    at = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    add_cases(world, 5)
    few = (report_queries(world.province), report_queries(world.ministry))
    add_cases(world, 45)
    many = (report_queries(world.province), report_queries(world.ministry))
    assert yearly_report(unit=world.province, year=timezone.localdate().year).cases.total.current == 50
    # The sub-unit list, then one query each: cases, officers, suspects, flags raised, flags resolved, overridden
    # flags, findings, reviews, support and the two handling-time spreads; a savepoint around them (the report's
    # transaction, nested in the test's), and on PostgreSQL the report's memory and parallel-workers settings. The root
    # unit asks once more whether it is the only root. The province and the ministry read the report summaries on
    # PostgreSQL, where each spread takes two queries: its day histogram, then the exact times it needs. The sections
    # other apps add (cases/reports/sections.py): the oversight campaigns of the year, one query when none ran.
    fixed = 12 + 2 + (2 + 2 if connection.vendor == "postgresql" else 0) + 1
    assert few == many == (fixed, fixed + 1)


def test_requests_query_without_parallel_workers_and_the_report_with_them(postgres_only, world):
    # Starting parallel workers costs a short request more than it saves (rightsguard/settings.py); the yearly report,
    # which reads a year of cases, asks for them within its own transaction only.
    def workers():
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return cursor.fetchone()[0]

    assert workers() == "0"
    with CaptureQueriesContext(connection) as captured:
        yearly_report(unit=world.province, year=timezone.localdate().year)
    assert "SET LOCAL max_parallel_workers_per_gather = 2" in [q["sql"] for q in captured.captured_queries]
