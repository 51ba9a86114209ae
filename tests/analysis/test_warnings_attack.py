"""The early warnings probed from outside: who else reads a warning's notice, where a notice's link may lead, hostile
notes, stale and repeated steps, the admin site as a second door."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, Role
from accounts.selectors import actor_for
from analysis import explain, policy, services
from analysis.choices import WarningKind
from analysis.models import EarlyWarning, WarningSettings
from analysis.warnings import Condition
from cases import notifications
from cases import selectors as case_selectors
from cases import services as case_services
from cases.choices import CaseStatus
from cases.models import Notification, NotificationPreference
from tests.analysis.test_warnings_admin import SETTINGS, staff
from tests.analysis.warnings_dataset import a_warning, four_warnings, state_of
from tests.api.conftest import token_client
from tests.factories import UserFactory, case_in, member


@pytest.fixture
def warnings(world):
    return four_warnings(world)


def announce(warning):
    """The notice the job writes with a warning (analysis/services.py ``_raise``)."""
    unit = warning.owner_unit
    return case_services.notify_unit_office(
        unit=unit,
        topic=explain.TOPIC,
        params=explain.notice_params(warning.kind, warning.figures, (unit.name, unit.name_en)),
        link=reverse("analysis:warning", args=[warning.pk]),
    )


def test_a_suspect_match_notice_is_not_read_by_one_who_now_only_administers_the_unit(world, warnings):
    assert announce(warnings.repeat_attacker) == [world.county_supervisor.pk]
    # The county's supervisor becomes its administrator: the warning is no longer theirs to see...
    Membership.objects.filter(user=world.county_supervisor).update(role=Role.ADMIN)
    actor = actor_for(world.county_supervisor)
    assert not policy.can_see(actor, warnings.repeat_attacker)
    api = token_client(world.county_supervisor)
    assert api.get(f"/api/v1/warnings/{warnings.repeat_attacker.pk}/").status_code == 404
    # ...nor is its notice, which names the case and how many of its suspects match.
    assert list(case_selectors.notifications_for(actor)) == []
    response = api.get("/api/v1/notifications/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert Notification.objects.filter(recipient=world.county_supervisor).count() == 1


# Paths a browser reads as another host: it takes a backslash for a slash, and drops tabs and line breaks.
HOST_IN_DISGUISE = ["/\\elsewhere.example/", "/\t/elsewhere.example/", "/\n/elsewhere.example/"]


@pytest.mark.parametrize("link", HOST_IN_DISGUISE)
def test_a_notice_link_a_browser_reads_as_another_host_is_refused(world, link):
    with pytest.raises(ValueError, match="page of this site"):
        case_services.notify_unit_office(unit=world.county, topic=explain.TOPIC, params={}, link=link)
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("link", HOST_IN_DISGUISE)
def test_the_database_refuses_a_notice_link_a_browser_reads_as_another_host(world, link):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=world.county_supervisor, unit=world.county, link=link, verb="x", created_at=timezone.now()
        )
    assert Notification.objects.count() == 0


def test_opening_a_notice_never_leaves_the_site(client, world, warnings):
    """Such a link cannot even be written around the service: the database refuses it, the notice keeps its own."""
    announce(warnings.unit_rise)
    note = Notification.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.update(link="/\\elsewhere.example/")
    client.force_login(world.county_supervisor)
    response = client.get(f"/notifications/{note.pk}/")
    assert (response.status_code, response["Location"]) == (302, note.link)
    assert note.link.startswith("/analysis/warnings/")


# --- hostile notes --------------------------------------------------------------------------------------------------


def test_a_resolution_of_invisible_characters_only_says_nothing_and_is_refused(world, warnings):
    warning = warnings.unit_rise
    client = token_client(world.county_supervisor)
    assert client.post(f"/api/v1/warnings/{warning.pk}/acknowledge/", {"version": 1}, format="json").status_code == 200
    before = state_of(warning)
    # Zero-width space, zero-width joiner, byte-order mark: a note nobody can read.
    response = client.post(
        f"/api/v1/warnings/{warning.pk}/resolve/", {"note": "\u200b\u200d\ufeff", "version": 2}, format="json"
    )
    assert response.status_code == 400
    assert state_of(warning) == before


def test_a_hostile_note_is_text_on_the_page_and_in_the_api(client, world, warnings):
    warning = warnings.unit_rise
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> =HYPERLINK("http://x")'
    client.force_login(world.county_supervisor)
    response = client.post(
        f"/analysis/warnings/{warning.pk}/acknowledge/", {"acknowledge-version": 1, "acknowledge-note": hostile}
    )
    assert response.status_code == 302
    body = client.get(f"/analysis/warnings/{warning.pk}/").content.decode()
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in body
    api = token_client(world.county_supervisor).get(f"/api/v1/warnings/{warning.pk}/").json()
    assert api["acknowledgement_note"] == hostile


# --- other roles and units --------------------------------------------------------------------------------------------


def test_a_county_supervisor_neither_sees_nor_acts_on_a_warning_of_the_city(client, world):
    # A case the county's supervisor sees, whose repeat victim the city's office is to look into.
    warning = a_warning(WarningKind.REPEAT_VICTIM, world.city, case=case_in(world, CaseStatus.INTAKE))
    before = state_of(warning)
    client.force_login(world.county_supervisor)
    assert client.get(f"/analysis/warnings/{warning.pk}/").status_code == 404
    assert client.post(f"/analysis/warnings/{warning.pk}/acknowledge/", {"acknowledge-version": 1}).status_code == 404
    api = token_client(world.county_supervisor)
    assert api.get(f"/api/v1/warnings/{warning.pk}/").status_code == 404
    assert api.post(f"/api/v1/warnings/{warning.pk}/acknowledge/", {}, format="json").status_code == 404
    assert warning.pk not in {row["id"] for row in api.get("/api/v1/warnings/").json()["results"]}
    assert state_of(warning) == before


def test_a_deactivated_supervisor_neither_reads_nor_acts(client, world, warnings):
    warning = warnings.unit_rise
    announce(warning)
    api = token_client(world.county_supervisor)
    world.county_supervisor.is_active = False
    world.county_supervisor.save(update_fields=["is_active"])
    before = state_of(warning)
    assert api.get(f"/api/v1/warnings/{warning.pk}/").status_code in (401, 403)
    assert api.post(f"/api/v1/warnings/{warning.pk}/acknowledge/", {}, format="json").status_code in (401, 403)
    with pytest.raises(PermissionDenied):
        services.acknowledge_warning(warning=warning, by=world.county_supervisor, expected_version=1)
    assert list(case_selectors.notifications_for(actor_for(world.county_supervisor))) == []
    assert state_of(warning) == before


def test_a_supervisor_whose_membership_was_revoked_no_longer_acts(world, warnings):
    warning = warnings.unit_rise
    api = token_client(world.county_supervisor)
    account_services.revoke_membership(membership=Membership.objects.get(user=world.county_supervisor))
    before = state_of(warning)
    # The revocation ended the terminal's token too.
    assert api.post(f"/api/v1/warnings/{warning.pk}/acknowledge/", {}, format="json").status_code == 401
    with pytest.raises(PermissionDenied):
        services.acknowledge_warning(warning=warning, by=world.county_supervisor, expected_version=1)
    assert state_of(warning) == before


# --- the job twice --------------------------------------------------------------------------------------------------


def test_a_run_that_finds_its_key_taken_meanwhile_writes_nothing(world, warnings):
    """Two runs at once: the second saw no warning for the key when it looked, and the first wrote it since."""
    taken = warnings.unit_rise
    condition = Condition(
        kind=taken.kind, severity=taken.severity, owner_unit=taken.owner_unit, key=taken.key, figures=taken.figures
    )
    assert services._raise(condition, timezone.now()) is None
    assert EarlyWarning.objects.filter(key=taken.key).count() == 1
    assert Notification.objects.count() == 0


# --- the admin site ---------------------------------------------------------------------------------------------------


def test_a_settings_form_opened_before_anothers_change_does_not_undo_it(world):
    first, second = (member(world.ministry, Role.ADMIN, username=name) for name in ("tree_admin", "tree_admin_2"))
    add = reverse("admin:analysis_warningsettings_add")
    mine, theirs = staff(first), staff(second)
    form = mine.get(add).context["adminform"].form
    opened = {**form.initial, "based_on": form["based_on"].value() or ""}  # the defaults: alpha 0.01, no row yet
    assert theirs.post(add, {**SETTINGS, "alpha": 0.001}).status_code == 302
    # The first administrator, on the form as it was opened, changes only the minimum.
    refused = mine.post(add, {**opened, "min_cases": 6})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.non_field_errors() == [
        "Another administrator changed these settings after you opened this form. Open the form again to start from "
        "the settings in force; what you typed is still shown here."
    ]
    assert list(WarningSettings.objects.order_by("changed_at", "id").values_list("alpha", "min_cases")) == [(0.001, 5)]
    # Opened again, from the settings in force, the change is saved.
    form = mine.get(add).context["adminform"].form
    again = {**form.initial, "based_on": form["based_on"].value()}
    assert again["alpha"] == 0.001
    assert mine.post(add, {**again, "min_cases": 6}).status_code == 302
    assert list(WarningSettings.objects.order_by("changed_at", "id").values_list("alpha", "min_cases")) == [
        (0.001, 5),
        (0.001, 6),
    ]


def test_a_superuser_is_not_told_of_a_suspects_earlier_cases_in_the_admin_site(client, world, warnings):
    """The admin site never shows a superuser a suspect's ID number (cases/admin.py): nor the match that rests on it."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = client.get(reverse("admin:analysis_earlywarning_changelist"))
    assert listed.status_code == 200
    assert {w.pk for w in listed.context["cl"].result_list} == {
        warnings.unit_rise.pk,
        warnings.scenario_rise.pk,
        warnings.repeat_victim.pk,
    }
    change = reverse("admin:analysis_earlywarning_change", args=[warnings.repeat_attacker.pk])
    assert client.get(change).status_code == 302  # not found: to the admin's index


def test_a_superuser_is_not_told_of_a_suspects_earlier_cases_in_the_notifications_admin(client, world, warnings):
    announce(warnings.repeat_attacker)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = client.get(reverse("admin:cases_notification_changelist"))
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == []


def test_a_notice_is_never_e_mailed_by_a_digest_or_the_retry_sweep(world, warnings, mailoutbox):
    """A notice has no event, as the stage warnings the flag digest takes have none: it must not go out with them."""
    for kind in ("flags", "stage_warnings", "notices"):
        NotificationPreference.objects.create(user=world.county_supervisor, kind=kind, delivery="daily")
    announce(warnings.unit_rise)
    before = list(Notification.objects.values_list("pk", "emailed_at", "email_attempts"))
    later = timezone.now() + timedelta(days=2)
    assert notifications.deliver_flag_digests(now=later) == 0
    assert notifications.deliver_daily_digests(now=later) == 0
    assert notifications.retry_unsent_emails(now=later)["sent"] == 0
    assert mailoutbox == []
    assert list(Notification.objects.values_list("pk", "emailed_at", "email_attempts")) == before
