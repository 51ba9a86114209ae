"""The timeline and the access log are partitioned by month on PostgreSQL (cases/migrations/0044, cases/partitions.py):
rows land in their month's partition, the append-only trigger holds on every partition however it is addressed, the
access log's expired months are dropped and nothing younger than the limit, the job is idempotent, and the migration
goes back and forth with rows in place."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django.utils import timezone

from cases import partitions, services, tasks
from cases.choices import AccessAction, CaseStatus, EventKind
from cases.models import AccessLog, CaseEvent, Notification
from cases.services.audit import log_access
from tests.factories import case_in, draft
from tests.security.test_deploy_check import manage_check, production_env
from tests.test_operations import scrape

EVENTS, LOG = CaseEvent._meta.db_table, AccessLog._meta.db_table
BEFORE = ("cases", "0043_id_number_index_without_format_characters")


def one(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def partition_names(table: str) -> list[str]:
    return [
        name
        for (name,) in rows(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY 1",
            [table],
        )
    ]


def home(table: str, pk: int) -> str:
    """The partition a row is stored in."""
    return one(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])[0]  # noqa: S608


def month_name(table: str, moment: datetime) -> str:
    return f"{table}_p{moment.astimezone(UTC):%Y_%m}"


def access_entry(at: datetime, ref: str) -> AccessLog:
    return AccessLog.objects.create(action=AccessAction.VIEW, object_ref=ref, at=at)


# --- pure: no database --------------------------------------------------------------------------------------------


def test_months_follow_utc_and_roll_over_the_year():
    assert partitions.month_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
    # 1 January 07:59 in Shanghai is still December in UTC.
    shanghai = timezone.get_fixed_timezone(8 * 60)
    assert partitions.month_of(datetime(2027, 1, 1, 7, 59, tzinfo=shanghai)) == date(2026, 12, 1)
    assert partitions.month_of(datetime(2027, 1, 1, 8, 0, tzinfo=shanghai)) == date(2027, 1, 1)
    assert partitions.add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert partitions.add_months(date(2027, 1, 1), -1) == date(2026, 12, 1)
    assert partitions.partition_name(LOG, date(2027, 2, 1)) == "cases_accesslog_p2027_02"


def test_a_retention_under_a_year_is_refused(settings):
    settings.RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS = 364
    with pytest.raises(ImproperlyConfigured, match="at least 365 days"):
        partitions.keep_days()
    settings.RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS = 365
    assert partitions.keep_days() == 365


def test_the_app_refuses_to_start_with_a_retention_under_a_year():
    env = production_env()
    env["RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS"] = "364"
    result = manage_check(env)
    assert result.returncode != 0
    assert "RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS is 364: the access log must be kept at least 365 days." in result.stderr
    env["RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS"] = "365"
    assert manage_check(env).returncode == 0


# --- PostgreSQL ---------------------------------------------------------------------------------------------------

pg = pytest.mark.usefixtures("postgres_only")


@pg
def test_both_tables_are_partitioned_by_range_on_their_time_with_months_ahead_and_a_default(db):
    partitions.apply()
    now = timezone.now()
    for table in (EVENTS, LOG):
        strategy, key = one(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = %s::regclass",
            [table],
        )
        assert (strategy, key) == ("r", "at")
        names = partition_names(table)
        ahead = [partitions.partition_name(table, partitions.add_months(partitions.month_of(now), n)) for n in range(4)]
        assert set(ahead) <= set(names)
        assert f"{table}_default" in names
        # The primary key includes the partition key; ids come from the one identity sequence.
        assert rows(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
            [table],
        ) == [("id",), ("at",)]
        assert one("SELECT pg_get_serial_sequence(%s, 'id')", [table])[0] == f"public.{table}_id_seq"
    assert partitions.status(now=now) == {EVENTS: (0, 3), LOG: (0, 3)}
    assert partitions.plan(now=now) == []


@pg
def test_the_orm_writes_each_row_into_its_months_partition_and_reads_a_case_whole(world):
    case = draft(world)
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    now = timezone.now()
    events = list(CaseEvent.objects.filter(case=case))
    assert [e.kind for e in events] == [EventKind.CREATED, EventKind.TRANSITION]
    assert {home(EVENTS, e.pk) for e in events} == {month_name(EVENTS, now)}
    entry = log_access(request=None, action=AccessAction.VIEW, case=case, object_ref=case.reference)
    assert home(LOG, entry.pk) == month_name(LOG, now)
    # A month in the past gets its partition, and rows written for it go there.
    old = now - timedelta(days=400)
    partitions.cover(CaseEvent, start=old, end=old)
    note = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=old, data={"text": "old"})
    assert home(EVENTS, note.pk) == month_name(EVENTS, old)
    # Reading by case crosses the partitions, in the timeline's order, and only the case's own rows.
    other = draft(world)
    assert list(case.events.values_list("pk", flat=True)) == [note.pk, *(e.pk for e in events)]
    assert list(CaseEvent.objects.filter(case=other).values_list("kind", flat=True)) == [EventKind.CREATED]
    assert list(AccessLog.objects.filter(case=case).values_list("pk", flat=True)) == [entry.pk]


def _rows_in_every_kind_of_partition(world, table: str) -> list[int]:
    """Rows in an old month's partition, the current month's, the newest (three months ahead) and DEFAULT."""
    now = timezone.now()
    old = now - timedelta(days=500)
    newest = partitions.month_start(partitions.add_months(partitions.month_of(now), partitions.AHEAD_MONTHS))
    beyond = now + timedelta(days=3 * 365)
    model = CaseEvent if table == EVENTS else AccessLog
    partitions.cover(model, start=old, end=old)
    case = case_in(world, CaseStatus.INTAKE)
    made = []
    for at in (old, now, newest + timedelta(days=2), beyond):
        if model is CaseEvent:
            made.append(CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=at, data={"n": len(made)}).pk)
        else:
            made.append(access_entry(at, f"row {len(made)}").pk)
    assert [home(table, pk) for pk in made] == [
        month_name(table, old),
        month_name(table, now),
        month_name(table, newest),
        f"{table}_default",
    ]
    return made


@pg
@pytest.mark.parametrize("table", [EVENTS, LOG])
def test_update_and_delete_are_refused_in_every_partition_also_addressed_directly(world, table):
    made = _rows_in_every_kind_of_partition(world, table)
    model = CaseEvent if table == EVENTS else AccessLog
    column = "data" if model is CaseEvent else "object_ref"
    before = list(model.objects.filter(pk__in=made).order_by("pk").values_list("pk", "at", column))
    for pk in made:
        partition = home(table, pk)
        forged = {"forged": True} if model is CaseEvent else "forged"
        row = model.objects.filter(pk=pk)
        for attempt in (
            lambda row=row, forged=forged: row.update(**{column: forged}),
            lambda row=row: row.update(at=timezone.now()),  # moving it to another month, too
            lambda row=row: row.delete(),
        ):
            with pytest.raises(DatabaseError, match=f"{partition} is append-only"), transaction.atomic():
                attempt()
        for sql in (
            f"UPDATE {partition} SET {column} = {column} WHERE id = %s",  # noqa: S608
            f"DELETE FROM {partition} WHERE id = %s",  # noqa: S608
            f"UPDATE {table} SET {column} = {column} WHERE id = %s",  # noqa: S608
            f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
        ):
            with (
                connection.cursor() as cursor,
                pytest.raises(DatabaseError, match=f"{partition} is append-only"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [pk])
    assert list(model.objects.filter(pk__in=made).order_by("pk").values_list("pk", "at", column)) == before
    # Every partition, those the job creates later included, carries the trigger, enabled.
    partitions.apply()
    names = partition_names(table)
    assert rows(
        "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = %s AND c.relname = ANY(%s) ORDER BY 1",
        [f"{table}_append_only", names],
    ) == [(name, "O") for name in names]


@pg
def test_retention_drops_a_month_older_than_the_limit_and_keeps_the_month_of_a_364_day_old_row(db):
    now = timezone.now()
    expired = access_entry(now - timedelta(days=400), "400 days")
    kept = access_entry(now - timedelta(days=364), "364 days")
    recent = access_entry(now, "today")
    # The timeline of the same months is never dropped.
    event_month = partitions.month_of(now - timedelta(days=400))
    partitions.cover(CaseEvent, start=now - timedelta(days=400), end=now - timedelta(days=400))

    outcome = partitions.apply(now=now)

    assert outcome.dropped_rows == 1
    assert outcome.postponed == []
    assert sorted(AccessLog.objects.values_list("pk", flat=True)) == [kept.pk, recent.pk]
    assert not AccessLog.objects.filter(pk=expired.pk).exists()
    names = partition_names(LOG)
    assert month_name(LOG, expired.at) not in names
    assert home(LOG, kept.pk) == month_name(LOG, kept.at)
    assert partitions.partition_name(EVENTS, event_month) in partition_names(EVENTS)
    assert partitions.status(now=now)[LOG] == (0, 3)
    # No partition left ends before the limit; the one of the 364-day-old row ends after it.
    limit = now - timedelta(days=365)
    state = partitions.table_state(LOG)
    assert all(p.end > limit for p in state.partitions if p.end is not None)


@pg
def test_a_month_is_dropped_only_once_its_whole_range_is_past_the_limit(db):
    last_moment = datetime(2025, 11, 30, 23, 59, 59, tzinfo=UTC)  # the partition of 2025-11 ends 2025-12-01 00:00
    entry = access_entry(last_moment, "last second of November")
    at_limit = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=365)

    assert partitions.apply(now=at_limit - timedelta(seconds=1)).dropped_rows == 0
    assert home(LOG, entry.pk) == "cases_accesslog_p2025_11"
    assert partitions.plan(now=at_limit - timedelta(seconds=1)) == []
    assert [s.describe() for s in partitions.plan(now=at_limit)] == [
        "cases_accesslog: drop cases_accesslog_p2025_11, whose range ended 2025-12-01 00:00 UTC"
    ]
    assert partitions.apply(now=at_limit).dropped_rows == 1
    assert not AccessLog.objects.filter(pk=entry.pk).exists()


@pg
def test_the_job_is_idempotent_and_moves_rows_out_of_default_unchanged(world):
    now = timezone.now()
    case = case_in(world, CaseStatus.INTAKE)
    far = now + timedelta(days=2 * 365)
    event = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=far, data={"text": "far"})
    entry = access_entry(far, "far")
    assert (home(EVENTS, event.pk), home(LOG, entry.pk)) == (f"{EVENTS}_default", f"{LOG}_default")
    assert partitions.status(now=now) == {EVENTS: (1, 3), LOG: (1, 3)}
    before = (
        list(CaseEvent.objects.order_by("pk").values_list("pk", "case", "kind", "at", "data")),
        list(AccessLog.objects.order_by("pk").values_list("pk", "action", "object_ref", "at")),
    )

    first = partitions.apply(now=now)

    assert first.moved_rows == 2
    assert (home(EVENTS, event.pk), home(LOG, entry.pk)) == (month_name(EVENTS, far), month_name(LOG, far))
    assert partitions.status(now=now) == {EVENTS: (0, 3), LOG: (0, 3)}
    after = (
        list(CaseEvent.objects.order_by("pk").values_list("pk", "case", "kind", "at", "data")),
        list(AccessLog.objects.order_by("pk").values_list("pk", "action", "object_ref", "at")),
    )
    assert after == before
    catalog = (partition_names(EVENTS), partition_names(LOG))
    second = partitions.apply(now=now)
    assert (second.done, second.moved_rows, second.dropped_rows) == ([], 0, 0)
    assert (partition_names(EVENTS), partition_names(LOG)) == catalog
    # The moved rows are as protected as any.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    # The next id follows on.
    assert CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=now).pk > event.pk


@pg
def test_a_scheduled_run_leaves_a_large_default_to_the_command(world, caplog):
    now = timezone.now()
    far = now + timedelta(days=2 * 365)
    entries = [access_entry(far, f"far {n}").pk for n in range(3)]
    outcome = partitions.apply(now=now, move_limit=2)
    assert (outcome.postponed, outcome.moved_rows) == ([LOG], 0)
    assert {home(LOG, pk) for pk in entries} == {f"{LOG}_default"}
    assert "cases_accesslog's DEFAULT partition holds 3 rows" in caplog.text
    out = StringIO()
    call_command("partitions", "--apply", stdout=out)
    assert {home(LOG, pk) for pk in entries} == {month_name(LOG, far)}
    assert f"{LOG}: 0 row(s) in DEFAULT, partitions 3 month(s) ahead" in out.getvalue()
    out = StringIO()
    call_command("partitions", "--plan", stdout=out)
    assert out.getvalue().splitlines()[0] == "Nothing to do."


@pg
@pytest.mark.django_db(transaction=True)
def test_a_run_that_cannot_get_the_lock_gives_up_and_changes_nothing(monkeypatch):
    """Committed (a transactional test): creating the old month's partition locks the whole table until the commit."""
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    now = timezone.now()
    old = now - timedelta(days=400)
    partitions.cover(AccessLog, start=old, end=old)
    expired = access_entry(old, "400 days")
    far = access_entry(now + timedelta(days=5 * 365), "five years ahead")
    names = partition_names(LOG)
    # A long report reading the access log on another connection holds a lock DETACH and DROP must wait for.
    with psycopg.connect(**connection.get_connection_params()) as reader:
        reader.execute("SET lock_timeout = '10s'")  # a lock this test holds by mistake fails it, never hangs it
        reader.execute(f"LOCK TABLE {LOG} IN ACCESS SHARE MODE")
        outcome = partitions.apply(now=now)
        reader.rollback()
    assert (outcome.postponed, outcome.moved_rows, outcome.dropped_rows) == ([LOG], 0, 0)
    assert partition_names(LOG) == names
    assert (home(LOG, expired.pk), home(LOG, far.pk)) == (month_name(LOG, old), f"{LOG}_default")
    # The next run, with the lock free, does it.
    outcome = partitions.apply(now=now)
    assert (outcome.postponed, outcome.moved_rows, outcome.dropped_rows) == ([], 1, 1)
    assert home(LOG, far.pk) == month_name(LOG, far.at)
    assert not AccessLog.objects.filter(pk=expired.pk).exists()


