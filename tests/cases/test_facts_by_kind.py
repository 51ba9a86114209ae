"""The facts are asked by incident type, shown read-only, and a change of type clears what it no longer asks."""

import pytest
from django.test import Client

from cases import services
from cases.choices import CaseStatus, EventKind, IncidentKind, Weapon
from cases.forms import FactsForm, SupervisorFactsForm
from cases.models import Case, CaseEvent
from cases.rules.facts import FACTS, facts_for_kind
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db


def names(kind: str) -> set[str]:
    return {f.name for f in facts_for_kind(kind)}


def test_a_kick_is_not_asked_about_online_posts_nor_a_post_about_weapons():
    assert {"weapon", "attackers", "intoxicated"} <= names(IncidentKind.VIOLENT_ATTACK)
    assert {"online_views", "online_reposts", "personal_info_items"} & names(IncidentKind.VIOLENT_ATTACK) == set()
    assert {"online_views", "online_reposts", "personal_info_items"} <= names(IncidentKind.ONLINE_DEFAMATION)
    assert {"weapon", "attackers", "vehicle_used", "intoxicated"} & names(IncidentKind.ONLINE_DEFAMATION) == set()
    assert names(IncidentKind.OTHER) == {f.name for f in FACTS}


def test_every_fact_a_rule_reads_is_asked_for_the_types_the_rule_applies_to():
    for fact in FACTS:
        for kind in fact.kinds or ():
            assert fact.asked_about(kind), (fact.name, kind)


def test_the_forms_ask_only_what_the_type_asks(world):
    attack = draft(world, kind=IncidentKind.VIOLENT_ATTACK)
    post = draft(world, kind=IncidentKind.ONLINE_DEFAMATION)
    assert "online_views" not in FactsForm(instance=attack).fields
    assert "weapon" in FactsForm(instance=attack).fields
    assert "weapon" not in SupervisorFactsForm(instance=post).fields
    assert {"online_views", "major_security_period"} <= set(SupervisorFactsForm(instance=post).fields)


def test_changing_the_type_clears_the_answers_it_no_longer_asks_and_the_timeline_keeps_them(world):
    case = draft(world, kind=IncidentKind.VIOLENT_ATTACK, weapon=Weapon.BLUNT, attackers=2, intoxicated=True)
    case = services.update_case_details(
        case=case, by=world.officer, expected_version=case.version, changes={"kind": IncidentKind.ONLINE_DEFAMATION}
    )
    case = Case.objects.get(pk=case.pk)
    assert (case.weapon, case.attackers, case.intoxicated) == (Weapon.UNKNOWN, None, None)
    event = CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED).latest("id")
    assert event.data["cleared_facts"] == ["attackers", "intoxicated", "weapon"]
    assert event.data["changes"] == {
        "kind": [IncidentKind.VIOLENT_ATTACK, IncidentKind.ONLINE_DEFAMATION],
        "weapon": [Weapon.BLUNT, Weapon.UNKNOWN],
        "attackers": [2, None],
        "intoxicated": [True, None],
    }


def test_a_change_that_keeps_the_type_clears_nothing(world):
    case = draft(world, kind=IncidentKind.VIOLENT_ATTACK, weapon=Weapon.BLUNT)
    services.update_case_details(case=case, by=world.officer, expected_version=case.version, changes={"summary": "x"})
    event = CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED).latest("id")
    assert "cleared_facts" not in event.data
    assert Case.objects.get(pk=case.pk).weapon == Weapon.BLUNT


def test_the_incident_step_says_which_answers_were_cleared(world):
    case = draft(world, kind=IncidentKind.VIOLENT_ATTACK, weapon=Weapon.BLUNT)
    client = Client()
    client.force_login(world.officer)
    response = client.post(
        f"/cases/{case.pk}/edit/incident/",
        {
            "kind": IncidentKind.ONLINE_DEFAMATION,
            "occurred_at": case.occurred_at.strftime("%Y-%m-%dT%H:%M"),
            "location": case.location,
            "channel": case.channel,
            "version": case.version,
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert [str(m) for m in response.context["messages"]] == [
        "These answers do not apply to “Online defamation or insult” and were cleared (the timeline keeps them): "
        "Weapon."
    ]


def test_the_case_page_shows_the_facts_read_only_with_not_answered(world):
    case = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.VIOLENT_ATTACK, weapon=Weapon.BLUNT, attackers=None)
    client = Client()
    client.force_login(world.officer)
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<dd class="col-sm-6" data-fact-value="weapon">Blunt object</dd>' in page
    assert 'data-fact-value="attackers">not answered</dd>' in page
    assert 'data-fact-value="online_views"' not in page
