# The blind index of suspects' ID numbers now leaves out invisible format characters (cases/fields.py
# ``normalise_id_number``: a zero-width space or a byte order mark copied with a number): a number stored with one is
# found, and matched as a repeat attacker, by the number typed plainly. The digests that change are recomputed here;
# going back recomputes them by the rule before.

from django.db import migrations

import cases.fields


def refill_index(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection)


def refill_index_as_before(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection, normalise=cases.fields.normalise_id_number_v2)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0042_export_expiry"),
    ]

    operations = [
        migrations.RunPython(refill_index, refill_index_as_before),
    ]
