"""Visibility across the organisation tree: who sees which case, and nobody else."""

import pytest

from accounts import services as account_services
from accounts.models import Membership, Role
from accounts.selectors import actor_for
from cases import selectors, services
from cases.choices import CaseStatus
from cases.queue_filters import QueueFilters, queue_page
from tests.factories import UserFactory, case_in, draft, member

S = CaseStatus


def visible(user) -> set[str]:
    return set(selectors.cases_visible_to(user).values_list("reference", flat=True))


def queued(user) -> list[str]:
    return [c.reference for c in queue_page(actor_for(user), QueueFilters()).cases]


@pytest.fixture
def cases(world):
    """A submitted case at the station, a draft, and a submitted case in the sibling province."""
    submitted = case_in(world, S.INTAKE)
    own_draft = draft(world)
    sibling = services.create_draft_case(
        by=world.sibling_officer,
        unit=world.sibling_station,
        details={"kind": "threat", "occurred_at": submitted.occurred_at, "location": "武汉", "summary": "威胁民警"},
    )
    sibling = services.submit_case(case=sibling, by=world.sibling_officer, expected_version=sibling.version)
    return submitted, own_draft, sibling


def test_filer_sees_own_cases_including_drafts(world, cases):
    submitted, own_draft, _sibling = cases
    assert visible(world.officer) == {submitted.reference, own_draft.reference}


def test_supervisors_see_submitted_cases_of_their_subtree_only(world, cases):
    submitted, _draft, sibling = cases
    assert visible(world.supervisor) == {submitted.reference}
    assert visible(world.county_supervisor) == {submitted.reference}
    assert visible(world.admin) == {submitted.reference}
    assert visible(world.sibling_supervisor) == {sibling.reference}


def test_ancestor_sees_every_descendant(world, cases):
    submitted, _draft, sibling = cases
    assert visible(world.ministry_supervisor) == {submitted.reference, sibling.reference}


def test_other_officers_see_nothing(world, cases):
    assert visible(world.other_officer) == set()


def test_listed_victim_sees_the_case_once_submitted(world):
    case = draft(world)
    services.add_involved_officer(case=case, by=world.officer, user=world.other_officer)
    assert visible(world.other_officer) == set()
    services.submit_case(case=case, by=world.officer, expected_version=case.version + 1)
    assert visible(world.other_officer) == {case.reference}


def test_deactivation_and_membership_changes_take_effect_at_once(world, cases):
    submitted, _draft, sibling = cases
    account_services.deactivate_user(user=world.supervisor)
    assert visible(world.supervisor) == set()
    account_services.revoke_membership(membership=Membership.objects.get(user=world.county_supervisor))
    assert visible(world.county_supervisor) == set()
    moved = member(world.sibling_station, Role.SUPERVISOR)
    assert visible(moved) == {sibling.reference}
    account_services.grant_membership(user=moved, unit=world.county, role=Role.SUPERVISOR)
    assert visible(moved) == {submitted.reference, sibling.reference}


def test_a_user_without_memberships_sees_nothing(world, cases):
    assert visible(UserFactory()) == set()


def test_queue_lists_open_cases_of_the_subtree_newest_activity_first(world):
    older = case_in(world, S.INTAKE)
    newer = case_in(world, S.SUPERVISION)
    case_in(world, S.CLOSED)
    assert queued(world.supervisor) == [newer.reference, older.reference]
    assert queued(world.officer) == []
    assert queued(world.sibling_supervisor) == []
