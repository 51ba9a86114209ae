"""The supervisor's queue (cases/queue_filters.py): its scope, the one flag map, and a page link it did not make."""

import pytest
from django.urls import reverse

from accounts.selectors import actor_for
from cases.choices import FLAG_FIELDS, CaseStatus, FlagKind
from cases.flagging.plan import READ_MODEL_FIELDS
from cases.models import Case
from cases.queue_filters import SORTS, QueueFilters, queue_page
from tests.factories import case_in, draft

S = CaseStatus
QUEUE_STATUSES = tuple(s for s in CaseStatus.values if s != S.DRAFT)


def test_one_read_model_boolean_per_flag_kind_written_by_the_scan():
    assert set(FLAG_FIELDS) == set(FlagKind.values)
    assert {Case._meta.get_field(name).get_internal_type() for name in FLAG_FIELDS.values()} == {"BooleanField"}
    assert set(FLAG_FIELDS.values()) <= set(READ_MODEL_FIELDS)


def test_the_queue_never_lists_drafts_even_when_asked(world):
    draft(world)
    case_in(world, S.INTAKE)
    actor = actor_for(world.supervisor)
    assert queue_page(actor, QueueFilters(statuses=(S.DRAFT,))).cases == []
    assert queue_page(actor, QueueFilters(statuses=(S.DRAFT,))).count == 0


@pytest.fixture
def one_of_each(world):
    """Two cases in every status the queue can show; those that ended have no stage deadline."""
    return {status: [case_in(world, status), case_in(world, status)] for status in QUEUE_STATUSES}


def test_sorting_never_filters_every_sort_for_every_status(world, one_of_each):
    """Issue 17: "Closed" sorted by the stage deadline listed no case. Every sort lists every case of every status,
    those without a value to sort on last."""
    actor = actor_for(world.supervisor)
    assert [c.stage_due_at for c in one_of_each[S.CLOSED]] == [None, None]
    for sort, order in SORTS.items():
        for status, made in one_of_each.items():
            page = queue_page(actor, QueueFilters(statuses=(status,)), order=order)
            assert (sort, status, page.count, {c.pk for c in page.cases}) == (sort, status, 2, {c.pk for c in made})
        everything = queue_page(actor, QueueFilters(statuses=QUEUE_STATUSES), order=order)
        assert (sort, everything.count, len(everything.cases)) == (sort, 2 * len(QUEUE_STATUSES), 14)


def test_the_deadline_sort_puts_cases_without_one_last_and_pages_through_them(world, one_of_each):
    actor = actor_for(world.supervisor)
    filters = QueueFilters(statuses=QUEUE_STATUSES)
    seen, cursor = [], None
    while True:
        page = queue_page(actor, filters, order=SORTS["due"], cursor=cursor, size=3)
        seen += page.cases
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    with_deadline = sorted((c for c in seen if c.stage_due_at), key=lambda c: (c.stage_due_at, c.pk))
    without = sorted((c for c in seen if c.stage_due_at is None), key=lambda c: c.pk)
    assert (len(with_deadline), len(without)) == (8, 6)  # intake, referred, supervision, look-back; the rest ended
    assert [c.pk for c in seen] == [c.pk for c in with_deadline + without]


def test_the_queue_page_lists_closed_cases_sorted_by_deadline(client, world, one_of_each):
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:queue"), {"status": S.CLOSED, "sort": "due"})
    assert response.status_code == 200
    assert {c.pk for c in response.context["page"].cases} == {c.pk for c in one_of_each[S.CLOSED]}
    assert response.context["page"].count == 2
    assert "No cases match." not in response.content.decode()


def test_a_page_link_the_queue_did_not_make_is_a_400_showing_the_first_page(client, world):
    made = [case_in(world, S.INTAKE) for _ in range(3)]
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:queue"), {"after": "not-a-cursor"})
    assert response.status_code == 400
    assert [c.pk for c in response.context["page"].cases] == [c.pk for c in reversed(made)]
    assert response.context["first_page"] is True
    # From htmx (the page links), the results are replaced by the first page, saying why.
    more = client.get(reverse("cases:queue"), {"after": "not-a-cursor"}, HTTP_HX_REQUEST="true")
    assert more.status_code == 400
    body = more.content.decode()
    assert "That page link is no longer valid, so the first page is shown." in body
    assert "<html" not in body
    assert more.context["filter_errors"] == []


def test_a_refused_filter_is_listed_above_the_results_with_its_field(client, world):
    case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    response = client.get(
        reverse("cases:queue"), {"submitted": "2026-3", "awaiting_unit": "<b>x</b>"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert response.context["filter_errors"] == [
        "Submitted in: Write a month as year and month, for example 2026-03, or a year, for example 2026.",
        "Referral awaiting acknowledgement by the unit with this code: No unit has this code.",
    ]
    body = response.content.decode()
    assert "These filters could not be applied, so the queue shows all your cases:" in body
    assert (
        "<li>Submitted in: Write a month as year and month, for example 2026-03, or a year, for example 2026.</li>"
        in body
    )
    assert "<b>x</b>" not in body
    assert "That page link is no longer valid" not in body


def test_load_more_continues_after_the_last_row_in_the_chosen_sort(client, world):
    made = [case_in(world, S.INTAKE) for _ in range(3)]
    client.force_login(world.supervisor)
    actor = actor_for(world.supervisor)
    first = queue_page(actor, QueueFilters(), order="-created_at", size=2)
    assert [c.pk for c in first.cases] == [made[2].pk, made[1].pk]
    response = client.get(reverse("cases:queue"), {"sort": "created", "after": first.next_cursor})
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"].cases] == [made[0].pk]
