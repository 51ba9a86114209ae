"""Each unit's officer strength per year (issue 21): recorded by the administrators of the unit through the service
and the admin site, one record per unit and year, never negative."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis.models import OfficerStrength
from analysis.services import record_officer_strength
from demo.organisation import ensure_admin_group

pytestmark = pytest.mark.django_db


def strengths() -> list[tuple[str, int, int, int]]:
    return list(
        OfficerStrength.objects.order_by("unit__code", "year").values_list("unit__code", "year", "regular", "auxiliary")
    )


def test_an_administrator_records_and_corrects_a_units_strength(world):
    first = record_officer_strength(unit=world.station, year=2025, regular=42, auxiliary=17, by=world.admin)
    assert (first.recorded_by, first.total) == (world.admin, 59)
    again = record_officer_strength(unit=world.station, year=2025, regular=44, auxiliary=15, by=world.admin)
    assert again.pk == first.pk
    record_officer_strength(unit=world.county, year=2025, regular=0, auxiliary=0, by=world.admin)
    assert strengths() == [("330106", 2025, 0, 0), ("330106001", 2025, 44, 15)]


def test_a_unit_outside_the_administrators_subtree_or_a_non_administrator_is_refused(world):
    with pytest.raises(PermissionDenied):
        record_officer_strength(unit=world.sibling_station, year=2025, regular=10, auxiliary=1, by=world.admin)
    with pytest.raises(PermissionDenied):
        record_officer_strength(unit=world.station, year=2025, regular=10, auxiliary=1, by=world.supervisor)
    assert strengths() == []


def test_figures_out_of_range_are_refused_field_by_field(world):
    with pytest.raises(ValidationError) as refused:
        record_officer_strength(unit=world.station, year=1999, regular=-1, auxiliary=-3, by=world.admin)
    last = timezone.localdate().year + 1
    assert refused.value.message_dict == {
        "year": [f"Give a year from 2000 to {last}."],
        "regular": ["A number of officers cannot be negative."],
        "auxiliary": ["A number of officers cannot be negative."],
    }
    assert strengths() == []


def test_the_database_holds_one_record_per_unit_and_year_and_no_negative_headcount(world):
    record_officer_strength(unit=world.station, year=2025, regular=42, auxiliary=17, by=world.admin)
    with pytest.raises(IntegrityError, match="officerstrength_once_per_unit_year"), transaction.atomic():
        OfficerStrength.objects.create(
            unit=world.station, year=2025, regular=1, auxiliary=1, recorded_at="2025-01-01T00:00Z"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficerStrength.objects.filter(unit=world.station).update(auxiliary=-1)
    assert strengths() == [("330106001", 2025, 42, 17)]


@pytest.fixture
def admin_browser(world) -> Client:
    user = world.admin
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_the_admin_page_lists_and_adds_within_the_administrators_subtree_only(world, admin_browser):
    record_officer_strength(unit=world.station, year=2024, regular=40, auxiliary=16, by=world.admin)
    hubei = OfficerStrength.objects.create(
        unit=world.sibling_station, year=2024, regular=30, auxiliary=9, recorded_at="2025-01-01T00:00Z"
    )
    listed = admin_browser.get(reverse("admin:analysis_officerstrength_changelist"))
    assert listed.status_code == 200
    assert [(s.unit.code, s.year) for s in listed.context["cl"].result_list] == [("330106001", 2024)]
    assert admin_browser.get(reverse("admin:analysis_officerstrength_change", args=[hubei.pk])).status_code == 302

    add = reverse("admin:analysis_officerstrength_add")
    refused = admin_browser.post(add, {"unit": world.sibling_station.pk, "year": 2025, "regular": 5, "auxiliary": 1})
    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["unit"]
    negative = admin_browser.post(add, {"unit": world.station.pk, "year": 2025, "regular": 5, "auxiliary": -2})
    assert negative.context["adminform"].form.errors["auxiliary"] == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert (
        admin_browser.post(add, {"unit": world.station.pk, "year": 2025, "regular": 41, "auxiliary": 18}).status_code
        == 302
    )
    assert strengths() == [("330106001", 2024, 40, 16), ("330106001", 2025, 41, 18), ("420100001", 2024, 30, 9)]
    assert OfficerStrength.objects.get(year=2025).recorded_by == world.admin


def test_the_admin_page_is_for_administrators(world):
    officer = world.officer
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    assert client.get(reverse("admin:analysis_officerstrength_changelist")).status_code == 403
