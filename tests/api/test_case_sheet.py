"""GET /api/v1/cases/{id}/sheet/: the case page's PDF case sheet through the API, under the same rule
(``policy.can_download_case_sheet``), masked the same way and logged as the same download; a case outside the caller's
scope is a 404 as for the case detail, and a refusal writes no download to the access log."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases import services
from cases.choices import AccessAction, CaseStatus, FindingProblem
from cases.models import AccessLog
from tests.cases.test_case_sheet import ID_NUMBER, MEDICAL, pdf_text
from tests.factories import case_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    services.add_involved_officer(case=case, by=world.supervisor, name="辅警 李明", medical_notes=MEDICAL)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.NOT_HANDLED, detail="未及时处置")
    case.refresh_from_db()
    return case


def url(case) -> str:
    return f"/api/v1/cases/{case.pk}/sheet/"


def log_rows() -> list[tuple]:
    return list(AccessLog.objects.order_by("id").values_list("user_id", "case_id", "action", "object_ref", "outcome"))


def without_clock(text: str) -> str:
    """The sheet's text without the minute it was generated at (on the page and in every footer)."""
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<generated>", text)


def test_the_url():
    assert reverse("api:case-sheet", args=[7]) == "/api/v1/cases/7/sheet/"


@pytest.mark.parametrize("who", ["supervisor", "ministry_supervisor", "admin"])
def test_the_overseers_download_the_pdf_and_it_is_logged_as_the_pages_download(api, world, case, who):
    response = api(who).get(url(case), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{case.reference}-case-sheet.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content[:5] == b"%PDF-"
    user = getattr(world, who)
    assert log_rows() == [(user.pk, case.pk, AccessAction.DOWNLOAD, f"case-sheet:{case.reference} en", "ok")]
    assert AccessLog.objects.get().source_ip == "10.1.2.3"


def test_the_api_hands_out_the_pages_sheet_masked_alike_and_logs_it_alike(api, client, world, case):
    client.force_login(world.supervisor)
    page = client.get(reverse("cases:sheet", args=[case.pk]))
    through_api = api("supervisor").get(url(case))
    assert (page.status_code, through_api.status_code) == (200, 200)
    assert page["Content-Disposition"] == through_api["Content-Disposition"]
    page_text, api_text = pdf_text(page.content), pdf_text(through_api.content)
    assert without_clock(api_text) == without_clock(page_text)
    assert "张某 · 330*************34" in api_text
    assert ID_NUMBER not in api_text
    assert MEDICAL not in api_text
    assert "Medical details: medical details hidden" in api_text
    assert "未及时处置" in api_text  # the office's finding: the sheet is the office's record
    page_row, api_row = log_rows()
    assert (
        page_row
        == api_row
        == (
            world.supervisor.pk,
            case.pk,
            AccessAction.DOWNLOAD,
            f"case-sheet:{case.reference} en",
            "ok",
        )
    )


def test_the_sheet_in_the_requests_language(api, world, case):
    response = api("supervisor").get(url(case), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "办理动态" in pdf_text(response.content)
    assert log_rows()[-1][3] == f"case-sheet:{case.reference} zh-hans"


def test_the_filing_officer_is_refused_and_nothing_is_logged(api, world, case):
    response = api("officer").get(url(case))
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "The case sheet is for the supervisors and administrators overseeing the case.",
    }
    assert log_rows() == []


@pytest.mark.parametrize("who", ["other_officer", "sibling_supervisor", "sibling_officer"])
def test_a_case_outside_the_callers_scope_is_not_found_as_for_the_case_detail(api, world, case, who):
    client = api(who)
    detail = client.get(f"/api/v1/cases/{case.pk}/")
    response = client.get(url(case))
    assert (detail.status_code, response.status_code) == (404, 404)
    assert response.json() == detail.json()
    # The refusal's trace, the same as the detail's; no download.
    trace = (getattr(world, who).pk, None, AccessAction.DENIED, f"case:{case.pk}", "not_found")
    assert log_rows() == [trace, trace]


def test_a_draft_is_its_filers_alone_and_has_no_sheet(api, world):
    draft = case_in(world, CaseStatus.DRAFT)
    assert api("supervisor").get(url(draft)).status_code == 404
    assert api("officer").get(url(draft)).status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_without_authentication_there_is_no_sheet(world, case):
    response = APIClient().get(url(case))
    assert response.status_code == 401
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()


def test_a_client_asking_for_a_pdf_gets_it_and_its_refusals_in_json(api, case):
    response = api("supervisor").get(url(case), HTTP_ACCEPT="application/pdf")
    assert (response.status_code, response["Content-Type"], response.content[:5]) == (200, "application/pdf", b"%PDF-")
    refused = api("officer").get(url(case), HTTP_ACCEPT="application/pdf")
    assert (refused.status_code, refused["Content-Type"]) == (403, "application/json")
    assert refused.json()["code"] == "permission_denied"
