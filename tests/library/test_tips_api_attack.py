"""Attacks on the guidance tips' editors' API (/api/v1/guidance/manage/), the push of a published tip, the terminals'
API and the other doors to the same rules (the editors' pages, the admin site). The tests marked "regression" failed on
the code they guard against; the others pin down what held. Every refusal changes nothing."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import Membership, Role
from cases import services as case_services
from cases.choices import NotificationKind
from cases.models import Notification
from library import notices, tasks
from library.guidance import services
from library.guidance.models import Tip, TipPush, TipRead
from tests.api.conftest import token_client
from tests.factories import build_world, member
from tests.library.conftest import proposed, submitted
from tests.library.test_services import records as library_records
from tests.library.test_tips_manage_api import M, new_tip_body, records
from tests.library.tipkit import TEXTS, draft_tip, published_tip, run_pushes, submitted_tip, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_day(monkeypatch):
    """``on_day(d)``: the local day is ``d`` from now on (the clock is the one boundary mocked)."""
    real = timezone.localdate

    def move(day):
        monkeypatch.setattr(
            timezone, "localdate", lambda value=None, tz=None: day if value is None else real(value, tz)
        )

    return move


def admin_supervisor(world):
    """An administrator of the province who also supervises the city: they may edit a city tip and approve it."""
    both = member(world.province, Role.ADMIN, username="admin_supervisor")
    account_services.grant_membership(user=both, unit=world.city, role=Role.SUPERVISOR)
    return both


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- four eyes -------------------------------------------------------------------------------------------------------


def test_a_save_that_changes_nothing_does_not_let_the_administrator_who_wrote_the_text_publish_it(world):
    """Regression. An administrator who also edits writes the tip's text into a colleague's draft; the colleague sends
    back a save that changes nothing (an empty PATCH, the page's form as it was) and submits it; the administrator
    then approved their own text. A save that changes nothing is no change: its sender does not become the last
    editor, as for the typical cases."""
    both = admin_supervisor(world)
    tip = draft_tip(world)
    mine = token_client(both).patch(f"{M}/{tip.pk}/", {"body_zh": "管理员自己写的提示正文。"}, format="json")
    assert (mine.status_code, mine.json()["last_editor"]["id"]) == (200, both.pk)
    editor = token_client(world.supervisor)
    empty = editor.patch(f"{M}/{tip.pk}/", {}, format="json")
    assert (empty.status_code, empty.json()["last_editor"]["id"]) == (200, both.pk)
    same = editor.patch(f"{M}/{tip.pk}/", {**TEXTS, "body_zh": "管理员自己写的提示正文。"}, format="json")
    assert (same.status_code, same.json()["last_editor"]["id"]) == (200, both.pk)
    tip.refresh_from_db()
    form = {
        **TEXTS,
        "body_zh": "管理员自己写的提示正文。",
        "scenarios": tip.scenarios,
        "kinds": tip.kinds,
        "priority": tip.priority,
        "valid_from": tip.valid_from.isoformat(),
        "valid_until": tip.valid_until.isoformat(),
        "version": tip.version,
    }
    assert browser(world.supervisor).post(f"/library/tips/manage/{tip.pk}/save/", form).status_code == 302
    assert Tip.objects.get(pk=tip.pk).last_editor == both
    assert editor.post(f"{M}/{tip.pk}/actions/submit/", {}, format="json").status_code == 200
    before = records()
    response = token_client(both).post(f"{M}/{tip.pk}/actions/publish/", {"scope_unit": world.city.pk}, format="json")
    assert response.status_code == 403
    assert records() == before
    assert TipPush.objects.count() == 0
    # A real change by the colleague makes them the last editor: then the administrator may approve it.
    services.return_tip(tip=Tip.objects.get(pk=tip.pk), by=world.admin, note="再改改", expected_version=None)
    changed = editor.patch(f"{M}/{tip.pk}/", {"body_zh": "同事改写后的正文。"}, format="json")
    assert changed.json()["last_editor"]["id"] == world.supervisor.pk


def test_the_author_never_publishes_their_tip_by_any_door(world):
    """Held. The author (an administrator who also edits), by the API and by the page; after a colleague's change;
    on a new tip they wrote from a published one; an administrator who last edited a colleague's tip."""
    both = admin_supervisor(world)
    own = services.create_tip(by=both, unit=world.city, data=services.TipInput(texts=TEXTS, valid_from=today()))
    services.save_tip(
        tip=own,
        by=world.supervisor,
        data=services.TipInput(texts={"body_zh": "同事改过。"}, valid_from=today()),
        expected_version=None,
    )
    own = services.submit_tip(tip=Tip.objects.get(pk=own.pk), by=world.supervisor, expected_version=None)
    live = published_tip(world)
    copy = token_client(both).post(f"{M}/{live.pk}/actions/copy/", {}, format="json").json()["id"]
    services.submit_tip(tip=Tip.objects.get(pk=copy), by=both, expected_version=None)
    edited = draft_tip(world)
    token_client(both).patch(f"{M}/{edited.pk}/", {"title_zh": "管理员改的标题"}, format="json")
    services.submit_tip(tip=Tip.objects.get(pk=edited.pk), by=world.supervisor, expected_version=None)
    before = records()
    for pk in (own.pk, copy, edited.pk):
        version = Tip.objects.get(pk=pk).version
        api = token_client(both).post(
            f"{M}/{pk}/actions/publish/", {"scope_unit": world.city.pk, "version": version}, format="json"
        )
        page = browser(both).post(
            f"/library/tips/manage/{pk}/publish/", {"scope_unit": world.city.code, "version": version}
        )
        assert (api.status_code, page.status_code) == (403, 403), pk
    assert records() == before


# --- lost updates ----------------------------------------------------------------------------------------------------


def test_a_patch_without_a_version_keeps_what_a_concurrent_save_changed(world, monkeypatch):
    """Regression. A PATCH without a version changes what it names and keeps the rest: the rest as it is when the
    change is written, not as the request read it before waiting for the tip's lock. Here a colleague's save of the
    priority and the last day commits between the two (as it would while the PATCH waits for the lock); the PATCH of
    the title must not put the old priority and last day back."""
    tip = draft_tip(world)
    real_lock = services._lock

    def colleague_saves_first(locked):
        if not getattr(colleague_saves_first, "done", False):
            colleague_saves_first.done = True
            services.save_tip(
                tip=locked,
                by=world.admin,
                data=services.TipInput(
                    texts={},
                    scenarios=["traffic"],
                    kinds=["vehicle_ramming"],
                    priority="urgent",
                    valid_from=today(),
                    valid_until=today() + timedelta(days=3),
                ),
                expected_version=None,
            )
        return real_lock(locked)

    monkeypatch.setattr(services, "_lock", colleague_saves_first)
    response = token_client(world.supervisor).patch(f"{M}/{tip.pk}/", {"title_zh": "新标题"}, format="json")
    assert response.status_code == 200
    tip.refresh_from_db()
    assert (tip.title_zh, tip.priority, tip.valid_until, tip.version) == (
        "新标题",
        "urgent",
        today() + timedelta(days=3),
        3,
    )


# --- hostile text ----------------------------------------------------------------------------------------------------

ZWSP = "\u200b"


def test_invisible_characters_never_reach_a_tip_and_an_invisible_tip_is_not_written(world):
    """Regression. A title or a text of nothing but zero-width characters passed the check that a language is written
    in full, and went out to every officer as a blank tip (a notification "New guidance tip: “”."). Invisible format
    characters and control characters (but line breaks and tabs) are taken out of what is written, as for the
    typical cases."""
    editor = token_client(world.supervisor)
    made = editor.post(
        f"{M}/",
        new_tip_body(
            world,
            title_zh=f"交通{ZWSP}查控\ufeff：不要\u2060站在\x07车辆正前方",
            body_zh="拦车检查时\u200d站在车辆侧前方。\n驾驶人拒不熄火时\t立即避让\x1b[31m。",
        ),
        format="json",
    )
    assert made.status_code == 201
    assert (made.json()["texts"]["title_zh"], made.json()["texts"]["body_zh"]) == (
        "交通查控：不要站在车辆正前方",
        "拦车检查时站在车辆侧前方。\n驾驶人拒不熄火时\t立即避让[31m。",
    )
    blank = editor.post(
        f"{M}/",
        new_tip_body(world, title_zh=ZWSP, body_zh=f"{ZWSP}\u2060\ufeff", title_en="", body_en=""),
        format="json",
    )
    assert (blank.status_code, blank.json()["texts"]) == (
        201,
        {"title_zh": "", "body_zh": "", "title_en": "", "body_en": ""},
    )
    before = records()
    sent = editor.post(f"{M}/{blank.json()['id']}/actions/submit/", {}, format="json")
    assert (sent.status_code, sent.json()["errors"]) == (
        400,
        {"title_zh": ["Write the tip in Chinese, in English or in both."]},
    )
    assert records() == before
    # The page writes through the same service.
    tip = Tip.objects.get(pk=made.json()["id"])
    form = {
        **TEXTS,
        "title_en": f"Stand{ZWSP} aside",
        "scenarios": tip.scenarios,
        "kinds": tip.kinds,
        "priority": tip.priority,
        "valid_from": tip.valid_from.isoformat(),
        "version": tip.version,
    }
    assert browser(world.supervisor).post(f"/library/tips/manage/{tip.pk}/save/", form).status_code == 302
    assert Tip.objects.get(pk=tip.pk).title_en == "Stand aside"


@pytest.mark.parametrize("breaking", ["\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1c", "\x1e"])
def test_a_title_is_written_on_one_line_whatever_breaks_it(world, breaking):
    """Regression. Only "\\n" was refused in a title: a carriage return, a line or paragraph separator, a vertical tab
    or a form feed broke the title over lines all the same (in the lists, the notifications, the training record)."""
    editor = token_client(world.supervisor)
    before = records()
    response = editor.post(f"{M}/", new_tip_body(world, title_zh=f"交通查控{breaking}第二行"), format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {"title_zh": ["Write the title on one line."]})
    assert records() == before
    tip = draft_tip(world)
    before = records()
    patched = editor.patch(f"{M}/{tip.pk}/", {"title_en": f"Line one{breaking}line two"}, format="json")
    assert (patched.status_code, patched.json()["errors"]) == (400, {"title_en": ["Write the title on one line."]})
    assert records() == before


def test_a_lone_carriage_return_in_a_text_is_a_line_break(world):
    """Regression. A lone carriage return was kept as it came (only "\\r\\n" became "\\n"): the text is stored with
    "\\n" for every break, whatever the client sent."""
    response = token_client(world.supervisor).post(
        f"{M}/", new_tip_body(world, body_en="Step aside.\rCall for backup.\r\nFilm it."), format="json"
    )
    assert response.json()["texts"]["body_en"] == "Step aside.\nCall for backup.\nFilm it."


# --- the typical cases share the same writing rule (library/review.py ``written_text``) ------------------------------


@pytest.mark.parametrize("breaking", ["\r", "\u2028", "\x0b", "\x85"])
def test_a_typical_cases_title_is_written_on_one_line_whatever_breaks_it(lib, breaking):
    """Regression. The typical cases' titles had the same gap: only "\\n" was refused."""
    writeup = proposed(lib)
    before = library_records()
    response = token_client(lib.editor).patch(
        f"/api/v1/library/manage/{writeup.pk}/", {"title_zh": f"处警时遭驾车冲撞{breaking}第二行"}, format="json"
    )
    assert (response.status_code, response.json()["errors"]) == (400, {"title_zh": ["Write the title on one line."]})
    assert library_records() == before


# --- double clicks: two requests at once against PostgreSQL ----------------------------------------------------------


def at_once(*calls):
    """Run ``calls`` in threads released together; their answers' status codes, in the order of ``calls``."""
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(n, call):
        try:
            start.wait(timeout=30)
            answers[n] = call().status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_approvers_publishing_at_once_publish_once_and_push_once(postgres_only):
    """Held. Two administrators (or one double click) publish the same tip at once: one publication, one push, each
    officer told once; the other is refused for its stale version."""
    world = build_world()
    other = member(world.province, Role.ADMIN, username="admin2")
    body = {"scope_unit": world.city.pk, "version": 2}
    for _twice in range(2):
        tip = submitted_tip(world)
        url = f"{M}/{tip.pk}/actions/publish/"
        first, second = token_client(world.admin), token_client(other)
        answers = at_once(
            lambda first=first, url=url: first.post(url, body, format="json"),
            lambda second=second, url=url: second.post(url, body, format="json"),
        )
        assert sorted(answers) == [200, 412]
        tip.refresh_from_db()
        assert (tip.state, tip.version, TipPush.objects.filter(tip=tip).count()) == ("published", 3, 1)
        assert tip.events.filter(step="published").count() == 1
    run_pushes()  # (what the request's own push, run once the publication committed, did not tell)
    told = list(Notification.objects.filter(kind=NotificationKind.GUIDANCE).values_list("recipient", "params__tip"))
    assert len(told) == len(set(told)) == 8


@pytest.mark.django_db(transaction=True)
def test_two_new_tips_from_one_and_two_submissions_at_once_make_one_each(postgres_only):
    """Held. A double click on "write a new tip from it" makes one draft (two would both go out, each pushed to every
    officer); on "send for approval", one submission."""
    world = build_world()
    live = published_tip(world)
    editor, admin = token_client(world.supervisor), token_client(world.admin)
    url = f"{M}/{live.pk}/actions/copy/"
    answers = at_once(lambda: editor.post(url, {}, format="json"), lambda: admin.post(url, {}, format="json"))
    assert sorted(answers) == [201, 400]
    assert Tip.objects.filter(replaces=live).count() == 1
    draft = draft_tip(world)
    url = f"{M}/{draft.pk}/actions/submit/"
    answers = at_once(lambda: editor.post(url, {}, format="json"), lambda: admin.post(url, {}, format="json"))
    assert sorted(answers) == [200, 409]
    draft.refresh_from_db()
    assert (draft.state, draft.version, draft.events.filter(step="submitted").count()) == ("submitted", 2, 1)


@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_sent_twice_at_once_writes_one_tip(postgres_only):
    """Held. A terminal's retry racing its first request, with the same key: one tip, both answered with it."""
    world = build_world()
    editor = token_client(world.supervisor)
    body = new_tip_body(world)

    def send():
        return editor.post(f"{M}/", body, format="json", HTTP_IDEMPOTENCY_KEY="double-click-1")

    assert at_once(send, send) == [201, 201]
    assert Tip.objects.count() == 1


# --- mass assignment, content types, scope -----------------------------------------------------------------------


def test_what_the_workflow_decides_is_never_written_from_a_body(world):
    """Held. The state, the author, the approver, the dates of the workflow, the version, the unit of a draft and the
    subtree it is read in are refused as fields (400) on every write, and nothing changes."""
    editor, approver = token_client(world.supervisor), token_client(world.admin)
    tip, sent = draft_tip(world), submitted_tip(world)
    forged = {
        "state": "published",
        "author": world.admin.pk,
        "last_editor": world.admin.pk,
        "approved_by": world.admin.pk,
        "published_at": "2026-01-01T00:00:00Z",
        "scope_path": "/000000/",
        "scope_unit": world.ministry.pk,
        "replaces": 1,
        "id": 999,
    }
    for name, value in forged.items():
        before = records()
        made = editor.post(f"{M}/", new_tip_body(world, **{name: value}), format="json")
        patched = editor.patch(f"{M}/{tip.pk}/", {"title_zh": "改", name: value}, format="json")
        assert (made.status_code, made.json()["errors"]) == (400, {name: ["A guidance tip has no such field."]})
        assert (patched.status_code, patched.json()["errors"]) == (400, {name: ["A guidance tip has no such field."]})
        assert records() == before, name
    for body in ({"unit": world.ministry.pk}, {"version": 1, "unit": world.county.pk}):
        before = records()
        assert editor.patch(f"{M}/{tip.pk}/", body, format="json").status_code == 400
        assert records() == before
    assert editor.post(f"{M}/", new_tip_body(world, version=5), format="json").status_code == 400
    before = records()
    published = approver.post(
        f"{M}/{sent.pk}/actions/publish/",
        {"scope_unit": world.city.pk, "approved_by": world.supervisor.pk, "state": "withdrawn"},
        format="json",
    )
    assert (published.status_code, sorted(published.json()["errors"])) == (400, ["approved_by", "state"])
    assert records() == before


def test_only_json_is_read(world):
    """Held. A form or a multipart body (what a cross-site form could send) is refused unread (415)."""
    editor = token_client(world.supervisor)
    tip = draft_tip(world)
    before = records()
    assert editor.post(f"{M}/", new_tip_body(world)).status_code == 415
    assert editor.post(f"{M}/", new_tip_body(world), format="multipart").status_code == 415
    form = "title_zh=x&version=1"
    assert editor.patch(f"{M}/{tip.pk}/", form, content_type="application/x-www-form-urlencoded").status_code == 415
    assert editor.post(f"{M}/{tip.pk}/actions/submit/", "version=1", content_type="text/plain").status_code == 415
    assert records() == before


def test_a_tip_out_of_scope_answers_exactly_as_one_that_does_not_exist(world):
    """Held. A supervisor or administrator of another province, a supervisor of a unit below the tip's: every
    endpoint and step answers an existing tip they do not manage exactly as an id that exists nowhere (404, the same
    body); an officer is refused (403) alike for both, before any lookup. Nothing changes."""
    live, sent, draft = published_tip(world), submitted_tip(world), draft_tip(world)
    hubei_admin = member(world.sibling_province, Role.ADMIN, username="hubei_admin")
    missing = Tip.objects.order_by("-pk").first().pk + 1000
    requests = [("get", "", None), ("patch", "", {"title_zh": "x"})] + [
        ("post", f"actions/{action}/", {"note": "x", "scope_unit": world.city.pk})
        for action in ("submit", "return", "publish", "withdraw", "copy")
    ]
    for who, expected in (
        (hubei_admin, 404),
        (world.sibling_supervisor, 404),
        (world.county_supervisor, 404),
        (world.officer, 403),
    ):
        client = token_client(who)
        for method, tail, body in requests:
            for tip in (live, sent, draft):
                before = records()
                seen = getattr(client, method)(f"{M}/{tip.pk}/{tail}", body, format="json")
                unseen = getattr(client, method)(f"{M}/{missing}/{tail}", body, format="json")
                assert (seen.status_code, seen.json()) == (unseen.status_code, unseen.json()), (who, method, tail)
                assert seen.status_code == expected
                assert records() == before


def test_a_tip_is_written_for_a_unit_one_covers_only(world):
    """Held. For a unit below one's own (201), never for a sibling's or one above (403), and nothing is written."""
    editor = token_client(world.supervisor)
    assert editor.post(f"{M}/", new_tip_body(world, unit=world.county.pk), format="json").status_code == 201
    for unit in (world.province, world.sibling_station, world.ministry):
        before = records()
        assert editor.post(f"{M}/", new_tip_body(world, unit=unit.pk), format="json").status_code == 403
        assert records() == before
    sent = submitted_tip(world)
    approver = token_client(world.admin)
    for scope in (world.sibling_station.pk, world.province.pk, 2**31 - 1):
        before = records()
        refused = approver.post(
            f"{M}/{sent.pk}/actions/publish/", {"scope_unit": scope, "version": sent.version}, format="json"
        )
        assert (refused.status_code, refused.json()["errors"]) == (
            400,
            {"scope_unit": ["Publish to the tip's unit or to a unit below it."]},
        )
        assert records() == before


def test_an_idempotency_key_is_the_callers_own_and_holds_one_body(world):
    """Held. The same key from another account is another request (its own tip, never the first caller's answer);
    the same key with another body is refused (422) and writes nothing."""
    editor, other = token_client(world.supervisor), token_client(world.county_supervisor)
    first = editor.post(f"{M}/", new_tip_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    before = records()
    changed = editor.post(f"{M}/", new_tip_body(world, title_zh="另一条"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (changed.status_code, changed.json()["code"]) == (422, "idempotency_key_reused")
    assert records() == before
    theirs = other.post(f"{M}/", new_tip_body(world, unit=world.county.pk), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]
    assert theirs.json()["author"]["id"] == world.county_supervisor.pk
    # And a stranger's key never replays another account's tip to them.
    stranger = token_client(world.sibling_supervisor)
    refused = stranger.post(f"{M}/", new_tip_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert refused.status_code == 403


# --- the terminals' API ----------------------------------------------------------------------------------------------


def test_a_terminal_is_never_served_a_tip_not_in_force_for_its_officer(world):
    """Held. A draft, a tip awaiting approval, a withdrawn, an expired and a future tip, one of another province and
    one of a station the officer left: never in the list, never by id (404, as an id that does not exist), and a
    terminal holding the list's ETag from before the withdrawal is answered in full, without the tip."""
    terminal = token_client(world.officer)
    draft, sent = draft_tip(world), submitted_tip(world)
    expired = published_tip(world)
    # (Published a while ago: its last day has passed since.)
    Tip.objects.filter(pk=expired.pk).update(
        valid_from=today() - timedelta(days=5), valid_until=today() - timedelta(days=1)
    )
    future = published_tip(world, valid_from=today() + timedelta(days=1), valid_until=None)
    hubei = services.create_tip(
        by=world.admin, unit=world.province, data=services.TipInput(texts=TEXTS, valid_from=today())
    )
    Tip.objects.filter(pk=hubei.pk).update(unit=world.sibling_province)
    left = published_tip(world, scope=world.other_station)
    account_services.grant_membership(user=world.officer, unit=world.other_station, role=Role.OFFICER)
    live = published_tip(world)
    listed = token_client(world.officer).get("/api/v1/guidance/")
    assert sorted(t["id"] for t in listed.json()["results"]) == sorted([live.pk, left.pk])
    account_services.revoke_membership(membership=Membership.objects.get(user=world.officer, unit=world.other_station))
    terminal = token_client(world.officer)  # (a change of roles ends the terminal's token: it logs in again)
    services.withdraw_tip(tip=live, by=world.admin, note="撤回", expected_version=live.version)
    again = terminal.get("/api/v1/guidance/", HTTP_IF_NONE_MATCH=listed["ETag"])
    assert (again.status_code, again.json()["results"]) == (200, [])
    missing = Tip.objects.order_by("-pk").first().pk + 1000
    nowhere = terminal.get(f"/api/v1/guidance/{missing}/")
    for tip in (draft, sent, expired, future, hubei, left, live):
        answer = terminal.get(f"/api/v1/guidance/{tip.pk}/")
        assert (answer.status_code, answer.json()) == (404, nowhere.json()), tip.pk
    assert not TipRead.objects.exists()


# --- the push --------------------------------------------------------------------------------------------------------


def test_the_push_tells_the_subtree_as_it_is_when_each_chunk_is_written(world, monkeypatch):
    """Held. Officers of a sibling unit or another province are never told; an account switched off or an officer who
    left the subtree while the push runs is not told after that; one who joined meanwhile is (a later id); the
    approver is not; a run that dies mid-chunk tells its chunk no one, and the retry tells each officer once. The
    notification names the tip by its title in the reader's language and nothing else."""
    extra = [member(world.station, Role.OFFICER, username=f"patrol{n}") for n in range(4)]
    tip = published_tip(world, scope=world.county, priority="urgent")
    push = TipPush.objects.get(tip=tip)
    monkeypatch.setattr(notices, "PUSH_CHUNK", 2)
    real = case_services.notify_members
    calls: list[list[int]] = []

    def meanwhile(**kwargs):
        calls.append(list(kwargs["recipients"]))
        if len(calls) == 1:
            account_services.deactivate_user(user=extra[2])
            account_services.revoke_membership(membership=Membership.objects.get(user=extra[3]))
            member(world.other_station, Role.OFFICER, username="newcomer")
        if len(calls) == 2:
            real(**kwargs)
            raise ConnectionError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(case_services, "notify_members", meanwhile)
    with pytest.raises(ConnectionError):
        tasks.push_tip(push.pk)
    tasks.push_tip(push.pk)
    told = sorted(
        Notification.objects.filter(kind=NotificationKind.GUIDANCE).values_list("recipient__username", flat=True)
    )
    assert told == sorted(["county_supervisor", "officer", "other_officer", "patrol0", "patrol1", "newcomer"])
    note = Notification.objects.get(kind=NotificationKind.GUIDANCE, recipient=world.officer)
    with translation.override("en"):
        assert note.text == f"Urgent guidance tip: “{TEXTS['title_en']}”. Read it before your next call-out."
    with translation.override("zh-hans"):
        assert note.text == f"紧急勤务提示：“{TEXTS['title_zh']}”。请在下次出警前阅读。"
    assert set(note.params) == {"tip", "priority", "title_zh", "title_en", "topic", "v"}


# --- the admin site --------------------------------------------------------------------------------------------------


def test_the_admin_site_has_no_door_to_the_tips(world):
    """Held. Neither the tips nor their pushes, events or reads are in the admin site, even for a superuser: no way
    around the workflow, four eyes or the push's marks."""
    superuser = member(world.ministry, Role.ADMIN, username="root", is_staff=True, is_superuser=True)
    tip = published_tip(world)
    client = browser(superuser)
    assert client.get("/admin/").status_code == 200
    for path in (
        "/admin/library/",
        "/admin/library/tip/",
        f"/admin/library/tip/{tip.pk}/change/",
        "/admin/library/tip/add/",
        "/admin/library/tippush/",
        "/admin/library/tipevent/",
        "/admin/library/tipread/",
    ):
        assert client.get(path).status_code == 404, path
    before = records()
    assert client.post(f"/admin/library/tip/{tip.pk}/change/", {"state": "draft"}).status_code == 404
    assert records() == before


def test_a_tip_published_before_its_first_day_is_pushed_on_that_day(
    world, on_day, settings, django_capture_on_commit_callbacks
):
    """Regression. A tip published today to hold from next Monday told every officer at once, with a link to a tip
    they could not open (404 until its first day). Its push waits: on the first day the hourly job starts it, and each
    officer is told once, of a tip they can open."""
    start = today() + timedelta(days=3)
    tip = published_tip(world, valid_from=start, valid_until=None)
    push = TipPush.objects.get(tip=tip)
    assert tasks.push_tip(push.pk) == 0
    push.refresh_from_db()
    assert (push.told, push.finished_at) == (0, None)
    assert not Notification.objects.filter(kind=NotificationKind.GUIDANCE).exists()
    # The hourly job before the first day starts nothing; on it, the push (in-process here, without a broker).
    assert tasks.start_due_pushes() == 0
    on_day(start)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.start_due_pushes() == 1
    assert tasks.start_due_pushes() == 0  # (once a day at most: the push is finished anyway)
    push.refresh_from_db()
    assert (push.told, push.finished_at is not None) == (4, True)
    note = Notification.objects.get(kind=NotificationKind.GUIDANCE, recipient=world.officer)
    opened = browser(world.officer).get(f"/notifications/{note.pk}/", follow=True)
    assert (opened.status_code, opened.redirect_chain[-1][0]) == (200, f"/library/tips/{tip.pk}/")
    assert settings.CELERY_BEAT_SCHEDULE["start-due-tip-pushes"] == {
        "task": "library.start_due_pushes",
        "schedule": 3600.0,
        "kwargs": {"period": 3600.0},
        "options": {"expires": 3600.0},
    }


def test_a_future_tip_withdrawn_before_its_first_day_is_pushed_to_no_one(
    world, on_day, django_capture_on_commit_callbacks
):
    tip = published_tip(world, valid_from=today() + timedelta(days=2), valid_until=None)
    services.withdraw_tip(tip=tip, by=world.admin, note="取消", expected_version=tip.version)
    on_day(today() + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.start_due_pushes() == 1
    assert TipPush.objects.get(tip=tip).finished_at is not None
    assert not Notification.objects.filter(kind=NotificationKind.GUIDANCE).exists()


# --- an approval names the version approved -------------------------------------------------------------------------


def test_an_approver_publishes_only_the_version_they_read(world):
    """Regression. An approver read a tip awaiting approval; a second administrator returned it, its writer rewrote it
    and sent it back; the first approver's publish without a version then sent the rewritten text, which no one but
    its writer had read, to every officer under the first approver's name. Over the API, as on the editors' page, an
    approval names the version approved: without one (or with "*") it is refused (428), with an old one 412."""
    other_admin = member(world.province, Role.ADMIN, username="admin2")
    tip = submitted_tip(world)
    approver = token_client(world.admin)
    read = approver.get(f"{M}/{tip.pk}/")
    assert read.json()["texts"]["body_zh"] == TEXTS["body_zh"]
    services.return_tip(tip=tip, by=other_admin, note="请补充", expected_version=tip.version)
    editor = token_client(world.supervisor)
    assert editor.patch(f"{M}/{tip.pk}/", {"body_zh": "改写后无人审过的正文。"}, format="json").status_code == 200
    assert editor.post(f"{M}/{tip.pk}/actions/submit/", {}, format="json").status_code == 200
    url = f"{M}/{tip.pk}/actions/publish/"
    body = {"scope_unit": world.city.pk}
    before = records()
    for headers in ({}, {"HTTP_IF_MATCH": "*"}):
        refused = approver.post(url, body, format="json", **headers)
        assert (refused.status_code, refused.json()) == (
            428,
            {
                "code": "version_required",
                "detail": 'Approving needs the version you read and approve: send it as "version" in the body or in '
                "If-Match.",
            },
        )
    stale = approver.post(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert stale.status_code == 412
    assert records() == before
    assert TipPush.objects.count() == 0
    current = approver.get(f"{M}/{tip.pk}/")
    assert approver.post(url, body, format="json", HTTP_IF_MATCH=current["ETag"]).status_code == 200


def test_a_typical_case_is_published_only_in_the_version_read(lib):
    """Regression. The same over the typical cases' API, which shares the step (library/api/managed.py)."""
    writeup = submitted(lib)
    approver = token_client(lib.approver)
    url = f"/api/v1/library/manage/{writeup.pk}/actions/publish/"
    before = library_records()
    refused = approver.post(url, {"scope_unit": lib.world.city.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (428, "version_required")
    assert library_records() == before
    published = approver.post(url, {"scope_unit": lib.world.city.pk, "version": writeup.version}, format="json")
    assert (published.status_code, published.json()["state"]) == (200, "published")


def test_a_replaced_tip_is_not_written_anew_beside_its_replacement(world):
    """Regression. A tip replaced by a published tip is withdrawn; writing a new tip from the withdrawn one (an old
    page, a second editor) and publishing it left both new tips in force, each pushed to every officer, the second
    from the older text. While its replacement is published, the new tip is written from the replacement."""
    old = published_tip(world)
    editor = token_client(world.supervisor)
    first = editor.post(f"{M}/{old.pk}/actions/copy/", {}, format="json").json()["id"]
    replacement = services.submit_tip(tip=Tip.objects.get(pk=first), by=world.supervisor, expected_version=None)
    services.publish_tip(tip=replacement, by=world.admin, scope_unit=world.city, expected_version=replacement.version)
    assert Tip.objects.get(pk=old.pk).state == "withdrawn"
    before = records()
    again = editor.post(f"{M}/{old.pk}/actions/copy/", {}, format="json")
    assert (again.status_code, again.json()["errors"]) == (
        400,
        {"non_field_errors": [f"Tip no. {first} replaced this one: write the new tip from it."]},
    )
    assert records() == before
    page = browser(world.supervisor).post(f"/library/tips/manage/{old.pk}/copy/", {"version": old.version + 1})
    assert page.status_code == 400
    assert records() == before
    # Nor from a tip replaced twice over (its replacement replaced in turn): the one in force is named.
    second = editor.post(f"{M}/{first}/actions/copy/", {}, format="json").json()["id"]
    latest = services.submit_tip(tip=Tip.objects.get(pk=second), by=world.supervisor, expected_version=None)
    services.publish_tip(tip=latest, by=world.admin, scope_unit=world.city, expected_version=latest.version)
    before = records()
    for replaced in (old.pk, first):
        refused = editor.post(f"{M}/{replaced}/actions/copy/", {}, format="json")
        assert refused.json()["errors"] == {
            "non_field_errors": [f"Tip no. {second} replaced this one: write the new tip from it."]
        }
    assert records() == before
    # Once the one in force is withdrawn (not replaced), an older tip may be written anew.
    services.withdraw_tip(tip=latest, by=world.admin, note="暂停", expected_version=None)
    assert editor.post(f"{M}/{old.pk}/actions/copy/", {}, format="json").status_code == 201


def test_a_typical_case_step_takes_nothing_the_workflow_decides_from_its_body(lib):
    """Held. The typical cases' steps read only their own fields: a state, an approver or a published version sent
    along is ignored (the step's own result stands), and the draft's PATCH refuses such fields outright (400)."""
    writeup = submitted(lib)
    before = library_records()
    forged = {"state": "withdrawn", "approved_by": lib.editor.pk, "last_editor": lib.approver.pk, "listed": False}
    refused = token_client(lib.editor).patch(f"/api/v1/library/manage/{writeup.pk}/", forged, format="json")
    assert refused.status_code == 400
    assert library_records() == before
    published = token_client(lib.approver).post(
        f"/api/v1/library/manage/{writeup.pk}/actions/publish/",
        {"scope_unit": lib.world.city.pk, "version": writeup.version, **forged},
        format="json",
    )
    assert published.status_code == 200
    writeup.refresh_from_db()
    assert (writeup.state, writeup.listed, writeup.published_version.approved_by, writeup.last_editor) == (
        "published",
        True,
        lib.approver,
        lib.editor,
    )
