"""Notices about a unit (cases/notices.py, cases/services/notices.py) and the dashboard's panels from other apps
(cases/dashboard_panels.py): the registries the apps built on the cases fill, so that cases never imports them."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from cases import dashboard_panels, messages, notices, services
from cases.choices import NotificationKind
from cases.models import Notification, NotificationPreference
from cases.services.inbox import notification_preference_errors
from tests.api.conftest import token_client


@pytest.fixture
def topic():
    """A topic worded for the test, taken away after it."""
    notices.register_topic("test_topic", lambda params: f"Unit {params['unit_code']}: {params['n']} things to see.")
    yield "test_topic"
    notices._TOPICS.pop("test_topic")


def test_the_nearest_office_is_told_in_app(world, topic):
    told = services.notify_unit_office(
        unit=world.station, topic=topic, params={"unit_code": "330106001", "n": 3}, link="/somewhere/7/"
    )
    # The station has no supervisor: the county's is its office (the city's is further up).
    assert told == [world.county_supervisor.pk]
    note = Notification.objects.get()
    assert (note.recipient, note.case, note.unit, note.link, note.kind, note.delivery) == (
        world.county_supervisor,
        None,
        world.station,
        "/somewhere/7/",
        NotificationKind.NOTICES,
        "in_app",
    )
    assert note.emailed_at is not None  # nothing to e-mail
    with translation.override("en"):
        assert note.text == "Unit 330106001: 3 things to see."
    assert note.verb == "Unit 330106001: 3 things to see."


def test_a_unit_with_no_supervisor_above_it_tells_nobody(world, topic):
    params = {"unit_code": "420100001", "n": 1}
    # The sibling station's office is its province's.
    told = services.notify_unit_office(unit=world.sibling_station, topic=topic, params=params, link="/x/")
    assert told == [world.sibling_supervisor.pk]
    Notification.objects.all().delete()
    world.ministry_supervisor.memberships.all().delete()
    world.sibling_supervisor.memberships.all().delete()
    assert services.notify_unit_office(unit=world.sibling_station, topic=topic, params=params, link="/x/") == []
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("link", ["https://elsewhere.example/", "//elsewhere.example/x/", "analysis/warnings/1/"])
def test_a_notice_links_to_a_page_of_this_site_only(world, topic, link):
    with pytest.raises(ValueError, match="page of this site"):
        services.notify_unit_office(unit=world.county, topic=topic, params={}, link=link)
    assert Notification.objects.count() == 0


def test_a_notification_is_about_a_case_or_about_a_unit_with_its_page(world):
    now = timezone.now()
    for fields in (
        {},  # about nothing
        {"unit": world.county},  # a unit without the page to open
        {"unit": world.county, "link": "https://elsewhere.example/"},  # not a path of this site
        {"unit": world.county, "link": "//elsewhere.example/"},  # nor is this
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(recipient=world.supervisor, verb="x", created_at=now, **fields)
    assert Notification.objects.count() == 0


def test_an_unregistered_topic_says_nothing_and_the_stored_text_stands_in(world, topic):
    services.notify_unit_office(unit=world.county, topic=topic, params={"unit_code": "330106", "n": 1}, link="/x/")
    note = Notification.objects.get()
    notices._TOPICS.pop(topic)
    try:
        assert messages.render(note.message, note.params) == ""
        assert note.text == "Unit 330106: 1 things to see."  # the English kept when it was made
    finally:
        notices.register_topic(topic, lambda params: "")


def test_the_dashboard_shows_each_registered_panel_and_skips_those_with_nothing(client, world):
    dashboard_panels.register_panel(
        "test.one",
        lambda actor, unit: dashboard_panels.Panel(
            key="one", title="Things", count=4, url="/things/", label="4 things. Show them."
        ),
    )
    dashboard_panels.register_panel("test.none", lambda actor, unit: None)
    try:
        client.force_login(world.supervisor)
        html = client.get("/").content.decode()
    finally:
        dashboard_panels._PROVIDERS.pop("test.one")
        dashboard_panels._PROVIDERS.pop("test.none")
    assert (
        '<div class="col" data-panel="one"><dt>Things</dt><dd><a class="dash-figure" href="/things/" '
        'aria-label="4 things. Show them.">4</a></dd></div>'
    ) in html
    assert html.count("data-panel=") == 2  # this one and the early warnings' (analysis/apps.py)


def test_notices_are_not_a_kind_one_chooses_e_mail_for(world):
    """A client asking to have them e-mailed is told why not, not that there is no such kind."""
    assert notification_preference_errors({"notices": "email"}, complete=False) == {
        "notices": "Notices about units are told in the notification list only: they are not sent by e-mail."
    }
    client = token_client(world.county_supervisor)
    response = client.patch("/api/v1/notifications/preferences/", {"notices": "daily"}, format="json")
    assert response.status_code == 400
    assert NotificationPreference.objects.count() == 0
