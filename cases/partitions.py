"""Monthly partitions of the timeline and the access log on PostgreSQL, and the access log's retention.

Migration ``cases`` 0044 partitions ``cases_caseevent`` and ``cases_accesslog`` by RANGE on ``at``: one partition per
calendar month in UTC, named ``<table>_pYYYY_MM``, and a DEFAULT partition for rows outside every month partition.
This module keeps that shape as time passes (beat's ``cases.maintain_partitions`` once a day, or
``manage.py partitions --plan`` / ``--apply`` by hand):

- Each table has partitions for the current month and the next ``AHEAD_MONTHS``, so new rows never land in DEFAULT.
- Rows that did land in DEFAULT (written with a date outside the partitions, e.g. a bulk load of history) are moved
  to partitions of their months in one transaction: DEFAULT is detached, the months' partitions and a new DEFAULT are
  created, the rows are inserted again through the parent unchanged (same ids, same times), and the detached table is
  dropped. Nobody sees the rows missing or twice: the parent stays locked until the transaction commits. Beat moves
  at most ``MOVE_LIMIT_ROWS`` at a time (the parent is locked while they are copied) and logs an error otherwise;
  ``manage.py partitions --apply`` moves any number.
- The access log's month partitions whose whole range ended more than ``RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS`` ago (never
  less than a year: ``KEEP_DAYS_FLOOR``) are dropped. A month is dropped only once its END is older than the limit,
  so no row younger than the limit ever goes. Dropping a partition is the only way an access-log row is removed: the
  append-only trigger refuses DELETE on every partition.
- The timeline's partitions are never dropped: the timeline is the case's record.

Every run reads the catalog afresh under an advisory lock and does only what is missing, so a second or overlapping
run does nothing. Each table's changes take the parent's lock briefly; a run that cannot get it within
``LOCK_TIMEOUT`` (a long report reading the table) gives up on that table and leaves it to the next run, rather than
queueing every writer behind it.

On the embedded SQLite default nothing is partitioned and every function here reports that and does nothing.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from cases.models import AccessLog, CaseEvent

logger = logging.getLogger(__name__)

AHEAD_MONTHS = 3
KEEP_DAYS_FLOOR = 365
MOVE_LIMIT_ROWS = 50_000
LOCK_TIMEOUT = "5s"
# A range partition's bounds as pg_get_expr prints them: FOR VALUES FROM ('<start>') TO ('<end>').
RANGE_BOUND = r"^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$"
# pg_advisory_xact_lock key: the ASCII of "rgpart".
ADVISORY_LOCK = 0x726770617274
# The last month whose end a date cannot name (10000-01-01): its rows (written by a clock or a --now far off) stay in
# DEFAULT, and the other months are kept as ever.
LAST_MONTH = date(9999, 12, 1)


@dataclass(frozen=True)
class Managed:
    model: type[Model]
    retained: bool  # True: month partitions past the keep limit are dropped

    @property
    def table(self) -> str:
        return self.model._meta.db_table


# The timeline is the case record: never dropped. The access log is kept RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS.
MANAGED = (Managed(CaseEvent, retained=False), Managed(AccessLog, retained=True))


def keep_days() -> int:
    """The access log's retention in days; refuses less than a year whatever the settings say."""
    days = int(settings.RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS)
    if days < KEEP_DAYS_FLOOR:
        raise ImproperlyConfigured(
            f"RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS is {days}: the access log is kept at least {KEEP_DAYS_FLOOR} days."
        )
    return days


# --- months ----------------------------------------------------------------------------------------------------------