@pg
def test_the_monitoring_reads_defaults_rows_and_the_months_ahead(world, client):
    partitions.apply()
    access_entry(timezone.now() + timedelta(days=3 * 365), "far ahead")
    found = scrape(client)
    assert found[f'rightsguard_partition_default_rows{{table="{EVENTS}"}}'] == 0
    assert found[f'rightsguard_partition_default_rows{{table="{LOG}"}}'] == 1
    assert found[f'rightsguard_partition_months_ahead{{table="{EVENTS}"}}'] == 3
    assert found[f'rightsguard_partition_months_ahead{{table="{LOG}"}}'] == 3


@pg
def test_the_beat_task_runs_once_per_period(db, settings):
    assert settings.CELERY_BEAT_SCHEDULE["maintain-partitions"]["task"] == tasks.maintain_partitions.name
    assert settings.CELERY_BEAT_SCHEDULE["maintain-partitions"]["kwargs"] == {"period": 24 * 3600.0}
    partitions.apply()  # whatever an earlier test left, so that the task finds the steady state
    assert tasks.maintain_partitions(period=24 * 3600.0) == {
        "done": [],
        "postponed": [],
        "moved_rows": 0,
        "dropped_rows": 0,
    }
    assert tasks.maintain_partitions(period=24 * 3600.0) == {"skipped": 1}


