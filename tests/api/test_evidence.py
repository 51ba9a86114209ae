"""Evidence: accepted by content (JPEG, PNG, PDF, MP4) within a size cap, stored under a random name with its
SHA-256, never left in the evidence storage when refused or not recorded, and downloaded only as an attachment.
Images are stored re-encoded (tests/security/test_upload_corpus.py covers what that removes). The tests that store or
serve a file run on the local disk and in an S3 object store (``evidence_backend``, tests/evidence_backends.py)."""

import hashlib
import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from PIL import Image

from cases import evidence, services
from cases.choices import CaseStatus
from cases.models import AccessLog, Attachment, CaseEvent
from tests.api.conftest import MP4, PDF, stored_files
from tests.api.conftest import upload as _upload
from tests.factories import case_in

S = CaseStatus


def _image(image_format: str) -> bytes:
    """A real 32×24 picture: images are decoded, so only a decodable one is accepted."""
    picture = Image.frombytes("RGB", (32, 24), bytes((i * 7) % 256 for i in range(32 * 24 * 3)))
    out = io.BytesIO()
    picture.save(out, image_format, **({"quality": 90} if image_format == "JPEG" else {}))
    return out.getvalue()


JPEG = _image("JPEG")
PNG = _image("PNG")


def reencoded(content: bytes) -> bytes:
    """What the evidence store keeps of an image without metadata or orientation: the same pixels re-encoded."""
    with Image.open(io.BytesIO(content)) as picture:
        picture.load()
        out = io.BytesIO()
        if picture.format == "JPEG":
            picture.save(out, "JPEG", quality=evidence.JPEG_QUALITY)
        else:
            picture.save(out, "PNG")
    return out.getvalue()


def upload(content: bytes = JPEG, name: str = "scene.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return _upload(content, name, content_type)


def post(client, case, file, description: str = ""):
    data = {"file": file, **({"description": description} if description else {})}
    return client.post(f"/api/v1/cases/{case.pk}/attachments/", data, format="multipart")


@pytest.mark.parametrize(
    ("content", "name", "expected_type"),
    [
        (JPEG, "photo.jpg", "image/jpeg"),
        (PNG, "screen.png", "image/png"),
        (PDF, "medical-report.pdf", "application/pdf"),
        (MP4, "bodycam.mp4", "video/mp4"),
        (JPEG, "misleading.pdf", "image/jpeg"),  # the content decides, not the name
    ],
)
def test_accepted_files_are_stored_with_their_digest(world, api, content, name, expected_type, evidence_backend):
    case = case_in(world, S.INTAKE)
    response = post(api("officer"), case, upload(content, name, "application/octet-stream"), "现场照片")
    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get(pk=body["id"])
    kept = reencoded(content) if expected_type.startswith("image/") else content
    assert (body["content_type"], body["size"], body["sha256"], body["original_name"], body["description"]) == (
        expected_type,
        len(kept),
        hashlib.sha256(kept).hexdigest(),
        name,
        "现场照片",
    )
    assert evidence_backend.files() == {attachment.stored_name: kept}
    assert len(attachment.stored_name) == 32
    assert name not in attachment.stored_name
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 1


@pytest.mark.parametrize(
    ("content", "message_part"),
    [
        (b"MZ\x90\x00" + bytes(100), "Only JPEG, PNG, PDF and MP4"),  # a Windows executable
        (b"<html><script>alert(1)</script></html>", "Only JPEG, PNG, PDF and MP4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "Only JPEG, PNG, PDF and MP4"),  # QuickTime, not MP4
        (b"GIF89a" + bytes(20), "Only JPEG, PNG, PDF and MP4"),
    ],
)
def test_other_content_is_refused_whatever_it_is_called(world, api, content, message_part):
    case = case_in(world, S.INTAKE)
    response = post(api("officer"), case, upload(content, "photo.jpg", "image/jpeg"))
    body = response.json()
    assert response.status_code == 400
    assert list(body["errors"]) == ["file"]
    assert message_part in body["errors"]["file"][0]
    assert Attachment.objects.count() == 0
    assert stored_files() == set()


def test_empty_and_oversized_files_are_refused(world, api, settings):
    case = case_in(world, S.INTAKE)
    client = api("officer")
    empty = post(client, case, SimpleUploadedFile("empty.jpg", b""))
    assert (empty.status_code, list(empty.json()["errors"])) == (400, ["file"])
    settings.RIGHTSGUARD_MAX_UPLOAD_BYTES = 1000
    big = post(client, case, upload(JPEG + bytes(1000)))
    assert big.status_code == 400
    assert big.json()["errors"]["file"] == ["The file is larger than the 1000\xa0bytes allowed."]
    assert Attachment.objects.count() == 0
    assert stored_files() == set()


def test_the_size_cap_holds_while_streaming_even_if_the_declared_size_lies(settings, tmp_path, evidence_backend):
    settings.RIGHTSGUARD_MAX_UPLOAD_BYTES = 100

    class Lying:
        name, size = "x.jpg", 10

        def chunks(self):
            yield JPEG[:80]
            yield JPEG[80:200]

    with pytest.raises(evidence.ValidationError) as refused:
        evidence.validate_and_store(Lying())
    assert refused.value.error_dict["file"][0].code == "file_too_large"
    assert stored_files() == set()


def test_the_default_cap_is_25_mib(settings):
    del settings.RIGHTSGUARD_MAX_UPLOAD_BYTES
    assert evidence.max_upload_bytes() == 25 * 1024 * 1024


def test_the_stored_file_is_removed_when_the_record_cannot_be_written(world, api, evidence_backend):
    case = case_in(world, S.INTAKE)
    failing = mock.patch("cases.services.evidence.record_attachment", side_effect=IntegrityError("disk full"))
    with failing, pytest.raises(IntegrityError):
        post(api("officer"), case, upload())
    assert stored_files() == set()
    assert Attachment.objects.count() == 0


def test_a_refused_uploader_leaves_no_file(world, api):
    case = case_in(world, S.INTAKE)
    response = post(api("admin"), case, upload())
    assert response.status_code == 403
    assert stored_files() == set()


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\现场.jpg", "现场.jpg"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("...", "evidence"),
        ("", "evidence"),
        ("x" * 300 + ".jpg", "x" * 251 + ".jpg"),
    ],
)
def test_original_names_are_reduced_to_safe_display_names(name, cleaned):
    assert evidence.clean_original_name(name) == cleaned


