# Suspects' ID numbers become searchable by exact match without decrypting them: a keyed blind index
# (cases/fields.py ``blind_index``) in a column of its own, filled here for every existing suspect (the numbers are
# decrypted once, in this process, to compute it), then indexed. Reversible: going back drops the column.

from django.db import migrations, models

import cases.fields


def fill_index(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0024_dashboard_open_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="suspect",
            name="id_number_index",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(fill_index, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="suspect",
            index=models.Index(
                condition=models.Q(("id_number_index", ""), _negated=True),
                fields=["id_number_index"],
                name="suspect_id_number_index",
            ),
        ),
    ]
