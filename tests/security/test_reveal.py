"""Masked by default, revealed on request: suspects' ID numbers and officers' medical details on the case page, and
re-authentication before reveals and report exports.

Every reveal is role-gated (the API's rules), needs the password (and a current code, with an authenticator)
re-entered within RIGHTSGUARD_REAUTH_SECONDS, is in the access log, and shows the value in that response only.
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.reauth import REAUTH_AT
from cases import services
from cases.choices import AccessAction, CaseStatus
from cases.models import AccessLog
from tests.conftest import reauthenticated
from tests.factories import PASSWORD, case_in, finished_export

ID_NUMBER = "330106199001011234"
MASKED = "330*************34"
MEDICAL = "左臂骨折，住院三日"
HIDDEN = "medical details hidden"


@pytest.fixture
def case(world):
    case = case_in(world, CaseStatus.INTAKE)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.update_involved_officer(
        officer=case.officers.get(user=world.officer), by=world.supervisor, medical_notes=MEDICAL
    )
    return case


def page(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def reveal_url(case, party: str) -> str:
    item = case.suspects.get() if party == "suspect" else case.officers.get()
    return reverse("cases:reveal", args=[case.pk, party, item.pk])


def as_user(client, user, *, reauth: bool = False):
    client.force_login(user)
    return reauthenticated(client) if reauth else client


def logs(action: str) -> list[tuple]:
    return list(
        AccessLog.objects.filter(action=action)
        .order_by("id")
        .values_list("user__username", "case_id", "object_ref", "outcome")
    )


def body(response) -> str:
    return response.content.decode()


# --- masked by default -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["officer", "supervisor", "ministry_supervisor", "admin"])
def test_the_case_page_masks_for_everyone(client, world, case, who):
    html = body(as_user(client, getattr(world, who), reauth=True).get(page(case)))
    assert ID_NUMBER not in html
    assert MEDICAL not in html
    assert MASKED in html
    assert HIDDEN in html


@pytest.mark.parametrize(
    ("who", "buttons"),
    [
        ("supervisor", {"suspect", "officer"}),  # handles the case
        ("ministry_supervisor", {"suspect", "officer"}),
        ("officer", {"officer"}),  # their own medical details only
        ("admin", set()),  # sees the case, does not handle it
    ],
)
def test_reveal_buttons_only_for_those_permitted(client, world, case, who, buttons):
    html = body(as_user(client, getattr(world, who)).get(page(case)))
    shown = {party for party in ("suspect", "officer") if f'action="{reveal_url(case, party)}"' in html}
    assert shown == buttons
    if buttons:
        assert f'hx-post="{reveal_url(case, next(iter(buttons)))}"' in html


# --- re-authentication first -----------------------------------------------------------------------------------


def test_a_reveal_without_recent_reauthentication_goes_to_the_reauth_page(client, world, case):
    as_user(client, world.supervisor)
    response = client.post(reveal_url(case, "suspect"))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/reauth/?next=%2Fcases%2F{case.pk}%2F"
    assert logs(AccessAction.REVEAL) == []
    # htmx asks for a full-page redirect instead of swapping the re-authentication page into the case page.
    response = client.post(reveal_url(case, "suspect"), HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Redirect"]) == (200, f"/accounts/reauth/?next=%2Fcases%2F{case.pk}%2F")
    assert ID_NUMBER not in body(response)
    assert logs(AccessAction.REVEAL) == []


def test_reauthentication_with_the_password_then_a_logged_reveal(client, world, case):
    as_user(client, world.supervisor)
    form = client.get(f"/accounts/reauth/?next=/cases/{case.pk}/")
    assert form.status_code == 200
    assert "no-store" in form["Cache-Control"]
    assert 'name="token"' not in body(form)  # no authenticator: the password alone

    wrong = client.post("/accounts/reauth/", {"password": "not-the-password", "next": f"/cases/{case.pk}/"})
    assert wrong.status_code == 400
    assert "That password is not correct." in body(wrong)
    assert REAUTH_AT not in client.session

    right = client.post("/accounts/reauth/", {"password": PASSWORD, "next": f"/cases/{case.pk}/"})
    assert (right.status_code, right["Location"]) == (302, f"/cases/{case.pk}/")
    assert abs(client.session[REAUTH_AT] - timezone.now().timestamp()) < 5

    response = client.post(reveal_url(case, "suspect"), REMOTE_ADDR="10.7.7.7")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    assert ID_NUMBER in html
    assert MEDICAL not in html  # one value per reveal
    suspect = case.suspects.get()
    entry = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert (entry.user, entry.case_id, entry.object_ref, entry.outcome, entry.source_ip) == (
        world.supervisor,
        case.pk,
        f"suspect:{suspect.pk} id_number",
        "ok",
        "10.7.7.7",
    )
    assert entry.request_id == response["X-Request-ID"]

    # Shown in that response only: the page is masked again on the next visit.
    again = body(client.get(page(case)))
    assert ID_NUMBER not in again
    assert MASKED in again


def test_an_htmx_reveal_answers_with_the_value_alone(client, world, case):
    as_user(client, world.supervisor, reauth=True)
    officer = case.officers.get()
    response = client.post(reveal_url(case, "officer"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert body(response).strip() == (
        f'<div class="d-inline" id="sensitive-officer-{officer.pk}"><span class="sensitive-revealed">{MEDICAL}'
        "</span></div>"
    )
    assert logs(AccessAction.REVEAL) == [("supervisor", case.pk, f"officer:{officer.pk} medical_notes", "ok")]


def test_the_officer_themself_reveals_their_own_medical_details(client, world, case):
    as_user(client, world.officer, reauth=True)
    response = client.post(reveal_url(case, "officer"))
    assert response.status_code == 200
    assert MEDICAL in body(response)
    assert ID_NUMBER not in body(response)
    assert [row[2] for row in logs(AccessAction.REVEAL)] == [f"officer:{case.officers.get().pk} medical_notes"]


def test_an_old_reauthentication_no_longer_counts(client, world, case, settings):
    settings.RIGHTSGUARD_REAUTH_SECONDS = 300
    as_user(client, world.supervisor)
    reauthenticated(client, at=timezone.now().timestamp() - 301)
    response = client.post(reveal_url(case, "suspect"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    reauthenticated(client, at=timezone.now().timestamp() - 290)
    assert client.post(reveal_url(case, "suspect")).status_code == 200


def test_with_an_authenticator_the_code_is_needed_too(client, world, case, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=world.supervisor, name="authenticator", confirmed=True)
    as_user(client, world.supervisor)
    assert 'name="token"' in body(client.get("/accounts/reauth/"))

    missing = client.post("/accounts/reauth/", {"password": PASSWORD})
    assert missing.status_code == 400
    wrong = client.post("/accounts/reauth/", {"password": PASSWORD, "token": "000000"})
    if wrong.status_code == 302:  # the one-in-a-million chance that 000000 is the current code
        pytest.skip("000000 happened to be the current code")
    assert wrong.status_code == 400
    assert "That code is not valid." in body(wrong)
    bad_password = client.post("/accounts/reauth/", {"password": "nope", "token": "123456"})
    assert bad_password.status_code == 400
    assert REAUTH_AT not in client.session

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = f"{totp.token():0{device.digits}d}"
    right = client.post("/accounts/reauth/", {"password": PASSWORD, "token": code, "next": "/queue/"})
    assert (right.status_code, right["Location"]) == (302, "/queue/")
    assert client.post(reveal_url(case, "suspect")).status_code == 200


def test_the_reauth_page_sends_back_to_this_site_only(client, world):
    as_user(client, world.officer)
    response = client.post("/accounts/reauth/", {"password": PASSWORD, "next": "https://evil.example/"})
    assert (response.status_code, response["Location"]) == (302, "/")


# --- refused reveals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "party", "status"),
    [
        ("officer", "suspect", 403),  # the filer sees the case, not the ID number
        ("admin", "suspect", 403),
        ("admin", "officer", 403),
        ("other_officer", "suspect", 404),  # the case is invisible to them
        ("sibling_supervisor", "officer", 404),
    ],
)
@pytest.mark.parametrize("reauth", [True, False])
def test_refused_reveals_show_nothing_and_are_logged(client, world, case, who, party, status, reauth):
    as_user(client, getattr(world, who), reauth=reauth)
    url = reveal_url(case, party)
    response = client.post(url)
    assert response.status_code == status  # refused before re-authentication is even asked for
    assert ID_NUMBER not in body(response)
    assert MEDICAL not in body(response)
    assert logs(AccessAction.REVEAL) == []
    if status == 404:
        assert logs(AccessAction.DENIED) == [(who, None, f"case:{case.pk}", "not_found")]
    else:
        item = url.rstrip("/").rsplit("/", 1)[1]
        field = "id_number" if party == "suspect" else "medical_notes"
        assert logs(AccessAction.DENIED) == [(who, case.pk, f"{party}:{item} {field}", "forbidden")]


def test_another_officers_medical_details_are_not_theirs_to_reveal(client, world, case):
    other = services.add_involved_officer(
        case=case, by=world.supervisor, user=world.other_officer, medical_notes="脑震荡"
    )
    as_user(client, world.officer, reauth=True)
    response = client.post(reverse("cases:reveal", args=[case.pk, "officer", other.pk]))
    assert response.status_code == 403
    assert "脑震荡" not in body(response)
    assert logs(AccessAction.DENIED) == [("officer", case.pk, f"officer:{other.pk} medical_notes", "forbidden")]


def test_reveals_of_what_is_not_there_are_not_found(client, world, case):
    url = reveal_url(case, "suspect")
    other_case = case_in(world, CaseStatus.INTAKE)
    foreign = services.add_suspect(case=other_case, by=world.supervisor, name="李某", id_number="110101198001010011")
    blank = services.add_suspect(case=case, by=world.supervisor, name="王某")
    as_user(client, world.supervisor, reauth=True)
    assert client.post(reverse("cases:reveal", args=[case.pk, "suspect", foreign.pk])).status_code == 404
    assert client.post(reverse("cases:reveal", args=[case.pk, "suspect", blank.pk])).status_code == 404
    assert client.post(reverse("cases:reveal", args=[case.pk, "narrative", blank.pk])).status_code == 404
    assert client.get(url).status_code == 405
    assert logs(AccessAction.REVEAL) == []
    assert [row[2:] for row in logs(AccessAction.DENIED)] == [
        (f"suspect:{foreign.pk} id_number", "not_found"),
        (f"suspect:{blank.pk} id_number", "not_found"),
    ]


# --- report exports --------------------------------------------------------------------------------------------


def test_report_exports_and_downloads_need_recent_reauthentication(client, world, settings, tmp_path):
    from cases.models import ReportExport

    settings.MEDIA_ROOT = tmp_path
    year = timezone.localdate().year
    as_user(client, world.supervisor)
    assert client.get(reverse("cases:reports")).status_code == 200  # the page itself does not ask

    response = client.post(reverse("cases:reports-export"), {"unit": "330100", "year": year, "format": "csv"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/reauth/?next=%2Freports%2F%3Funit%3D330100%26year%3D{year}%23exports"
    assert AccessLog.objects.filter(action__in=[AccessAction.EXPORT, AccessAction.DOWNLOAD]).count() == 0
    assert ReportExport.objects.count() == 0

    job = finished_export(world.supervisor, world.city, year)
    download = reverse("cases:reports-export-download", args=[job.pk])
    response = client.get(download)
    # Back to the report page after the password, where the file then downloads by itself.
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/reauth/?next=%2Freports%2F%3Funit%3D{job.unit.code}%26year%3D{year}%23exports",
    )
    assert client.get(reverse("cases:reports-export-status", args=[job.pk])).status_code == 200  # progress: no

    client.post("/accounts/reauth/", {"password": PASSWORD, "next": download})
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"unit,cases\n330100,1\n"
    response = client.post(reverse("cases:reports-export"), {"unit": "330100", "year": year, "format": "csv"})
    assert response.status_code == 200
    assert list(
        AccessLog.objects.order_by("id").filter(action__in=["export", "download"]).values_list("action", flat=True)
    ) == [
        "download",
        "export",
    ]


def test_officers_are_refused_exports_before_any_reauthentication(client, world):
    as_user(client, world.officer)
    response = client.post(reverse("cases:reports-export"), {"unit": "330106", "year": 2025, "format": "csv"})
    assert response.status_code == 403


def test_wrong_passwords_on_the_reauth_page_count_towards_the_lockout(client, world, settings):
    settings.AXES_ENABLED = True
    as_user(client, world.supervisor)
    for _ in range(4):
        assert client.post("/accounts/reauth/", {"password": "wrong-password-123"}).status_code == 400
    assert client.post("/accounts/reauth/", {"password": "wrong-password-123"}).status_code == 429
    assert client.post("/accounts/reauth/", {"password": PASSWORD}).status_code == 429
    assert REAUTH_AT not in client.session
