"""The queue's queries use its indexes on PostgreSQL (DESIGN §9): checked on the plans, not on timings.

Synthetic cases from the demo generator (the data the benchmarks use, spread over the demo organisation tree),
copied in SQL until the table is big enough for the planner to choose the plans it chooses at a million cases:
on a few thousand rows reading the whole table is legitimately the cheapest plan. The plans are read from
``EXPLAIN (FORMAT JSON)`` of the statements the queue actually sends.

The plans must not depend on chance. ``ANALYZE`` estimates from a random sample of 300 × the statistics target
rows (30,000 at the default target of 100), a little under the 32,000 rows here, so each run saw a different
sample, a different selectivity for the trigram searches and, about one run in eight, a sequential scan of the
closed cases. The test analyses with the largest statistics target (10,000: a sample of up to 3,000,000 rows),
so ANALYZE reads every row and the statistics, hence the plans, are a function of the data alone; the data is
generated from a fixed seed and a fixed "now", and the table is rewritten (CLUSTER) after it is filled, so
the dead rows and index entries that earlier tests of the same run leave behind do not change the table and index
sizes the planner reads (they did: after the demo-seeding tests, the ministry's search walked the newest-first
index and read the table). The choice the planner makes on a million real rows is measured by
``benchmarks/run.py``, not asserted here.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import OrgUnit, Role, User
from accounts.selectors import actor_for
from cases.choices import CaseStatus
from cases.models import Case
from cases.queue_filters import QueueFilters, queue_page
from demo.seed import seed

GENERATED = 2000
COPIES = 15  # 32,000 cases in all
GENERATED_AT = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)


def multiply_cases(copies: int) -> None:
    """Add ``copies`` copies of every case row (not of its children; the queue reads only the case table)."""
    columns = [f.column for f in Case._meta.concrete_fields if f.column not in ("id", "reference")]
    listed = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO cases_case (reference, {listed}) SELECT "  # noqa: S608
            # RG-<2100 + 10 × copy + the last digit of the year>-<the number>: unique, and the same in every run.
            f"'RG-' || (2100 + 10 * copy + substr(reference, 7, 1)::int) || substr(reference, 8), {listed} "
            "FROM cases_case CROSS JOIN generate_series(1, %s) AS copy",
            [copies],
        )
        # The table and its indexes rewritten with the live rows only: the dead rows and index entries earlier
        # tests left behind (rolled back or flushed) would otherwise change the sizes the planner reads.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks run now: CLUSTER needs none
        cursor.execute("CLUSTER cases_case USING cases_case_pkey")
        # Every row in the statistics, none by chance (see the module docstring); for this transaction only.
        cursor.execute("SET LOCAL default_statistics_target = 10000")
        cursor.execute("ANALYZE")


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def explain(sql: str) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]
    return list(plan_nodes(plan["Plan"]))


def queue_plans(user: User, filters: QueueFilters) -> list[list[dict[str, Any]]]:
    """Plans of the statements on the case table that one queue page sends: the capped count and the rows. With a
    text, the count is the read of each rank's matches until the cap (cases/search.py ``tier_matches``: one
    statement, a second when the cap is passed): the plans are then [every read's nodes together, the rows'], and
    when nothing matched there are no rows to read."""
    with CaptureQueriesContext(connection) as captured:
        page = queue_page(actor_for(user), filters)
    statements = [q["sql"] for q in captured.captured_queries if '"cases_case"' in q["sql"]]
    if not filters.text:
        assert len(statements) == 2, statements
    elif not page.cases:
        assert len(statements) == 1, statements
        return [explain(statements[0]), []]
    *counts, rows = [explain(sql) for sql in statements]
    assert counts, statements
    return [[node for nodes in counts for node in nodes], rows]


def seq_scans(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"]


def indexes(nodes: list[dict[str, Any]]) -> set[str]:
    return {n["Index Name"] for n in nodes if "Index Name" in n}


# Indexes each statement of the plain queue page may read, by the supervisor's level (as at a million cases).
# The capped count reads the queue index (subtree, open cases) and stops at the cap. The page of a county reads the
# queue index too; the ministry's subtree holds every open case, so its page walks the newest-first index instead
# and stops after a page of matches. In the test's transaction the table was never vacuumed, so the planner cannot
# count on index-only scans and, for the ministry's count, the b-tree on status is as cheap as the queue index.
EXPECTED = {
    "county": {"count": {"case_queue_open"}, "rows": {"case_queue_open"}},
    "ministry": {"count": {"case_queue_open", "case_status_due"}, "rows": {"case_recent"}},
}


def test_queue_pages_read_the_queue_index_and_text_search_the_text_indexes(postgres_only, db):
    # The same cases whatever the day: their dates, and so their statuses and deadlines, are counted from "now".
    with mock.patch("django.utils.timezone.now", return_value=GENERATED_AT):
        seed(cases=GENERATED, demo=False, log=lambda message: None)
    multiply_cases(COPIES)
    ministry = account_services.create_user(username="ministry_supervisor", password=None)
    root = OrgUnit.objects.get(parent__isnull=True)
    account_services.grant_membership(user=ministry, unit=root, role=Role.SUPERVISOR)
    supervisors = {"ministry": ministry, "county": User.objects.get(username="county_supervisor")}
    search = "柳汀街公交站台"  # a place named in some of the narratives

    for level, user in supervisors.items():
        count, rows = queue_plans(user, QueueFilters())
        for nodes in (count, rows):
            assert "cases_case" not in seq_scans(nodes), (level, nodes)
        assert indexes(count) & EXPECTED[level]["count"], (level, count)
        assert indexes(rows) & EXPECTED[level]["rows"], (level, rows)
        # Text: a case-insensitive substring of the parties' names, summary, location or narrative, each rank's
        # matches read through its own index until the cap (cases/search.py ``tier_matches``). Over the open cases,
        # the queue index (then a filter) and the text indexes are both fair plans, never the table.
        for nodes in queue_plans(user, QueueFilters(text=search)):
            assert "cases_case" not in seq_scans(nodes), (level, nodes)
        # Over the closed cases (most of them), for the ministry only the text indexes can narrow the search; a
        # county's few thousand rows here may as well be read through the subtree index. The matches, once read
        # (a few), are the page's ids: the rows are read by their primary key.
        count, rows = queue_plans(user, QueueFilters(statuses=(CaseStatus.CLOSED,), text=search))
        for nodes in (count, rows):
            assert "cases_case" not in seq_scans(nodes), (level, nodes)
        if level == "ministry":
            expected = {"case_party_names_grams", "case_text_summary", "case_text_narrative"}
            assert expected <= indexes(count), (level, count)
            assert "cases_case_pkey" in indexes(rows), (level, rows)
        # One or two characters (most Chinese words): no trigram to look up, so the search reads the character-pair
        # indexes of migrations 0026 and 0027, never the table, even over the closed cases. A few matches are then
        # read by their ids; many (more than the cap) by walking the newest-first index, testing each row, and
        # stopping after a page.
        for word in ("柳汀", "汀"):
            count, rows = queue_plans(user, QueueFilters(statuses=(CaseStatus.CLOSED,), text=word))
            for nodes in (count, rows):
                assert "cases_case" not in seq_scans(nodes), (level, word, nodes)
            if level == "ministry":
                assert {"case_party_names_grams", "case_location_grams"} <= indexes(count), (level, word, count)
                assert indexes(rows) & {"cases_case_pkey", "case_recent"}, (level, word, rows)
