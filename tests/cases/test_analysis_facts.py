"""The analysis facts of a case (issue 21): the duty scenario and the place category, declared in the facts table,
stored blank when not recorded, CHECK-constrained, asked in the filing wizard and answered by the API."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from cases import services
from cases.choices import CaseStatus, DutyScenario, IncidentKind, PlaceCategory, Weapon
from cases.models import Case, CaseEvent
from cases.selectors import incident_time
from tests.api.conftest import token_client
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db


def stored(case: Case) -> tuple:
    return Case.objects.filter(pk=case.pk).values_list("duty_scenario", "place_category", "weapon", "version").get()


def test_the_facts_are_saved_through_the_service_and_recorded_on_the_timeline(world):
    case = draft(world)
    assert stored(case)[:2] == ("", "")
    services.update_case_details(
        case=case,
        by=world.officer,
        expected_version=case.version,
        changes={"duty_scenario": DutyScenario.TRAFFIC, "place_category": PlaceCategory.ROAD},
    )
    assert stored(case) == ("traffic", "road", "unknown", 2)
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.data == {"changes": {"duty_scenario": ["", "traffic"], "place_category": ["", "road"]}}


def test_a_case_without_them_stays_valid_and_shows_them_not_answered(world):
    case = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.ONLINE_DEFAMATION)
    case.full_clean()
    client = Client()
    client.force_login(world.officer)
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Asked for every incident type, an online post included.
    assert 'data-fact-value="duty_scenario">not answered</dd>' in page
    assert 'data-fact-value="place_category">not answered</dd>' in page


def test_the_case_page_shows_the_answers_in_the_readers_language(world):
    case = case_in(world, CaseStatus.INTAKE, duty_scenario=DutyScenario.CALL_110, place_category=PlaceCategory.HOSPITAL)
    client = Client()
    client.force_login(world.officer)
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<dd class="col-sm-6" data-fact-value="duty_scenario">Responding to a 110 call</dd>' in page
    assert '<dd class="col-sm-6" data-fact-value="place_category">Hospital</dd>' in page
    assert '<dt class="col-sm-6" data-fact="duty_scenario">Duty scenario</dt>' in page


def test_the_wizard_asks_them_and_a_bad_choice_is_refused_next_to_the_field_with_nothing_lost(world):
    case = draft(world)
    before = stored(case)
    client = Client()
    client.force_login(world.officer)
    url = f"/cases/{case.pk}/edit/facts/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "What were the officers doing when it happened?" in page
    assert '<option value="transport_hub">Transport hub</option>' in page

    response = client.post(
        url,
        {"duty_scenario": "riot", "place_category": "market", "weapon": "gun", "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {"duty_scenario": ["Select a valid choice. riot is not one of the available choices."]}
    html = response.content.decode()
    assert (
        '<div class="invalid-feedback d-block" id="id_duty_scenario_errors" role="alert">Select a valid choice. riot '
        "is not one of the available choices.</div>"
    ) in html
    # What was typed stays in the form; nothing was written.
    assert '<option value="market" selected>Market or shop</option>' in html
    assert '<option value="gun" selected>Gun</option>' in html
    assert stored(case) == before


def test_the_wizard_saves_good_answers(world):
    case = draft(world)
    client = Client()
    client.force_login(world.officer)
    response = client.post(
        f"/cases/{case.pk}/edit/facts/",
        {"duty_scenario": "dispute", "place_category": "residential", "weapon": "blunt", "version": case.version},
    )
    assert response.status_code == 302
    assert stored(case) == ("dispute", "residential", "blunt", 2)


def test_the_supervisor_facts_form_corrects_them(world):
    case = case_in(world, CaseStatus.INTAKE, duty_scenario=DutyScenario.PATROL)
    client = Client()
    client.force_login(world.supervisor)
    response = client.post(
        f"/cases/{case.pk}/facts/",
        {"duty_scenario": "arrest", "place_category": "school", "weapon": "unknown", "version": case.version},
    )
    assert response.status_code == 302
    assert stored(case)[:2] == ("arrest", "school")


def test_the_api_takes_gives_and_clears_them(world):
    case = draft(world)
    client = token_client(world.officer)
    url = f"/api/v1/cases/{case.pk}/"
    assert client.get(url).json()["duty_scenario"] is None
    response = client.patch(url, {"duty_scenario": "event_security", "place_category": "online"}, format="json")
    assert response.status_code == 200
    assert (response.json()["duty_scenario"], response.json()["place_category"]) == ("event_security", "online")
    # null is "not recorded", stored blank.
    response = client.patch(url, {"place_category": None}, format="json")
    assert response.status_code == 200
    assert response.json()["place_category"] is None
    assert stored(case)[:2] == ("event_security", "")


def test_the_api_refuses_a_bad_choice_with_a_precise_400_and_writes_nothing(world):
    case = draft(world)
    before = stored(case)
    client = token_client(world.officer)
    response = client.patch(
        f"/api/v1/cases/{case.pk}/", {"duty_scenario": "riot", "place_category": "road"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "The request is not valid.",
        "errors": {"duty_scenario": ['"riot" is not a valid choice.']},
    }
    assert stored(case) == before
    # Filing a new case through the API: the same answer.
    response = client.post(
        "/api/v1/cases/", {"unit": world.station.pk, "kind": "threat", "place_category": "moon"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"place_category": ['"moon" is not a valid choice.']}


@pytest.mark.parametrize(("field", "value"), [("duty_scenario", "riot"), ("place_category", "Road")])
def test_the_database_refuses_a_value_outside_the_choices(world, field, value):
    case = draft(world)
    with pytest.raises(IntegrityError, match=f"case_{field}_valid"), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(**{field: value})
    assert stored(case)[:2] == ("", "")
    Case.objects.filter(pk=case.pk).update(duty_scenario="", place_category="")  # blank is allowed


def test_the_hour_and_weekday_come_from_the_incident_time_in_local_time(world):
    """No column: the analysis reads them from the incident time (the filing time where none is recorded), in the
    local time zone (Asia/Shanghai), where a 16:30 UTC incident is at half past midnight the next day."""
    at = datetime(2026, 3, 1, 16, 30, tzinfo=ZoneInfo("UTC"))  # a Sunday in UTC, Monday in Beijing
    case = draft(world, occurred_at=at, weapon=Weapon.NONE)
    local = incident_time(case).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.isoweekday()) == (0, 1)
    case.occurred_at = None
    assert incident_time(case) == case.created_at
