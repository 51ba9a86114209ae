"""The supervisor's queue (cases/queue_filters.py): its scope, the one flag map, and a page link it did not make."""

from django.urls import reverse

from accounts.selectors import actor_for
from cases.choices import FLAG_FIELDS, CaseStatus, FlagKind
from cases.flagging.plan import READ_MODEL_FIELDS
from cases.models import Case
from cases.queue_filters import QueueFilters, queue_page
from tests.factories import case_in, draft

S = CaseStatus


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


def test_sorting_by_a_date_lists_the_cases_that_have_one(world):
    case_in(world, S.INTAKE)
    closed = case_in(world, S.CLOSED)
    assert closed.stage_due_at is None
    actor = actor_for(world.supervisor)
    page = queue_page(actor, QueueFilters(statuses=(S.INTAKE, S.CLOSED)), order="stage_due_at")
    assert closed not in page.cases
    assert (len(page.cases), page.count) == (1, 1)


def test_a_page_link_the_queue_did_not_make_is_a_400_showing_the_first_page(client, world):
    made = [case_in(world, S.INTAKE) for _ in range(3)]
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:queue"), {"after": "not-a-cursor"})
    assert response.status_code == 400
    assert [c.pk for c in response.context["page"].cases] == [c.pk for c in reversed(made)]
    assert response.context["first_page"] is True
    # From htmx ("Load more"), the refusal is not swapped in as more rows.
    more = client.get(reverse("cases:queue"), {"after": "not-a-cursor"}, HTTP_HX_REQUEST="true")
    assert more.status_code == 400


def test_load_more_continues_after_the_last_row_in_the_chosen_sort(client, world):
    made = [case_in(world, S.INTAKE) for _ in range(3)]
    client.force_login(world.supervisor)
    actor = actor_for(world.supervisor)
    first = queue_page(actor, QueueFilters(), order="-created_at", size=2)
    assert [c.pk for c in first.cases] == [made[2].pk, made[1].pk]
    response = client.get(reverse("cases:queue"), {"sort": "created", "after": first.next_cursor})
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"].cases] == [made[0].pk]
