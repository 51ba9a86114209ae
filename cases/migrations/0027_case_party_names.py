"""The parties' names on the case row (``Case.party_names``, kept by the services with the rest of the read model),
with a character-pair index like the other searched texts (0026): a search by a party's name is then one more index
in the case query's bitmap, where it was a read of the officers' and suspects' tables and a list (or, for a common
name, a subquery) of their case ids. At a million cases a common surname (廖某) took over a minute that way.

The column is added empty, filled in batches of case ids (each its own transaction, so a large table is never
locked or rewritten at once), then indexed concurrently. The indexes of 0026 on the officers' and suspects' names
are no longer read by the search and go.
"""

from django.db import migrations, models, transaction

BATCH = 50_000

FILL = """
UPDATE cases_case AS c SET party_names = p.names
FROM (
    SELECT case_id, string_agg(btrim(name, E' \\t\\r\\n'), E'\\n' ORDER BY kind, id) AS names
    FROM (
        SELECT case_id, 0 AS kind, id, name FROM cases_involvedofficer WHERE case_id >= %s AND case_id < %s
        UNION ALL
        SELECT case_id, 1 AS kind, id, name FROM cases_suspect WHERE case_id >= %s AND case_id < %s
    ) AS parties
    WHERE btrim(name, E' \\t\\r\\n') <> ''
    GROUP BY case_id
) AS p
WHERE c.id = p.case_id AND c.party_names IS DISTINCT FROM p.names
"""

INDEX = "case_party_names_grams"
OLD_INDEXES = {"officer_name_grams": "cases_involvedofficer", "suspect_name_grams": "cases_suspect"}


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        # SQLite (the embedded default): the same names, through the ORM.
        from cases.search import party_names

        Case = apps.get_model("cases", "Case")
        Officer = apps.get_model("cases", "InvolvedOfficer")
        Suspect = apps.get_model("cases", "Suspect")
        names: dict[int, list[str]] = {}
        for case_id, name in Officer.objects.order_by("id").values_list("case_id", "name"):
            names.setdefault(case_id, []).append(name)
        for case_id, name in Suspect.objects.order_by("id").values_list("case_id", "name"):
            names.setdefault(case_id, []).append(name)
        for case_id, found in names.items():
            Case.objects.filter(pk=case_id).update(party_names=party_names(found))
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM cases_case")
        low, high = cursor.fetchone()
        for start in range(low, high + 1, BATCH):
            end = start + BATCH
            with transaction.atomic(using=connection.alias), connection.cursor() as batch:
                batch.execute(FILL, [start, end, start, end])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON cases_case USING gin ((rg_grams(\"party_names\"::text)))"
    )
    schema_editor.execute("RESET maintenance_work_mem")
    for name in OLD_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    for name, table in OLD_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin ((rg_grams(\"name\"::text)))"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0026_search_grams")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="party_names",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="parties' names"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
