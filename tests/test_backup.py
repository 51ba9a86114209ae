"""Restore drill: back up a database with cases and evidence files, restore it into a fresh database, an empty
evidence storage and an empty media directory in another process, and reconcile the result with the manifest and the
ledger; with evidence on the local disk and in an S3 object store (tests/evidence_backends.py). The archive names
evidence alike whichever storage held it, so either backup restores into either storage."""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from cases import evidence, services
from cases.backup import BackupError, backup, read_manifest, restore
from cases.choices import CaseStatus
from cases.evidence_store import exports_storage
from cases.models import Attachment, Case, CaseEvent, ExportStatus, ReportExport
from tests.evidence_backends import BUCKET, Backend, s3_backend, use_backend
from tests.evidence_files import pdf_document
from tests.factories import case_in, complete_details, draft, finished_export, finished_queue_export

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


# (where the evidence is backed up from, where it is restored into)
ROUTES = {"disk": ("disk", "disk"), "s3": ("s3", "s3")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", list(ROUTES))
def test_a_backup_restores_into_a_fresh_database_with_every_row_and_file(
    world, settings, tmp_path, monkeypatch, request, route
):
    source, target = ROUTES[route]
    endpoint = request.getfixturevalue("s3_endpoint") if "s3" in ROUTES[route] else ""
    backed_up = use_backend(
        source, settings=settings, monkeypatch=monkeypatch, media_root=tmp_path / "media", endpoint=endpoint
    )
    restored_into = (
        Backend("disk", tmp_path / "restored-media")
        if target == "disk"
        else s3_backend(endpoint, tmp_path / "restored-media")
    )
    closed = case_in(world, CaseStatus.CLOSED)
    filed = draft(world)
    first = _attach(world, filed, PDF, "scene.pdf")
    second = _attach(world, filed, pdf_document(pages=2), "statement.pdf")
    services.submit_case(case=filed, by=world.officer, expected_version=Case.objects.get(pk=filed.pk).version)
    # Prepared files are in the backup too, from the exports storage beside the evidence, and restored into it.
    exports = {
        finished_export(world.supervisor, world.station, 2025).file_name: b"unit,cases\n330100,1\n",
        finished_queue_export(world.supervisor).file_name: b"PK\x03\x04 a workbook",
    }

    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    manifest = read_manifest(tmp_path / "backup")
    assert manifest["row_counts"]["cases.Case"] == 2
    assert manifest["row_counts"]["cases.Attachment"] == 2
    assert manifest["row_counts"]["cases.CaseEvent"] == CaseEvent.objects.count()
    assert sorted(manifest["media"]) == sorted(
        [*(f"evidence/{a.stored_name}" for a in (first, second)), *(f"exports/{name}" for name in exports)]
    )
    assert manifest["media"][f"evidence/{first.stored_name}"] == first.sha256
    assert manifest["evidence_storage"] == (
        f"disk:{tmp_path / 'media' / 'evidence'}" if source == "disk" else f"s3://{BUCKET}/{backed_up.prefix}"
    )
    assert manifest["exports_storage"] == (
        f"disk:{tmp_path / 'media' / 'exports'}" if source == "disk" else f"s3://{BUCKET}/{backed_up.prefix}/exports"
    )

    url, drop = _fresh_database()
    env = {
        **os.environ,
        **restored_into.env(),
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(tmp_path / "restored-media"),
        "DJANGO_SECRET_KEY": "restore-drill",
        "DJANGO_DEBUG": "0",
    }
    try:
        restored = _manage(env, "restore", str(tmp_path / "backup"))
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout) == {"cases": 2, "media_files": 4, "mismatches": []}
        assert [n for n in restored_into.names() if not n.startswith("exports/")] == sorted(
            [first.stored_name, second.stored_name]
        )
        assert restored_into.exported() == exports
        if target == "s3":
            assert {restored_into.head(a.stored_name)["ServerSideEncryption"] for a in (first, second)} == {"AES256"}
        ledger = _manage(env, "reconcile", "--no-notifications")
        assert ledger.returncode == 0, ledger.stdout + ledger.stderr
        counts = json.loads(ledger.stdout)
        assert (counts["cases"], counts["submitted"], counts["attachments"], counts["problems"]) == (2, 2, 2, [])
        assert counts["events"] == CaseEvent.objects.count()
        assert counts["attachment_bytes"] == first.size + second.size
        if route != "disk":
            return  # what follows is the database's, the same whichever storage holds the evidence
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


