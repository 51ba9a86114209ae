"""One rule for every door: suspects' ID numbers and officers' medical details over the API (cases/sensitive.py).

The defect: a browser session's cookie, sent to the API, read full ID numbers from ``GET …/suspects/`` and full
medical details from ``GET …/officers/`` without re-authenticating (the case page asks for it) and, for medical
details, without any access-log entry. Now lists and details are masked for every caller, and one value is read in
full only at ``POST …/suspects/{id}/reveal/`` or ``POST …/officers/{id}/reveal/``: the page's role rule, a recent
re-authentication for sessions (403 ``reauth_required`` otherwise), and exactly one ``reveal`` entry per value.

Token clients (terminals, no session to re-authenticate) follow the documented terminal rule: masked everywhere but
the reveal endpoints, where the same role rule applies and each value shown is logged.
"""

import io
import zipfile

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from cases import services
from cases.choices import AccessAction, CaseStatus
from cases.models import AccessLog, ReportFormat
from cases.reports.services import render_export
from cases.reports.yearly import report_timezone
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import PASSWORD, case_in

ID_NUMBER = "330106199001011234"
MASKED = "330*************34"
MEDICAL = "左臂骨折，住院三日"
FIELD = {"suspect": "id_number", "officer": "medical_notes"}


@pytest.fixture
def case(world):
    case = case_in(world, CaseStatus.INTAKE)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.update_involved_officer(
        officer=case.officers.get(user=world.officer), by=world.supervisor, medical_notes=MEDICAL
    )
    return case


def item_of(case, party: str):
    return case.suspects.get() if party == "suspect" else case.officers.get()


def reveal_url(case, party: str, item_id: int | None = None) -> str:
    pk = item_of(case, party).pk if item_id is None else item_id
    return f"/api/v1/cases/{case.pk}/{party}s/{pk}/reveal/"


def session(user, *, reauth: bool = False) -> APIClient:
    """A browser's session cookie, used against the API."""
    client = APIClient()
    client.force_login(user)
    return reauthenticated(client) if reauth else client


def logs(action: str) -> list[tuple]:
    return list(
        AccessLog.objects.filter(action=action)
        .order_by("id")
        .values_list("user__username", "case_id", "object_ref", "outcome")
    )


def reveal(client: APIClient, case, party: str, **extra):
    return client.post(reveal_url(case, party), {"field": FIELD[party]}, format="json", **extra)


# --- the defect: lists and details are masked, and reveal nothing ----------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "ministry_supervisor", "officer", "admin"])
@pytest.mark.parametrize("door", ["session", "token"])
def test_api_lists_and_details_are_masked_and_log_no_reveal(world, case, who, door):
    user = getattr(world, who)
    # Even right after re-authenticating: a list or detail never shows a value in full.
    client = session(user, reauth=True) if door == "session" else token_client(user)
    suspect, officer = case.suspects.get(), case.officers.get()
    base = f"/api/v1/cases/{case.pk}"

    suspects = client.get(f"{base}/suspects/")
    one_suspect = client.get(f"{base}/suspects/{suspect.pk}/")
    officers = client.get(f"{base}/officers/")
    one_officer = client.get(f"{base}/officers/{officer.pk}/")

    assert [r.status_code for r in (suspects, one_suspect, officers, one_officer)] == [200, 200, 200, 200]
    assert [(row["id"], row["id_number"], row["id_number_masked"]) for row in suspects.json()] == [
        (suspect.pk, MASKED, True)
    ]
    assert (one_suspect.json()["id_number"], one_suspect.json()["id_number_masked"]) == (MASKED, True)
    assert [(row["id"], row["medical_notes"], row["medical_notes_masked"]) for row in officers.json()] == [
        (officer.pk, None, True)
    ]
    assert (one_officer.json()["medical_notes"], one_officer.json()["medical_notes_masked"]) == (None, True)
    for response in (suspects, one_suspect, officers, one_officer):
        assert ID_NUMBER not in response.content.decode()
        assert MEDICAL not in response.content.decode()
    assert logs(AccessAction.REVEAL) == []


def test_the_answers_to_writes_are_masked_too(world, case):
    client = session(world.supervisor, reauth=True)
    added = client.post(
        f"/api/v1/cases/{case.pk}/suspects/", {"name": "李某", "id_number": "110101198001010011"}, format="json"
    )
    assert (added.status_code, added.json()["id_number"], added.json()["id_number_masked"]) == (
        201,
        "110*************11",
        True,
    )
    officer = case.officers.get()
    changed = client.patch(
        f"/api/v1/cases/{case.pk}/officers/{officer.pk}/", {"medical_notes": "右手擦伤"}, format="json"
    )
    assert (changed.status_code, changed.json()["medical_notes"], changed.json()["medical_notes_masked"]) == (
        200,
        None,
        True,
    )
    assert "110101198001010011" not in added.content.decode()
    assert "右手擦伤" not in changed.content.decode()
    assert logs(AccessAction.REVEAL) == []


