"""Trigram indexes for the text filters of the queue and the API case list (DESIGN §9).

Both filters match a substring case-insensitively (``icontains``), which Django sends to PostgreSQL as
``UPPER(column::text) LIKE UPPER('%text%')``. A b-tree cannot serve a leading wildcard, so at a million cases the
filter read the whole table. A GIN index over the trigrams of the same ``UPPER(...)`` expression serves that
``LIKE`` (and ``=``) directly; the expression must match the query's exactly for the planner to use it.

Built concurrently (outside a transaction) so that applying this to a populated database does not block writes to
the case table while the indexes are built. SQLite has no trigram indexes: there the migration does nothing.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# index name -> indexed expression. The queue searches summary and narrative (and the reference exactly, served by
# the unique index); the API's ``q`` searches reference, summary, location and the 110 incident number.
TEXT_INDEXES = {
    "case_text_reference": "UPPER(reference::text)",
    "case_text_summary": "UPPER(summary::text)",
    "case_text_narrative": "UPPER(narrative::text)",
    "case_text_location": "UPPER(location::text)",
    "case_text_dispatch": "UPPER(dispatch_ref::text)",
}


def create_text_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # A GIN build sorts its entries in memory; the default 64 MB spills to disk many times over at a million rows.
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    for name, expression in TEXT_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON cases_case USING gin (({expression}) gin_trgm_ops)"
        )
    schema_editor.execute("RESET maintenance_work_mem")


def drop_text_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TEXT_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0008_outbox")]

    operations = [
        # Does nothing on other databases.
        TrigramExtension(),
        migrations.RunPython(create_text_indexes, drop_text_indexes),
    ]
