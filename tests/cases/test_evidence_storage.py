"""Evidence storage survives a killed upload, on the local disk and in an S3 object store alike: a file is received
into a temporary file without a name, checked and re-encoded there, written to ``.incoming`` in the evidence storage,
and given its final name as the last step of the transaction that records it. A kill at any point leaves either the
attachment row with its file, or no row and at most a leftover the sweep removes; a retry with the same
Idempotency-Key keeps one attachment and one file; ``reconcile`` finds orphans and leaves received files to the
sweep, and ``reconcile --since`` checks the files of the period; concurrent uploads to one case never exceed its
evidence cap (checked under the case's row lock)."""

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from cases import evidence, services, tasks
from cases.api.views import AttachmentListView
from cases.choices import CaseStatus
from cases.ledger import reconcile
from cases.models import Attachment, Case, CaseEvent, IdempotencyRecord, JobRun
from tests import evidence_backends
from tests.cases.test_concurrency import in_threads
from tests.evidence_backends import Backend
from tests.evidence_files import pdf_document
from tests.factories import World, case_in
from tests.security.test_upload_corpus import gps_photo, reencoded_jpeg

PHOTO = gps_photo()
KEPT = reencoded_jpeg(PHOTO)
HOUR = timedelta(hours=1)
NOTHING = {"incoming_removed": 0, "orphans_removed": 0, "bytes_removed": 0}


class Killed(BaseException):
    """The worker dies here: what follows, cleanup included, never runs (SIGKILL)."""


@pytest.fixture
def media(evidence_backend) -> Backend:
    """Each test runs with evidence on the local disk and in the object store."""
    return evidence_backend


DISK_ONLY = pytest.mark.parametrize("evidence_backend", ["disk"], indirect=True)


@pytest.fixture
def case(world, media, django_capture_on_commit_callbacks) -> Case:
    # Its background jobs run, so the ledger has nothing pending but what a test does.
    with django_capture_on_commit_callbacks(execute=True):
        return case_in(world, CaseStatus.INTAKE)


