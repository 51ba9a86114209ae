# The blind index of suspects' ID numbers now reads a 15-digit first-generation number as its 18-digit form
# (cases/fields.py ``normalise_id_number``): a suspect recorded under either number is found, and matched as a repeat
# attacker, by the other. The digests of the 15-digit numbers are recomputed here; every other digest stays as it is.
# Going back recomputes them by the old rule.

from django.db import migrations

import cases.fields


def refill_index(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection)


def refill_index_as_before(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection, normalise=cases.fields.normalise_id_number_v1)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0039_notice_link_no_other_host"),
    ]

    operations = [
        migrations.RunPython(refill_index, refill_index_as_before),
    ]
