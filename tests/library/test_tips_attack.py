"""Attacks on the guidance tips, their terminal API, the offline reader and the training record: each test failed on
the code it guards against, and changes nothing it was refused."""

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, Role
from cases.models import Notification
from library.guidance import services
from library.guidance.models import Tip, TipEvent
from tests.library.test_pwa import page, run_worker
from tests.library.test_tips_api import URL, back_in_time, terminal
from tests.library.tipkit import TEXTS, published_tip, run_pushes, today

pytestmark = pytest.mark.django_db


def test_a_terminal_syncing_by_date_loses_the_tips_of_a_unit_its_officer_left(world):
    """An officer moved out of the subtree a tip was published to no longer has it: his terminal, syncing by
    If-Modified-Since, is answered in full (not 304), and the tip is not in the answer."""
    account_services.grant_membership(user=world.officer, unit=world.sibling_station, role=Role.OFFICER)
    Membership.objects.update(created_at=timezone.now() - timedelta(days=1))
    tip = back_in_time(published_tip(world, scope=world.station))
    first = terminal(world.officer).get(URL)
    assert [t["id"] for t in first.json()["results"]] == [tip.pk]
    account_services.revoke_membership(membership=Membership.objects.get(user=world.officer, unit=world.station))
    after = terminal(world.officer).get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert after.status_code == 200
    assert after.json()["results"] == []


def test_a_tips_texts_keep_no_bidirectional_override_to_turn_the_words_around_them(world):
    """A right-to-left override in a title would turn around the sentence a notification wraps it in, and the cells
    after it in the training record: the tip keeps its words, without the invisible controls."""
    tip = published_tip(
        world,
        texts={**TEXTS, "title_en": "Check \u202eeht elcihev\u202c now", "body_en": "Step \u2067aside\u2069 at once."},
    )
    tip.refresh_from_db()
    assert (tip.title_en, tip.body_en, tip.title_zh) == (
        "Check eht elcihev now",
        "Step aside at once.",
        TEXTS["title_zh"],
    )
    assert run_pushes() == 4
    notice = Notification.objects.filter(recipient=world.officer).get()
    assert notice.params["title_en"] == "Check eht elcihev now"


def test_offline_a_tip_past_its_last_day_is_no_longer_shown_from_its_copy(tmp_path, world):
    """The server says until when a tip's copy (and a list's) may be shown; offline, the worker shows it no longer
    after that and deletes it, so an expired tip is never read as in force."""
    tip = published_tip(world, valid_until=today())
    lasting = published_tip(world, valid_until=None)
    client = Client()
    client.force_login(world.officer)
    end = int(timezone.make_aware(datetime.combine(today() + timedelta(days=1), time.min)).timestamp())
    for path in (f"/library/tips/{tip.pk}/", "/library/tips/", f"/api/v1/guidance/{tip.pk}/", "/api/v1/guidance/"):
        assert client.get(path)["X-RightsGuard-Offline-Until"] == str(end)
    assert "X-RightsGuard-Offline-Until" not in client.get(f"/library/tips/{lasting.pk}/")
    results = run_worker(
        tmp_path,
        [
            {"path": "/library/tips/3/", "network": {**page(header="alice", body="tip 3"), "until": 1}},
            {"path": "/library/tips/4/", "network": {**page(header="alice", body="tip 4"), "until": 4102444800}},
            {"path": "/library/tips/3/", "navigate": True, "network": {"offline": True}},
            {"path": "/library/tips/4/", "navigate": True, "network": {"offline": True}},
        ],
    )
    assert [(r["status"], r["body"]) for r in results[2:]] == [(503, ""), (200, "tip 4")]
    assert results[-1]["caches"] == {"rightsguard-library-reader-alice": ["/library/tips/4/"]}


def test_a_tip_is_not_written_anew_twice_at_once_so_two_replacements_never_both_go_out(world):
    """Two editors (or two tabs) writing a new tip from the same one would both publish, each pushed to every officer:
    while one new tip from it is open, a second is refused and nothing is written."""
    tip = published_tip(world)
    first = services.copy_tip(tip=tip, by=world.supervisor)
    before = (Tip.objects.count(), TipEvent.objects.count())
    with pytest.raises(ValidationError):
        services.copy_tip(tip=tip, by=world.admin)
    assert (Tip.objects.count(), TipEvent.objects.count()) == before
    assert Tip.objects.filter(replaces=tip).get() == first


def test_the_second_new_tip_from_the_editors_page_is_refused_with_the_reason(world):
    tip = published_tip(world)
    client = Client()
    client.force_login(world.supervisor)
    url = f"/library/tips/manage/{tip.pk}/copy/"
    assert client.post(url, {"version": tip.version}).status_code == 302
    before = (Tip.objects.count(), TipEvent.objects.count())
    again = client.post(url, {"version": tip.version})
    assert again.status_code == 400
    number = Tip.objects.get(replaces=tip).pk
    assert f"A new tip from this one is already being written (no. {number})" in again.content.decode()
    assert (Tip.objects.count(), TipEvent.objects.count()) == before
