"""The early warnings in the admin site (analysis/admin.py): their settings changed by administrators of the whole tree
only, each change a new row and the older rows read-only; the warnings themselves read-only and scoped to the units
each administrator administers."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from analysis.models import WarningSettings
from demo.organisation import ensure_admin_group
from tests.analysis.warnings_dataset import four_warnings
from tests.factories import member

SETTINGS = {"window_days": 90, "baseline_months": 12, "alpha": 0.001, "min_cases": 5, "repeat_victim_threshold": 3}


def staff(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def tree_admin(world):
    return member(world.ministry, Role.ADMIN, username="tree_admin")


def rows() -> list[tuple]:
    return list(
        WarningSettings.objects.order_by("changed_at", "id").values_list(
            "window_days", "alpha", "min_cases", "changed_by__username"
        )
    )


def test_a_change_of_the_settings_is_a_new_row_and_the_old_rows_stay(world, tree_admin):
    client = staff(tree_admin)
    add = reverse("admin:analysis_warningsettings_add")
    form = client.get(add)
    assert form.status_code == 200
    assert form.context["adminform"].form.initial == SETTINGS  # the settings in force
    assert client.post(add, {**SETTINGS, "min_cases": 6}).status_code == 302
    first = WarningSettings.objects.get()
    change = reverse("admin:analysis_warningsettings_change", args=[first.pk])
    # The form carries the row it was opened on (the guard against saving over another's later change).
    assert client.post(change, {**SETTINGS, "min_cases": 7, "alpha": 0.005, "based_on": first.pk}).status_code == 302
    assert rows() == [(90, 0.001, 6, "tree_admin"), (90, 0.005, 7, "tree_admin")]
    # The older row is history: read-only, and a change sent to it writes nothing.
    assert client.post(change, {**SETTINGS, "min_cases": 9}).status_code == 403
    assert rows() == [(90, 0.001, 6, "tree_admin"), (90, 0.005, 7, "tree_admin")]
    assert (
        client.post(reverse("admin:analysis_warningsettings_delete", args=[first.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert WarningSettings.objects.count() == 2


def test_settings_out_of_range_are_refused_beside_the_field(world, tree_admin):
    client = staff(tree_admin)
    refused = client.post(reverse("admin:analysis_warningsettings_add"), {**SETTINGS, "repeat_victim_threshold": 2})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "repeat_victim_threshold": ["Give a whole number from 3 to 50."]
    }
    assert WarningSettings.objects.count() == 0


def test_an_administrator_of_a_province_reads_the_settings_and_changes_nothing(world, tree_admin):
    staff(tree_admin).post(reverse("admin:analysis_warningsettings_add"), SETTINGS)
    client = staff(world.admin)
    assert client.get(reverse("admin:analysis_warningsettings_changelist")).status_code == 200
    assert client.post(reverse("admin:analysis_warningsettings_add"), {**SETTINGS, "alpha": 0.05}).status_code == 403
    latest = WarningSettings.objects.get()
    change = reverse("admin:analysis_warningsettings_change", args=[latest.pk])
    assert client.post(change, {**SETTINGS, "alpha": 0.05}).status_code == 403
    assert rows() == [(90, 0.001, 5, "tree_admin")]


def test_the_warnings_are_read_only_and_scoped_to_the_administrators_units(world):
    warnings = four_warnings(world)
    client = staff(world.admin)
    listed = client.get(reverse("admin:analysis_earlywarning_changelist"))
    assert listed.status_code == 200
    # A suspect's earlier cases are told only to the supervisors covering the case (analysis/policy.py).
    assert {w.pk for w in listed.context["cl"].result_list} == {
        warnings.unit_rise.pk,
        warnings.scenario_rise.pk,
        warnings.repeat_victim.pk,
    }
    page = client.get(reverse("admin:analysis_earlywarning_change", args=[warnings.unit_rise.pk]))
    assert (page.status_code, page.context["has_change_permission"]) == (200, False)
    assert (
        client.get(reverse("admin:analysis_earlywarning_change", args=[warnings.repeat_attacker.pk])).status_code == 302
    )
    assert client.get(reverse("admin:analysis_earlywarning_add")).status_code == 403
    sibling_admin = member(world.sibling_province, Role.ADMIN)
    assert (
        list(staff(sibling_admin).get(reverse("admin:analysis_earlywarning_changelist")).context["cl"].result_list)
        == []
    )