@pg
def test_notifications_still_reference_their_events(
    world, django_capture_on_commit_callbacks, django_assert_num_queries
):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    transition = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION)
    notified = Notification.objects.filter(event=transition).order_by("pk")
    expected = list(notified.values_list("pk", flat=True))
    assert expected
    with django_assert_num_queries(1):
        joined = [(n.pk, n.event.pk, n.event.kind, n.event.to_status) for n in notified.select_related("event")]
    assert joined == [(pk, transition.pk, EventKind.TRANSITION, CaseStatus.INTAKE) for pk in expected]
    with django_assert_num_queries(2):
        fetched = [(n.pk, n.event.pk) for n in notified.prefetch_related("event")]
    assert fetched == [(pk, transition.pk) for pk in expected]
    # No database constraint (a partitioned table cannot be the target of one on id alone): the event is protected
    # by the ORM and by the append-only trigger instead.
    assert rows("SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass", [EVENTS]) == []
    with pytest.raises(ProtectedError):
        transition.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE id = %s", [transition.pk])  # noqa: S608
    assert Notification.objects.filter(event=transition).count() == len(expected)


def _shape(table: str) -> dict[str, list]:
    """What must survive the migration both ways: indexes, constraints, triggers, columns, grants."""

    def strip(definition: str) -> str:
        return definition.replace(" ON ONLY ", " ON ")

    return {
        "indexes": sorted(
            (name, strip(d))
            for name, d in rows(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c "
                "ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
                [table],
            )
        ),
        "constraints": rows(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype <> 'p' ORDER BY conname",
            [table],
        ),
        "triggers": rows(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "ORDER BY tgname",
            [table],
        ),
        "columns": rows(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [table],
        ),
        "grants": rows("SELECT relacl::text FROM pg_class WHERE oid = %s::regclass", [table]),
        "primary key": rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'p'",
            [table],
        ),
    }