@pytest.mark.django_db(transaction=True)
def test_the_archive_holds_the_files_the_rows_refer_to_and_nothing_else(world, settings, tmp_path, evidence_backend):
    attachment = _attach(world, draft(world), PDF, "scene.pdf")
    export = finished_export(world.supervisor, world.station, 2025)
    workbook = finished_queue_export(world.supervisor)
    # A file no row refers to (an upload whose row never committed) is not part of the backup, nor is the file of an
    # export that is not finished, nor one whose file has gone (it can be prepared again).
    evidence_backend.put("0123456789abcdef0123456789abcdef", PDF)
    gone = finished_export(world.supervisor, world.station, 2024)
    exports_storage().remove(gone.file_name)
    ReportExport.objects.filter(pk=finished_export(world.supervisor, world.station, 2023).pk).update(
        status=ExportStatus.EXPIRED
    )
    call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    manifest = read_manifest(tmp_path / "backup")
    assert manifest["format"] == 2
    assert manifest["media"] == {
        f"evidence/{attachment.stored_name}": attachment.sha256,
        f"exports/yearly-report-{export.pk}.csv": hashlib.sha256(b"unit,cases\n330100,1\n").hexdigest(),
        f"exports/queue-{workbook.pk}.xlsx": hashlib.sha256(b"PK\x03\x04 a workbook").hexdigest(),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_backup_fails_when_evidence_is_not_as_its_row_records(world, settings, tmp_path, damage, evidence_backend):
    attachment = _attach(world, draft(world), PDF, "scene.pdf")
    if damage == "altered":
        content = bytearray(evidence_backend.files()[attachment.stored_name])
        content[-8] ^= 0xFF
        evidence_backend.put(attachment.stored_name, bytes(content))
        expected = f"SHA-256 {hashlib.sha256(content).hexdigest()}, its row records {attachment.sha256}"
    else:
        evidence.evidence_storage().remove(attachment.stored_name)
        expected = "missing"
    with pytest.raises(BackupError) as refused:
        backup(tmp_path / "backup")
    assert str(refused.value) == (
        f"1 evidence file(s) missing or not as recorded: evidence/{attachment.stored_name}: {expected}"
    )
    assert not (tmp_path / "backup" / "manifest.json").exists()


# The writer's bounds: at most this many rounds, and no longer than this many seconds.
WRITER_ROUNDS = 2_000
WRITER_SECONDS = 120


def _wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_during_writes_restores_into_a_consistent_database(postgres_only, world, settings, tmp_path):
    """A writer keeps filing drafts with evidence and notes (through the services, on its own connection) while the
    backup runs. The restore must match the manifest, the ledger must find no problem (no file missing, none
    orphaned), and everything acknowledged before the backup began must be there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    acknowledged: list[tuple[float, dict]] = []  # (when the last service call returned, what it stored)
    failures: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        deadline = time.monotonic() + WRITER_SECONDS
        try:
            for n in range(WRITER_ROUNDS):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                case = services.create_draft_case(by=world.officer, unit=world.station, details=complete_details())
                attachment = _attach(world, case, PDF, f"scene-{n}.pdf")
                services.add_note(case=Case.objects.get(pk=case.pk), by=world.officer, text=f"note {n}")
                entry = {"reference": case.reference, "submitted": False, "sha256": [attachment.sha256]}
                acknowledged.append((time.monotonic(), entry))
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        _wait_until(lambda: len(acknowledged) >= 5 or failures)
        began = time.monotonic()
        before = [entry for at, entry in list(acknowledged) if at < began]
        call_command("backup", str(tmp_path / "backup"), stdout=open(os.devnull, "w"))  # noqa: SIM115
        ended = time.monotonic()
        # Writes go on after the backup, so the live files outnumber the archived ones at the end.
        _wait_until(lambda: sum(1 for at, _ in list(acknowledged) if at > ended) >= 3 or failures)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not writer.is_alive()
    assert failures == []
    during = [entry for at, entry in acknowledged if began <= at <= ended]
    assert during, "the writer acknowledged nothing while the backup ran"

    manifest = read_manifest(tmp_path / "backup")
    counts = manifest["row_counts"]
    backed_up = counts["cases.Case"]
    assert len(before) <= backed_up < len(acknowledged)
    # Exactly the evidence of the attachment rows in the snapshot, no file of a row committed after it.
    assert len(before) <= counts["cases.Attachment"] <= backed_up
    assert len(manifest["media"]) == counts["cases.Attachment"]
    live = [path for path in (tmp_path / "media" / "evidence").iterdir() if path.is_file()]
    assert len(live) == len(acknowledged) > len(manifest["media"])
    (tmp_path / "accepted.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in before))

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
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert json.loads(restored.stdout) == {
            "cases": backed_up,
            "media_files": counts["cases.Attachment"],
            "mismatches": [],
        }
        ledger = _manage(env, "reconcile", "--no-notifications", "--accepted", str(tmp_path / "accepted.jsonl"))
        assert ledger.returncode == 0, ledger.stdout + ledger.stderr
        result = json.loads(ledger.stdout)
        assert result["problems"] == []
        assert (result["cases"], result["attachments"], result["events"]) == (
            backed_up,
            counts["cases.Attachment"],
            counts["cases.CaseEvent"],
        )
        assert result["accepted_checked"] == len(before)
    finally:
        drop()
