# The blind index of suspects' ID numbers now reads full-width digits and letters as their ASCII forms
# (cases/fields.py ``normalise_id_number``): a number typed in full-width mode is found by the number typed either way.
# The digests of numbers stored with such characters are recomputed here; every other digest stays as it is.

from django.db import migrations

import cases.fields


def refill_index(apps, schema_editor):
    cases.fields.rebuild_id_number_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0027_case_party_names"),
    ]

    operations = [
        migrations.RunPython(refill_index, migrations.RunPython.noop),
    ]
