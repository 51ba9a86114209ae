"""Capability predicates are pure functions of an Actor and a case."""

import pytest

from accounts.authority import Actor, Grant
from accounts.models import Role
from cases.models import Case
from cases.policy import (
    available_actions,
    can_file_in,
    can_handle,
    can_perform,
    can_record_transfer,
    performer_roles,
)

CITY = "/000000/330000/330100/"
STATION = CITY + "330106/330106001/"


def case(status: str, filed_by: int = 1) -> Case:
    return Case(status=status, unit_path=STATION, filed_by_id=filed_by)


officer = Actor(user_id=1, is_active=True, grants=(Grant(Role.OFFICER, STATION),))
supervisor = Actor(user_id=2, is_active=True, grants=(Grant(Role.SUPERVISOR, CITY),))
sibling = Actor(user_id=3, is_active=True, grants=(Grant(Role.SUPERVISOR, "/000000/420000/"),))
admin = Actor(user_id=4, is_active=True, grants=(Grant(Role.ADMIN, "/000000/330000/"),))
inactive_supervisor = Actor(user_id=5, is_active=False, grants=(Grant(Role.SUPERVISOR, CITY),))


@pytest.mark.parametrize(
    ("actor", "roles"),
    [
        (officer, {"filer"}),
        (supervisor, {Role.SUPERVISOR}),
        (sibling, set()),
        (admin, {Role.ADMIN}),
        (inactive_supervisor, set()),
    ],
)
def test_performer_roles(actor, roles):
    assert performer_roles(actor, case("intake")) == roles


def test_available_actions_depend_on_role_and_status():
    assert [t.action for t in available_actions(officer, case("draft"))] == ["submit", "withdraw"]
    assert [t.action for t in available_actions(officer, case("intake"))] == ["withdraw"]
    assert sorted(t.action for t in available_actions(supervisor, case("intake"))) == ["refer", "reject"]
    assert [t.action for t in available_actions(admin, case("closed"))] == ["recall"]
    assert available_actions(admin, case("intake")) == []
    assert available_actions(sibling, case("intake")) == []


def test_filer_is_the_filer_not_any_officer():
    other = Actor(user_id=9, is_active=True, grants=(Grant(Role.OFFICER, STATION),))
    assert can_perform(officer, case("draft"), "submit")
    assert not can_perform(other, case("draft"), "submit")


def test_filing_is_allowed_for_own_unit_or_above_only():
    assert can_file_in(officer, STATION)
    assert can_file_in(officer, CITY)  # the office above the station
    assert not can_file_in(officer, "/000000/420000/")
    assert can_file_in(supervisor, STATION)
    assert not can_file_in(sibling, STATION)


def test_handling_needs_an_open_case_in_the_subtree():
    assert can_handle(supervisor, case("supervision"))
    assert not can_handle(supervisor, case("closed"))
    assert not can_handle(supervisor, case("draft"))
    assert not can_handle(sibling, case("supervision"))
    assert not can_handle(inactive_supervisor, case("supervision"))


def test_a_transfer_after_non_prosecution_is_recorded_by_a_supervisor_in_supervision_or_look_back():
    statuses = ["draft", "intake", "referred", "supervision", "look_back", "closed", "rejected", "withdrawn"]
    assert [s for s in statuses if can_record_transfer(supervisor, case(s))] == ["supervision", "look_back"]
    for actor in (officer, sibling, admin, inactive_supervisor):
        assert not any(can_record_transfer(actor, case(s)) for s in statuses)
