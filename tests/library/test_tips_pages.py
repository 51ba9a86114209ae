"""The tips' pages (library/guidance/views.py): the readers' list and page on a phone, both languages, the editors'
pages with a stale form kept with what was typed, four eyes on the page, and query counts that do not grow with the
rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from library.guidance.models import Tip, TipRead
from tests.library.tipkit import TEXTS, draft_tip, published_tip, submitted_tip, today

pytestmark = pytest.mark.django_db


def browser(user: User, language: str = "en") -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def rows() -> tuple:
    return tuple(Tip.objects.order_by("pk").values_list("pk", "state", "version", "title_zh", "body_zh"))


def test_an_officer_reads_the_tips_in_force_and_opens_one(world):
    tip = published_tip(world, priority="urgent")
    client = browser(world.other_officer)
    page = client.get("/library/tips/")
    text = page.content.decode()
    assert page.status_code == 200
    assert TEXTS["title_en"] in text
    assert 'tip-priority">Urgent<' in text
    assert f'href="/library/tips/{tip.pk}/"' in text
    detail = client.get(f"/library/tips/{tip.pk}/")
    assert detail.status_code == 200
    assert f'<div class="writeup-text" id="tip-body">{TEXTS["body_en"]}</div>' in detail.content.decode()
    assert 'name="viewport"' in detail.content.decode()
    client.get(f"/library/tips/{tip.pk}/")
    assert list(TipRead.objects.values_list("reader_id", "unit_id")) == [
        (world.other_officer.pk, world.other_station.pk)
    ]


def test_a_chinese_reader_reads_the_chinese_text(world):
    tip = published_tip(world)
    text = browser(world.officer, "zh-hans").get(f"/library/tips/{tip.pk}/").content.decode()
    assert TEXTS["body_zh"] in text
    assert TEXTS["body_en"] not in text
    assert 'lang="zh-Hans"' in text


def test_a_tip_written_in_one_language_says_so_to_the_other(world):
    tip = published_tip(world, texts={"title_zh": "只有中文", "body_zh": "只有中文的要点。"})
    text = browser(world.officer, "en").get(f"/library/tips/{tip.pk}/").content.decode()
    assert "This tip is written in Chinese only." in text
    assert "只有中文的要点。" in text


def test_readers_outside_the_scope_or_the_validity_get_404_and_those_without_a_unit_403(world):
    tip = published_tip(world)
    ended = published_tip(world, valid_until=today() + timedelta(days=3))
    Tip.objects.filter(pk=ended.pk).update(
        valid_from=today() - timedelta(days=5), valid_until=today() - timedelta(days=1)
    )
    assert browser(world.sibling_officer).get(f"/library/tips/{tip.pk}/").status_code == 404
    assert browser(world.officer).get(f"/library/tips/{ended.pk}/").status_code == 404
    assert f"/library/tips/{tip.pk}/" not in browser(world.sibling_officer).get("/library/tips/").content.decode()
    nobody = User.objects.create_user(username="nobody", password="x")
    assert browser(nobody).get("/library/tips/").status_code == 403
    assert TipRead.objects.count() == 0


def test_the_readers_list_takes_the_same_queries_for_two_tips_or_eight(world):
    def count() -> int:
        client = browser(world.officer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/library/tips/").status_code == 200
        return len(queries)

    for _n in range(2):
        published_tip(world)
    two = count()
    for _n in range(6):
        published_tip(world)
    assert count() == two


def test_the_editors_list_takes_the_same_queries_for_two_tips_or_eight(world):
    def count() -> int:
        client = browser(world.supervisor)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/library/tips/manage/").status_code == 200
        return len(queries)

    for _n in range(2):
        published_tip(world)
    two = count()
    for _n in range(6):
        draft_tip(world)
    assert count() == two


def test_a_supervisor_writes_a_tip_sends_it_and_an_administrator_publishes_it(world):
    writer = browser(world.supervisor)
    form = writer.get("/library/tips/new/")
    assert form.status_code == 200
    assert 'type="date"' in form.content.decode()
    created = writer.post(
        "/library/tips/new/",
        {
            **TEXTS,
            "unit": world.city.code,
            "scenarios": ["traffic", "call_110"],
            "priority": "high",
            "valid_from": today().isoformat(),
        },
    )
    tip = Tip.objects.get()
    assert (created.status_code, created["Location"]) == (302, f"/library/tips/manage/{tip.pk}/")
    assert (tip.unit, tip.scenarios, tip.priority, tip.valid_until) == (
        world.city,
        ["traffic", "call_110"],
        "high",
        None,
    )
    sent = writer.post(f"/library/tips/manage/{tip.pk}/submit/", {"version": tip.version})
    assert sent.status_code == 302
    approver = browser(world.admin)
    page = approver.get(f"/library/tips/manage/{tip.pk}/").content.decode()
    assert "Approve and publish" in page
    published = approver.post(
        f"/library/tips/manage/{tip.pk}/publish/", {"version": tip.version + 1, "scope_unit": world.county.code}
    )
    assert published.status_code == 302
    tip.refresh_from_db()
    assert (tip.state, tip.scope_unit, tip.approved_by) == ("published", world.county, world.admin)


def test_a_new_tip_for_a_unit_one_does_not_hold_is_refused_and_nothing_is_written(world):
    response = browser(world.county_supervisor).post(
        "/library/tips/new/",
        {**TEXTS, "unit": world.city.code, "priority": "high", "valid_from": today().isoformat()},
    )
    assert response.status_code == 400
    assert Tip.objects.count() == 0
    assert TEXTS["body_zh"] in response.content.decode()  # what was typed is kept


def test_a_stale_form_is_refused_with_what_was_typed_kept(world):
    tip = draft_tip(world)
    writer = browser(world.supervisor)
    # Someone else saved meanwhile.
    browser(world.ministry_supervisor).post(
        f"/library/tips/manage/{tip.pk}/save/",
        {
            **TEXTS,
            "body_zh": "另一位编辑的修改。",
            "priority": "normal",
            "valid_from": today().isoformat(),
            "version": 1,
        },
    )
    before = rows()
    response = writer.post(
        f"/library/tips/manage/{tip.pk}/save/",
        {**TEXTS, "body_zh": "我的修改。", "priority": "high", "valid_from": today().isoformat(), "version": 1},
    )
    text = response.content.decode()
    assert response.status_code == 409
    assert "This tip changed after you opened it, so nothing was saved." in text
    assert "我的修改。" in text
    assert 'name="version" value="2"' in text
    assert rows() == before


def test_the_page_tells_the_writer_another_administrator_approves(world):
    tip = submitted_tip(world)
    page = browser(world.supervisor).get(f"/library/tips/manage/{tip.pk}/").content.decode()
    assert "Approve and publish" not in page
    admin_written = Tip.objects.filter(pk=tip.pk)
    admin_written.update(author=world.admin, last_editor=world.admin)
    page = browser(world.admin).get(f"/library/tips/manage/{tip.pk}/").content.decode()
    assert 'id="four-eyes"' in page
    before = rows()
    refused = browser(world.admin).post(
        f"/library/tips/manage/{tip.pk}/publish/", {"version": tip.version, "scope_unit": world.city.code}
    )
    assert refused.status_code == 403
    assert rows() == before


def test_sending_an_incomplete_tip_lists_what_is_missing(world):
    tip = draft_tip(world, texts={"title_en": "Only a title"})
    response = browser(world.supervisor).post(f"/library/tips/manage/{tip.pk}/submit/", {"version": tip.version})
    assert response.status_code == 400
    assert "Tip (English) is needed before the tip is sent on." in response.content.decode()
    assert Tip.objects.get(pk=tip.pk).state == "draft"


def test_a_new_tip_from_a_published_one_opens_as_a_draft(world):
    tip = published_tip(world)
    response = browser(world.supervisor).post(f"/library/tips/manage/{tip.pk}/copy/", {"version": tip.version})
    new = Tip.objects.exclude(pk=tip.pk).get()
    assert (response.status_code, response["Location"]) == (302, f"/library/tips/manage/{new.pk}/")
    assert (new.state, new.replaces_id) == ("draft", tip.pk)
