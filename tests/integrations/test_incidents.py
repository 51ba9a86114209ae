"""Applications started from a 110 incident (integrations/services/incidents.py, POST /api/v1/incidents/110/)."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from cases.choices import CaseStatus, Channel, DutyScenario, DutyStatus, EventKind, IncidentKind, InjuryGrade
from cases.models import Case, CaseEvent, InvolvedOfficer, Notification, OutboxMessage, ReferenceCounter
from integrations.models import IncidentImport
from integrations.services import Incident, OfficerOnScene, import_incident
from tests.api.conftest import token_client
from tests.factories import draft, member
from tests.integrations.conftest import URL, client_for, incident


def records() -> tuple:
    """Everything an import could write."""
    return (
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version", "dispatch_ref")),
        CaseEvent.objects.count(),
        InvolvedOfficer.objects.count(),
        tuple(IncidentImport.objects.order_by("pk").values_list("pk", "incident_number", "unit_id", "case_id")),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        tuple(ReferenceCounter.objects.values_list("year", "last_number")),
    )


def test_an_attacked_officer_gets_a_prefilled_draft_of_their_unit(
    world, dispatch, feed, django_capture_on_commit_callbacks
):
    body = incident(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = feed.post(URL, body, format="json")
    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json() == {
        "incident_number": "330106202603120042",
        "drafts": [
            {"id": case.pk, "reference": case.reference, "unit": "330106001", "created": True, "attached": False}
        ],
    }
    assert (case.status, case.unit, case.filed_by, case.channel, case.dispatch_ref) == (
        CaseStatus.DRAFT,
        world.station,
        world.officer,
        Channel.DISPATCH_110,
        "330106202603120042",
    )
    assert case.occurred_at.isoformat() == timezone.datetime.fromisoformat(body["occurred_at"]).isoformat()
    assert (case.location, case.summary, case.narrative) == (body["location"], body["summary"], body["summary"])
    assert (case.kind, case.duty_scenario, case.officers_attacked) == (IncidentKind.OTHER, DutyScenario.CALL_110, 1)
    # The unit whose officer was not attacked gets nothing; the attacked officer is listed, injured, on duty.
    assert list(case.officers.values_list("user", "badge_number", "duty_status", "injury")) == [
        (world.officer.pk, world.officer.badge_number, DutyStatus.ON_DUTY, InjuryGrade.PENDING_APPRAISAL)
    ]
    imported = CaseEvent.objects.get(case=case, kind=EventKind.IMPORTED)
    assert (imported.actor, imported.data) == (dispatch, {"incident": "330106202603120042", "attached": False})
    assert IncidentImport.objects.get().case == case
    # The officer is told, by the 110 system's name, to complete and submit it.
    note = Notification.objects.get(recipient=world.officer)
    assert (note.case, note.event) == (case, imported)
    assert note.text == (
        f"杭州市110接处警系统 started {case.reference} for you from 110 incident 330106202603120042 — complete the "
        "application and submit it."
    )


def test_each_attacked_officers_unit_gets_one_draft_listing_its_attacked_officers(world, feed):
    colleague = member(world.station, Role.OFFICER, username="colleague")
    body = incident(world)
    body["officers"][1]["attacked"] = True  # the neighbouring station's officer too
    body["officers"].append(
        {"police_number": colleague.badge_number, "name": "民警", "unit": world.station.code, "attacked": True}
    )
    response = feed.post(URL, body, format="json")
    assert response.status_code == 201
    drafts = {d["unit"]: d for d in response.json()["drafts"]}
    assert set(drafts) == {world.station.code, world.other_station.code}
    station = Case.objects.get(pk=drafts[world.station.code]["id"])
    other = Case.objects.get(pk=drafts[world.other_station.code]["id"])
    assert (station.filed_by, other.filed_by) == (world.officer, world.other_officer)
    assert list(station.officers.order_by("pk").values_list("user", "injury")) == [
        (world.officer.pk, InjuryGrade.PENDING_APPRAISAL),
        (colleague.pk, InjuryGrade.NONE),
    ]
    assert station.officers_attacked == other.officers_attacked == 3


def test_replaying_a_batch_starts_each_draft_once_and_answers_the_same_ids(
    world, feed, django_capture_on_commit_callbacks
):
    colleague = member(world.other_station, Role.OFFICER, username="colleague")
    batch = [
        incident(world, "A-001"),
        incident(
            world,
            "A-002",
            officers=[
                *incident(world)["officers"][:1],
                {
                    "police_number": colleague.badge_number,
                    "name": "x",
                    "unit": world.other_station.code,
                    "attacked": True,
                },
            ],
        ),
        # Nobody attacked: nothing to start.
        incident(world, "A-003", officers=[{**incident(world)["officers"][0], "attacked": False}]),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        first = [feed.post(URL, body, format="json") for body in batch]
    assert [r.status_code for r in first] == [201, 201, 200]
    assert [len(r.json()["drafts"]) for r in first] == [1, 2, 0]
    after_first = records()
    assert Case.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        again = [feed.post(URL, body, format="json") for body in batch]
    assert [r.status_code for r in again] == [200, 200, 200]
    assert records() == after_first
    for one, two in zip(first, again, strict=True):
        assert [(d["id"], d["reference"], d["unit"]) for d in one.json()["drafts"]] == [
            (d["id"], d["reference"], d["unit"]) for d in two.json()["drafts"]
        ]
        assert all(d["created"] is False for d in two.json()["drafts"])
    assert CaseEvent.objects.filter(kind=EventKind.IMPORTED).count() == 3
    assert Notification.objects.filter(event__kind=EventKind.IMPORTED).count() == 3


def test_an_application_filed_by_hand_for_the_incident_is_matched_not_doubled(
    world, dispatch, feed, django_capture_on_commit_callbacks
):
    filed = draft(world, channel=Channel.DISPATCH_110, dispatch_ref="330106202603120042")
    with django_capture_on_commit_callbacks(execute=True):
        response = feed.post(URL, incident(world), format="json")
    assert response.status_code == 200
    assert response.json()["drafts"] == [
        {"id": filed.pk, "reference": filed.reference, "unit": "330106001", "created": False, "attached": True}
    ]
    assert Case.objects.count() == 1
    event = CaseEvent.objects.get(case=filed, kind=EventKind.IMPORTED)
    assert event.data == {"incident": "330106202603120042", "attached": True}
    assert Notification.objects.get(recipient=world.officer).text == (
        f"杭州市110接处警系统 matched 110 incident 330106202603120042 to {filed.reference} — check the application."
    )
    # The match is the import's record now: the same answer on a replay.
    assert feed.post(URL, incident(world), format="json").json()["drafts"][0]["attached"] is True


def test_an_unknown_or_foreign_unit_is_named_and_nothing_is_written(world, feed):
    before = records()
    body = incident(world, units_dispatched=[world.station.code, "999999", world.sibling_station.code])
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "units_dispatched[1]": ["No unit with the code 999999 is among the units this account imports for."],
        # Another province's unit exists, but answers exactly as an unknown one.
        "units_dispatched[2]": ["No unit with the code 420100001 is among the units this account imports for."],
        "officers[1].unit": ["The unit 330106002 is not among the units dispatched."],
    }
    assert records() == before


def test_an_unknown_officer_is_named_and_nothing_is_written(world, feed):
    before = records()
    body = incident(world)
    body["officers"][0]["police_number"] = "999999"
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "officers[0].police_number": ["No active account has the police number 999999."]
    }
    assert records() == before


def test_an_officer_is_never_matched_by_name(world, feed):
    body = incident(world)
    body["officers"][0]["police_number"] = "888888"  # the officer's name, a wrong number
    assert feed.post(URL, body, format="json").status_code == 400
    assert Case.objects.count() == 0


def test_an_officer_who_cannot_file_for_the_unit_is_named(world, feed):
    body = incident(world)
    body["officers"][0]["unit"] = world.other_station.code  # the station's officer, placed at the other station
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "officers[0].police_number": [
            f"The officer with the police number {world.officer.badge_number} cannot file an application for the "
            "unit 330106002."
        ]
    }


def test_shapes_are_refused_field_by_field(world, feed):
    before = records()
    body = incident(world, occurred_at=(timezone.now() + timedelta(days=1)).isoformat(), kind="no-such-kind")
    del body["officers"][1]["attacked"]
    body["officers"][0]["police_number"] = 12
    body["units_dispatched"] = []
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == {
        "occurred_at": ["The incident cannot be in the future."],
        "kind": ['"no-such-kind" is not a valid choice.'],
        "units_dispatched": ["This list may not be empty."],
        "officers[0].police_number": ["Not a valid string."],
        "officers[1].attacked": ["This field is required."],
    }
    assert feed.post(URL, [body], format="json").json()["errors"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    assert records() == before


@pytest.mark.parametrize("who", ["officer", "supervisor", "admin", "ministry_supervisor"])
def test_a_persons_token_is_refused_and_nothing_is_written(world, who):
    before = records()
    response = token_client(getattr(world, who)).post(URL, incident(world), format="json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "Only an integration account may call this endpoint.",
    }
    assert records() == before


def test_without_a_token_the_import_is_401(world, client):
    assert client.post(URL, incident(world), content_type="application/json").status_code == 401
    assert Case.objects.count() == 0


def test_an_integration_account_of_another_subtree_imports_nothing_here(world):
    from integrations.services.accounts import create_integration_account

    wuhan = create_integration_account(username="wh110", name="武汉市110", unit=world.sibling_station)
    response = client_for(wuhan).post(URL, incident(world), format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"units_dispatched[0]", "units_dispatched[1]"}
    assert Case.objects.count() == 0


def test_the_officer_finds_completes_and_submits_the_draft(world, feed, client):
    feed.post(URL, incident(world), format="json")
    case = Case.objects.get()
    client.force_login(world.officer)
    # "My applications" lists it, saying where it came from.
    home = client.get(reverse("cases:home")).content.decode()
    assert case.reference in home
    assert "Started from 110 incident 330106202603120042 by the 110 import" in home
    step = client.get(reverse("cases:edit", args=[case.pk, "incident"]))
    assert step.status_code == 200
    assert "杭州市西湖区北山街12号" in step.content.decode()
    # The officer says what it was, through the wizard's own step, and submits it.
    response = client.post(
        reverse("cases:edit", args=[case.pk, "incident"]),
        {
            "version": case.version,
            "kind": IncidentKind.VIOLENT_ATTACK,
            "occurred_at": timezone.localtime(case.occurred_at).strftime("%Y-%m-%dT%H:%M"),
            "location": case.location,
            "channel": Channel.DISPATCH_110,
            "dispatch_ref": case.dispatch_ref,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.kind == IncidentKind.VIOLENT_ATTACK
    response = client.post(reverse("cases:action", args=[case.pk, "submit"]), {"submit-version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.INTAKE
    # Submitted, the office sees it in its queue as any application.
    assert token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_the_integration_token_is_refused_everywhere_else(world, feed):
    feed.post(URL, incident(world), format="json")
    case = Case.objects.get()
    for url in ("/api/v1/cases/", f"/api/v1/cases/{case.pk}/", "/api/v1/me/", "/api/v1/units/"):
        response = feed.get(url)
        assert (url, response.status_code) == (url, 403)
        assert response.json()["detail"] == "An integration account may only call the endpoints made for it."
    assert feed.get("/api/v1/schema/").status_code == 403
    assert feed.post("/api/v1/cases/", {"unit": world.station.pk}, format="json").status_code == 403
    assert Case.objects.count() == 1


def test_an_integration_accounts_session_is_refused_on_every_page(world, dispatch, client):
    client.force_login(dispatch)
    for url in ("/", "/notifications/", "/api/v1/cases/", URL, "/accounts/tokens/"):
        assert (url, client.get(url).status_code) == (url, 403)


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_start_one_draft(postgres_only):
    from tests.factories import build_world

    world = build_world()
    from integrations.services.accounts import create_integration_account

    dispatch = create_integration_account(username="hz110", name="杭州市110接处警系统", unit=world.city)
    body = incident(world)
    officer = body["officers"][0]
    sent = Incident(
        number=body["incident_number"],
        occurred_at=timezone.now() - timedelta(hours=1),
        location=body["location"],
        summary=body["summary"],
        units_dispatched=tuple(body["units_dispatched"]),
        officers=(OfficerOnScene(officer["police_number"], officer["name"], officer["unit"], True, True),),
    )
    start = threading.Barrier(4)
    answers: list[int] = []
    failures: list[BaseException] = []

    def replay() -> None:
        try:
            start.wait(timeout=10)
            answers.append(import_incident(incident=sent, by=dispatch).drafts[0].case.pk)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(answers) == 4
    assert len(set(answers)) == 1
    assert Case.objects.count() == 1
    assert IncidentImport.objects.count() == 1
    assert ReferenceCounter.objects.get().last_number == 1
