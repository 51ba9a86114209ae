"""API test helpers: token-authenticated clients for the people of the ``world``, a private evidence store, and
the objects most API tests act on."""

import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts import tokens
from cases import evidence, services
from cases.choices import CaseStatus, FlagKind
from cases.models import Attachment, Case, Flag, Suspect
from tests import evidence_backends
from tests.evidence_files import mp4_video, pdf_document
from tests.factories import World, case_in, draft


def _picture(image_format: str) -> bytes:
    """A real, decodable 32×24 picture: the evidence store decodes and re-encodes JPEG and PNG uploads."""
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 60, 30)).save(out, image_format)
    return out.getvalue()


JPEG = _picture("JPEG")
PNG = _picture("PNG")
PDF = pdf_document()
MP4 = mp4_video(brand=b"mp42")


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def token_client(user, *, mfa_verified: bool = True) -> APIClient:
    """A terminal that obtained a token of its own (with the second factor, unless told otherwise)."""
    client = APIClient()
    _token, key = tokens.issue_token(user=user, name="test terminal", mfa_verified=mfa_verified)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api(world):
    """``api("supervisor")`` is an APIClient authenticated with that world user's token."""

    def make(who: str) -> APIClient:
        return token_client(getattr(world, who))

    return make


def upload(content: bytes = JPEG, name: str = "scene.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> set[str]:
    """Every file in evidence storage, received ones (``.incoming/…``) included, by its name there (on either
    backend, tests/evidence_backends.py)."""
    return set(evidence_backends.stored())


@dataclass
class Objects:
    """A submitted case (intake) with a suspect, evidence and an open flag, and the filer's draft."""

    case: Case
    draft: Case
    suspect: Suspect
    attachment: Attachment
    flag: Flag


def build_objects(world: World) -> Objects:
    case = case_in(world, CaseStatus.INTAKE)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某", id_number="330106199001011234")
    stored = evidence.validate_and_store(upload())
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    # Flags are raised by the scan; a row is all these tests need.
    flag = Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    return Objects(
        case=Case.objects.get(pk=case.pk), draft=draft(world), suspect=suspect, attachment=attachment, flag=flag
    )


@pytest.fixture
def objects(world) -> Objects:
    return build_objects(world)
