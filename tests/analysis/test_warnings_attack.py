"""The early warnings probed from outside: who else reads a warning's notice, where a notice's link may lead, hostile
notes, stale and repeated steps, the admin site as a second door."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.selectors import actor_for
from analysis import explain, policy
from analysis.choices import WarningKind
from cases import selectors as case_selectors
from cases import services as case_services
from cases.models import Notification
from tests.analysis.warnings_dataset import four_warnings
from tests.api.conftest import token_client


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


@pytest.mark.xfail(
    strict=True,
    reason="A notice about a unit is read by whoever may report on the unit (cases.policy.unit_notices_q), "
    "administrators included; a suspect-match warning is told only to supervisors covering its case, yet its notice "
    "stays readable to one who is now only an administrator there.",
)
def test_a_suspect_match_notice_is_not_read_by_one_who_now_only_administers_the_unit(world, warnings):
    assert announce(warnings.repeat_attacker) == [world.county_supervisor.pk]
    # The county's supervisor becomes its administrator: the warning is no longer theirs to see...
    Membership.objects.filter(user=world.county_supervisor).update(role=Role.ADMIN)
    actor = actor_for(world.county_supervisor)
    assert not policy.can_see(actor, warnings.repeat_attacker)
    assert token_client(world.county_supervisor).get(f"/api/v1/warnings/{warnings.repeat_attacker.pk}/").status_code == 404
    # ...nor is its notice, which names the case and how many of its suspects match.
    assert list(case_selectors.notifications_for(actor)) == []
    response = token_client(world.county_supervisor).get("/api/v1/notifications/")
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


@pytest.mark.xfail(
    strict=True,
    reason="The constraint notification_about_case_or_unit refuses '//' but not a backslash or a tab after the "
    "first slash, which browsers read as another host; the service refuses them, the database does not.",
)
@pytest.mark.parametrize("link", HOST_IN_DISGUISE)
def test_the_database_refuses_a_notice_link_a_browser_reads_as_another_host(world, link):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=world.county_supervisor, unit=world.county, link=link, verb="x", created_at=timezone.now()
        )
    assert Notification.objects.count() == 0


def test_opening_a_notice_never_leaves_the_site(client, world, warnings):
    """Were such a link in the database (written around the service), opening the notice goes home, not elsewhere."""
    announce(warnings.unit_rise)
    Notification.objects.update(link="/\\elsewhere.example/")
    note = Notification.objects.get()
    client.force_login(world.county_supervisor)
    response = client.get(f"/notifications/{note.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/")
