"""Evidence storage tried from outside: through the browser and the API, as the people of the ``world``."""

import hashlib
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from PIL import Image

from cases import evidence, services
from cases.choices import AccessAction, CaseStatus
from cases.models import AccessLog, Attachment
from tests.api.conftest import token_client
from tests.evidence_files import pdf_document
from tests.factories import case_in

PDF = pdf_document()
SCANNED: list[bytes] = []


def recording_scanner(stream) -> None:  # type: ignore[no-untyped-def]
    """A malware scanner that finds nothing and remembers what it was shown."""
    SCANNED.append(stream.read())


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def api_upload(user, case, content: bytes, name: str = "report.pdf"):  # type: ignore[no-untyped-def]
    return token_client(user).post(
        f"/api/v1/cases/{case.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, "application/pdf")},
        format="multipart",
    )


@pytest.mark.django_db
def test_the_web_download_of_evidence_whose_file_is_missing_is_a_404_like_the_api(world, media):
    """A database restored without one of its files (or a file lost on disk): the API answers 404; the page must
    too, not a server error, and must not log a download that did not happen."""
    case = case_in(world, CaseStatus.INTAKE)
    stored = evidence.validate_and_store(SimpleUploadedFile("report.pdf", PDF, "application/pdf"), case=case)
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    evidence.path_of(attachment.stored_name).unlink()

    api = token_client(world.officer).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    assert api.status_code == 404
    served_before = AccessLog.objects.filter(action=AccessAction.DOWNLOAD, outcome="ok").count()

    browser = Client(raise_request_exception=False)
    browser.force_login(world.officer)
    page = browser.get(reverse("cases:evidence-download", args=[case.pk, attachment.pk]))
    assert page.status_code == 404
    # The attempt is logged as what it was; no download is recorded as served.
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD, outcome="ok").count() == served_before
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD, outcome="file_missing").count() == 2


@pytest.mark.django_db
def test_an_api_upload_someone_may_not_add_is_refused_before_the_file_is_read(world, media, settings):
    """SECURITY.md (V13): 401/403/404 before input is read. The filer of a closed case may see it but not add to
    it: the page refuses before reading the form, the API must too, so the file is neither received, written
    under ``.incoming`` nor shown to the malware scanner."""
    settings.RIGHTSGUARD_MALWARE_SCANNER = f"{__name__}.recording_scanner"
    SCANNED.clear()
    case = case_in(world, CaseStatus.CLOSED)

    # The empty file shows the order: read first, it is refused as empty (400); refused first, it is a 403.
    empty = api_upload(world.officer, case, b"")
    assert (empty.status_code, empty.json()["code"]) == (403, "permission_denied")
    response = api_upload(world.officer, case, PDF)
    assert response.status_code == 403
    assert SCANNED == []
    assert Attachment.objects.filter(case=case).count() == 0
    assert files_under(media) == []


def noisy_jpeg(quality: int) -> bytes:
    """A 64×64 picture of noise, saved at ``quality``: noise costs a JPEG the more bytes the higher its quality."""
    noise = b"".join(hashlib.sha256(i.to_bytes(2, "big")).digest() for i in range(64 * 64 * 3 // 32))
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 64), noise).save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.django_db
def test_a_reencoded_image_is_never_kept_larger_than_the_per_file_limit(world, media, settings):
    """A JPEG saved at low quality and exactly at the per-file limit is re-encoded at quality 92, which makes it
    larger: what is kept must still be within the limit the upload was held to (the case's room is checked
    again after re-encoding; the per-file limit is not)."""
    small = noisy_jpeg(quality=5)
    settings.RIGHTSGUARD_MAX_UPLOAD_BYTES = len(small)
    case = case_in(world, CaseStatus.INTAKE)

    response = api_upload(world.officer, case, small, name="scene.jpg")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "file": [
            f"Without its hidden data this picture would be larger than the {filesizeformat(len(small))} allowed. "
            "Save it at a smaller size or lower quality and add it again."
        ]
    }
    assert Attachment.objects.filter(case=case).count() == 0
    assert files_under(media) == []
