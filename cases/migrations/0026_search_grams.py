"""Indexes for the one search (cases/search.py) that the trigram indexes of 0009 cannot serve: one- and
two-character texts (most Chinese words: 袭警, 西湖) and the parties' names and badge numbers.

``rg_grams(text)`` is the array of every character and every pair of adjacent characters of ``lower(text)``, as
pg_bigm indexes; a GIN index over it finds the rows holding a one- or two-character text with ``@>`` (and a longer
text's pairs, which the search then checks with ``icontains``). IMMUTABLE, so it can be indexed: it reads nothing
but its argument. Summary, location and narrative have one index each (the search ranks by field, and each rank reads
its field's index only), and so do the officers' and the suspects' names. A badge number is found whole, case-insensitively: a b-tree over its upper
case, the expression of Django's ``iexact``. The expressions are those of cases/search.py
``grams_expression``: the planner uses an expression index only for the same expression.

Built concurrently, outside a transaction, like 0009. SQLite has neither the function nor the indexes: there the
search is a plain ``icontains`` with the same results.
"""

from django.db import migrations

GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION rg_grams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(t, i, n)), '{}')
    FROM (SELECT lower($1) AS t) AS lowered,
         generate_series(1, char_length(t)) AS i,
         (VALUES (1), (2)) AS width(n)
    WHERE i + n - 1 <= char_length(t)
$$
"""

# index name -> (table, indexed expression)
GRAM_INDEXES = {
    "case_summary_grams": ("cases_case", """rg_grams("summary"::text)"""),
    "case_location_grams": ("cases_case", """rg_grams("location"::text)"""),
    "case_narrative_grams": ("cases_case", """rg_grams("narrative"::text)"""),
    "officer_name_grams": ("cases_involvedofficer", """rg_grams("name"::text)"""),
    "suspect_name_grams": ("cases_suspect", """rg_grams("name"::text)"""),
}

BADGE_INDEX = "officer_badge_upper"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GRAMS_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS rg_grams(text)")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    for name, (table, expression) in GRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin (({expression}))")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {BADGE_INDEX} ON cases_involvedofficer (UPPER(badge_number::text))"
    )
    schema_editor.execute("RESET maintenance_work_mem")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*GRAM_INDEXES, BADGE_INDEX]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0025_suspect_id_number_index")]

    operations = [
        migrations.RunPython(create_function, drop_function),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
