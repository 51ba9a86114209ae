# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The officer strength in the admin site, tried from outside: another province's record, tampered posts, duplicate and
out-of-range figures. Each refusal is a message next to the field, never a 500, and nothing changes."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from analysis.models import OfficerStrength
from analysis.services import record_officer_strength
from demo.organisation import ensure_admin_group
from tests.factories import member

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def rows() -> list[tuple]:
    return list(
        OfficerStrength.objects.order_by("unit__code", "year").values_list(
            "unit__code", "year", "regular", "auxiliary", "recorded_by__username"
        )
    )


@pytest.fixture
def hubei_admin(world):
    return member(world.sibling_province, Role.ADMIN, username="hubei_admin")


def test_another_provinces_administrator_cannot_read_change_or_delete_a_record(world, hubei_admin):
    """Hubei's administrator opens, posts a change to and deletes Zhejiang's record by its id: refused, unchanged."""
    record = record_officer_strength(unit=world.station, year=2024, regular=40, auxiliary=16, by=world.admin)
    before = rows()
    client = browser(hubei_admin)
    change = reverse("admin:analysis_officerstrength_change", args=[record.pk])
    assert client.get(change).status_code == 302
    assert client.post(change, {"regular": 1, "auxiliary": 0}).status_code in (302, 403)
    delete = reverse("admin:analysis_officerstrength_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code in (302, 403)
    assert rows() == before
    listed = client.get(reverse("admin:analysis_officerstrength_changelist"))
    assert list(listed.context["cl"].result_list) == []


def test_a_change_cannot_move_a_record_to_another_unit_or_year(world):
    """The province's administrator posts unit and year on the change form: they are read-only, only the figures change."""
    record = record_officer_strength(unit=world.station, year=2024, regular=40, auxiliary=16, by=world.admin)
    client = browser(world.admin)
    change = reverse("admin:analysis_officerstrength_change", args=[record.pk])
    response = client.post(change, {"unit": world.sibling_station.pk, "year": 2025, "regular": 42, "auxiliary": 15})
    assert response.status_code == 302
    assert rows() == [("330106001", 2024, 42, 15, "admin")]


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"year": 1999}, "year", "Give a year from 2000 to "),
        ({"year": 3000}, "year", "Give a year from 2000 to "),
        ({"year": 70000}, "year", "Give a year from 2000 to "),
        ({"regular": -1}, "regular", "Ensure this value is greater than or equal to 0."),
        ({"regular": 10**12}, "regular", "Ensure this value is less than or equal to 2147483647."),
        ({"auxiliary": "many"}, "auxiliary", "Enter a whole number."),
        ({"regular": ""}, "regular", "This field is required."),
    ],
)
def test_a_figure_out_of_range_is_a_message_next_to_its_field(world, posted, field, message):
    """Years before 2000 or after next year, negative, huge, non-numeric or missing headcounts: 200 with the message, nothing written."""
    client = browser(world.admin)
    data = {"unit": world.station.pk, "year": 2024, "regular": 40, "auxiliary": 16, **posted}
    response = client.post(reverse("admin:analysis_officerstrength_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert rows() == []


def test_a_second_record_for_the_same_unit_and_year_is_a_message_not_a_500(world):
    """Adding 2024 again for the station: the form says it is recorded already; the first record stays."""
    record_officer_strength(unit=world.station, year=2024, regular=40, auxiliary=16, by=world.admin)
    client = browser(world.admin)
    response = client.post(
        reverse("admin:analysis_officerstrength_add"),
        {"unit": world.station.pk, "year": 2024, "regular": 1, "auxiliary": 1},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This unit's officer strength for this year is recorded already."
    ]
    assert rows() == [("330106001", 2024, 40, 16, "admin")]
