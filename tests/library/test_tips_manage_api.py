"""The editors' and approvers' API of the guidance tips (library/api/tips_manage.py), at /api/v1/guidance/manage/:
listing what one manages (scoped as the pages), writing a draft, reading and changing it under an If-Match or a body
version, and every step of library/guidance/workflow.py through the services the pages call. Each refusal is the
precise answer (400 by field, 403, 404 out of scope, 409 for the state, 412 for a stale copy) and changes nothing; the
terminals' endpoints beside it answer as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Role
from cases.choices import NotificationKind
from cases.models import Notification
from library.guidance.models import Tip, TipEvent, TipRead
from library.guidance.workflow import TRANSITIONS
from tests.api.conftest import token_client
from tests.factories import member
from tests.library.tipkit import TEXTS, draft_tip, published_tip, submitted_tip, today

pytestmark = pytest.mark.django_db

M = "/api/v1/guidance/manage"


def records() -> tuple:
    """Every row a request to these endpoints could write."""
    return (
        tuple(
            Tip.objects.order_by("pk").values_list(
                "pk",
                "state",
                "version",
                "title_zh",
                "body_zh",
                "title_en",
                "body_en",
                "scenarios",
                "kinds",
                "priority",
                "valid_from",
                "valid_until",
                "last_editor_id",
                "approved_by_id",
                "scope_path",
                "return_note",
                "withdrawal_note",
                "replaces_id",
            )
        ),
        TipEvent.objects.count(),
        TipRead.objects.count(),
        tuple(Notification.objects.order_by("pk").values_list("pk", "recipient_id", "kind")),
    )


def new_tip_body(world, **overrides):
    return {
        "unit": world.city.pk,
        **TEXTS,
        "scenarios": ["traffic"],
        "kinds": ["vehicle_ramming"],
        "priority": "high",
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=30)).isoformat(),
        **overrides,
    }


# --- the whole way through -------------------------------------------------------------------------------------------


def test_a_tip_is_written_changed_sent_published_withdrawn_and_copied_over_the_api(
    world, django_capture_on_commit_callbacks
):
    editor, approver = token_client(world.supervisor), token_client(world.admin)
    made = editor.post(f"{M}/", new_tip_body(world, title_en="Draft title"), format="json")
    assert made.status_code == 201
    body = made.json()
    pk = body["id"]
    tip = Tip.objects.get(pk=pk)
    assert made["ETag"] == '"1"'
    assert body == {
        "id": pk,
        "state": "draft",
        "version": 1,
        "unit": {"id": world.city.pk, "code": "330100", "name": "杭州市公安局", "display_name": "杭州市公安局"},
        "texts": {**TEXTS, "title_en": "Draft title"},
        "scenarios": ["traffic"],
        "kinds": ["vehicle_ramming"],
        "priority": "high",
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=30)).isoformat(),
        "author": {"id": world.supervisor.pk, "name": world.supervisor.full_name},
        "created_at": body["created_at"],
        "last_editor": {"id": world.supervisor.pk, "name": world.supervisor.full_name},
        "edited_at": body["edited_at"],
        "submitted_at": None,
        "return_note": "",
        "withdrawal_note": "",
        "approved_by": None,
        "published_to": None,
        "published_at": None,
        "withdrawn_at": None,
        "replaces": None,
        "in_force": False,
        "actions": ["submit"],
    }
    assert (tip.state, tip.author, tip.unit, tip.title_en) == ("draft", world.supervisor, world.city, "Draft title")

    # A PATCH changes what it names and keeps the rest; If-Match carries the version read.
    saved = editor.patch(
        f"{M}/{pk}/", {"title_en": TEXTS["title_en"], "priority": "urgent"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert (saved.status_code, saved["ETag"]) == (200, '"2"')
    assert (saved.json()["texts"], saved.json()["priority"], saved.json()["scenarios"]) == (
        TEXTS,
        "urgent",
        ["traffic"],
    )
    assert saved.json()["valid_until"] == (today() + timedelta(days=30)).isoformat()

    sent = editor.post(f"{M}/{pk}/actions/submit/", {"version": 2}, format="json")
    assert (sent.status_code, sent.json()["state"], sent.json()["actions"]) == (200, "submitted", [])
    assert approver.get(f"{M}/{pk}/").json()["actions"] == ["return", "publish"]

    with django_capture_on_commit_callbacks(execute=True):
        published = approver.post(
            f"{M}/{pk}/actions/publish/", {"scope_unit": world.county.pk}, format="json", HTTP_IF_MATCH='"3"'
        )
    body = published.json()
    assert (published.status_code, body["state"], body["version"], body["in_force"]) == (200, "published", 4, True)
    assert body["approved_by"] == {"id": world.admin.pk, "name": world.admin.full_name}
    assert body["published_to"]["code"] == "330106"
    assert body["actions"] == ["withdraw", "copy"]
    # The officers of the county are told (by the push task, once the publication commits).
    told = Notification.objects.filter(kind=NotificationKind.GUIDANCE).values_list("recipient__username", flat=True)
    assert sorted(told) == ["county_supervisor", "officer", "other_officer"]
    # The terminals read it as before.
    assert token_client(world.officer).get(f"/api/v1/guidance/{pk}/").status_code == 200

    copied = editor.post(f"{M}/{pk}/actions/copy/", {"version": 4}, format="json")
    assert copied.status_code == 201
    new = copied.json()
    assert (new["state"], new["replaces"], new["texts"], new["priority"], copied["ETag"]) == (
        "draft",
        pk,
        TEXTS,
        "urgent",
        '"1"',
    )
    assert new["id"] != pk

    withdrawn = approver.post(f"{M}/{pk}/actions/withdraw/", {"note": "已过时", "version": 4}, format="json")
    assert (withdrawn.status_code, withdrawn.json()["state"], withdrawn.json()["withdrawal_note"]) == (
        200,
        "withdrawn",
        "已过时",
    )
    assert token_client(world.officer).get(f"/api/v1/guidance/{pk}/").status_code == 404


def test_a_tip_awaiting_approval_is_returned_with_a_note(world):
    tip = submitted_tip(world)
    approver = token_client(world.admin)
    refused = approver.post(f"{M}/{tip.pk}/actions/return/", {"note": "  "}, format="json")
    assert (refused.status_code, refused.json()["errors"]) == (400, {"note": ["Say what the editor should change."]})
    answer = approver.post(f"{M}/{tip.pk}/actions/return/", {"note": "请补充英文"}, format="json")
    assert (answer.status_code, answer.json()["state"], answer.json()["return_note"]) == (200, "draft", "请补充英文")
    assert [e.step for e in TipEvent.objects.filter(tip=tip).order_by("pk")] == ["created", "submitted", "returned"]


# --- the list --------------------------------------------------------------------------------------------------------


def test_the_list_holds_what_the_caller_manages_as_the_page_does(world):
    city_draft = draft_tip(world)
    county_draft = draft_tip(world, unit=world.county, texts={"title_zh": "区县", "body_zh": "要点"})
    sent = submitted_tip(world)

    def listed(user, **params):
        response = token_client(user).get(f"{M}/", params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert listed(world.supervisor) == [sent.pk, county_draft.pk, city_draft.pk]
    assert listed(world.admin, state="submitted") == [sent.pk]
    assert listed(world.county_supervisor) == [county_draft.pk]
    assert listed(world.sibling_supervisor) == []
    page = token_client(world.supervisor).get(f"{M}/", {"page_size": 2}).json()
    assert [row["id"] for row in page["results"]] == [sent.pk, county_draft.pk]
    assert page["next"] is not None
    for state in ("nonsense", ""):
        refused = token_client(world.supervisor).get(f"{M}/", {"state": state})
        assert (refused.status_code, refused.json()["errors"]) == (400, {"state": ["Choose among the listed values."]})
    for user in (world.officer, world.sibling_officer):
        answer = token_client(user).get(f"{M}/")
        assert (answer.status_code, answer.json()["detail"]) == (
            403,
            "Only supervisors and administrators write and approve guidance tips.",
        )


def test_the_list_takes_the_same_queries_for_two_tips_or_twenty(world):
    client = token_client(world.supervisor)

    def count() -> int:
        client.get(f"{M}/")  # the token's cache is warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{M}/").status_code == 200
        return len(queries)

    for _n in range(2):
        published_tip(world)
    few = count()
    for _n in range(18):
        published_tip(world)
    assert count() == few


# --- refusals --------------------------------------------------------------------------------------------------------


def test_refusals_are_precise_and_change_nothing(world):
    tip = draft_tip(world)
    sent = submitted_tip(world)
    live = published_tip(world)
    both = member(world.province, Role.ADMIN, username="admin_supervisor")
    account_services.grant_membership(user=both, unit=world.city, role=Role.SUPERVISOR)
    mine = draft_tip(world)
    Tip.objects.filter(pk=mine.pk).update(author=both, last_editor=both)
    token_client(both).post(f"{M}/{mine.pk}/actions/submit/", {}, format="json")
    editor, approver = token_client(world.supervisor), token_client(world.admin)
    cases = [
        # 403: no tips to write; 404: a tip of a unit one does not cover.
        (token_client(world.officer), "get", f"{M}/{tip.pk}/", None, 403),
        (token_client(world.officer), "post", f"{M}/", new_tip_body(world), 403),
        (token_client(world.sibling_supervisor), "get", f"{M}/{tip.pk}/", None, 404),
        (token_client(world.sibling_supervisor), "patch", f"{M}/{tip.pk}/", {"title_zh": "x"}, 404),
        (token_client(world.county_supervisor), "post", f"{M}/{sent.pk}/actions/publish/", {}, 404),
        (editor, "get", f"{M}/999999/", None, 404),
        # A unit one does not cover; one that does not exist; a field that does not exist; a bad tag; no first day.
        (token_client(world.county_supervisor), "post", f"{M}/", new_tip_body(world), 403),
        (editor, "post", f"{M}/", new_tip_body(world, unit=999999), 400),
        (editor, "post", f"{M}/", new_tip_body(world, nonsense="x"), 400),
        (editor, "post", f"{M}/", new_tip_body(world, scenarios=["nonsense"]), 400),
        (editor, "post", f"{M}/", {k: v for k, v in new_tip_body(world).items() if k != "valid_from"}, 400),
        (editor, "post", f"{M}/", new_tip_body(world, valid_until=(today() - timedelta(days=1)).isoformat()), 400),
        # Editing: officers do not; a stale version; a step the state does not allow; a title on two lines.
        (token_client(world.officer), "patch", f"{M}/{tip.pk}/", {"title_zh": "x"}, 403),
        (editor, "patch", f"{M}/{tip.pk}/", {"title_zh": "x", "version": 7}, 412),
        (editor, "patch", f"{M}/{sent.pk}/", {"title_zh": "x"}, 409),
        (editor, "patch", f"{M}/{tip.pk}/", {"title_zh": "标题\n两行"}, 400),
        # Steps: by role, four eyes, state, version, input.
        (editor, "post", f"{M}/{sent.pk}/actions/publish/", {"scope_unit": world.city.pk}, 403),
        (editor, "post", f"{M}/{sent.pk}/actions/return/", {"note": "x"}, 403),
        (token_client(both), "post", f"{M}/{mine.pk}/actions/publish/", {"scope_unit": world.city.pk}, 403),
        (approver, "post", f"{M}/{tip.pk}/actions/publish/", {"scope_unit": world.city.pk}, 409),
        (approver, "post", f"{M}/{sent.pk}/actions/publish/", {"scope_unit": world.city.pk, "version": 1}, 412),
        (approver, "post", f"{M}/{sent.pk}/actions/publish/", {}, 400),
        (approver, "post", f"{M}/{sent.pk}/actions/publish/", {"scope_unit": world.province.pk}, 400),
        (approver, "post", f"{M}/{sent.pk}/actions/publish/", {"scope_unit": world.city.pk, "note": 5}, 400),
        (editor, "post", f"{M}/{live.pk}/actions/withdraw/", {}, 400),
        (editor, "post", f"{M}/{tip.pk}/actions/withdraw/", {"note": "x"}, 409),
        (editor, "post", f"{M}/{live.pk}/actions/copy/", {"version": 1}, 412),
        (editor, "post", f"{M}/{tip.pk}/actions/copy/", {}, 409),
        (editor, "post", f"{M}/{tip.pk}/actions/submit/", {}, 200),  # (the control: the same request is accepted)
    ]
    answers = []
    for client, method, url, data, expected in cases:
        before = records()
        response = getattr(client, method)(url, data, format="json") if data is not None else client.get(url)
        answers.append((method, url, response.status_code))
        if expected >= 400:
            assert records() == before, (method, url)
    assert answers == [(m, u, e) for _c, m, u, _d, e in cases]


def test_unknown_and_save_actions_are_not_steps_here(world):
    tip = draft_tip(world)
    editor = token_client(world.supervisor)
    before = records()
    assert editor.post(f"{M}/{tip.pk}/actions/save/", {}, format="json").status_code == 404
    assert editor.post(f"{M}/{tip.pk}/actions/nonsense/", {}, format="json").status_code == 404
    assert records() == before


def test_the_refusals_say_what_is_wrong(world):
    tip = draft_tip(world, texts={"title_zh": "只有标题"})
    sent = submitted_tip(world)
    editor, approver = token_client(world.supervisor), token_client(world.admin)
    incomplete = editor.post(f"{M}/{tip.pk}/actions/submit/", {}, format="json")
    assert (incomplete.status_code, incomplete.json()["errors"]) == (
        400,
        {"body_zh": ["Tip (Chinese) is needed before the tip is sent on."]},
    )
    stale = editor.patch(f"{M}/{tip.pk}/", {"title_zh": "x"}, format="json", HTTP_IF_MATCH='"9"')
    assert stale.json() == {
        "code": "stale_version",
        "detail": "This tip changed after you opened it, so nothing was saved. Check it as it is now, then send it "
        "again.",
    }
    assert stale.status_code == 412
    state = approver.post(f"{M}/{tip.pk}/actions/publish/", {"scope_unit": world.city.pk}, format="json")
    assert (state.status_code, state.json()["code"]) == (409, "illegal_transition")
    assert state.json()["detail"] == "“Approve and publish” is not possible while the tip is “Draft”."
    scope = approver.post(f"{M}/{sent.pk}/actions/publish/", {"scope_unit": world.province.pk}, format="json")
    assert scope.json()["errors"] == {"scope_unit": ["Publish to the tip's unit or to a unit below it."]}
    missing = approver.post(f"{M}/{sent.pk}/actions/publish/", {}, format="json")
    assert missing.json()["errors"] == {"scope_unit": ["Publish to the tip's unit or to a unit below it."]}
    role = editor.post(f"{M}/{sent.pk}/actions/publish/", {}, format="json")
    assert role.json()["detail"] == (
        "Only the administrators of the tip's unit, or of a unit above it, approve and publish this tip."
    )
    differ = editor.patch(f"{M}/{tip.pk}/", {"title_zh": "x", "version": 1}, format="json", HTTP_IF_MATCH='"2"')
    assert (differ.status_code, differ.json()["errors"]) == (
        400,
        {"version": ["The version in the body and in If-Match differ."]},
    )


def test_a_second_copy_is_refused_while_the_first_is_being_written(world):
    live = published_tip(world)
    editor = token_client(world.supervisor)
    first = editor.post(f"{M}/{live.pk}/actions/copy/", {}, format="json")
    assert first.status_code == 201
    before = records()
    second = editor.post(f"{M}/{live.pk}/actions/copy/", {}, format="json")
    assert (second.status_code, second.json()["errors"]) == (
        400,
        {
            "non_field_errors": [
                f"A new tip from this one is already being written (no. {first.json()['id']}): carry on with it."
            ]
        },
    )
    assert records() == before


def test_a_create_with_an_idempotency_key_is_written_once(world):
    editor = token_client(world.supervisor)
    body = new_tip_body(world)
    first = editor.post(f"{M}/", body, format="json", HTTP_IDEMPOTENCY_KEY="tip-1")
    again = editor.post(f"{M}/", body, format="json", HTTP_IDEMPOTENCY_KEY="tip-1")
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 201, first.json()["id"])
    assert Tip.objects.count() == 1


@pytest.mark.parametrize("action", [a for a in TRANSITIONS if a != "save"])
def test_every_step_of_the_workflow_is_offered_here(world, action):
    """Each step the pages take (library/guidance/workflow.py) is taken here, by the one who may, from a tip in the
    state it starts from."""
    starts = {"submit": draft_tip, "return": submitted_tip, "publish": submitted_tip}
    tip = starts.get(action, published_tip)(world)
    who = token_client(world.admin if action in ("return", "publish") else world.supervisor)
    data = {"note": "原因", "scope_unit": world.city.pk}
    response = who.post(f"{M}/{tip.pk}/actions/{action}/", data, format="json")
    assert response.status_code == (201 if action == "copy" else 200)
    target = Tip.objects.get(pk=response.json()["id"])
    assert target.state == TRANSITIONS[action].target
