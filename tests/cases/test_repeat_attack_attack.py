# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""Repeat attackers and welfare prompts (issue 21), tried from outside: a filer probing ID numbers through the
automatic fact, the timeline and the API; numbers typed oddly; suspects corrected after the match; the welfare
prompt's recipients and sentence. Each test asserts the safe behaviour."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.selectors import actor_for
from cases import selectors, services
from cases.choices import CaseStatus, Disposition, EventKind
from cases.models import Case, CaseEvent
from tests.api.conftest import token_client
from tests.factories import World, case_in, complete_details

pytestmark = pytest.mark.django_db

TARGET = "33010619920315451X"
SET_FROM_RECORD = "Set from the record"


def punished_elsewhere(world: World, number: str = TARGET, *, days_ago: int = 60) -> Case:
    """A case filed at the other station (which the officer does not see), whose suspect was convicted."""
    case = services.create_draft_case(
        by=world.other_officer,
        unit=world.other_station,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=days_ago)),
    )
    case = services.submit_case(case=case, by=world.other_officer, expected_version=None)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=number)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CONVICTED_277_5_BASIC,
        decided_at=timezone.localdate() - timedelta(days=30),
    )
    return case


def probe(world: World, number: str, **details) -> Case:
    """The officer's own application with a number typed as its suspect's, submitted."""
    case = services.create_draft_case(by=world.officer, unit=world.station, details=complete_details(**details))
    services.add_suspect(case=case, by=world.officer, name="某人", id_number=number)
    return services.submit_case(case=case, by=world.officer, expected_version=None)


def fact_on_page(client: Client, case: Case) -> str:
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    start = page.index('data-fact-value="prior_attack_on_police">') + len('data-fact-value="prior_attack_on_police">')
    return page[start : page.index("</dd>", start)]


def page_text(client: Client, case: Case) -> str:
    return client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the filer as an oracle ------------------------------------------------------------------------------------------


def test_the_filer_cannot_learn_from_their_own_submitted_case_whether_a_typed_number_was_punished(world):
    """The officer types a target's number on a draft and submits: the page, the API detail and the timeline show their own answer, not the record's."""
    earlier = punished_elsewhere(world)
    assert not selectors.cases_visible_to(world.officer).filter(pk=earlier.pk).exists()
    case = probe(world, TARGET)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True  # the rules see it

    client = Client()
    client.force_login(world.officer)
    assert fact_on_page(client, case) == "not answered"
    assert SET_FROM_RECORD not in page_text(client, case)
    api = token_client(world.officer)
    assert api.get(f"/api/v1/cases/{case.pk}/").json()["prior_attack_on_police"] is None
    events = api.get(f"/api/v1/cases/{case.pk}/events/").json()
    assert [e for e in events["results"] if "derived" in (e.get("data") or {})] == []
    assert "prior_attack_on_police" not in str(events)

    # The office reads the record's answer, and why.
    client.force_login(world.supervisor)
    assert fact_on_page(client, case) == "yes"
    assert SET_FROM_RECORD in page_text(client, case)
    assert token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/").json()["prior_attack_on_police"] is True


def test_the_filer_reads_their_own_no_and_a_number_without_a_record_reads_alike(world):
    """Answered "no", the filer reads "no" whether or not the number was punished: both probes look the same."""
    punished_elsewhere(world)
    matched = probe(world, TARGET, prior_attack_on_police=False)
    unmatched = probe(world, "330106199203154521", prior_attack_on_police=False)
    client = Client()
    client.force_login(world.officer)
    assert fact_on_page(client, matched) == fact_on_page(client, unmatched) == "no"
    api = token_client(world.officer)
    assert api.get(f"/api/v1/cases/{matched.pk}/").json()["prior_attack_on_police"] is False
    kinds = [
        [(e["kind"], e["action"]) for e in api.get(f"/api/v1/cases/{c.pk}/events/").json()["results"]]
        for c in (matched, unmatched)
    ]
    assert kinds[0] == kinds[1] == [("created", ""), ("suspect_added", ""), ("transition", "submit")]