# --- sessions: re-authentication first -------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["suspect", "officer"])
def test_a_session_reveal_without_recent_reauthentication_is_refused_and_not_logged(world, case, party, settings):
    settings.RIGHTSGUARD_REAUTH_SECONDS = 300
    client = session(world.supervisor)
    never = reveal(client, case, party)
    reauthenticated(client, at=timezone.now().timestamp() - 301)
    stale = reveal(client, case, party)
    for response in (never, stale):
        assert response.status_code == 403
        assert response.json() == {
            "code": "reauth_required",
            "detail": "Revealing masked data needs a recent re-authentication: re-enter your password on the "
            "re-authentication page (/accounts/reauth/), then ask again.",
        }
        assert ID_NUMBER not in response.content.decode()
        assert MEDICAL not in response.content.decode()
    assert AccessLog.objects.count() == 0


def test_the_same_session_reauthenticates_on_the_page_then_reveals_once(world, case):
    client = session(world.supervisor)
    suspect = case.suspects.get()
    assert reveal(client, case, "suspect").json()["code"] == "reauth_required"

    # The browser's re-authentication page, with the same session cookie.
    right = client.post("/accounts/reauth/", {"password": PASSWORD, "next": f"/cases/{case.pk}/"})
    assert right.status_code == 302

    response = reveal(client, case, "suspect", REMOTE_ADDR="10.7.7.7")
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": ID_NUMBER}
    assert "no-store" in response["Cache-Control"]
    assert MEDICAL not in response.content.decode()  # one value per reveal
    entry = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert (entry.user, entry.case_id, entry.object_ref, entry.outcome, entry.source_ip) == (
        world.supervisor,
        case.pk,
        f"suspect:{suspect.pk} id_number",
        "ok",
        "10.7.7.7",
    )
    assert entry.request_id == response["X-Request-ID"]
    assert logs(AccessAction.DENIED) == []


@pytest.mark.parametrize(
    ("who", "party", "value"),
    [
        ("supervisor", "officer", MEDICAL),
        ("ministry_supervisor", "suspect", ID_NUMBER),
        ("officer", "officer", MEDICAL),  # their own medical details
    ],
)
def test_a_reauthenticated_session_reveals_exactly_what_the_page_would(world, case, who, party, value):
    response = reveal(session(getattr(world, who), reauth=True), case, party)
    assert (response.status_code, response.json()) == (200, {"field": FIELD[party], "value": value})
    item = item_of(case, party)
    assert logs(AccessAction.REVEAL) == [(who, case.pk, f"{party}:{item.pk} {FIELD[party]}", "ok")]


# --- token clients: the terminal rule --------------------------------------------------------------------------


def test_a_token_client_reveals_only_at_the_endpoint_one_logged_entry_per_value(world, case):
    client = token_client(world.supervisor)
    suspect, officer = case.suspects.get(), case.officers.get()
    assert client.get(f"/api/v1/cases/{case.pk}/suspects/").json()[0]["id_number"] == MASKED

    first = reveal(client, case, "suspect")
    again = reveal(client, case, "suspect")
    notes = reveal(client, case, "officer")

    assert (first.status_code, first.json()) == (200, {"field": "id_number", "value": ID_NUMBER})
    assert (again.status_code, again.json()) == (200, {"field": "id_number", "value": ID_NUMBER})
    assert (notes.status_code, notes.json()) == (200, {"field": "medical_notes", "value": MEDICAL})
    assert "no-store" in first["Cache-Control"]
    assert logs(AccessAction.REVEAL) == [
        ("supervisor", case.pk, f"suspect:{suspect.pk} id_number", "ok"),
        ("supervisor", case.pk, f"suspect:{suspect.pk} id_number", "ok"),
        ("supervisor", case.pk, f"officer:{officer.pk} medical_notes", "ok"),
    ]


def test_an_officer_with_a_token_reveals_their_own_medical_details(world, case):
    response = reveal(token_client(world.officer), case, "officer")
    assert (response.status_code, response.json()) == (200, {"field": "medical_notes", "value": MEDICAL})
    assert logs(AccessAction.REVEAL) == [("officer", case.pk, f"officer:{case.officers.get().pk} medical_notes", "ok")]


