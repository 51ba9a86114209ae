"""``manage.py seed_demo``'s typical cases: three demo closed cases written up through the library's services (the
anonymiser run, the check passed, approved by the administrator), read by the demo province's officers only, and
nothing changed by a second run."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.selectors import actor_for
from library import selectors
from library.models import WriteUp, WriteUpEvent, WriteUpVersion

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_publishes_three_anonymised_typical_cases_to_the_city():
    assert "Demo typical cases: 3 published." in seed()
    writeups = list(WriteUp.objects.select_related("published_version", "scope_unit", "case").order_by("pk"))
    assert [(w.state, w.scope_unit.code, w.published_version.number) for w in writeups] == [
        ("published", "330100", 1)
    ] * 3
    for writeup in writeups:
        version = writeup.published_version
        assert (version.edited_by.username, version.approved_by.username) == ("supervisor", "admin")
        assert selectors.leftovers(version, selectors.known_parties(writeup)) == {}
        assert selectors.languages_of(version) == ["zh", "en"]
        assert "嫌疑人A" in version.happened_zh
        assert "本人" not in version.happened_zh
        assert list(WriteUpEvent.objects.filter(writeup=writeup).values_list("step", flat=True)) == [
            "proposed",
            "anonymised",
            "saved",
            "submitted",
            "published",
        ]
    reader = lambda name: len(selectors.library_for(actor_for(User.objects.get(username=name))))  # noqa: E731
    assert (reader("officer"), reader("officer2"), reader("officer_hubei"), reader("supervisor_hubei")) == (3, 3, 0, 0)


def test_a_second_run_changes_nothing():
    seed()
    before = (WriteUp.objects.count(), WriteUpVersion.objects.count(), WriteUpEvent.objects.count())
    assert "Demo typical cases: already present, left unchanged." in seed()
    assert (WriteUp.objects.count(), WriteUpVersion.objects.count(), WriteUpEvent.objects.count()) == before