def test_stored_names_are_only_ever_generated_hex():
    with pytest.raises(ValueError, match="not a stored evidence name"):
        evidence.stored_key("../secret")
    with pytest.raises(ValueError, match="not a stored evidence name"):
        evidence.open_stored("../secret")


def test_download_streams_the_file_as_an_attachment_and_is_logged(world, api, evidence_backend):
    case = case_in(world, S.INTAKE)
    stored = evidence.validate_and_store(upload(PDF, "诊断证明.pdf"))
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    response = api("supervisor").get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E8%AF%8A%E6%96%AD%E8%AF%81%E6%98%8E.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(PDF))
    assert b"".join(response.streaming_content) == PDF
    log = AccessLog.objects.get(action="download")
    assert (log.user, log.case) == (world.supervisor, case)


def test_download_of_an_invisible_case_or_another_cases_file_is_a_404(world, api, evidence_backend):
    case, other = case_in(world, S.INTAKE), case_in(world, S.INTAKE)
    stored = evidence.validate_and_store(upload())
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    assert (
        api("sibling_supervisor").get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/").status_code
        == 404
    )
    assert api("supervisor").get(f"/api/v1/cases/{other.pk}/attachments/{attachment.pk}/download/").status_code == 404
    assert not AccessLog.objects.filter(action="download").exists()


def test_a_file_missing_from_storage_is_a_404(world, api, evidence_backend):
    case = case_in(world, S.INTAKE)
    stored = evidence.validate_and_store(upload())
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    evidence.evidence_storage().remove(attachment.stored_name)
    response = api("officer").get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    assert response.status_code == 404
    assert AccessLog.objects.get(action="download").outcome == "file_missing"


def test_the_helper_works_on_any_chunked_file(evidence_backend):
    """The browser UI hands Django's UploadedFile over; anything with name, size and chunks() will do."""
    stream = io.BytesIO(PNG)
    uploaded = SimpleUploadedFile("a.png", stream.getvalue())
    stored = evidence.validate_and_store(uploaded)
    # A PNG without metadata comes back byte for byte: re-encoding is lossless and Pillow wrote it the same way.
    assert reencoded(PNG) == PNG
    assert (stored.content_type, stored.size, stored.original_name) == ("image/png", len(PNG), "a.png")
    assert stored.attachment_fields()["sha256"] == hashlib.sha256(PNG).hexdigest()
    evidence.discard(stored)
    assert stored_files() == set()
