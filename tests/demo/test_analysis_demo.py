"""``seed_demo`` and the analysis facts (issue 21): the demo stories and the synthetic cases record a duty scenario and
a place category, and the demo plays a repeat attacker whose earlier punishment sets the prior-attack fact."""

from collections import Counter
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.selectors import actor_for
from cases import selectors
from cases.choices import DutyScenario, IncidentKind, PlaceCategory
from cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def seed(*args: str) -> None:
    call_command("seed_demo", *args, stdout=StringIO())


def test_the_demo_plays_a_repeat_attacker_and_records_where_and_how_officers_were_attacked():
    seed()
    repeat = Case.objects.get(summary="曙光路酒吧门口处警时再遭何某踢打")
    earlier = Case.objects.get(summary="处置酒吧门口纠纷时被当事人踢伤")
    assert (repeat.duty_scenario, repeat.place_category) == (DutyScenario.CALL_110, PlaceCategory.ENTERTAINMENT)
    # The ID number was typed with spaces; the blind index still matches the suspect punished 15 days ago.
    assert repeat.prior_attack_on_police is True
    assert CaseEvent.objects.filter(case=repeat, data__derived="repeat_suspect").count() == 1
    supervisor = actor_for(User.objects.get(username="supervisor"))
    assert selectors.earlier_cases_against_police(supervisor, repeat) == [earlier]
    demo = Case.objects.filter(filed_by__username__in=["officer", "officer2", "officer_hubei"])
    recorded = demo.exclude(duty_scenario="").count()
    assert recorded >= 30
    assert (
        demo.filter(place_category=PlaceCategory.ONLINE)
        .exclude(kind__in=[IncidentKind.ONLINE_DEFAMATION, IncidentKind.DOXXING])
        .count()
        == 0
    )


def test_synthetic_cases_have_realistic_scenarios_and_places(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    seed("--no-demo", "--cases", "400", "--batch-size", "100")
    duties = Counter(Case.objects.values_list("duty_scenario", flat=True))
    places = Counter(Case.objects.values_list("place_category", flat=True))
    assert sum(duties.values()) == 400
    assert set(duties) <= {"", *DutyScenario.values}
    assert set(places) <= {"", *PlaceCategory.values}
    # 110 calls lead, roads lead the places; a few cases leave them unrecorded, as filers do.
    assert duties.most_common(1)[0][0] == DutyScenario.CALL_110
    assert places.most_common(1)[0][0] == PlaceCategory.ROAD
    assert len(duties) >= 8
    assert len(places) >= 8
    assert 0 < duties[""] < 40
    assert 0 < places[""] < 40
    online = Case.objects.filter(place_category=PlaceCategory.ONLINE)
    assert set(online.values_list("kind", flat=True)) <= {IncidentKind.ONLINE_DEFAMATION, IncidentKind.DOXXING}
    off_duty_kinds = {
        IncidentKind.RETALIATION_OFF_DUTY,
        IncidentKind.RETALIATION_RELATIVES,
        IncidentKind.PROPERTY_DAMAGE,
    }
    assert set(Case.objects.filter(kind__in=off_duty_kinds).values_list("duty_scenario", flat=True)) <= {"off_duty"}