# Timeline kinds a migration after BEFORE's successor adds (cases 0045: an application started from a 110 incident):
# going back to BEFORE takes them out of the kind's check again.
def _later_event_kinds() -> list[str]:
    """The timeline kinds that migrations after BEFORE added to the kind's check, read from the migrations' state."""
    from django.db.migrations.loader import MigrationLoader

    old = MigrationLoader(None, ignore_no_migrations=True).project_state([BEFORE]).apps.get_model("cases", "CaseEvent")
    known = {value for value, _ in old._meta.get_field("kind").choices}
    return [kind for kind in EventKind.values if kind not in known]


def _as_before(shape: dict[str, list]) -> dict[str, list]:
    """The shape as it is at BEFORE: without the timeline kinds later migrations added to its check."""
    later = _later_event_kinds()
    assert "imported" in later  # cases 0045's, at least

    def older(definition: str) -> str:
        for kind in later:
            definition = definition.replace(f", '{kind}'::character varying", "")
        return definition

    return {**shape, "constraints": [(name, kind, older(d)) for name, kind, d in shape["constraints"]]}


def _contents() -> tuple[list, list, list]:
    return (
        list(CaseEvent.objects.order_by("pk").values_list("pk", "case", "kind", "actor", "at", "data")),
        list(AccessLog.objects.order_by("pk").values_list("pk", "user", "case", "action", "object_ref", "at")),
        list(Notification.objects.order_by("pk").values_list("pk", "event")),
    )


