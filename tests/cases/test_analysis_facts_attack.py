# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The duty scenario and place category (issue 21) given hostile values through every door: the API, the wizard, the
supervisor's facts form and the service. Each is refused next to the field, nothing is written, the page stays up."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.selectors import actor_for
from cases import services
from cases.choices import CaseStatus
from cases.models import Case
from tests.api.conftest import token_client
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db

HOSTILE = '=cmd|"/c calc"!A1<script>alert(1)</script>\u202e'


def stored(case: Case) -> tuple:
    return Case.objects.filter(pk=case.pk).values_list("duty_scenario", "place_category", "version").get()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", '"" is not a valid choice.'),
        ("Road", '"Road" is not a valid choice.'),
        (" road", '" road" is not a valid choice.'),
        (["road"], "\"['road']\" is not a valid choice."),
        (7, '"7" is not a valid choice.'),
        ({"road": 1}, "\"{'road': 1}\" is not a valid choice."),
        (True, '"True" is not a valid choice.'),
        (HOSTILE, f'"{HOSTILE}" is not a valid choice.'),
    ],
)
def test_the_api_refuses_each_hostile_value_with_a_400_and_writes_nothing(world, value, message):
    """A blank, a wrong case, padding, a list, a number, an object, a boolean, a formula with markup: 400, the field named, nothing written."""
    case = draft(world, place_category="road")
    before = stored(case)
    response = token_client(world.officer).patch(f"/api/v1/cases/{case.pk}/", {"place_category": value}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["place_category"]
    assert errors["place_category"] == [message]
    assert stored(case) == before


def test_the_supervisor_facts_form_refuses_a_hostile_value_next_to_the_field_and_keeps_the_rest(world):
    """The supervisor posts a formula with markup as the place: 400, the message beside it, escaped; the other answers stay in the form; nothing written."""
    case = case_in(world, CaseStatus.INTAKE)
    before = stored(case)
    client = Client()
    client.force_login(world.supervisor)
    response = client.post(
        f"/cases/{case.pk}/facts/",
        {"duty_scenario": "arrest", "place_category": HOSTILE, "weapon": "unknown", "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="invalid-feedback d-block"') == 1
    assert (
        '<div class="invalid-feedback d-block" id="id_place_category_errors" role="alert">Select a valid choice. '
        "=cmd|&quot;/c calc&quot;!A1&lt;script&gt;alert(1)&lt;/script&gt;\u202e is not one of the available choices.</div>"
    ) in html
    assert "<script>alert(1)</script>" not in html
    assert '<option value="arrest" selected>Arrest or summons</option>' in html
    assert stored(case) == before


def test_the_service_refuses_a_value_outside_the_choices(world):
    """A caller of the service (a task, the admin) passing an unknown scenario: ValidationError on the field, nothing written."""
    case = draft(world)
    before = stored(case)
    with pytest.raises(ValidationError) as refused:
        services.update_case_details(
            case=case, by=world.officer, expected_version=None, changes={"duty_scenario": "riot"}
        )
    assert list(refused.value.message_dict) == ["duty_scenario"]
    assert stored(case) == before


def test_the_filer_cannot_answer_after_submission_and_an_admin_not_at_all(world):
    """The filer and the province's administrator patch the duty scenario of a submitted case: 403, nothing written."""
    case = case_in(world, CaseStatus.INTAKE)
    before = stored(case)
    for who in (world.officer, world.admin):
        response = token_client(who).patch(f"/api/v1/cases/{case.pk}/", {"duty_scenario": "patrol"}, format="json")
        assert response.status_code == 403, who
    assert stored(case) == before
    assert actor_for(world.admin).is_active
