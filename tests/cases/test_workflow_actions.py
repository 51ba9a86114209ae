"""The action registry (cases/workflow_actions.py) and the workflow table stay in step: every action has its service,
its browser form and its API input, and each of them fits the service it feeds (no database)."""

import inspect

import pytest
from django.urls import reverse

from cases import workflow_actions
from cases.api.serializers import VersionedSerializer
from cases.forms import VersionForm
from cases.workflow import TRANSITIONS
from cases.workflow_actions import WORKFLOW_ACTIONS

# What every action service takes besides the action's own input; ``version`` is how forms and inputs carry it.
COMMON = {"case", "by", "expected_version"}


def _parameters(action: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(WORKFLOW_ACTIONS[action].service).parameters)


def _input_fields(action: str) -> dict[str, set[str]]:
    entry = WORKFLOW_ACTIONS[action]
    return {
        "form": set(entry.form.base_fields) - {"version"},
        "api_input": set(entry.api_input().fields) - {"version"},
    }


def test_the_registry_names_exactly_the_workflow_actions_in_its_order():
    assert list(WORKFLOW_ACTIONS) == list(TRANSITIONS)


def test_an_action_the_workflow_does_not_have_cannot_be_registered():
    entry = WORKFLOW_ACTIONS["submit"]
    with pytest.raises(KeyError):
        workflow_actions._action("delete", entry.service, entry.form, entry.api_input)


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_each_action_has_its_transition_service_form_and_api_input(action):
    entry = WORKFLOW_ACTIONS[action]
    assert entry.name == action
    assert entry.transition is TRANSITIONS[action]
    assert callable(entry.service)
    assert issubclass(entry.form, VersionForm)
    assert issubclass(entry.api_input, VersionedSerializer)


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_the_service_takes_the_case_the_user_and_the_version_by_keyword(action):
    parameters = _parameters(action)
    assert set(parameters) >= COMMON
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_field_the_form_and_the_api_input_send_is_a_parameter_of_the_service(action):
    parameters = set(_parameters(action)) - COMMON
    for door, fields in _input_fields(action).items():
        assert fields - parameters == set(), door


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_parameter_the_service_requires_is_asked_by_the_form_and_the_api_input(action):
    required = {
        name for name, p in _parameters(action).items() if p.default is inspect.Parameter.empty and name not in COMMON
    }
    for door, fields in _input_fields(action).items():
        assert required - fields == set(), door


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_each_action_has_its_api_route_and_its_page_route(action):
    assert reverse(f"api:case-{action}", kwargs={"case_pk": 7}) == f"/api/v1/cases/7/actions/{action}/"
    assert reverse("cases:action", kwargs={"pk": 7, "action": action}) == f"/cases/7/actions/{action}/"
