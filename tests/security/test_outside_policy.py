"""The case policy tried from outside: the browser, the API (token auth) and the admin site, as the people of the
``world``. Each test is a hole that was open; it asserts the safe behaviour and that a refused request changed
nothing."""

from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from cases.choices import CaseStatus
from cases.models import Case, CaseEvent, LookBackReview, Notification
from tests.api.conftest import token_client
from tests.factories import case_in, draft

S = CaseStatus


def facts_of(case: Case) -> tuple[bool, int]:
    return Case.objects.filter(pk=case.pk).values_list("major_security_period", "version").get()


# --- supervisor-only facts: the filer's forms never offer them, the API took them ------------------------------------


def test_the_filer_cannot_set_the_supervisors_facts_of_a_draft_through_the_api(world):
    """major_security_period is the supervisor's judgement (FACTS asked_of=SUPERVISOR): the filer's facts step does not
    offer it, so a PATCH of the draft that sets it is refused and changes nothing. The former police_fault field is
    refused too (police fault is now a finding recorded by a supervisor: tests/cases/test_fault_findings.py)."""
    case = draft(world)
    before = facts_of(case)
    assert before[0] is False
    events = CaseEvent.objects.filter(case=case).count()
    client = token_client(world.officer)
    for change in (
        {"police_fault": "none"},
        {"major_security_period": True},
        {"summary": "新摘要", "major_security_period": True},
        {"summary": "新摘要", "police_fault": "none"},
    ):
        response = client.patch(f"/api/v1/cases/{case.pk}/", change, format="json")
        assert response.status_code == 400, (change, response.content)
    assert facts_of(case) == before
    assert Case.objects.get(pk=case.pk).summary == "盘查时遭嫌疑人踢打"
    assert CaseEvent.objects.filter(case=case).count() == events
    # The filer's own facts still go through, and a supervisor covering the open case sets the supervisor's facts.
    assert client.patch(f"/api/v1/cases/{case.pk}/", {"weapon": "blunt"}, format="json").status_code == 200
    submitted = case_in(world, S.INTAKE)
    response = token_client(world.county_supervisor).patch(
        f"/api/v1/cases/{submitted.pk}/", {"major_security_period": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert facts_of(submitted)[0] is True


def test_the_filer_cannot_set_the_supervisors_facts_when_filing_through_the_api(world):
    """A new application through the API with major_security_period from an officer is refused, as the filing
    wizard never asks the filer for it; no case is created."""
    client = token_client(world.officer)
    response = client.post(
        "/api/v1/cases/",
        {"unit": world.station.pk, "major_security_period": True},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert Case.objects.count() == 0


# --- workflow actions: the API input takes no more than the page's form ---------------------------------------------


def test_the_api_recall_takes_only_the_campaign_years_the_page_offers(world):
    """The recall form's look-back campaign year starts at 2019; the API took any year from 2000 and opened a
    look-back review for a campaign that never ran."""
    case = case_in(world, S.CLOSED)
    version = case.version
    reviews = list(LookBackReview.objects.filter(case=case).values_list("campaign_year", flat=True))
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{case.pk}/actions/recall/",
        {"reason": "新证据", "campaign_year": 2005, "version": version},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"campaign_year"}
    assert Case.objects.filter(pk=case.pk).values_list("status", "version").get() == (S.CLOSED, version)
    assert list(LookBackReview.objects.filter(case=case).values_list("campaign_year", flat=True)) == reviews


# --- notifications go with access: marking them read too -------------------------------------------------------------


def _unseen_notification(world) -> Notification:
    """A notification of a case its recipient no longer sees (the county supervisor lost their membership)."""
    case = case_in(world, S.INTAKE)
    note = Notification.objects.create(
        recipient=world.county_supervisor, case=case, verb="已提交", created_at=timezone.now()
    )
    Membership.objects.filter(user=world.county_supervisor).delete()
    return note


def test_marking_all_read_through_the_api_leaves_notifications_of_cases_no_longer_seen(world):
    """The list hides them, so "mark all read" must neither touch nor count them (a count of 1 against an empty list
    tells the reader something happened on a case they can no longer see)."""
    note = _unseen_notification(world)
    client = token_client(world.county_supervisor)
    assert client.get("/api/v1/notifications/").json()["results"] == []
    response = client.post("/api/v1/notifications/read/", {}, format="json")
    assert (response.status_code, response.json()) == (200, {"marked": 0})
    response = client.post("/api/v1/notifications/read/", {"ids": [note.pk]}, format="json")
    assert (response.status_code, response.json()) == (200, {"marked": 0})
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_marking_all_read_in_the_browser_leaves_notifications_of_cases_no_longer_seen(world):
    note = _unseen_notification(world)
    browser = Client()
    browser.force_login(world.county_supervisor)
    response = browser.post("/notifications/read/", follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["0 notifications marked as read."]
    assert Notification.objects.get(pk=note.pk).read_at is None