def month_of(moment: datetime) -> date:
    """The first day of ``moment``'s calendar month in UTC (partitions follow UTC months)."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


# --- what the catalog says -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None for DEFAULT (and for a partition whose bounds are not a plain range)
    end: datetime | None
    is_default: bool = False

    def covers(self, month: date) -> bool:
        return (
            self.start is not None
            and self.end is not None
            and self.start <= month_start(month)
            and month_start(add_months(month, 1)) <= self.end
        )


@dataclass(frozen=True)
class TableState:
    table: str
    partitioned: bool
    partitions: tuple[Partition, ...] = ()
    # Rows in DEFAULT, by UTC month.
    default_rows: dict[date, int] = field(default_factory=dict)

    @property
    def default(self) -> Partition | None:
        return next((p for p in self.partitions if p.is_default), None)

    def covered(self, month: date) -> bool:
        return any(p.covers(month) for p in self.partitions)

    def months_ahead(self, now: datetime) -> int:
        """Whole months after the current one that have their partition, counted without a gap."""
        current, ahead = month_of(now), 0
        while self.covered(add_months(current, ahead + 1)):
            ahead += 1
        return ahead


def partitioning_available() -> bool:
    return connection.vendor == "postgresql"


def table_state(table: str) -> TableState:
    """The table's partitions (with their bounds, as the catalog holds them) and what DEFAULT holds."""
    if not partitioning_available():
        return TableState(table, partitioned=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [table])
        if not cursor.fetchone()[0]:
            return TableState(table, partitioned=False)
        # The bounds as text ("FOR VALUES FROM ('…') TO ('…')" or "DEFAULT") read back into timestamps in this same
        # session, so the time zone they were printed in is the one they are read in.
        cursor.execute(
            "SELECT c.relname, b.bound = 'DEFAULT', r.m[1]::timestamptz, r.m[2]::timestamptz "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b "
            "LEFT JOIN LATERAL (SELECT regexp_match(b.bound, %s) AS m) r ON true "
            "WHERE i.inhparent = %s::regclass ORDER BY 3 NULLS LAST, 1",
            [RANGE_BOUND, table],
        )
        partitions = tuple(
            Partition(name, start, end, is_default=bool(is_default))
            for name, is_default, start, end in cursor.fetchall()
        )
        default_rows: dict[date, int] = {}
        default = next((p for p in partitions if p.is_default), None)
        if default is not None:
            cursor.execute(
                f"SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date, count(*) FROM {_quote(default.name)} "  # noqa: S608
                "GROUP BY 1 ORDER BY 1"
            )
            default_rows = dict(cursor.fetchall())
    return TableState(table, partitioned=True, partitions=partitions, default_rows=default_rows)


# --- the plan --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One change: ``move`` DEFAULT's rows into their months' partitions (creating those, ``months``), ``create`` a
    month's partition, ``create_default``, or ``drop`` an expired access-log month (``end``: where its range ends)."""

    action: str
    table: str
    partition: str = ""
    months: tuple[date, ...] = ()
    rows: int = 0
    end: datetime | None = None

    def describe(self) -> str:
        if self.action == "create":
            return f"{self.table}: create {self.partition} for {self.months[0]:%Y-%m}"
        if self.action == "create_default":
            return f"{self.table}: create the DEFAULT partition {self.partition}"
        if self.action == "move":
            months = ", ".join(f"{m:%Y-%m}" for m in self.months)
            return f"{self.table}: move {self.rows} row(s) out of {self.partition} into new partitions for {months}"
        return f"{self.table}: drop {self.partition}, whose range ended {self.end:%Y-%m-%d %H:%M} UTC"


def _table_plan(managed: Managed, state: TableState, now: datetime, *, keep: int) -> list[Step]:
    """In the order they are done: DEFAULT's rows moved first (so that creating the other months finds DEFAULT
    empty and need not scan it), then the months ahead, then the expired access-log months."""
    table = state.table
    steps: list[Step] = []
    default = state.default
    if default is None:
        steps.append(Step("create_default", table, default_name(table)))
    moved = tuple(sorted(m for m in state.default_rows if m < LAST_MONTH))
    if moved and default is not None:
        steps.append(Step("move", table, default.name, moved, rows=sum(state.default_rows[m] for m in moved)))
    ahead = [add_months(month_of(now), n) for n in range(AHEAD_MONTHS + 1)]
    created = [m for m in ahead if not state.covered(m) and m not in moved]
    steps.extend(Step("create", table, partition_name(table, m), (m,)) for m in created)
    if managed.retained:
        limit = now - timedelta(days=keep)
        ranges = [(p.name, p.end) for p in state.partitions if not p.is_default and p.end is not None]
        ranges += [(partition_name(table, m), month_start(add_months(m, 1))) for m in (*moved, *created)]
        steps.extend(
            Step("drop", table, name, end=end) for name, end in sorted(ranges, key=lambda r: r[1]) if end <= limit
        )
    return steps


