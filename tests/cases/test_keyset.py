"""The one keyset paginator (cases/keyset.py): every row once in order, both ways, through ties and through rows
added between requests; a cursor it did not make is refused before it reaches the database."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import OrgUnit
from cases.choices import CaseStatus
from cases.keyset import InvalidCursor, keyset_page, order_keys
from cases.models import Case
from tests.factories import case_in

S = CaseStatus


def walk(queryset, ordering, size):
    """Every page forward from the first, then back again from the last, as lists of ids."""
    forward, cursor = [], None
    while True:
        page = keyset_page(queryset, ordering, cursor=cursor, size=size)
        forward.append([row.pk for row in page.rows])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    backward, cursor = [], page.previous_cursor
    while cursor is not None:
        page = keyset_page(queryset, ordering, cursor=cursor, size=size)
        backward.append([row.pk for row in page.rows])
        cursor = page.previous_cursor
    return forward, backward


@pytest.fixture
def tied(world):
    """Seven cases, three of them last touched at the same instant and four created at another."""
    made = [case_in(world, S.INTAKE) for _ in range(7)]
    now = timezone.now()
    Case.objects.filter(pk__in=[c.pk for c in made[:3]]).update(last_activity_at=now)
    Case.objects.filter(pk__in=[c.pk for c in made[3:]]).update(created_at=now - timedelta(hours=1))
    return Case.objects.filter(pk__in=[c.pk for c in made])


@pytest.mark.parametrize(
    "ordering",
    [["-last_activity_at"], ["last_activity_at"], ["created_at"], ["-created_at"], ["reference"], ["-id"]],
)
def test_every_row_once_in_order_forward_and_back(tied, ordering):
    keys = order_keys(Case, ordering)
    expected = list(tied.order_by(*[("-" if k.descending else "") + k.name for k in keys]).values_list("pk", flat=True))
    forward, backward = walk(tied, ordering, size=2)
    assert [pk for page in forward for pk in page] == expected
    assert [len(page) for page in forward] == [2, 2, 2, 1]
    assert list(reversed(backward)) == forward[:-1]


@pytest.fixture
def partly_missing(world):
    """Eight cases: three ended (no stage deadline), two without an incident date, two sharing a deadline."""
    made = [case_in(world, S.INTAKE) for _ in range(5)] + [case_in(world, S.CLOSED) for _ in range(3)]
    Case.objects.filter(pk__in=[made[0].pk, made[5].pk]).update(occurred_at=None)
    Case.objects.filter(pk=made[1].pk).update(stage_due_at=made[2].stage_due_at)
    return Case.objects.filter(pk__in=[c.pk for c in made])


@pytest.mark.parametrize("ordering", [["stage_due_at"], ["-stage_due_at"], ["occurred_at"], ["-occurred_at"]])
def test_rows_without_a_value_come_last_both_ways_and_page_correctly(partly_missing, ordering):
    name = ordering[0].lstrip("-")
    descending = ordering[0].startswith("-")
    rows = list(partly_missing)
    present = sorted(
        (r for r in rows if getattr(r, name) is not None), key=lambda r: (getattr(r, name), r.pk), reverse=descending
    )
    missing = sorted((r for r in rows if getattr(r, name) is None), key=lambda r: r.pk, reverse=descending)
    assert len(missing) == (3 if name == "stage_due_at" else 2)
    expected = [r.pk for r in present + missing]
    for size in (1, 2, 3):
        forward, backward = walk(partly_missing, ordering, size=size)
        assert [pk for page in forward for pk in page] == expected
        assert list(reversed(backward)) == forward[:-1]


def test_a_missing_value_is_refused_for_a_key_that_always_has_one(db):
    with pytest.raises(InvalidCursor):
        keyset_page(Case.objects.all(), ["-last_activity_at"], cursor=forged({"after": [None, "1"]}), size=2)


def test_the_id_breaks_ties_in_the_direction_of_the_last_key():
    assert [(k.name, k.descending) for k in order_keys(Case, ["-last_activity_at"])] == [
        ("last_activity_at", True),
        ("id", True),
    ]
    assert [(k.name, k.descending) for k in order_keys(Case, ["stage_due_at"])] == [
        ("stage_due_at", False),
        ("id", False),
    ]
    # A unique key needs no tie-break.
    assert [k.name for k in order_keys(Case, ["reference"])] == ["reference"]
    assert [k.name for k in order_keys(OrgUnit, ["path"])] == ["path"]


def test_rows_added_between_requests_neither_repeat_nor_shift_the_next_page(world):
    made = [case_in(world, S.INTAKE) for _ in range(4)]
    cases = Case.objects.all()
    first = keyset_page(cases, ["-last_activity_at"], cursor=None, size=2)
    assert [c.pk for c in first.rows] == [made[3].pk, made[2].pk]
    newer = case_in(world, S.INTAKE)  # lands before the first page
    second = keyset_page(cases, ["-last_activity_at"], cursor=first.next_cursor, size=2)
    assert ([c.pk for c in second.rows], second.next_cursor) == ([made[1].pk, made[0].pk], None)
    back = keyset_page(cases, ["-last_activity_at"], cursor=second.previous_cursor, size=2)
    assert [c.pk for c in back.rows] == [made[3].pk, made[2].pk]
    assert keyset_page(cases, ["-last_activity_at"], cursor=back.previous_cursor, size=2).rows == [newer]


def test_an_empty_list_has_no_links(db):
    page = keyset_page(Case.objects.all(), ["-last_activity_at"], cursor=None, size=2)
    assert (page.rows, page.next_cursor, page.previous_cursor) == ([], None, None)


def forged(payload) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        forged(b"\xff\xfe"),
        forged(b"p=not-a-date"),
        forged(["2026-01-01T00:00:00+00:00", "1"]),
        forged({"after": ["2026-01-01T00:00:00+00:00"]}),
        forged({"after": ["2026-01-01T00:00:00+00:00", "1", "2"]}),
        forged({"sideways": ["2026-01-01T00:00:00+00:00", "1"]}),
        forged({"after": ["2026-01-01T00:00:00+00:00", "1"], "before": ["2026-01-01T00:00:00+00:00", "1"]}),
        forged({"after": ["not a date", "1"]}),
        forged({"after": ["2026-01-01T00:00:00", "1"]}),  # naive
        forged({"after": ["0001-01-01T00:00:00+01:00", "1"]}),  # before the calendar in UTC
        forged({"after": ["9999-12-31T23:59:59-12:00", "1"]}),  # after it
        forged({"after": ["2026-01-01T00:00:00+00:00", "one"]}),
        forged({"after": ["2026-01-01T00:00:00+00:00", 1]}),
        forged({"after": ["2026-01-01T00:00:00+00:00", "99999999999999999999"]}),
    ],
)
def test_a_cursor_it_did_not_make_is_refused_without_a_query(django_assert_num_queries, db, cursor):
    with django_assert_num_queries(0), pytest.raises(InvalidCursor):
        keyset_page(Case.objects.all(), ["-last_activity_at"], cursor=cursor, size=2)


@pytest.mark.parametrize(
    "text",
    ["RG-2026\x00", "R" * 21],  # PostgreSQL refuses NUL in text; no reference is longer than its column
)
def test_a_forged_text_position_is_refused(db, text):
    with pytest.raises(InvalidCursor):
        keyset_page(Case.objects.all(), ["reference"], cursor=forged({"after": [text]}), size=2)
