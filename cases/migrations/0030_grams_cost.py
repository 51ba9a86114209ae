"""``rg_grams`` (0026) costs what it does: building the character pairs of a narrative takes about 7 microseconds,
three times the planner's default for a function. At the default the planner could choose to walk the newest-first
index and compute the pairs of every case it passed, hoping to meet a page of matches early: for a name nobody has,
that was every case (7 s at a million). At its measured cost the function is computed by the index (and on the rows a
bitmap rechecks); the search reads a page of few matches by their ids and walks a common text with a plain
substring test (cases/search.py), so no page query computes it at all.
"""

from django.db import migrations


def set_cost(cost):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER FUNCTION rg_grams(text) COST {cost}")

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0029_queue_export")]

    operations = [migrations.RunPython(set_cost(300), set_cost(100))]
