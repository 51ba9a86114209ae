"""Fill ``Case.first_referred_at`` from the referrals and the report summaries from the cases (cases/summaries.py).

The first referral times are written in batches of case ids, each batch committed on its own (the migration is
not atomic), so a large table is never locked whole and a failed run resumes where it stopped. The summaries are
then built in one statement per table, the SQL that ``manage.py reconcile --summaries`` rebuilds them with. On
databases other than PostgreSQL the report is computed live; there ``manage.py reconcile --summaries --repair``
fills them when wanted.
"""

from django.db import migrations, transaction

BATCH = 50_000


def fill_first_referrals(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM cases_case")
        low, high = cursor.fetchone()
    for start in range(low, high + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET first_referred_at = ("
                "SELECT MIN(r.referred_at) FROM cases_referral r WHERE r.case_id = cases_case.id) "
                "WHERE id >= %s AND id < %s AND first_referred_at IS NULL "
                "AND EXISTS (SELECT 1 FROM cases_referral r WHERE r.case_id = cases_case.id)",
                [start, start + BATCH],
            )


def fill_summaries(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    # The SQL as of this migration (cases/summaries.py REBUILD_SQL keeps it in step: tests/cases/test_summaries.py).
    from cases.summaries import _AREA, _CASE, _MONTH, _SUBMITTED, REBUILD_SQL, TABLES, columns_of, rebuild_params

    # The cases' three dimensions of this migration; 0037 adds the analysis's, whose columns do not exist yet here.
    cases_sql = (
        f"SELECT {_AREA}, {_MONTH}, d.dimension, d.code, COUNT(*) FROM {_CASE} c "  # noqa: S608
        "CROSS JOIN LATERAL (VALUES ('kind', c.kind), ('channel', c.channel), ('status', c.status)) d(dimension, code) "
        f"WHERE {_SUBMITTED} GROUP BY 1, 2, 3, 4"
    )
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for table, rebuild in REBUILD_SQL.items():
            # Without the conditions on merged records: their column comes with migration 0046, and none existed before.
            sql = (cases_sql if table == "cases" else rebuild).replace(" AND c.merged_into_id IS NULL", "")
            model, dims = TABLES[table]
            columns = ", ".join(connection.ops.quote_name(d) for d in (*dims, *columns_of(table)))
            name = model._meta.db_table
            cursor.execute(f"DELETE FROM {name}")  # noqa: S608
            cursor.execute(f"INSERT INTO {name} ({columns}) {sql}", rebuild_params())


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0032_report_summaries"),
    ]

    operations = [
        migrations.RunPython(fill_first_referrals, migrations.RunPython.noop),
        migrations.RunPython(fill_summaries, migrations.RunPython.noop),
    ]
