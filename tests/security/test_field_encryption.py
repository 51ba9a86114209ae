"""Suspects' ID numbers are encrypted at rest (cases/fields.py): the column holds Fernet tokens, the keys come from
RIGHTSGUARD_FIELD_KEY (first encrypts, all decrypt), and production refuses to start without them."""

import importlib
import json
import subprocess
import sys
from io import StringIO
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import connection

from cases import fields, services
from cases.choices import CaseStatus
from cases.forms import SuspectForm
from cases.models import Suspect
from tests.factories import case_in
from tests.security.test_deploy_check import ROOT, manage_check, production_env

ID_NUMBER = "330106199001011234"
migration = importlib.import_module("cases.migrations.0010_encrypt_id_numbers")


def raw_id_number(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM cases_suspect WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def set_raw_id_number(pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_suspect SET id_number = %s WHERE id = %s", [value, pk])


@pytest.fixture
def suspect(world):
    case = case_in(world, CaseStatus.INTAKE)
    return services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)


def test_the_column_holds_a_token_that_decrypts_to_the_id_number(suspect, settings):
    stored = raw_id_number(suspect.pk)
    assert stored != ID_NUMBER
    assert ID_NUMBER not in stored
    assert stored.startswith("gAAAAA")
    assert Fernet(settings.RIGHTSGUARD_FIELD_KEYS[0]).decrypt(stored.encode()).decode() == ID_NUMBER
    assert Suspect.objects.get(pk=suspect.pk).id_number == ID_NUMBER
    assert list(Suspect.objects.filter(pk=suspect.pk).values_list("id_number", flat=True)) == [ID_NUMBER]
    # A new token on every write: equal ID numbers do not show as equal columns.
    Suspect.objects.get(pk=suspect.pk).save()
    assert raw_id_number(suspect.pk) not in (stored, ID_NUMBER)


def test_an_empty_id_number_stays_empty(world):
    blank = services.add_suspect(case=case_in(world, CaseStatus.INTAKE), by=world.supervisor, name="王某")
    assert raw_id_number(blank.pk) == ""
    assert Suspect.objects.get(pk=blank.pk).id_number == ""


def test_a_value_written_with_an_old_key_still_reads_after_rotation(suspect, settings):
    old_key = settings.RIGHTSGUARD_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.RIGHTSGUARD_FIELD_KEYS = [new_key, old_key]
    assert Suspect.objects.get(pk=suspect.pk).id_number == ID_NUMBER
    # Saving re-encrypts with the first key; the old key alone can no longer read it.
    Suspect.objects.get(pk=suspect.pk).save()
    rotated = raw_id_number(suspect.pk)
    assert Fernet(new_key).decrypt(rotated.encode()).decode() == ID_NUMBER
    settings.RIGHTSGUARD_FIELD_KEYS = [new_key]
    assert Suspect.objects.get(pk=suspect.pk).id_number == ID_NUMBER
    # Without the key that wrote a value, it is not shown at all (never the stored text in its place).
    settings.RIGHTSGUARD_FIELD_KEYS = [old_key]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Suspect.objects.get(pk=suspect.pk)


def test_max_length_applies_to_the_plain_text(suspect):
    suspect.id_number = "1" * 30
    suspect.full_clean()
    suspect.id_number = "1" * 31
    with pytest.raises(ValidationError) as refused:
        suspect.full_clean()
    assert list(refused.value.message_dict) == ["id_number"]
    form = SuspectForm({"name": "张某", "id_number": "1" * 31, "status": "identified"})
    assert not form.is_valid()
    assert list(form.errors) == ["id_number"]


def test_the_encrypted_column_cannot_be_searched(suspect):
    for lookup in ("", "__icontains", "__startswith", "__in"):
        value = [ID_NUMBER] if lookup == "__in" else ID_NUMBER
        with pytest.raises(FieldError, match="encrypted"):
            Suspect.objects.filter(**{f"id_number{lookup}": value}).exists()
    assert Suspect.objects.filter(id_number__isnull=False, pk=suspect.pk).count() == 1


def test_the_migration_encrypts_existing_values_and_reverses(suspect):
    set_raw_id_number(suspect.pk, ID_NUMBER)  # as the rows were before the migration
    editor = SimpleNamespace(connection=connection)
    migration.encrypt_existing(None, editor)
    token = raw_id_number(suspect.pk)
    assert token.startswith("gAAAAA")
    assert Suspect.objects.get(pk=suspect.pk).id_number == ID_NUMBER
    migration.encrypt_existing(None, editor)  # a second run leaves tokens alone
    assert raw_id_number(suspect.pk) == token
    migration.decrypt_existing(None, editor)
    assert raw_id_number(suspect.pk) == ID_NUMBER
    migration.decrypt_existing(None, editor)
    assert raw_id_number(suspect.pk) == ID_NUMBER


def test_synthetic_demo_cases_write_tokens_too(db):
    call_command("seed_demo", "--no-demo", "--cases", "150", "--seed", "3", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number FROM cases_suspect WHERE id_number <> ''")
        stored = dict(cursor.fetchall())
    assert stored, "the generator gave no suspect an ID number"
    assert all(value.startswith("gAAAAA") for value in stored.values())
    plain = dict(Suspect.objects.filter(pk__in=stored).values_list("pk", "id_number"))
    assert all(len(value) == 18 and value[:17].isdigit() for value in plain.values())
    assert all(fields.decrypt(stored[pk]) == plain[pk] for pk in stored)


def test_production_refuses_to_start_without_a_field_key():
    env = production_env()
    assert manage_check(env).returncode == 0
    del env["RIGHTSGUARD_FIELD_KEY"]
    result = manage_check(env)
    assert result.returncode != 0
    assert "RIGHTSGUARD_FIELD_KEY must be set when DJANGO_DEBUG is off." in result.stderr
    env["RIGHTSGUARD_FIELD_KEY"] = "change-me-to-a-generated-fernet-key"  # the example file's placeholder
    result = manage_check(env)
    assert result.returncode != 0
    assert "RIGHTSGUARD_FIELD_KEY holds a value that is not a Fernet key" in result.stderr


def _field_keys(env: dict[str, str]) -> list[str]:
    show = "import json; from django.conf import settings; print(json.dumps(settings.RIGHTSGUARD_FIELD_KEYS))"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def test_debug_falls_back_to_a_fixed_key_derived_from_the_secret_key():
    env = {**production_env(), "DJANGO_DEBUG": "1"}
    del env["RIGHTSGUARD_FIELD_KEY"]
    keys = _field_keys(env)
    assert len(keys) == 1
    Fernet(keys[0])  # a valid key
    assert _field_keys(env) == keys  # the same on every start, so the demo's data stays readable
    assert _field_keys({**env, "DJANGO_SECRET_KEY": "another-secret"}) != keys
    configured = Fernet.generate_key().decode()
    assert _field_keys({**env, "RIGHTSGUARD_FIELD_KEY": f"{configured},{keys[0]}"}) == [configured, keys[0]]


def test_rotating_the_key_re_encrypts_every_number_and_re_indexes_them_so_the_old_key_can_go(world, settings):
    settings.RIGHTSGUARD_BLIND_INDEX_KEY = ""  # the index key derived from the first field key: it changes too
    old_key = settings.RIGHTSGUARD_FIELD_KEYS[0]
    case = case_in(world, CaseStatus.INTAKE)
    written = services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    blank = services.add_suspect(case=case, by=world.supervisor, name="王某")
    new_key = Fernet.generate_key().decode()
    settings.RIGHTSGUARD_FIELD_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_field_key", stdout=out)
    assert out.getvalue().strip() == "1 ID numbers re-encrypted with the first key; 1 suspects re-indexed."
    assert Fernet(new_key).decrypt(raw_id_number(written.pk).encode()).decode() == ID_NUMBER
    assert raw_id_number(blank.pk) == ""
    # The old key removed: every number still reads, and is found by the index under the new key.
    settings.RIGHTSGUARD_FIELD_KEYS = [new_key]
    assert Suspect.objects.get(pk=written.pk).id_number == ID_NUMBER
    assert list(Suspect.objects.filter(id_number_index=fields.blind_index(ID_NUMBER)).values_list("pk", flat=True)) == [
        written.pk
    ]
    # Run again, nothing is left to re-index (the numbers are re-encrypted anew: a token differs on every write).
    out = StringIO()
    call_command("rotate_field_key", stdout=out)
    assert out.getvalue().strip() == "1 ID numbers re-encrypted with the first key; 0 suspects re-indexed."
