"""The transition table, checked pair by pair against DESIGN §4 (pure: no database)."""

import itertools

import pytest

from accounts.models import Role
from cases.choices import CaseStatus
from cases.workflow import ACTIONS, FILER, TRANSITIONS, actions_from, is_legal, reachable_statuses, transition_for

S = CaseStatus
# The specification, written out independently of the table it checks.
EXPECTED = {
    "submit": ({S.DRAFT}, S.INTAKE, {FILER}),
    "withdraw": ({S.DRAFT, S.INTAKE}, S.WITHDRAWN, {FILER}),
    "reject": ({S.INTAKE}, S.REJECTED, {Role.SUPERVISOR}),
    "refer": ({S.INTAKE}, S.REFERRED, {Role.SUPERVISOR}),
    "acknowledge": ({S.REFERRED}, S.SUPERVISION, {Role.SUPERVISOR}),
    "conclude": ({S.SUPERVISION}, S.LOOK_BACK, {Role.SUPERVISOR}),
    "reopen": ({S.LOOK_BACK}, S.SUPERVISION, {Role.SUPERVISOR}),
    "close": ({S.LOOK_BACK}, S.CLOSED, {Role.SUPERVISOR}),
    "recall": ({S.CLOSED}, S.LOOK_BACK, {Role.SUPERVISOR, Role.ADMIN}),
}


def test_table_has_exactly_the_specified_actions():
    assert set(ACTIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_action_matches_the_specification(action):
    sources, target, performers = EXPECTED[action]
    t = TRANSITIONS[action]
    assert (set(t.sources), t.target, set(t.performers)) == (sources, target, performers)
    assert str(t.label) == action.capitalize()


@pytest.mark.parametrize(("action", "status"), list(itertools.product(sorted(EXPECTED), S.values)))
def test_every_action_status_pair(action, status):
    assert is_legal(action, status) is (status in EXPECTED[action][0])


def test_unknown_action_is_never_legal():
    assert transition_for("delete") is None
    assert not any(is_legal("delete", s) for s in S.values)


def test_terminal_statuses_offer_nothing_but_recall():
    assert actions_from(S.REJECTED) == []
    assert actions_from(S.WITHDRAWN) == []
    assert [t.action for t in actions_from(S.CLOSED)] == ["recall"]


def test_actions_from_each_status():
    assert {s: sorted(t.action for t in actions_from(s)) for s in S.values} == {
        S.DRAFT: ["submit", "withdraw"],
        S.INTAKE: ["refer", "reject", "withdraw"],
        S.REFERRED: ["acknowledge"],
        S.SUPERVISION: ["conclude"],
        S.LOOK_BACK: ["close", "reopen"],
        S.CLOSED: ["recall"],
        S.REJECTED: [],
        S.WITHDRAWN: [],
    }


def test_every_status_is_reachable_from_draft():
    assert reachable_statuses() == set(S.values)
