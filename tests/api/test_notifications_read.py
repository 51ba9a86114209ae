"""POST /api/v1/notifications/read/: the caller's own notifications only; bad input changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import CaseStatus, NotificationKind
from cases.models import Notification
from tests.factories import case_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(world):
    case = case_in(world, CaseStatus.INTAKE)
    now = timezone.now()

    def note(user, verb, read=False):
        return Notification.objects.create(
            recipient=user, case=case, verb=verb, created_at=now, read_at=now - timedelta(hours=1) if read else None
        )

    return {
        "a": note(world.officer, "a"),
        "b": note(world.officer, "b"),
        "read": note(world.officer, "read", read=True),
        "theirs": note(world.other_officer, "theirs"),
    }


def unread(inbox) -> list[str]:
    return sorted(Notification.objects.filter(read_at__isnull=True).values_list("verb", flat=True))


def test_marking_chosen_notifications_read_ignores_other_peoples(api, inbox):
    before = Notification.objects.get(pk=inbox["read"].pk).read_at
    answer = api("officer").post(
        "/api/v1/notifications/read/", {"ids": [inbox["a"].pk, inbox["theirs"].pk, inbox["read"].pk]}, format="json"
    )
    assert (answer.status_code, answer.json()) == (200, {"marked": 1})
    assert unread(inbox) == ["b", "theirs"]
    assert Notification.objects.get(pk=inbox["read"].pk).read_at == before


def test_marking_everything_read(api, inbox):
    answer = api("officer").post("/api/v1/notifications/read/", {}, format="json")
    assert (answer.status_code, answer.json()) == (200, {"marked": 2})
    assert unread(inbox) == ["theirs"]


def test_bad_ids_are_refused_and_nothing_changes(api, inbox):
    answer = api("officer").post("/api/v1/notifications/read/", {"ids": ["x", -1]}, format="json")
    assert answer.status_code == 400
    assert sorted(answer.json()["errors"]) == ["ids"]
    assert unread(inbox) == ["a", "b", "theirs"]


# --- The list's filters and marking one read (the page's selectors and service) ------------------------------------


@pytest.fixture
def kinds(world):
    case = case_in(world, CaseStatus.INTAKE)
    now = timezone.now()

    def note(verb, kind, read=False, minutes=0):
        return Notification.objects.create(
            recipient=world.officer,
            case=case,
            verb=verb,
            kind=kind,
            created_at=now - timedelta(minutes=minutes),
            read_at=now if read else None,
        )

    return {
        "move": note("move", NotificationKind.CASE_MOVES, minutes=1),
        "move-read": note("move-read", NotificationKind.CASE_MOVES, read=True, minutes=2),
        "answer": note("answer", NotificationKind.SUPPORT_ANSWERS, minutes=3),
        "theirs": Notification.objects.create(
            recipient=world.other_officer, case=case, verb="theirs", kind=NotificationKind.CASE_MOVES, created_at=now
        ),
    }


def listed(api, query: str = "") -> list[str]:
    answer = api("officer").get(f"/api/v1/notifications/{query}")
    assert answer.status_code == 200, answer.json()
    return [n["verb"] for n in answer.json()["results"]]


def test_the_list_filters_by_kind_and_by_read_state(api, kinds):
    assert listed(api) == ["move", "move-read", "answer"]
    assert listed(api, "?kind=case_moves") == ["move", "move-read"]
    assert listed(api, "?kind=case_moves&unread=true") == ["move"]
    assert listed(api, "?unread=false") == ["move-read"]
    assert listed(api, "?kind=support_answers") == ["answer"]
    first = api("officer").get("/api/v1/notifications/?kind=support_answers").json()["results"][0]
    assert (first["kind"], first["read_at"]) == ("support_answers", None)


def test_an_unknown_kind_is_refused(api, kinds):
    answer = api("officer").get("/api/v1/notifications/?kind=gossip")
    assert answer.status_code == 400
    assert sorted(answer.json()["errors"]) == ["kind"]


def test_marking_one_read(api, kinds):
    answer = api("officer").post(f"/api/v1/notifications/{kinds['move'].pk}/read/")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["kind"], body["read_at"] is not None) == (kinds["move"].pk, "case_moves", True)
    assert Notification.objects.get(pk=kinds["move"].pk).read_at is not None
    assert Notification.objects.get(pk=kinds["answer"].pk).read_at is None
    # Again: still read, the first time kept.
    read_at = Notification.objects.get(pk=kinds["move"].pk).read_at
    assert api("officer").post(f"/api/v1/notifications/{kinds['move'].pk}/read/").status_code == 200
    assert Notification.objects.get(pk=kinds["move"].pk).read_at == read_at


def test_marking_someone_elses_is_not_found_and_changes_nothing(api, kinds):
    answer = api("officer").post(f"/api/v1/notifications/{kinds['theirs'].pk}/read/")
    assert answer.status_code == 404
    assert Notification.objects.get(pk=kinds["theirs"].pk).read_at is None
    assert api("officer").post("/api/v1/notifications/999999999/read/").status_code == 404