def plan(*, now: datetime | None = None) -> list[Step]:
    """What ``apply`` would do now (nothing on SQLite, nor before migration 0044)."""
    if not partitioning_available():
        return []
    now = now or timezone.now()
    keep = keep_days()
    steps = []
    for managed in MANAGED:
        state = table_state(managed.table)
        if state.partitioned:
            steps.extend(_table_plan(managed, state, now, keep=keep))
    return steps


# --- doing it --------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    # Tables left (wholly or in part) for the next run: their lock was not free, or DEFAULT held more rows than this
    # run may move.
    postponed: list[str] = field(default_factory=list)
    moved_rows: int = 0
    dropped_rows: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "done": self.done,
            "postponed": self.postponed,
            "moved_rows": self.moved_rows,
            "dropped_rows": self.dropped_rows,
        }


def apply(*, now: datetime | None = None, move_limit: int | None = MOVE_LIMIT_ROWS) -> Outcome:
    """Move DEFAULT's rows, create the months ahead, drop the access log's expired months; one transaction per table.

    ``move_limit``: the most DEFAULT rows moved in one run (None: any number)."""
    outcome = Outcome()
    if not partitioning_available():
        return outcome
    now = now or timezone.now()
    keep = keep_days()
    for managed in MANAGED:
        try:
            with transaction.atomic():
                _apply_table(managed, now, keep=keep, move_limit=move_limit, outcome=outcome)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            logger.warning("Partitions of %s left for the next run: its lock was not free.", managed.table)
            outcome.postponed.append(managed.table)
    for table, (rows, _) in status(now=now).items():
        if rows:
            logger.error("%s's DEFAULT partition holds %d row(s): run manage.py partitions --apply.", table, rows)
    return outcome


def _lock(cursor) -> None:
    # One run at a time (beat's, a command's, a bulk load's); each reads the catalog only once it holds the lock.
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
    # Foreign-key checks this transaction still owes (a caller's earlier inserts) are made now: a table with pending
    # checks cannot be detached.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _apply_table(managed: Managed, now: datetime, *, keep: int, move_limit: int | None, outcome: Outcome) -> None:
    table = managed.table
    with connection.cursor() as cursor:
        # Local to this transaction: how long a statement below waits for the parent's lock before giving up.
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        _lock(cursor)
        state = table_state(table)
        if not state.partitioned:
            return
        steps = _table_plan(managed, state, now, keep=keep)
        move = next((s for s in steps if s.action == "move"), None)
        if move is not None and move_limit is not None and move.rows > move_limit:
            logger.error(
                "%s's DEFAULT partition holds %d rows, more than a scheduled run moves (%d): run "
                "manage.py partitions --apply in a quiet hour.",
                table,
                move.rows,
                move_limit,
            )
            outcome.postponed.append(table)
            # The rest still happens, except dropping the months only the move would have created.
            moved = {partition_name(table, m) for m in move.months}
            steps = [s for s in steps if s is not move and s.partition not in moved]
        # Counted before any DDL: once the first DROP holds the parent's lock, every writer waits until the commit.
        dropped = {
            step.partition: _count(cursor, step.partition)
            for step in steps
            if step.action == "drop" and any(p.name == step.partition for p in state.partitions)
        }
        for step in steps:
            if step.action == "create":
                _create_month(cursor, table, step.months[0])
            elif step.action == "create_default":
                cursor.execute(f"CREATE TABLE {_quote(step.partition)} PARTITION OF {_quote(table)} DEFAULT")
            elif step.action == "move":
                # Rows of a month that has no partition (LAST_MONTH) go back into the new DEFAULT: not moved.
                outcome.moved_rows += _move_default(cursor, table, step) - _count(cursor, default_name(table))
            elif step.action == "drop":
                if not managed.retained:  # the plan never asks it: the timeline is never dropped, whatever happens
                    raise AssertionError(f"refusing to drop a partition of {table}")
                count = dropped.get(step.partition)
                outcome.dropped_rows += _count(cursor, step.partition) if count is None else count
                cursor.execute(f"DROP TABLE {_quote(step.partition)}")
            outcome.done.append(step.describe())
            logger.info("Partitions: %s", step.describe())


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608
    return cursor.fetchone()[0]


