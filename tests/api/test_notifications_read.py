"""POST /api/v1/notifications/read/: the caller's own notifications only; bad input changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import CaseStatus
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