def _next_ids() -> tuple:
    return tuple(one(f"SELECT last_value, is_called FROM {table}_id_seq") for table in (EVENTS, LOG))  # noqa: S608


@pg
@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_and_forth_with_rows_in_place(world, django_capture_on_commit_callbacks):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    log_access(request=None, action=AccessAction.VIEW, case=case, object_ref=case.reference)
    assert Notification.objects.filter(event__isnull=False).exists()
    with connection.cursor() as cursor:  # a grant to somebody else must survive the rebuild (revoked at the end)
        cursor.execute(f"GRANT SELECT ON {LOG} TO PUBLIC")
    partitioned = {table: _shape(table) for table in (EVENTS, LOG)}
    contents, next_ids = _contents(), _next_ids()

    MigrationExecutor(connection).migrate([BEFORE])
    try:
        assert [one("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [t])[0] for t in (EVENTS, LOG)] == [
            "r",
            "r",
        ]
        assert partition_names(EVENTS) == partition_names(LOG) == []
        assert _contents() == contents
        assert _next_ids() == next_ids
        for table in (EVENTS, LOG):
            plain = _shape(table)
            assert plain["primary key"] == [(f"{table}_pkey", "PRIMARY KEY (id)")]
            assert {k: v for k, v in plain.items() if k != "primary key"} == {
                k: v for k, v in _as_before(partitioned[table]).items() if k != "primary key"
            }
        # The notification's foreign key is back, and the old table still refuses changes.
        assert rows("SELECT conrelid::regclass::text FROM pg_constraint WHERE confrelid = %s::regclass", [EVENTS]) == [
            ("cases_notification",)
        ]
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {EVENTS} WHERE case_id = %s", [case.pk])  # noqa: S608
        # History from long ago, written while the tables are plain: the migration starts its partitions there.
        long_ago = timezone.now() - timedelta(days=800)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {LOG} (action, object_ref, outcome, at, request_id) "  # noqa: S608
                "VALUES ('view', 'long ago', 'ok', %s, '') RETURNING id",
                [long_ago],
            )
            old_entry = cursor.fetchone()[0]
        contents, next_ids = _contents(), _next_ids()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert _contents() == contents
    assert _next_ids() == next_ids
    for table in (EVENTS, LOG):
        assert _shape(table) == partitioned[table]
    assert home(LOG, old_entry) == month_name(LOG, long_ago)
    months = [n for n in partition_names(LOG) if n != f"{LOG}_default"]
    now = timezone.now()
    first, last = partitions.month_of(long_ago), partitions.add_months(partitions.month_of(now), 3)
    expected = [first]
    while expected[-1] < last:
        expected.append(partitions.add_months(expected[-1], 1))
    assert months == [partitions.partition_name(LOG, m) for m in expected]
    entry = log_access(request=None, action=AccessAction.VIEW, case=case, object_ref="after")
    assert entry.pk == next_ids[1][0] + 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=old_entry).update(outcome="forged")
    # The retention takes the months past the limit, the one long ago with its row; what this test committed to the
    # database's catalog is then no older than a year.
    assert partitions.apply().dropped_rows == 1
    assert not AccessLog.objects.filter(pk=old_entry).exists()
    assert partitions.plan() == []
    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE SELECT ON {LOG} FROM PUBLIC")  # noqa: S608
