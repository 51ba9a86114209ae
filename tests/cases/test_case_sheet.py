"""The case sheet PDF: what it carries (masked), in both languages, who may download it, and the access log."""

import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from cases import services
from cases.choices import AccessAction, CaseStatus, FindingProblem, IncidentKind
from cases.models import AccessLog
from cases.reports import pdf_fetch
from tests.factories import case_in

ID_NUMBER = "330106199001011234"
MEDICAL = "右胫骨骨折，住院十二天"
HOSTILE = '<img src="http://127.0.0.1:9/track.png"><b>bold</b></td></tr></table><style>*{display:none}</style>'


def pdf_text(data: bytes) -> str:
    """The PDF's text with white space collapsed (lines wrap wherever the layout put them)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


@pytest.fixture
def case(world):
    case = case_in(world, CaseStatus.SUPERVISION, narrative=f"民警依法盘查。{HOSTILE}")
    services.add_involved_officer(case=case, by=world.supervisor, name="辅警 李明", medical_notes=MEDICAL)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.NOT_HANDLED, detail=HOSTILE)
    case.refresh_from_db()
    return case


def sheet_url(case) -> str:
    return reverse("cases:sheet", args=[case.pk])


def test_a_supervisor_downloads_the_sheet_with_facts_parties_masked_referral_finding_and_timeline(client, world, case):
    client.force_login(world.supervisor)
    response = client.get(sheet_url(case), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{case.reference}-case-sheet.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert f"Case sheet {case.reference}" in text
    assert "Violent attack" in text
    assert "杭州市西湖区北山街" in text  # the location, in the CJK font
    assert "辅警 李明" in text
    assert "张某 · 330*************34" in text
    assert ID_NUMBER not in text
    assert MEDICAL not in text
    assert "Medical details: medical details hidden" in text
    assert "XH-2026-118" in text  # the referral's acknowledgement
    assert "Not handled:" in text
    assert "Timeline" in text
    assert "Application created" in text
    assert "Acknowledge" in text
    # Who printed it and when (the sheet's own clock reading, on the page and in every footer).
    printed = re.findall(rf"Generated: (\d{{4}}-\d\d-\d\d \d\d:\d\d) · {world.supervisor} Facts", text)
    assert len(printed) == 1
    assert f"{case.reference} · 北山派出所 (330106001) Generated {printed[0]} Page 1 of 2" in text
    assert any("WenQuanYi" in name for name in pdf_fonts(response.content))
    entry = AccessLog.objects.get(action=AccessAction.DOWNLOAD)
    assert (entry.user, entry.case, entry.object_ref, entry.outcome, entry.source_ip) == (
        world.supervisor,
        case,
        f"case-sheet:{case.reference} en",
        "ok",
        "10.1.2.3",
    )


def test_the_sheet_in_chinese(client, world, case):
    client.force_login(world.supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(sheet_url(case))
    assert response.status_code == 200
    text = pdf_text(response.content)
    with translation.override("zh-hans"):
        expected = [
            str(IncidentKind.VIOLENT_ATTACK.label),
            translation.gettext("Timeline"),
            translation.gettext("Involved officers"),
            translation.gettext("Referrals"),
            translation.gettext("medical details hidden"),
        ]
    assert expected == ["暴力袭击", "办理动态", "受侵害民警", "移交记录", "医疗情况已隐藏"]
    for phrase in expected:
        assert phrase in text
    assert "张某 · 330*************34" in text
    assert ID_NUMBER not in text
    assert MEDICAL not in text
    assert AccessLog.objects.get(action=AccessAction.DOWNLOAD).object_ref == f"case-sheet:{case.reference} zh-hans"


def test_hostile_text_is_printed_as_text_and_nothing_is_fetched(client, world, case, monkeypatch):
    fetched: list[str] = []
    original = pdf_fetch.StaticOnlyURLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf_fetch.StaticOnlyURLFetcher, "fetch", spy)
    client.force_login(world.supervisor)
    text = pdf_text(client.get(sheet_url(case)).content)
    # The narrative and the finding both carry the markup; both are printed as typed (the comparison ignores white
    # space, where lines wrapped), and what follows them is there.
    assert "".join(text.split()).count(HOSTILE.replace(" ", "")) == 2
    assert "Supervision findings" in text
    assert "Timeline" in text
    assert fetched == []


@pytest.mark.parametrize("who", ["supervisor", "ministry_supervisor", "admin"])
def test_the_overseers_get_the_sheet_and_the_link(client, world, case, who):
    client.force_login(getattr(world, who))
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'href="{sheet_url(case)}"' in page
    assert client.get(sheet_url(case)).status_code == 200
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 1


def test_the_filing_officer_sees_no_link_and_is_refused_the_sheet(client, world, case):
    client.force_login(world.officer)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert sheet_url(case) not in page
    before = AccessLog.objects.count()
    response = client.get(sheet_url(case))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert list(AccessLog.objects.order_by("id").values_list("user", "action", "object_ref", "outcome")[before:]) == [
        (world.officer.pk, AccessAction.DENIED, sheet_url(case), "forbidden")
    ]


@pytest.mark.parametrize("who", ["sibling_supervisor", "other_officer", "sibling_officer"])
def test_users_who_cannot_see_the_case_get_a_404_and_no_download_is_logged(client, world, case, who):
    user = getattr(world, who)
    client.force_login(user)
    response = client.get(sheet_url(case))
    assert response.status_code == 404
    assert list(AccessLog.objects.values_list("user", "action", "object_ref", "outcome")) == [
        (user.pk, AccessAction.DENIED, f"case:{case.pk}", "not_found")
    ]


def test_a_draft_has_no_sheet_for_a_supervisor(client, world):
    draft = case_in(world, CaseStatus.DRAFT)
    client.force_login(world.supervisor)
    assert client.get(sheet_url(draft)).status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.DOWNLOAD).exists()
