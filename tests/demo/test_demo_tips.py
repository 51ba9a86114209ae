"""``manage.py seed_demo``'s guidance tips: five, written by the city's supervisor in Chinese and English, approved by
the province's administrator (four eyes) and published to the city, whose officers are told; nothing changed by a
second run."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.selectors import actor_for
from cases.choices import NotificationKind
from cases.models import Notification
from library.guidance import selectors
from library.guidance.models import Tip, TipEvent

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_publishes_five_tips_to_the_city_and_tells_its_officers(django_capture_on_commit_callbacks):
    # The officers are told by the push's task once the publications commit (run in-process here).
    with django_capture_on_commit_callbacks(execute=True):
        assert "Demo guidance tips: 5 published." in seed()
    tips = list(Tip.objects.select_related("author", "approved_by", "scope_unit").order_by("pk"))
    assert [(t.state, t.scope_unit.code, t.author.username, t.approved_by.username) for t in tips] == [
        ("published", "330100", "supervisor", "admin")
    ] * 5
    assert [t.priority for t in tips] == ["high", "urgent", "normal", "high", "normal"]
    assert all(t.title_zh and t.body_zh and t.title_en and t.body_en for t in tips)
    assert "110" in tips[0].title_zh
    reader = lambda name: len(selectors.tips_in_force(actor_for(User.objects.get(username=name))))  # noqa: E731
    assert (reader("officer"), reader("officer2"), reader("officer_hubei"), reader("supervisor_hubei")) == (5, 5, 0, 0)
    told = Notification.objects.filter(kind=NotificationKind.GUIDANCE)
    assert told.filter(recipient__username="officer").count() == 5
    assert not told.filter(recipient__username__in=["officer_hubei", "supervisor_hubei", "admin"]).exists()


def test_a_second_run_changes_nothing():
    seed()
    before = (Tip.objects.count(), TipEvent.objects.count(), Notification.objects.count())
    assert "Demo guidance tips: already present, left unchanged." in seed()
    assert (Tip.objects.count(), TipEvent.objects.count(), Notification.objects.count()) == before
