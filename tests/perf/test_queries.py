"""List pages cost the same number of queries for 10 rows as for 200 (the lists not covered elsewhere: the queue, the
case page, the API lists and the reports have their own tests in tests/cases, tests/api and tests/reports)."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cases.choices import CaseStatus
from cases.models import Case, CaseEvent, Notification
from demo.organisation import ensure_admin_group
from tests.factories import World, case_in

S = CaseStatus
_references = itertools.count(1)


def copies(world: World, n: int, filed_by: User) -> list[Case]:
    """``n`` cases like one filed through the services, timeline included, written in bulk (only the rows count)."""
    model = case_in(world, S.INTAKE)
    fields = [f.attname for f in Case._meta.concrete_fields if not f.primary_key]
    rows = []
    for _ in range(n - 1):
        row = Case(**{name: getattr(model, name) for name in fields})
        row.reference = f"RG-2099-{next(_references):06d}"
        row.filed_by_id = filed_by.pk
        rows.append(row)
    cases = Case.objects.bulk_create(rows)
    events = list(CaseEvent.objects.filter(case=model))
    event_fields = [f.attname for f in CaseEvent._meta.concrete_fields if not f.primary_key and f.attname != "case_id"]
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, **{name: getattr(e, name) for name in event_fields}) for case in cases for e in events
    )
    return [model, *cases]


def queries(client, url: str) -> int:
    client.get(url)  # warm: session, content types
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
    return len(captured.captured_queries)


def compare(client, url: str, grow) -> None:
    grow(10)
    small = queries(client, url)
    grow(190)
    assert queries(client, url) == small


def test_officer_home(client, world):
    client.force_login(world.officer)
    compare(client, reverse("cases:home"), lambda n: copies(world, n, world.officer))


def test_notification_inbox(client, world):
    case = case_in(world, S.INTAKE)
    client.force_login(world.supervisor)

    def grow(n: int) -> None:
        Notification.objects.bulk_create(
            Notification(recipient=world.supervisor, case=case, verb=f"#{i}", created_at=timezone.now())
            for i in range(n)
        )

    compare(client, reverse("cases:notifications"), grow)


@pytest.mark.parametrize("superuser", [True, False], ids=["superuser", "unit-admin"])
def test_admin_case_list(client, world, superuser):
    user = world.admin
    if superuser:
        user = User.objects.create_superuser(username="root", password=None)
    else:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(ensure_admin_group())
    client.force_login(user)
    compare(client, "/admin/cases/case/", lambda n: copies(world, n, world.officer))
