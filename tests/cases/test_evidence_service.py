"""Evidence as a service (cases/services/evidence.py): the browser page and the API add and open evidence through
``add_evidence`` and ``open_evidence``, so a file is refused for the same reason, a missing stored file is answered
alike, a download carries the same headers, and a failure while recording keeps nothing, whichever door was used;
on the local disk and in an S3 object store alike (tests/evidence_backends.py)."""

import logging
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts import tokens
from cases import evidence, evidence_store, services
from cases.choices import CaseStatus
from cases.models import AccessLog, Attachment, Case, CaseEvent
from rightsguard.storage import evidence_storage as storage_setting
from tests.evidence_backends import BUCKET, Backend
from tests.evidence_files import pdf_document
from tests.factories import World, case_in
from tests.security.test_upload_corpus import REFUSED, Refusal

MISSING = (
    "The file of this evidence is missing from the evidence store, so it cannot be downloaded. "
    "Please tell your system administrator."
)
# One hostile or broken file for each reason the store gives.
ONE_PER_CODE = list({refusal.code: refusal for refusal in reversed(REFUSED)}.values())


@pytest.fixture
def media(evidence_backend) -> Backend:
    """Each test runs with evidence on the local disk and in the object store."""
    return evidence_backend


@pytest.fixture
def case(world: World, media) -> Case:
    return case_in(world, CaseStatus.INTAKE)


