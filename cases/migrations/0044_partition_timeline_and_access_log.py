"""The timeline (cases_caseevent) and the access log (cases_accesslog) become tables partitioned by month on PostgreSQL.

Declarative partitioning, RANGE on ``at``, one partition per calendar month in UTC named ``<table>_pYYYY_MM``, plus a
DEFAULT partition ``<table>_default`` for anything outside them. ``cases/partitions.py`` keeps partitions ahead of the
clock and drops the access log's expired months; it follows the naming and the bounds written here.

Each table is rebuilt: a partitioned copy is created with the same columns, defaults, identity and checks, its monthly
partitions from the month of the oldest row to three months ahead, the rows are copied, the sequence is set where
the old one stood, the old table is dropped and the copy takes its name, its sequence's name, its primary key's name,
every index (as a partitioned index), foreign key, trigger (the append-only one: PostgreSQL clones a row trigger on a
partitioned table to every partition, present and future) and grant. A partitioned table's unique constraints must
contain the partition key, so the primary key becomes (id, at); ids still come from the one identity sequence.

This rewrites both tables under an exclusive lock, in the migration's transaction: it is not an online migration
(docs/operations.md gives the time it took per million rows). Going back rebuilds plain tables the same way.

The embedded SQLite default is left as it is: nothing here runs there.

A partitioned table cannot be the target of a foreign key on ``id`` alone, so the notification's link to its event
loses its database constraint first (the event is never deleted: the append-only trigger refuses it).
"""

from datetime import UTC, date, datetime

from django.db import migrations, models
from django.db.models import deletion

TABLES = ("cases_caseevent", "cases_accesslog")
PARTITION_KEY = "at"
AHEAD_MONTHS = 3


def _month(value: datetime) -> date:
    value = value.astimezone(UTC)
    return date(value.year, value.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _bound(month: date) -> str:
    return f"'{month:%Y-%m-%d} 00:00:00+00'"


def _one(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchone()


def _all(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _grants(cursor, relation: str) -> list[tuple[str, str, bool]]:
    """(privilege, grantee, grantable) of what others hold on ``relation`` (its owner's rights come with ownership)."""
    return _all(
        cursor,
        "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, "
        "a.is_grantable FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [relation],
    )


def _grant(run, grants: list[tuple[str, str, bool]], kind: str, relation: str) -> None:
    for privilege, grantee, grantable in grants:
        option = " WITH GRANT OPTION" if grantable else ""
        run(f"GRANT {privilege} ON {kind} {relation} TO {grantee}{option}", params=None)


def _rebuild(schema_editor, table: str, *, partitioned: bool, now: datetime) -> None:
    """Replace ``table`` by a partitioned copy (``partitioned``) or a plain one, keeping its name and everything on it."""
    connection = schema_editor.connection
    run = schema_editor.execute
    with connection.cursor() as cursor:
        relkind = _one(cursor, "SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])[0]
        if (relkind == "p") == partitioned:
            return  # already in the wanted form
        run(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", params=None)
        primary_key = _one(
            cursor, "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table]
        )[0]
        others = _all(
            cursor,
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype NOT IN ('p', 'c') ORDER BY conname",
            [table],
        )
        if any(contype != "f" for _, contype, _ in others):
            # A unique or exclusion constraint would need the partition key: decide what it means before converting.
            raise RuntimeError(f"{table} has constraints this migration does not know how to carry: {others}")
        indexes = _all(
            cursor,
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "ORDER BY c.relname",
            [table],
        )
        if any(unique for _, _, unique in indexes):
            raise RuntimeError(f"{table} has a unique index this migration does not know how to carry")
        triggers = _all(
            cursor,
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
            [table],
        )
        sequence = _one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0]
        last_value, is_called = _one(cursor, f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        table_grants, sequence_grants = _grants(cursor, table), _grants(cursor, sequence)
        columns = ", ".join(
            _quote(name)
            for (name,) in _all(
                cursor,
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum",
                [table],
            )
        )
        oldest = _one(cursor, f"SELECT min({PARTITION_KEY}) FROM {table}")[0]  # noqa: S608

        new = f"{table}__rebuilt"
        run(
            f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE INCLUDING COMMENTS)" + (f" PARTITION BY RANGE ({PARTITION_KEY})" if partitioned else ""),
            params=None,
        )
        if partitioned:
            month, last = _month(oldest or now), _month(now)
            for _ in range(AHEAD_MONTHS):
                last = _next_month(last)
            while month <= last:
                run(
                    f"CREATE TABLE {table}_p{month:%Y_%m} PARTITION OF {new} "
                    f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(_next_month(month))})",
                    params=None,
                )
                month = _next_month(month)
            run(f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT", params=None)
        run(
            f"INSERT INTO {new} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {table}",  # noqa: S608
            params=None,
        )
        new_sequence = _one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [new])[0]
        # The next id is the one the old table would have given: no id is ever handed out twice.
        cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
        # Without CASCADE: a foreign key still pointing at the old table stops the migration here.
        run(f"DROP TABLE {table}", params=None)
        run(f"ALTER TABLE {new} RENAME TO {table}", params=None)
        run(f"ALTER SEQUENCE {new_sequence} RENAME TO {sequence.rpartition('.')[2]}", params=None)
        key = "id, " + PARTITION_KEY if partitioned else "id"
        run(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(primary_key)} PRIMARY KEY ({key})", params=None)
        for _, definition, _ in indexes:
            # A partitioned index reads "ON ONLY <table>" (its partitions' indexes are attached one by one); built
            # here on the whole table, partitions included.
            run(definition.replace(" ON ONLY ", " ON ", 1), params=None)
        for name, _, definition in others:
            run(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}", params=None)
        for _, definition in triggers:
            run(definition, params=None)
        _grant(run, table_grants, "TABLE", table)
        _grant(run, sequence_grants, "SEQUENCE", sequence)
        # Autovacuum analyses the partitions, never a partitioned parent: the planner's figures for it start here.
        run(f"ANALYZE {table}", params=None)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    now = datetime.now(UTC)
    for table in TABLES:
        _rebuild(schema_editor, table, partitioned=True, now=now)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    now = datetime.now(UTC)
    for table in TABLES:
        _rebuild(schema_editor, table, partitioned=False, now=now)


class Migration(migrations.Migration):
    dependencies = [("cases", "0043_id_number_index_without_format_characters")]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="event",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=deletion.PROTECT,
                related_name="+",
                to="cases.caseevent",
            ),
        ),
        migrations.RunPython(partition, unpartition),
    ]
