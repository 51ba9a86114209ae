"""The text indexes again, for the open cases only: the queue's search reads these.

The queue lists the open cases unless asked for others (about 3 % of the cases at a million), and its text search
reads one field's index at a time (cases/search.py ``tier_matches``). Through the whole-table indexes (0009, 0026,
0027) a common word of a long-closed case still costs its row: 柳汀街 is in the narratives of 15,953 cases, the
index returns all of them and the table is read for each, to find none still open (130 ms). These partial indexes
hold the open cases' rows only; the planner uses one whenever a query's statuses all lie among the open ones (the
queue's default), and the whole-table index otherwise. A case leaving the open statuses leaves these indexes.

Same expressions as the whole-table indexes (the planner matches an expression index by its expression). The status
list is the open statuses (``cases.choices.OPEN_STATUSES``) as they are today, written out: a migration does not
change with the code. Built concurrently, outside a transaction, on PostgreSQL only (SQLite has no such index and
its search is a plain ``icontains``).
"""

from django.db import migrations

OPEN = "status IN ('intake', 'referred', 'supervision', 'look_back')"

# index name -> (operator class or "", indexed expression)
OPEN_TEXT_INDEXES = {
    "case_open_summary_text": ("gin_trgm_ops", "UPPER(summary::text)"),
    "case_open_location_text": ("gin_trgm_ops", "UPPER(location::text)"),
    "case_open_narrative_text": ("gin_trgm_ops", "UPPER(narrative::text)"),
    "case_open_summary_grams": ("", 'rg_grams("summary"::text)'),
    "case_open_location_grams": ("", 'rg_grams("location"::text)'),
    "case_open_narrative_grams": ("", 'rg_grams("narrative"::text)'),
    "case_open_party_names_grams": ("", 'rg_grams("party_names"::text)'),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    for name, (opclass, expression) in OPEN_TEXT_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON cases_case USING gin (({expression}) {opclass}) "
            f"WHERE {OPEN}"
        )
    schema_editor.execute("RESET maintenance_work_mem")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in OPEN_TEXT_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0030_grams_cost")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