def _bound(month: date) -> str:
    return f"'{month:%Y-%m-%d} 00:00:00+00'"


def _create_month(cursor, table: str, month: date) -> None:
    cursor.execute(
        f"CREATE TABLE {_quote(partition_name(table, month))} PARTITION OF {_quote(table)} "
        f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(add_months(month, 1))})"
    )


def _move_default(cursor, table: str, step: Step) -> int:
    """DEFAULT's rows into their months' partitions: detach it (its clone of the append-only trigger goes with the
    detachment), create the months and a new DEFAULT, insert the rows again through the parent, drop the old one."""
    moving = f"{table}_default_moving"
    cursor.execute(f"ALTER TABLE {_quote(table)} DETACH PARTITION {_quote(step.partition)}")
    cursor.execute(f"ALTER TABLE {_quote(step.partition)} RENAME TO {_quote(moving)}")
    for month in step.months:
        _create_month(cursor, table, month)
    cursor.execute(f"CREATE TABLE {_quote(default_name(table))} PARTITION OF {_quote(table)} DEFAULT")
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    columns = cursor.fetchone()[0]
    expected = _count(cursor, moving)
    cursor.execute(
        f"INSERT INTO {_quote(table)} ({columns}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT {columns} FROM {_quote(moving)}"
    )
    if cursor.rowcount != expected:
        raise RuntimeError(f"moving {table}'s DEFAULT rows: {cursor.rowcount} inserted of {expected}")
    cursor.execute(f"DROP TABLE {_quote(moving)}")
    return expected


def cover(model: type[Model], *, start: datetime, end: datetime) -> int:
    """Create the missing partitions of the months from ``start`` to ``end`` (before a bulk load of history, so that
    its rows do not land in DEFAULT); returns how many were created. Rows DEFAULT already holds for those months are
    moved there first. Does nothing where the table is not partitioned."""
    if not partitioning_available():
        return 0
    table = model._meta.db_table
    months, last = [month_of(start)], month_of(end)
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        state = table_state(table)
        missing = sorted(m for m in months if not state.covered(m))
        if not state.partitioned or not missing:
            return 0
        created = 0
        if set(missing) & set(state.default_rows) and state.default is not None:
            moved = tuple(sorted(m for m in state.default_rows if m < LAST_MONTH))
            _move_default(cursor, table, Step("move", table, state.default.name, moved))
            created += len(moved)
        for month in missing:
            if month not in state.default_rows:
                _create_month(cursor, table, month)
                created += 1
    return created


# --- what the monitoring reads ---------------------------------------------------------------------------------------


def status(*, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per partitioned table: the rows in its DEFAULT partition (0 when all is well) and the whole months after the
    current one it has partitions for (``AHEAD_MONTHS`` when all is well). Empty on SQLite."""
    if not partitioning_available():
        return {}
    now = now or timezone.now()
    result = {}
    for managed in MANAGED:
        state = table_state(managed.table)
        if state.partitioned:
            result[managed.table] = (sum(state.default_rows.values()), state.months_ahead(now))
    return result


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
