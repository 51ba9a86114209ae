"""The guidance API for terminals (library/api/tips.py): the tips in force in a compact shape, a strong ETag and a
Last-Modified a terminal syncs by (304 with no body while current), and what changes them: a tip published, withdrawn,
expiring or coming into force. Reading one counts the read. Never stored by a browser or a proxy."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from accounts.models import Membership, User
from library.guidance import services
from library.guidance.models import Tip, TipRead
from tests.api.conftest import token_client
from tests.library.tipkit import TEXTS, published_tip, today

pytestmark = pytest.mark.django_db

URL = "/api/v1/guidance/"


def terminal(user: User, language: str = "en"):
    client = token_client(user)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_ACCEPT_LANGUAGE=language)
    return client


def back_in_time(tip: Tip, hours: int = 2) -> Tip:
    """The tip as if published ``hours`` ago (Last-Modified has whole seconds: a change must come later)."""
    earlier = timezone.now() - timedelta(hours=hours)
    Tip.objects.filter(pk=tip.pk).update(updated_at=earlier, published_at=earlier)
    return Tip.objects.get(pk=tip.pk)


@pytest.fixture(autouse=True)
def settled(world):
    """Everyone joined their units a day ago: Last-Modified counts the reader's latest membership too."""
    Membership.objects.update(created_at=timezone.now() - timedelta(days=1))


@pytest.fixture
def on_day(monkeypatch):
    """``on_day(d)``: the local day is ``d`` from now on (the clock is the one boundary mocked)."""
    real = timezone.localdate

    def move(day):
        monkeypatch.setattr(
            timezone, "localdate", lambda value=None, tz=None: day if value is None else real(value, tz)
        )

    return move


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_the_list_is_compact_and_carries_a_strong_etag_and_last_modified(world):
    tip = back_in_time(published_tip(world, priority="urgent"))
    response = terminal(world.officer).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "results": [
            {
                "id": tip.pk,
                "version": tip.version,
                "title": TEXTS["title_en"],
                "body": TEXTS["body_en"],
                "language": "en",
                "tags": [
                    {"type": "duty_scenario", "code": "traffic", "label": "Traffic stop or check"},
                    {"type": "incident_kind", "code": "vehicle_ramming", "label": "Vehicle ramming"},
                ],
                "priority": "urgent",
                "valid_from": today().isoformat(),
                "valid_until": (today() + timedelta(days=30)).isoformat(),
                "updated_at": timezone.localtime(tip.updated_at).isoformat(),
            }
        ],
    }
    etag = response["ETag"]
    # Strong (no W/ prefix): a digest of the list's tips and versions, quoted.
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    # The latest change to the reader's tips, the reader's latest membership, or the start of the tip's first day (in
    # the first two hours of a local day, that midnight is later than the tip's change): whichever is later.
    joined = world.officer.memberships.get().created_at
    first_day = timezone.make_aware(datetime.combine(tip.valid_from, datetime.min.time()))
    assert response["Last-Modified"] == http_date(max(tip.updated_at, joined, first_day).timestamp())
    assert no_store(response)


def test_the_readers_language_chooses_the_text_and_the_etag(world):
    published_tip(world)
    chinese = terminal(world.officer, "zh-hans").get(URL)
    english = terminal(world.officer, "en").get(URL)
    assert (chinese.json()["results"][0]["title"], chinese.json()["results"][0]["language"]) == (
        TEXTS["title_zh"],
        "zh",
    )
    assert chinese["ETag"] != english["ETag"]
    assert "Accept-Language" in english["Vary"]


def test_if_none_match_and_if_modified_since_answer_304_with_no_body_while_current(world):
    back_in_time(published_tip(world))
    client = terminal(world.officer)
    first = client.get(URL)
    etag, modified = first["ETag"], first["Last-Modified"]
    again = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"], again["Last-Modified"]) == (304, b"", etag, modified)
    assert no_store(again)
    since = client.get(URL, HTTP_IF_MODIFIED_SINCE=modified)
    assert (since.status_code, since.content) == (304, b"")
    # If-None-Match wins: a stale ETag is answered in full, whatever the date says.
    stale = client.get(URL, HTTP_IF_NONE_MATCH='"stale"', HTTP_IF_MODIFIED_SINCE=modified)
    assert stale.status_code == 200
    # A date in the future is no date a copy was taken at: answered in full, as without it (and on the detail too).
    future = client.get(URL, HTTP_IF_MODIFIED_SINCE="Sat, 23 Jul 3527 17:30:26 GMT")
    assert (future.status_code, future["ETag"]) == (200, etag)