def api_client(user) -> APIClient:
    client = APIClient()
    _token, key = tokens.issue_token(user=user, name="storage test", mfa_verified=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def api_upload(client: APIClient, case: Case, content: bytes = PHOTO, key: str | None = "retry-1", name="a.jpg"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    file = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return client.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": file}, format="multipart", **headers)


def disk() -> dict[str, bytes]:
    """Every file in evidence storage, received ones included, by its name there."""
    return evidence_backends.stored()


def problems(**kwargs) -> list[str]:
    return reconcile(notifications=False, **kwargs).problems


# --- where the kill happens -------------------------------------------------------------------------------------


def _die_after(real: Callable) -> Callable:
    def run(*args, **kwargs):
        real(*args, **kwargs)
        raise Killed

    return run


def _die_before(_real: Callable) -> Callable:
    def run(*_args, **_kwargs):
        raise Killed

    return run


# Each point: what to patch, and how it dies there.
POINTS = {
    # The raw upload is in the temporary file, before any check: the photo still has its GPS position.
    "received": (evidence, "checked_content_type", _die_before),
    # The re-encoded picture has replaced it in the temporary file.
    "re-encoded": (evidence, "_rewrite", _die_after),
    # The checked file is in the evidence storage under .incoming.
    "stored": (evidence, "_put", _die_after),
    # The file has its final name; the transaction that records it has not committed.
    "installed": (evidence.Installation, "run", _die_after),
    # Everything committed; the answer never left the server.
    "committed": (AttachmentListView, "finalize_response", _die_before),
}


@contextmanager
def dies_at(point: str, *, killed: bool) -> Iterator[None]:
    """Raise ``Killed`` at ``point``. ``killed``: as SIGKILL, no cleanup runs; otherwise an ordinary failure, whose
    exception handlers clean up on the way out."""
    owner, name, how = POINTS[point]
    with mock.patch.object(owner, name, how(getattr(owner, name))):
        if killed:
            with mock.patch.object(evidence, "_remove"):
                yield
        else:
            yield


# After a kill at each point, before the sweep: (attachments, what is in the evidence storage) — "final" is a file
# under a final name, "part" a received one. Before the checked file is stored nothing is: the temporary file has no
# name, and the kernel frees it with the killed process.
LEFT_BY_A_KILL = {
    "received": (0, []),
    "re-encoded": (0, []),
    "stored": (0, ["part"]),
    "installed": (0, ["final"]),
    "committed": (1, ["final"]),
}


def kinds(files: dict[str, bytes]) -> list[str]:
    return sorted("part" if name.startswith(".incoming/") else "final" for name in files)


@pytest.mark.parametrize("point", list(POINTS))
def test_a_kill_at_any_point_leaves_a_row_with_its_file_or_no_row_and_a_leftover_the_sweep_removes(world, case, point):
    client = api_client(world.officer)
    events = CaseEvent.objects.filter(case=case).count()
    with dies_at(point, killed=True), pytest.raises(Killed):
        api_upload(client, case)

    rows, left = LEFT_BY_A_KILL[point]
    files = disk()
    assert (Attachment.objects.count(), kinds(files)) == (rows, left)
    assert CaseEvent.objects.filter(case=case).count() == events + rows
    assert IdempotencyRecord.objects.count() == rows
    if point == "stored":
        assert list(files.values()) == [KEPT]  # what waits is already checked and re-encoded: no GPS position
    if rows:
        attachment = Attachment.objects.get()
        assert files == {attachment.stored_name: KEPT}
        assert problems() == []
    elif left == ["final"]:
        (orphan,) = files
        assert problems() == [f"evidence file {orphan}: no attachment row (orphan)"]
    else:
        assert problems() == []  # a received file is not evidence: the ledger holds nothing lost or extra

    # An upload in progress is never touched; an hour later the leftover goes, and the row's file stays.
    assert evidence.sweep() == NOTHING
    assert disk() == files
    swept = evidence.sweep(now=timezone.now() + HOUR)
    assert swept == {
        "incoming_removed": int(left == ["part"] and not rows),
        "orphans_removed": int(left == ["final"] and not rows),
        "bytes_removed": 0 if rows else sum(len(c) for c in files.values()),
    }
    assert disk() == ({Attachment.objects.get().stored_name: KEPT} if rows else {})
    assert problems() == []


@pytest.mark.parametrize("killed", [True, False], ids=["killed", "failed"])
@pytest.mark.parametrize("point", list(POINTS))
def test_a_retry_with_the_same_key_keeps_one_attachment_and_one_file(world, case, point, killed):
    client = api_client(world.officer)
    with dies_at(point, killed=killed), pytest.raises(Killed):
        api_upload(client, case)
    if not killed:  # a failure cleans up at once; only a committed upload stays
        assert kinds(disk()) == (["final"] if point == "committed" else [])

    retry = api_upload(client, case)
    assert retry.status_code == 201, retry.content
    # After the commit the first answer is replayed; before it the upload is done again, from the start.
    assert retry.get("Idempotent-Replayed") == ("true" if point == "committed" else None)
    attachment = Attachment.objects.get()
    assert (retry.json()["id"], attachment.sha256) == (attachment.pk, hashlib.sha256(KEPT).hexdigest())
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 1
    files = disk()
    if killed and point == "installed":
        # The killed attempt's file got its final name but no row; the sweep takes it once it is old enough.
        assert kinds(files) == ["final", "final"]
        evidence.sweep(now=timezone.now() + HOUR)
    # The retry received into the killed attempt's place, so no second copy of the photo remains.
    assert disk() == {attachment.stored_name: KEPT}
    assert problems() == []


def test_a_killed_page_upload_leaves_a_received_file_the_sweep_removes_after_an_hour(world, case, client, caplog):
    client.force_login(world.officer)
    url = reverse("cases:evidence-upload", args=[case.pk])
    with dies_at("stored", killed=True), pytest.raises(Killed):
        client.post(url, {"file": SimpleUploadedFile("a.jpg", PHOTO)})
    (name,) = disk()
    assert (name[:10], name[-5:]) == (".incoming/", ".part")
    assert Attachment.objects.count() == 0

    # Another upload meanwhile is unaffected, and the sweep keeps its file: it has a row.
    assert client.post(url, {"file": SimpleUploadedFile("b.jpg", PHOTO)}).status_code == 302
    kept = Attachment.objects.get().stored_name
    assert sorted(disk()) == sorted([name, kept])
    caplog.set_level(logging.INFO, logger="cases.evidence")
    assert evidence.sweep(now=timezone.now() + timedelta(minutes=59))["incoming_removed"] == 0
    assert evidence.sweep(now=timezone.now() + timedelta(minutes=61)) == {
        "incoming_removed": 1,
        "orphans_removed": 0,
        "bytes_removed": len(KEPT),
    }
    assert disk() == {kept: KEPT}
    assert [r.getMessage() for r in caplog.records if r.name == "cases.evidence"] == [
        "Evidence sweep: removed 0 received file(s) never recorded and 0 evidence file(s) without an attachment "
        "(0 bytes)",
        "Evidence sweep: removed 1 received file(s) never recorded and 0 evidence file(s) without an attachment "
        f"({len(KEPT)} bytes)",
    ]
    # Idempotent: nothing left to do.
    assert evidence.sweep(now=timezone.now() + HOUR) == {
        "incoming_removed": 0,
        "orphans_removed": 0,
        "bytes_removed": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_a_failed_commit_leaves_the_file_to_the_sweep_never_a_row_without_its_file(world, media):
    """Whether a commit that raised happened is unknown (a lost connection), so the renamed file is not removed
    then; here it did not happen, and the file is an orphan until the sweep."""
    case = case_in(world, CaseStatus.INTAKE)
    stored = evidence.validate_and_store(SimpleUploadedFile("a.pdf", pdf_document()), case=case)
    with (
        mock.patch.object(connections["default"], "commit", side_effect=OperationalError("connection lost")),
        pytest.raises(OperationalError),
    ):
        services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    assert Attachment.objects.count() == 0
    assert disk() == {stored.stored_name: pdf_document()}
    assert evidence.sweep(now=timezone.now() + HOUR)["orphans_removed"] == 1
    assert disk() == {}


def test_a_refused_record_removes_the_received_file(world, case):
    """An ordinary refusal inside the transaction (here: the case is full by the time it is locked)."""
    stored = evidence.validate_and_store(SimpleUploadedFile("a.pdf", pdf_document()), case=case)
    assert kinds(disk()) == ["part"]
    with (
        mock.patch.object(evidence, "max_case_evidence_bytes", return_value=stored.size - 1),
        pytest.raises(evidence.ValidationError),
    ):
        services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    assert (Attachment.objects.count(), disk()) == (0, {})


def test_a_second_record_of_the_same_file_is_refused_and_never_removes_the_first(world, case):
    stored = evidence.validate_and_store(SimpleUploadedFile("a.pdf", pdf_document()), case=case)
    first = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    with pytest.raises(evidence.ValidationError) as refused:
        services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    assert list(refused.value.message_dict) == ["stored_name"]
    assert list(Attachment.objects.values_list("pk", flat=True)) == [first.pk]
    assert disk() == {first.stored_name: pdf_document()}


def test_the_sweep_removes_only_names_it_generates_and_only_files_without_a_row(world, case, media):
    stored = evidence.validate_and_store(SimpleUploadedFile("a.pdf", pdf_document()), case=case)
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    media.put("ab" * 16, b"orphan")
    media.put("README", b"not ours")
    media.put(".incoming/" + "cd" * 16 + ".part", b"received")
    media.put(".incoming/notes.txt", b"not ours either")
    assert evidence.sweep(now=timezone.now() + HOUR) == {
        "incoming_removed": 1,
        "orphans_removed": 1,
        "bytes_removed": 14,
    }
    assert sorted(disk()) == sorted([".incoming/notes.txt", "README", attachment.stored_name])


def test_the_sweep_is_a_periodic_job_run_once_per_period_and_a_command(world, case, media, settings, monkeypatch):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-evidence"] == {
        "task": "cases.sweep_evidence",
        "schedule": 900.0,
        "kwargs": {"period": 900.0},
        "options": {"expires": 900.0},
    }
    assert (settings.RIGHTSGUARD_EVIDENCE_SWEEP_SECONDS, evidence.stale_after()) == (900.0, HOUR)
    media.put(".incoming/" + "ef" * 16 + ".part", b"12345")
    # An hour and a second later (an object store's modification times cannot be set back), both ticks in one period.
    at = timezone.now() + HOUR + timedelta(seconds=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)

    assert tasks.sweep_evidence(period=900) == {"incoming_removed": 1, "orphans_removed": 0, "bytes_removed": 5}
    assert tasks.sweep_evidence(period=900) == {"skipped": 1}
    assert list(JobRun.objects.values_list("job", flat=True)) == ["sweep_evidence"]

    media.put("01" * 16, b"orphan")
    out = StringIO()
    call_command("sweep_evidence", "--older-than-minutes", "0", stdout=out)
    assert json.loads(out.getvalue()) == {"incoming_removed": 0, "orphans_removed": 1, "bytes_removed": 6}
    assert disk() == {}


# --- reconcile ----------------------------------------------------------------------------------------------------


def test_reconcile_reads_every_file_back_and_finds_orphans_but_leaves_received_files_to_the_sweep(world, case, media):
    files = [
        services.add_evidence(case=case, by=world.officer, file=SimpleUploadedFile(f"{n}.pdf", pdf_document(pages=n)))
        for n in (1, 2, 3)
    ]
    assert problems() == []
    lost, altered, _intact = files
    evidence.evidence_storage().remove(lost.stored_name)
    media.put(altered.stored_name, pdf_document(pages=2)[:-1] + b" ")  # as long as recorded, one byte different
    orphan = "0123456789abcdef" * 2
    media.put(orphan, b"an orphan")
    media.put(".incoming/" + "ab" * 16 + ".part", b"in progress or left by a crash")

    out = StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("reconcile", "--no-notifications", "--no-summaries", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["attachments"], result["attachment_bytes"], result["incoming"]) == (
        3,
        sum(f.size for f in files),
        1,
    )
    assert result["problems"] == [
        f"attachment {lost.pk}: file missing",
        f"attachment {altered.pk}: checksum or size does not match",
        f"evidence file {orphan}: no attachment row (orphan)",
    ]
    # The sweep takes the received file and the orphan once they are stale; the damaged evidence it never touches.
    assert evidence.sweep(now=timezone.now() + HOUR) == {
        "incoming_removed": 1,
        "orphans_removed": 1,
        "bytes_removed": len(b"an orphan") + len(b"in progress or left by a crash"),
    }
    assert problems() == [
        f"attachment {lost.pk}: file missing",
        f"attachment {altered.pk}: checksum or size does not match",
    ]


def planted(path, content: bytes, *, age: timedelta) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    then = (timezone.now() - age).timestamp()
    os.utime(path, (then, then))


@DISK_ONLY  # files from before the period: only the disk lets a test set a file's modification time back
def test_reconcile_since_checks_the_evidence_of_the_period(world, case):
    """An older case's new evidence, and files stored in the period, are checked too."""
    since = timezone.now() - timedelta(minutes=5)
    Case.objects.filter(pk=case.pk).update(created_at=since - timedelta(days=30))
    stored = evidence.validate_and_store(SimpleUploadedFile("a.pdf", pdf_document()), case=case)
    lost = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    evidence.path_of(lost.stored_name).unlink()
    orphan, before = "0123456789abcdef" * 2, "fedcba9876543210" * 2
    (evidence.evidence_dir() / orphan).write_bytes(b"an orphan")
    # An orphan from before the period is the full check's, not this one's.
    planted(evidence.evidence_dir() / before, b"older", age=HOUR)
    (evidence.incoming_dir() / ("ab" * 16 + ".part")).write_bytes(b"in progress")

    expected = [f"attachment {lost.pk}: file missing", f"evidence file {orphan}: no attachment row (orphan)"]
    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("reconcile", "--since", since.isoformat(), "--no-notifications", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["cases"], result["attachments"], result["problems"]) == (0, 1, expected)
    assert problems() == [*expected, f"evidence file {before}: no attachment row (orphan)"]


# --- the per-case cap under concurrency ---------------------------------------------------------------------------

UPLOADS = 12
SIZE = 300_000
CAP = 1_000_000


# The cap is held by the case's row lock in the database, whichever storage keeps the files; uploads, the lock and
# the installation run on the object store too in the tests above.
@DISK_ONLY
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_to_one_case_never_exceed_its_cap(postgres_only, world: World, media, settings):
    settings.RIGHTSGUARD_MAX_CASE_EVIDENCE_BYTES = CAP
    case = case_in(world, CaseStatus.INTAKE)
    document = pdf_document(SIZE)
    _token, key = tokens.issue_token(user=world.officer, name="cap test", mfa_verified=True)
    logged_in = Client()
    logged_in.force_login(world.officer)

    def upload(i: int):
        """Odd: through the API; even: through the page, asking for JSON. Each thread has its own connection."""
        file = SimpleUploadedFile(f"scan-{i}.pdf", document, content_type="application/pdf")
        if i % 2:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            return api.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": file}, format="multipart")
        page = Client()
        page.cookies = logged_in.cookies
        url = reverse("cases:evidence-upload", args=[case.pk])
        return page.post(url, {"file": file}, headers={"Accept": "application/json"})

    responses = in_threads(upload, count=UPLOADS)
    assert [r for r in responses if isinstance(r, BaseException)] == []
    # Accepted: 201 from the API, 200 from the page; refused: 400 from both.
    assert all(r.status_code in ((201, 400) if i % 2 else (200, 400)) for i, r in enumerate(responses))
    accepted = [r for r in responses if r.status_code != 400]
    refused = [r for r in responses if r.status_code == 400]
    assert (len(accepted), len(refused)) == (3, 9)
    full = (
        f"This case already holds {filesizeformat(3 * SIZE)} of evidence; the limit per case is {filesizeformat(CAP)}."
    )
    assert [r.json()["errors"]["file"] for r in refused] == [[full]] * 9
    rows = list(Attachment.objects.filter(case=case).values_list("stored_name", "size"))
    assert [size for _name, size in rows] == [SIZE] * 3
    assert disk() == {name: document for name, _size in rows}  # and nothing left in .incoming
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 3
