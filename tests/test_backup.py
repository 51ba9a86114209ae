"""Restore drill: back up a database with cases and evidence files, restore it into a fresh database and an empty
media directory in another process, and reconcile the result with the manifest and the ledger."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from cases import services
from cases.api import evidence
from cases.backup import BackupError, read_manifest, restore
from cases.choices import CaseStatus
from cases.models import Attachment, Case, CaseEvent
from tests.evidence_files import pdf_document
from tests.factories import case_in, draft

ROOT = Path(settings.BASE_DIR)
PDF = pdf_document()


def _attach(world, case: Case, content: bytes, name: str) -> Attachment:
    stored = evidence.validate_and_store(SimpleUploadedFile(name, content, content_type="application/pdf"))
    return services.record_attachment(case=case, by=world.officer, **stored.attachment_fields(), description=name)


def _fresh_database() -> tuple[str, dict[str, str], callable]:
    """A URL for an empty database of the test's vendor, and a function that drops it."""
    if connection.vendor == "postgresql":
        import psycopg

        db = connection.settings_dict
        name = f"rg_restore_{uuid.uuid4().hex[:10]}"
        server = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'postgres'}"
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        user = db["USER"] or "postgres"
        return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}", drop
    path = Path(settings.BASE_DIR) / "var" / f"restore-{uuid.uuid4().hex[:10]}.sqlite3"
    path.parent.mkdir(exist_ok=True)
    return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our interpreter and arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_every_row_and_file(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    closed = case_in(world, CaseStatus.CLOSED)
    filed = draft(world)
    first = _attach(world, filed, PDF, "scene.pdf")
    second = _attach(world, filed, pdf_document(pages=2), "statement.pdf")
    services.ACTION_SERVICES["submit"](
        case=filed, by=world.officer, expected_version=Case.objects.get(pk=filed.pk).version
    )

    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    manifest = read_manifest(tmp_path / "backup")
    assert manifest["row_counts"]["cases.Case"] == 2
    assert manifest["row_counts"]["cases.Attachment"] == 2
    assert manifest["row_counts"]["cases.CaseEvent"] == CaseEvent.objects.count()
    assert sorted(manifest["media"]) == sorted(f"evidence/{a.stored_name}" for a in (first, second))
    assert manifest["media"][f"evidence/{first.stored_name}"] == first.sha256

    url, drop = _fresh_database()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(tmp_path / "restored-media"),
        "DJANGO_SECRET_KEY": "restore-drill",
        "DJANGO_DEBUG": "0",
    }
    try:
        restored = _manage(env, "restore", str(tmp_path / "backup"))
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout) == {"cases": 2, "media_files": 2, "mismatches": []}
        ledger = _manage(env, "reconcile", "--no-notifications")
        assert ledger.returncode == 0, ledger.stdout + ledger.stderr
        counts = json.loads(ledger.stdout)
        assert (counts["cases"], counts["submitted"], counts["attachments"], counts["problems"]) == (2, 2, 2, [])
        assert counts["events"] == CaseEvent.objects.count()
        assert counts["attachment_bytes"] == first.size + second.size
        # The restored application works: its migrations are all applied and the references are intact.
        plan = _manage(env, "migrate", "--check", "--no-input")
        assert plan.returncode == 0, plan.stdout + plan.stderr
        shown = _manage(
            env,
            "shell",
            "--no-imports",
            "-c",
            "from cases.models import Case; print(sorted(Case.objects.values_list('reference', flat=True)))",
        )
        assert shown.stdout.strip() == str(sorted([closed.reference, Case.objects.get(pk=filed.pk).reference]))
        # A second restore into the now populated database is refused and changes nothing.
        again = _manage(env, "restore", str(tmp_path / "backup"))
        assert again.returncode == 1
        assert "is not empty" in again.stderr or "already has tables" in again.stderr
    finally:
        drop()


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_restored(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    case_in(world, CaseStatus.INTAKE)
    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    tar = tmp_path / "backup" / "media.tar"
    tar.write_bytes(tar.read_bytes() + b"tampered")
    settings.MEDIA_ROOT = tmp_path / "restored"
    with pytest.raises(BackupError, match="media archive does not match"):
        restore(tmp_path / "backup")
    assert not (tmp_path / "restored").exists()


@pytest.mark.django_db(transaction=True)
def test_a_backup_needs_an_empty_directory(world, settings, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old.txt").write_text("x")
    with pytest.raises(Exception, match="is not empty"):
        call_command("backup", str(tmp_path / "backup"))
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["old.txt"]
