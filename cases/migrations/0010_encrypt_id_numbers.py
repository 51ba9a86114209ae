# Suspects' ID numbers: encrypted at rest (cases/fields.py). The column becomes text (a token is longer than its
# plain text) and every existing value is encrypted with the first key of RIGHTSGUARD_FIELD_KEY. Reversible: going
# back decrypts the values, then the column returns to varchar(30).
#
# The values are read and written with plain SQL: the historical model's field would decrypt on read.

from django.db import migrations

import cases.fields

BATCH = 2000


def _rewrite(schema_editor, change):
    connection = schema_editor.connection
    table = connection.ops.quote_name("cases_suspect")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, id_number FROM {table} WHERE id_number <> '' ORDER BY id")  # noqa: S608
        rows = cursor.fetchall()
    for begin in range(0, len(rows), BATCH):
        updates = [(new, pk) for pk, old in rows[begin : begin + BATCH] if (new := change(old)) != old]
        if updates:
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET id_number = %s WHERE id = %s", updates)  # noqa: S608


def encrypt_existing(apps, schema_editor):
    _rewrite(schema_editor, lambda v: v if cases.fields.is_token(v) else cases.fields.encrypt(v))


def decrypt_existing(apps, schema_editor):
    _rewrite(schema_editor, lambda v: cases.fields.decrypt(v) if cases.fields.is_token(v) else v)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_text_search"),
    ]

    operations = [
        migrations.AlterField(
            model_name="suspect",
            name="id_number",
            field=cases.fields.EncryptedCharField(blank=True, max_length=30, verbose_name="ID number"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
