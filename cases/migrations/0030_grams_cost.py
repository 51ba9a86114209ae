"""``rg_grams`` (0026) costs what it does: building the character pairs of a narrative takes microseconds, a hundred
times the planner's default for a function. At the default the planner could choose to walk the newest-first index
and compute the pairs of every case it passed, hoping to meet a page of matches early: for a name nobody has, that
was every case (7 s at a million). At its true cost the function is computed only by the index (and on the few rows
a bitmap rechecks), and a common text is walked with the search's plain substring test instead (cases/search.py).
"""

from django.db import migrations


def set_cost(cost):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER FUNCTION rg_grams(text) COST {cost}")

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0029_queue_export")]

    operations = [migrations.RunPython(set_cost(1000), set_cost(100))]
