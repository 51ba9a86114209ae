"""``rg_grams`` (0026) in linear time, with the same result for every text, element for element.

The body of 0026 reads ``substr(t, i, n)`` of ``t = lower($1)``; the planner inlines ``t``, so ``lower`` runs again
for every pair, and ``substr`` of a multibyte text counts characters from its start: both grow with the text's length
for each of its pairs. A case's narrative (about 70 characters) took the better part of a millisecond of its
backend's CPU for each of the two narrative indexes, more than everything else its row costs; a bulk load of
synthetic cases spent half its database time there (demo/generator.py). Here the text is lowered and split into its
characters once (``OFFSET 0`` keeps the planner from inlining that), and one series walks the positions in the
order of 0026's result (each character, then the pair it starts). IMMUTABLE as before and equal in value, so the
indexes built with the old body stay valid; the cost stays at 0030's estimate, which the search plans rely on.
"""

from django.db import migrations

LINEAR = """
CREATE OR REPLACE FUNCTION rg_grams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 300 AS $$
    SELECT coalesce(array_agg(CASE mod(k, 2) WHEN 0 THEN c[k / 2 + 1] ELSE c[k / 2 + 1] || c[k / 2 + 2] END), '{}')
    FROM (SELECT string_to_array(lower($1), NULL) AS c OFFSET 0) AS chars,
         generate_series(0, 2 * cardinality(c) - 2) AS k
$$
"""

QUADRATIC = """
CREATE OR REPLACE FUNCTION rg_grams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 300 AS $$
    SELECT coalesce(array_agg(substr(t, i, n)), '{}')
    FROM (SELECT lower($1) AS t) AS lowered,
         generate_series(1, char_length(t)) AS i,
         (VALUES (1), (2)) AS width(n)
    WHERE i + n - 1 <= char_length(t)
$$
"""


def replace_body(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0034_campaign_event_kind")]

    operations = [migrations.RunPython(replace_body(LINEAR), replace_body(QUADRATIC))]
