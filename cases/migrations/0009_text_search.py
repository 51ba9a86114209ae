"""Indexes for the case lists at a million cases (DESIGN §9): trigram indexes for the text filters of the queue
and the API case list, and the default order (newest activity first).

Both filters match a substring case-insensitively (``icontains``), which Django sends to PostgreSQL as
``UPPER(column::text) LIKE UPPER('%text%')``. A b-tree cannot serve a leading wildcard, so at a million cases the
filter read the whole table. A GIN index over the trigrams of the same ``UPPER(...)`` expression serves that
``LIKE`` (and ``=``) directly; the expression must match the query's exactly for the planner to use it.

Built concurrently (outside a transaction) so that applying this to a populated database does not block writes to
the case table while the indexes are built. SQLite has no trigram indexes: there the migration does nothing.
"""

from django.db import migrations, models

# index name -> indexed expression. The one text search of the queue and the API (cases/queue_filters.py ``text_q``) reads
# summary, narrative, location and the 110 incident number here, and a reference's beginning from its b-tree.
TEXT_INDEXES = {
    "case_text_reference": "UPPER(reference::text)",
    "case_text_summary": "UPPER(summary::text)",
    "case_text_narrative": "UPPER(narrative::text)",
    "case_text_location": "UPPER(location::text)",
    "case_text_dispatch": "UPPER(dispatch_ref::text)",
}


def create_trigram_extension(apps, schema_editor):
    # What django.contrib.postgres's TrigramExtension does, for PostgreSQL only (its reverse fails elsewhere).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def drop_trigram_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP EXTENSION IF EXISTS pg_trgm")


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


RECENT = models.Index(fields=["-last_activity_at", "-id"], name="case_recent")


def create_recent_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS case_recent ON cases_case (last_activity_at DESC, id DESC)"
        )
    else:
        schema_editor.add_index(apps.get_model("cases", "Case"), RECENT)


def drop_recent_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS case_recent")
    else:
        schema_editor.remove_index(apps.get_model("cases", "Case"), RECENT)


def drop_text_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TEXT_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0008_outbox")]

    operations = [
        migrations.RunPython(create_trigram_extension, drop_trigram_extension),
        migrations.RunPython(create_text_indexes, drop_text_indexes),
        # Newest activity first (Case.Meta.indexes), built concurrently on PostgreSQL like the others.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="case", index=RECENT)],
            database_operations=[migrations.RunPython(create_recent_index, drop_recent_index)],
        ),
    ]