def test_a_withdrawn_tip_changes_the_etag_and_the_date(world):
    kept = back_in_time(published_tip(world))
    gone = back_in_time(published_tip(world, priority="normal"))
    client = terminal(world.officer)
    first = client.get(URL)
    assert [t["id"] for t in first.json()["results"]] == [kept.pk, gone.pk]
    services.withdraw_tip(tip=gone, by=world.supervisor, note="已过时", expected_version=gone.version)
    after = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert [t["id"] for t in after.json()["results"]] == [kept.pk]
    assert after["ETag"] != first["ETag"]
    assert client.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
    # And the terminal holding the new list is current again.
    assert client.get(URL, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_tip_past_its_last_day_leaves_the_list_and_changes_the_etag(world, on_day):
    lasting = back_in_time(published_tip(world, valid_until=None))
    ending = back_in_time(published_tip(world, valid_until=today()))
    client = terminal(world.officer)
    first = client.get(URL)
    assert {t["id"] for t in first.json()["results"]} == {lasting.pk, ending.pk}
    assert client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    on_day(today() + timedelta(days=1))
    after = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert [t["id"] for t in after.json()["results"]] == [lasting.pk]
    assert after["ETag"] != first["ETag"]
    # The list changed at the start of the day after the last one, though no row was written.
    midnight = timezone.make_aware(datetime.combine(today(), datetime.min.time()))
    assert after["Last-Modified"] == http_date(midnight.timestamp())
    assert client.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_a_tip_coming_into_force_changes_the_etag(world, on_day):
    tomorrow = today() + timedelta(days=1)
    coming = back_in_time(published_tip(world, valid_from=tomorrow))
    client = terminal(world.officer)
    first = client.get(URL)
    assert first.json()["count"] == 0
    on_day(tomorrow)
    after = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert (after.status_code, [t["id"] for t in after.json()["results"]]) == (200, [coming.pk])


def test_a_publication_changes_the_etag_for_its_readers_only(world):
    back_in_time(published_tip(world))
    officer, sibling = terminal(world.officer), terminal(world.sibling_officer)
    first, sibling_first = officer.get(URL), sibling.get(URL)
    published_tip(world, scope=world.county)
    assert officer.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert sibling.get(URL, HTTP_IF_NONE_MATCH=sibling_first["ETag"]).status_code == 304


def test_the_list_takes_the_same_queries_for_two_tips_or_eight(world):
    def count() -> tuple[int, int]:
        client = terminal(world.officer)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        return response.json()["count"], len(queries)

    for _n in range(2):
        published_tip(world)
    two = count()
    for _n in range(6):
        published_tip(world)
    eight = count()
    assert (two[0], eight[0]) == (2, 8)
    assert eight[1] == two[1]


def test_one_tip_is_read_and_its_read_counted_once(world):
    tip = back_in_time(published_tip(world))
    client = terminal(world.other_officer)
    response = client.get(f"{URL}{tip.pk}/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["body"]) == (tip.pk, TEXTS["body_en"])
    assert response["ETag"] == f'"{tip.pk}-{tip.version}-en"'
    again = client.get(f"{URL}{tip.pk}/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert (again.status_code, again.content) == (304, b"")
    assert list(TipRead.objects.values_list("reader__username", "unit__code")) == [
        ("other_officer", world.other_station.code)
    ]


def test_a_head_request_is_no_reading(world):
    tip = published_tip(world)
    response = terminal(world.officer).head(f"{URL}{tip.pk}/")
    assert (response.status_code, response["ETag"]) == (200, f'"{tip.pk}-{tip.version}-en"')
    assert TipRead.objects.count() == 0


def test_a_tip_not_in_force_for_the_caller_is_a_404_and_nobody_without_a_unit_reads_any(world, on_day):
    tip = published_tip(world, valid_until=today())
    assert terminal(world.sibling_officer).get(f"{URL}{tip.pk}/").status_code == 404
    nobody = User.objects.create_user(username="nobody", password="x")
    assert token_client(nobody).get(URL).status_code == 403
    on_day(today() + timedelta(days=1))
    assert terminal(world.officer).get(f"{URL}{tip.pk}/").status_code == 404
    withdrawn = published_tip(world)
    services.withdraw_tip(tip=withdrawn, by=world.admin, note="撤", expected_version=withdrawn.version)
    assert terminal(world.officer).get(f"{URL}{withdrawn.pk}/").status_code == 404
    assert TipRead.objects.count() == 0
    assert terminal(world.officer).get(URL).status_code == 200