# --- refusals: nothing shown, denied logged as on the page -----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "party", "status"),
    [
        ("officer", "suspect", 403),  # the filer sees the case, not the ID number
        ("admin", "suspect", 403),
        ("admin", "officer", 403),
        ("other_officer", "suspect", 404),  # the case is invisible to them
        ("other_officer", "officer", 404),
        ("sibling_supervisor", "officer", 404),  # another province
    ],
)
@pytest.mark.parametrize("door", ["session", "stale session", "token"])
def test_refused_reveals_show_nothing_and_are_logged_as_denied(world, case, who, party, status, door):
    user = getattr(world, who)
    client = token_client(user) if door == "token" else session(user, reauth=door == "session")
    item = item_of(case, party)
    response = reveal(client, case, party)
    # The role is refused before re-authentication is even asked for, as on the page.
    assert response.status_code == status
    assert response.json()["code"] == ("permission_denied" if status == 403 else "not_found")
    assert ID_NUMBER not in response.content.decode()
    assert MEDICAL not in response.content.decode()
    assert logs(AccessAction.REVEAL) == []
    if status == 404:
        assert logs(AccessAction.DENIED) == [(who, None, f"case:{case.pk}", "not_found")]
    else:
        assert logs(AccessAction.DENIED) == [(who, case.pk, f"{party}:{item.pk} {FIELD[party]}", "forbidden")]


def test_another_officers_medical_details_are_not_theirs_to_reveal(world, case):
    other = services.add_involved_officer(
        case=case, by=world.supervisor, user=world.other_officer, medical_notes="脑震荡"
    )
    url = f"/api/v1/cases/{case.pk}/officers/{other.pk}/reveal/"
    response = token_client(world.officer).post(url, {"field": "medical_notes"}, format="json")
    assert response.status_code == 403
    assert "脑震荡" not in response.content.decode()
    assert logs(AccessAction.REVEAL) == []
    assert logs(AccessAction.DENIED) == [("officer", case.pk, f"officer:{other.pk} medical_notes", "forbidden")]


def test_reveals_of_what_is_not_there_are_not_found(world, case):
    other_case = case_in(world, CaseStatus.INTAKE)
    foreign = services.add_suspect(case=other_case, by=world.supervisor, name="李某", id_number="110101198001010011")
    blank = services.add_suspect(case=case, by=world.supervisor, name="王某")
    client = session(world.supervisor, reauth=True)
    for pk in (foreign.pk, blank.pk):
        response = client.post(reveal_url(case, "suspect", pk), {"field": "id_number"}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "110101198001010011" not in response.content.decode()
    assert logs(AccessAction.REVEAL) == []
    assert [row[2:] for row in logs(AccessAction.DENIED)] == [
        (f"suspect:{foreign.pk} id_number", "not_found"),
        (f"suspect:{blank.pk} id_number", "not_found"),
    ]


def test_a_reveal_names_the_field_it_asks_for(world, case):
    client = session(world.supervisor, reauth=True)
    for body in ({}, {"field": "medical_notes"}, {"field": "name"}):
        response = client.post(reveal_url(case, "suspect"), body, format="json")
        assert (response.status_code, list(response.json()["errors"])) == (400, ["field"])
        assert ID_NUMBER not in response.content.decode()
    assert client.get(reveal_url(case, "suspect")).status_code == 405
    assert AccessLog.objects.count() == 0


# --- exports -------------------------------------------------------------------------------------------------


def _text(fmt: str, data: bytes) -> str:
    if fmt == ReportFormat.XLSX:
        with zipfile.ZipFile(io.BytesIO(data)) as workbook:
            return "".join(workbook.read(name).decode("utf-8") for name in workbook.namelist())
    if fmt == ReportFormat.PDF:
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8-sig")


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_report_exports_carry_no_id_numbers_or_medical_details(world, case, fmt):
    """No export reads these fields, so none needs the reveal rule: a guard that fails if a column adds them."""
    year = case.submitted_at.astimezone(report_timezone()).year
    out = io.BytesIO()
    with translation.override("zh-hans"):
        render_export(unit=world.city, year=year, fmt=fmt, out=out)
    text = _text(fmt, out.getvalue())
    if fmt == ReportFormat.DETAIL:
        assert case.reference in text  # the case is in the file
    assert text
    assert ID_NUMBER not in text
    assert MEDICAL not in text
    assert logs(AccessAction.REVEAL) == []