@pytest.fixture
def doors(world: World) -> dict[str, Client]:
    """The filing officer at each door: a token client of the API, and a logged-in browser."""
    api = APIClient()
    _token, key = tokens.issue_token(user=world.officer, name="evidence service", mfa_verified=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    browser = Client()
    browser.force_login(world.officer)
    return {"api": api, "browser": browser}


def send(doors: dict[str, Client], door: str, case: Case, content: bytes, name: str, content_type: str):
    """Upload through ``door``; the page is asked for JSON, so both answers carry the reasons as data."""
    file = SimpleUploadedFile(name, content, content_type=content_type)
    if door == "api":
        return doors["api"].post(f"/api/v1/cases/{case.pk}/attachments/", {"file": file}, format="multipart")
    url = reverse("cases:evidence-upload", args=[case.pk])
    return doors["browser"].post(url, {"file": file}, headers={"Accept": "application/json"})


def download(doors: dict[str, Client], door: str, case: Case, attachment: Attachment):
    if door == "api":
        return doors["api"].get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    return doors["browser"].get(reverse("cases:evidence-download", args=[case.pk, attachment.pk]))


def files_in(media: Backend) -> list[str]:
    """Every file in the evidence storage (received ones included), and any other file under MEDIA_ROOT."""
    root = media.media_root
    others = (
        [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and (media.kind == "s3" or p.relative_to(root).parts[0] != "evidence")
        ]
        if root.exists()
        else []
    )
    return sorted([*media.names(), *others])


def added(case: Case, by, content: bytes = b"", name: str = "statement.pdf") -> Attachment:
    file = SimpleUploadedFile(name, content or pdf_document(), content_type="application/pdf")
    return services.add_evidence(case=case, by=by, file=file, description="笔录")


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", [pytest.param(r, id=r.code) for r in ONE_PER_CODE])
def test_both_doors_refuse_the_same_bad_file_with_the_same_reason(doors, case, media, refusal: Refusal):
    content = refusal.build()
    answers = {}
    for door in ("api", "browser"):
        response = send(doors, door, case, content, refusal.name, refusal.content_type)
        answers[door] = (response.status_code, response.json()["errors"])
    assert answers == {
        "api": (400, {"file": [refusal.message]}),
        "browser": (400, {"file": [refusal.message]}),
    }
    assert (Attachment.objects.count(), CaseEvent.objects.filter(case=case, kind="attachment").count()) == (0, 0)
    assert files_in(media) == []


def test_both_doors_refuse_a_file_over_the_size_cap_alike(doors, case, media, settings):
    settings.RIGHTSGUARD_MAX_UPLOAD_BYTES = 1000
    document = pdf_document(1001)
    answers = {
        door: (r.status_code, r.json()["errors"])
        for door in ("api", "browser")
        for r in [send(doors, door, case, document, "report.pdf", "application/pdf")]
    }
    too_big = {"file": ["The file is larger than the 1000\xa0bytes allowed."]}
    assert answers == {"api": (400, too_big), "browser": (400, too_big)}
    assert (Attachment.objects.count(), files_in(media)) == (0, [])


@pytest.mark.parametrize("evidence_backend", ["disk"], indirect=True)
def test_a_full_evidence_disk_is_a_507_at_both_doors(doors, case, media):
    full = OSError(28, "No space left on device")
    answers = {}
    for door in ("api", "browser"):
        with mock.patch.object(evidence_store, "_fsync", side_effect=full):
            response = send(doors, door, case, pdf_document(), "report.pdf", "application/pdf")
        body = response.json()
        answers[door] = (response.status_code, body.get("detail") or body["errors"]["file"][0])
    message = str(evidence.StorageFull())
    assert answers == {"api": (507, message), "browser": (507, message)}
    assert (Attachment.objects.count(), files_in(media)) == (0, [])


@pytest.mark.parametrize("evidence_backend", ["s3"], indirect=True)
def test_an_object_store_that_refuses_the_file_is_a_503_at_both_doors(doors, case, media, settings, caplog):
    """Here the bucket does not exist (deleted, or a wrong name in the setting): a real answer of the store."""
    settings.STORAGES = {**settings.STORAGES, "evidence": storage_setting(media.url.replace(BUCKET, "no-such-bucket"))}
    caplog.set_level(logging.ERROR, logger="cases.evidence")
    answers = {}
    for door in ("api", "browser"):
        response = send(doors, door, case, pdf_document(), "report.pdf", "application/pdf")
        body = response.json()
        answers[door] = (response.status_code, body.get("code"), body.get("detail") or body["errors"]["file"][0])
    message = str(evidence.StoreUnavailable())
    assert answers == {"api": (503, "storage_unavailable", message), "browser": (503, None, message)}
    assert (Attachment.objects.count(), CaseEvent.objects.filter(case=case, kind="attachment").count()) == (0, 0)
    assert files_in(media) == []
    logged = [r.getMessage() for r in caplog.records if r.name == "cases.evidence"]
    assert len(logged) == 2
    assert all(m.startswith("Evidence storage failed while an upload was stored: ") for m in logged)
    assert all("NoSuchBucket" in m for m in logged)


def test_a_user_who_may_not_add_evidence_is_refused_before_the_file_is_read(world, case, media):
    class Unread:
        name, size = "statement.pdf", 100

        def chunks(self):
            raise AssertionError("the file was read")

    with pytest.raises(PermissionDenied) as refused:
        services.add_evidence(case=case, by=world.admin, file=Unread())
    assert str(refused.value) == "You cannot add evidence to this case."
    assert (Attachment.objects.count(), CaseEvent.objects.filter(case=case, kind="attachment").count()) == (0, 0)
    assert files_in(media) == []


# --- a failure while recording --------------------------------------------------------------------------------


def _renamed_then_failed(real):
    def run(self):
        real(self)
        raise RuntimeError("failed after the rename, before the commit")

    return run


FAILURES = {
    # The event cannot be written: the file is still where it was received.
    "event": lambda: mock.patch(
        "cases.services.evidence.record_event", side_effect=RuntimeError("the event could not be written")
    ),
    # The file already has its final name; the transaction has not committed.
    "after-rename": lambda: mock.patch.object(
        evidence.Installation, "run", _renamed_then_failed(evidence.Installation.run)
    ),
}


@pytest.mark.parametrize("door", ["service", "api", "browser"])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failure_while_recording_leaves_no_file_and_no_row(world, doors, case, media, door, failure):
    version, events = Case.objects.get(pk=case.pk).version, CaseEvent.objects.filter(case=case).count()
    upload = (
        (lambda: added(case, world.officer))
        if door == "service"
        else (lambda: send(doors, door, case, pdf_document(), "statement.pdf", "application/pdf"))
    )
    with FAILURES[failure](), pytest.raises(RuntimeError):
        upload()
    assert Attachment.objects.count() == 0
    assert (Case.objects.get(pk=case.pk).version, CaseEvent.objects.filter(case=case).count()) == (version, events)
    assert files_in(media) == []


# --- downloads --------------------------------------------------------------------------------------------------


def test_both_doors_serve_a_download_with_the_same_headers(world, doors, case, media):
    attachment = added(case, world.officer, name="询问笔录.pdf")
    headers = {}
    for door in ("api", "browser"):
        response = download(doors, door, case, attachment)
        assert (response.status_code, b"".join(response.streaming_content)) == (200, pdf_document())
        assert response["Content-Length"] == str(len(pdf_document()))
        headers[door] = {
            name: response[name] for name in ("Content-Type", "Content-Disposition", "X-Content-Type-Options")
        }
        assert {d.strip() for d in response["Cache-Control"].split(",")} >= {"no-store", "private", "max-age=0"}
    assert (
        headers["api"]
        == headers["browser"]
        == {
            "Content-Type": "application/pdf",
            "Content-Disposition": "attachment; filename*=utf-8''%E8%AF%A2%E9%97%AE%E7%AC%94%E5%BD%95.pdf",
            "X-Content-Type-Options": "nosniff",
        }
    )
    assert list(AccessLog.objects.filter(action="download").order_by("pk").values_list("user", "outcome")) == [
        (world.officer.pk, "ok"),
        (world.officer.pk, "ok"),
    ]


def test_a_missing_stored_file_is_answered_alike_by_both_doors(world, doors, case, media, caplog):
    attachment = added(case, world.officer)
    evidence.evidence_storage().remove(attachment.stored_name)
    caplog.set_level(logging.ERROR, logger="cases.services.evidence")

    api = download(doors, "api", case, attachment)
    assert (api.status_code, api.json()) == (404, {"code": "evidence_missing", "detail": MISSING})
    page = download(doors, "browser", case, attachment)
    assert page.status_code == 404
    assert page.content.decode().count(escape(MISSING)) == 1

    logged = f"Evidence file missing from storage: attachment {attachment.pk} of case {case.reference} (stored name "
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "cases.services.evidence"] == [
        ("ERROR", f"{logged}{attachment.stored_name})"),
        ("ERROR", f"{logged}{attachment.stored_name})"),
    ]
    assert list(AccessLog.objects.filter(action="download").order_by("pk").values_list("user", "case", "outcome")) == [
        (world.officer.pk, case.pk, "file_missing"),
        (world.officer.pk, case.pk, "file_missing"),
    ]
    assert Attachment.objects.filter(pk=attachment.pk).exists()  # the record stays: the file is what went missing
