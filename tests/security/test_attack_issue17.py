# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The recent doors tried from outside: what the filer reads against the office's internal material, the input kept
after a refused form, the people's edit, removal and undo, and the office's answer to a support request. Each test
drives the application as an outsider would (the case page, the API, a direct service call) and asserts the safe
behaviour; a refused request also leaves everything as it was."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from cases import services
from cases.choices import FLAG_FIELDS, CaseStatus, EventKind, FlagKind, NoteVisibility, SupportKind, SupportStatus
from cases.models import Case, CaseEvent, Flag, InvolvedOfficer, Notification, SupportMeasure, Suspect
from cases.services.support_requests import answer_support_request, set_requested_support
from cases.views.kept import SESSION_KEY
from cases.views.undo import undo_key
from tests.api.conftest import token_client
from tests.factories import PASSWORD, case_in, draft

pytestmark = pytest.mark.django_db
S = CaseStatus
HOSTILE = "<script>alert(1)</script>{{ request.user.password }}"


def page(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def case_state(case: Case) -> tuple:
    return (
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.filter(case=case).count(),
        sorted(InvolvedOfficer.objects.filter(case=case).values_list("name", flat=True)),
        sorted(Suspect.objects.filter(case=case).values_list("name", flat=True)),
    )


# --- what the filer reads: internal notes ------------------------------------------------------------------------------


def test_the_filer_cannot_write_an_internal_note_through_the_api_and_does_not_read_the_office_one(world):
    """The filer posts a note marked "internal" through the API: refused (400), nothing written; the office's internal note is not in the filer's timeline, the shared one is."""
    case = case_in(world, S.SUPERVISION)
    services.add_note(case=case, by=world.supervisor, text="内部意见：疑似降格处理", visibility=NoteVisibility.INTERNAL)
    services.add_note(case=case, by=world.supervisor, text="请补充病历", visibility=NoteVisibility.SHARED)
    before = case_state(case)
    api = token_client(world.officer)
    response = api.post(
        f"/api/v1/cases/{case.pk}/notes/", {"text": "我的内部备注", "visibility": "internal"}, format="json"
    )
    assert response.status_code == 400
    assert case_state(case) == before
    timeline = api.get(f"/api/v1/cases/{case.pk}/events/?page_size=100").json()
    texts = [e["data"].get("text") for e in timeline["results"] if e["kind"] == EventKind.NOTE]
    assert texts == ["请补充病历"]
    html = page(world.officer).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "疑似降格处理" not in html
    assert "请补充病历" in html


# --- kept input: the notice on the case page -------------------------------------------------------------------------


def keep_input(client: Client, case: Case, key: str, data: dict, fields: list, *, stale: bool = False) -> None:
    """Leave in ``client``'s session the input of a refused form on ``case``, as the case page keeps it."""
    session = client.session
    session[SESSION_KEY] = {
        "case": case.pk,
        "key": key,
        "stale": stale,
        "errors": [],
        "data": data,
        "fields": fields,
        "file": False,
    }
    session.save()


def test_input_kept_for_one_case_never_shows_on_another_and_hostile_text_is_escaped(world):
    """Input kept after a refused form on case A (hostile HTML and template text) is not shown on case B, and on case A it is shown once, escaped, never rendered."""
    case_a, case_b = case_in(world, S.SUPERVISION), case_in(world, S.SUPERVISION)
    client = page(world.officer)
    keep_input(client, case_a, "withdraw", {"reason": [HOSTILE]}, [["Reason", HOSTILE]])
    html_b = client.get(reverse("cases:detail", args=[case_b.pk])).content.decode()
    assert "kept-notice" not in html_b
    assert "alert(1)" not in html_b
    html_a = client.get(reverse("cases:detail", args=[case_a.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ request.user.password }}" in html_a
    assert "<script>alert(1)" not in html_a
    assert SESSION_KEY not in client.session
    assert "alert(1)" not in client.get(reverse("cases:detail", args=[case_a.pk])).content.decode()


def test_the_stale_banner_shown_to_the_filer_never_names_an_internal_note(world):
    """The office writes an internal note after the filer loaded the page; the filer's withdrawal from that page is kept (nothing saved), and the banner tells what changed from the latest event the filer may read, never the internal note; the kept reason comes back escaped."""
    case = case_in(world, S.INTAKE)
    seen = case.version
    services.add_note(case=case, by=world.supervisor, text="内部意见：疑似降格处理", visibility=NoteVisibility.INTERNAL)
    before = case_state(case)
    client = page(world.officer)
    response = client.post(
        f"/cases/{case.pk}/actions/withdraw/",
        {"withdraw-version": seen, "withdraw-reason": "<b>撤回</b>", "page_version": seen},
    )
    assert (response.status_code, response["Location"]) == (302, reverse("cases:detail", args=[case.pk]))
    assert case_state(case) == before
    assert Case.objects.get(pk=case.pk).status == S.INTAKE
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="kept-notice"' in html
    assert "&lt;b&gt;撤回&lt;/b&gt;" in html
    assert "<b>撤回</b>" not in html
    assert "疑似降格处理" not in html
    assert "Internal note" not in html


# --- the people: undo replayed -----------------------------------------------------------------------------------------


def test_an_undo_replayed_with_the_same_session_lists_the_party_only_once(world):
    """A double click on "Undo" sends the same session twice before either answer saves it: the second undo is refused and the suspect is listed once."""
    case = draft(world)
    suspect = services.add_suspect(case=case, by=world.officer, name="张某", id_number="330106199001011234")
    case.refresh_from_db()
    client = page(world.officer)
    client.post(reverse("cases:remove-party", args=[case.pk, "suspect", suspect.pk]), {"version": case.version})
    token = client.session[undo_key(case)]
    first = client.post(reverse("cases:undo-removal", args=[case.pk]))
    assert first.status_code == 302
    assert list(Suspect.objects.filter(case=case).values_list("name", flat=True)) == ["张某"]
    before = case_state(case)
    # The second request of the double click read the session before the first one cleared it.
    session = client.session
    session[undo_key(case)] = token
    session.save()
    second = client.post(reverse("cases:undo-removal", args=[case.pk]), follow=True)
    assert case_state(case) == before
    assert "张某 is listed already." in second.content.decode()
    assert list(Suspect.objects.filter(case=case).values_list("name", flat=True)) == ["张某"]


def test_another_units_supervisor_and_the_filer_after_submission_cannot_remove_or_undo(world):
    """The sibling province's supervisor removes an officer (404: he does not see the case) and the filer removes one after submission (403); neither changed anything."""
    case = case_in(world, S.INTAKE)
    officer = InvolvedOfficer.objects.get(case=case)
    before = case_state(case)
    assert (
        page(world.sibling_supervisor)
        .post(reverse("cases:remove-party", args=[case.pk, "officer", officer.pk]), {"version": case.version})
        .status_code
        == 404
    )
    api = token_client(world.officer)
    response = api.delete(f"/api/v1/cases/{case.pk}/officers/{officer.pk}/", HTTP_IF_MATCH=f'"{case.version}"')
    assert response.status_code == 403
    assert page(world.officer).post(reverse("cases:undo-removal", args=[case.pk])).status_code == 403
    assert case_state(case) == before


# --- support: the office's answer ------------------------------------------------------------------------------------


def self_requested(world) -> SupportMeasure:
    """The filer of the case is also a supervisor over its unit (a deputy head who files for himself)."""
    account_services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR)
    case = draft(world)
    set_requested_support(case=case, by=world.officer, kinds=[SupportKind.GREEN_CHANNEL], notes="左腿受伤")
    case.refresh_from_db()
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    return SupportMeasure.objects.get(case=case)


def support_state(measure: SupportMeasure) -> tuple:
    m = SupportMeasure.objects.get(pk=measure.pk)
    return (m.status, m.decided_at, m.decided_by_id, m.decision_reason, CaseEvent.objects.filter(case=m.case).count())


def test_a_supervisor_cannot_answer_his_own_support_request(world):
    """The filer who is also a supervisor over the unit approves his own request, by the service and the API: refused (403), the request stays unanswered; another supervisor may answer it."""
    measure = self_requested(world)
    before = support_state(measure)
    with pytest.raises(PermissionDenied):
        answer_support_request(measure=measure, by=world.officer, answer="approve", reason="同意")
    response = token_client(world.officer).post(
        f"/api/v1/cases/{measure.case_id}/support/{measure.pk}/answer/", {"answer": "approve"}, format="json"
    )
    assert response.status_code == 403
    assert support_state(measure) == before
    assert support_state(measure)[0] == SupportStatus.REQUESTED
    html = page(world.officer).get(reverse("cases:detail", args=[measure.case_id])).content.decode()
    assert reverse("cases:support-answer", args=[measure.case_id, measure.pk]) not in html
    answer_support_request(measure=measure, by=world.supervisor, answer="approve", reason="同意")
    assert SupportMeasure.objects.get(pk=measure.pk).status == SupportStatus.APPROVED


def test_a_decline_without_a_reason_and_a_second_answer_are_refused(world):
    """The office declines with a blank reason (400), then a double click approves twice: the second answer is refused (400), one decision on record."""
    case = draft(world)
    set_requested_support(case=case, by=world.officer, kinds=[SupportKind.GREEN_CHANNEL])
    case.refresh_from_db()
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    measure = SupportMeasure.objects.get(case=case)
    api = token_client(world.supervisor)
    url = f"/api/v1/cases/{case.pk}/support/{measure.pk}/answer/"
    before = support_state(measure)
    assert api.post(url, {"answer": "decline", "reason": "   "}, format="json").status_code == 400
    assert support_state(measure) == before
    assert api.post(url, {"answer": "approve", "reason": "同意"}, format="json").status_code == 200
    after = support_state(measure)
    assert api.post(url, {"answer": "approve", "reason": "同意"}, format="json").status_code == 400
    assert support_state(measure) == after
    assert Notification.objects.filter(case=case, recipient=world.supervisor).count() == 0


def test_support_answers_for_another_cases_measure_and_a_delivery_in_the_future_are_refused(world):
    """The office answers case B's measure through case A's URL (404), and records a delivery dated tomorrow (400): nothing changed either time."""
    case_a = case_in(world, S.INTAKE)
    case_b = draft(world)
    set_requested_support(case=case_b, by=world.officer, kinds=[SupportKind.GREEN_CHANNEL])
    case_b.refresh_from_db()
    services.submit_case(case=case_b, by=world.officer, expected_version=case_b.version)
    measure = SupportMeasure.objects.get(case=case_b)
    before = support_state(measure)
    before_a = (case_a.version, CaseEvent.objects.filter(case=case_a).count())
    api = token_client(world.supervisor)
    wrong = api.post(f"/api/v1/cases/{case_a.pk}/support/{measure.pk}/answer/", {"answer": "approve"}, format="json")
    assert wrong.status_code == 404
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = api.post(
        f"/api/v1/cases/{case_b.pk}/support/{measure.pk}/answer/",
        {"answer": "deliver", "provider": "西湖区人民医院", "delivered_on": tomorrow},
        format="json",
    )
    assert future.status_code == 400
    assert support_state(measure) == before
    assert (Case.objects.get(pk=case_a.pk).version, CaseEvent.objects.filter(case=case_a).count()) == before_a


# --- what the filer reads: flags, the case sheet ---------------------------------------------------------------------


def test_the_filer_learns_nothing_of_a_flag_from_the_api_or_the_case_sheet(world):
    """A case of the filer carries an open flag: the API detail shows no flags and no expected minimum, the list filtered by that flag finds nothing for the filer (the office finds it), and the case sheet PDF is refused (403)."""
    case = case_in(world, S.SUPERVISION)
    Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(**{FLAG_FIELDS[FlagKind.STALLED]: True, "expected_min_rank": 3})
    filer = token_client(world.officer)
    detail = filer.get(f"/api/v1/cases/{case.pk}/").json()
    assert (detail["open_flags"], detail["expected_min_rank"]) == ([], None)
    found = filer.get(f"/api/v1/cases/?flag={FlagKind.STALLED}").json()["results"]
    assert found == []
    office = token_client(world.supervisor).get(f"/api/v1/cases/?flag={FlagKind.STALLED}").json()["results"]
    assert [c["id"] for c in office] == [case.pk]
    sheet = page(world.officer).get(reverse("cases:sheet", args=[case.pk]))
    assert sheet.status_code == 403
    assert sheet.get("Content-Type", "").startswith("application/pdf") is False


# --- re-authentication: where it returns to ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_the_password_confirmation_never_sends_the_user_off_the_site(world, target):
    """The re-authentication page is given a "next" off the site: after the right password it goes to "/" instead."""
    client = page(world.supervisor)
    response = client.post(f"{reverse('reauth')}?next={quote(target)}", {"password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- notifications stored as a key and parameters -----------------------------------------------------------------------


def test_a_hostile_decline_reason_reaches_the_officer_as_text_and_an_unknown_message_falls_back(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    """The office declines with a reason carrying HTML, a template tag and a format placeholder: the officer's notifications page shows it escaped and unformatted, the e-mail as plain text; the database refuses a notification with an unknown message key, and one without a key shows its stored text."""
    case = draft(world)
    set_requested_support(case=case, by=world.officer, kinds=[SupportKind.GREEN_CHANNEL])
    case.refresh_from_db()
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    measure = SupportMeasure.objects.get(case=case)
    reason = "<img src=x onerror=alert(1)> {{ settings.SECRET_KEY }} %(ref)s"
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(measure=measure, by=world.supervisor, answer="decline", reason=reason)
    note = Notification.objects.get(recipient=world.officer, case=case, params__answer__status=SupportStatus.REFUSED)
    expected = (
        f"{world.supervisor.full_name} declined the support request “Green-channel emergency medical care” in "
        f"{case.reference} (reason: “{reason}”) — ask the office if you need it reconsidered."
    )
    assert note.text == expected
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=world.officer, case=case, message="retired_key", params={}, verb="x", created_at=timezone.now()
        )
    # A row from before messages had keys shows its stored text.
    Notification.objects.create(
        recipient=world.officer, case=case, message="", params={}, verb="旧通知文本", created_at=timezone.now()
    )
    html = page(world.officer).get(reverse("cases:notifications")).content.decode()
    assert "“&lt;img src=x onerror=alert(1)&gt; {{ settings.SECRET_KEY }} %(ref)s”" in html
    assert "<img src=x" not in html
    assert "旧通知文本" in html
    bodies = [m.body for m in mailoutbox if m.to == [world.officer.email]]
    assert any(reason in body for body in bodies)
    assert all(not m.alternatives for m in mailoutbox)


def test_a_stale_if_match_cannot_remove_or_change_a_suspect_and_an_undo_after_submission_is_refused(world):
    """The office deletes and patches a suspect with the version it read before a change (412), and the filer's undo kept from the draft is refused once the case is submitted (403): the suspect and the case are as they were."""
    case = draft(world)
    suspect = services.add_suspect(case=case, by=world.officer, name="张某")
    case.refresh_from_db()
    client = page(world.officer)
    client.post(reverse("cases:remove-party", args=[case.pk, "suspect", suspect.pk]), {"version": case.version})
    case.refresh_from_db()
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    before = case_state(case)
    assert client.post(reverse("cases:undo-removal", args=[case.pk])).status_code == 403
    assert case_state(case) == before
    other = services.add_suspect(case=case, by=world.supervisor, name="李某")
    stale = Case.objects.get(pk=case.pk).version
    services.add_note(case=case, by=world.supervisor, text="已核实", visibility=NoteVisibility.SHARED)
    before = case_state(case)
    api = token_client(world.supervisor)
    url = f"/api/v1/cases/{case.pk}/suspects/{other.pk}/"
    assert api.delete(url, HTTP_IF_MATCH=f'"{stale}"').status_code == 412
    assert api.patch(url, {"name": "王某"}, format="json", HTTP_IF_MATCH=f'"{stale}"').status_code == 412
    assert case_state(case) == before


def test_input_kept_with_an_id_number_is_gone_for_the_next_user_of_the_browser(world):
    """The office's refused suspect form kept an ID number in the session; the supervisor logs out and the filer logs in on the same browser: the case page shows no kept input and no ID number."""
    case = case_in(world, S.INTAKE)
    client = page(world.supervisor)
    keep_input(
        client,
        case,
        "suspect",
        {"suspect-name": ["张某"], "suspect-id_number": ["330106199001011234"]},
        [["Name", "张某"], ["ID number", "330106199001011234"]],
        stale=True,
    )
    assert client.session[SESSION_KEY]["case"] == case.pk
    client.post(reverse("logout"))
    client.force_login(world.officer)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="kept-notice"' not in html
    assert "330106199001011234" not in html
    assert SESSION_KEY not in client.session
