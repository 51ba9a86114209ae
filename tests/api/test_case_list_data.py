"""The case list renders its rows from plain values (``case_list_data``), not through ``CaseSerializer``: the JSON must
be the same, byte for byte, for every caller (the office's fields for the office alone) and in either language."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import selectors, services
from cases.api import serializers as s
from cases.choices import CaseStatus as S
from cases.choices import InjuryGrade, PauseReason
from cases.models import Case, InvolvedOfficer
from tests.factories import case_in, draft

ORDER = ("-last_activity_at", "-id")
CALLERS = (
    "officer",
    "other_officer",
    "supervisor",
    "county_supervisor",
    "ministry_supervisor",
    "admin",
    "sibling_supervisor",
)


@pytest.fixture
def varied(world):
    """Cases covering every shape a list row takes: each status on the way, a track, an assignee with and without a
    full name, a paused clock, open flags, a rule's expectation, injuries and dispositions, empty optional values, a
    unit with and without an English name, an officer listed as a victim, and the filer's own draft."""
    now = timezone.now()
    intake = case_in(world, S.INTAKE, kind="threat", occurred_at=now - timedelta(days=40), summary="电话威胁")
    attack = case_in(world, S.SUPERVISION, kind="violent_attack", occurred_at=now - timedelta(days=2))
    services.update_involved_officer(officer=attack.officers.get(), by=world.supervisor, injury=InjuryGrade.SERIOUS_2)
    closed = case_in(world, S.CLOSED, kind="violent_attack", location="灵隐路")
    referred = case_in(world, S.REFERRED, kind="obstruction")
    services.assign_case(case=intake, by=world.supervisor, expected_version=None, assignee=world.supervisor)
    services.assign_case(case=attack, by=world.supervisor, expected_version=None, assignee=world.county_supervisor)
    User.objects.filter(pk=world.county_supervisor.pk).update(full_name="")
    Case.objects.filter(pk=referred.pk).update(
        is_stalled=True,
        has_review_prompt=True,
        expected_min_rank=3,
        disposition_rank=1,
        paused_at=now,
        pause_reason=PauseReason.OTHER,
    )
    Case.objects.filter(pk=attack.pk).update(
        is_downgraded=True, is_idle=True, occurred_at=None, location="", summary=""
    )
    OrgUnit.objects.filter(pk=world.other_station.pk).update(name_en="Lingyin Police Station")
    Case.objects.filter(pk=closed.pk).update(unit=world.other_station, unit_path=world.other_station.path)
    InvolvedOfficer.objects.filter(case=closed).update(user=world.other_officer)
    return [intake, attack, closed, referred, draft(world)]


def as_serializer(actor) -> bytes:
    cases = list(selectors.cases_for_api(actor).order_by(*ORDER))
    request = SimpleNamespace(actor=actor)
    return JSONRenderer().render(s.CaseSerializer(cases, many=True, context={"request": request}).data)


def as_rows(actor) -> bytes:
    rows = selectors.cases_for_api(actor).order_by(*ORDER).values_list(*s.CASE_LIST_COLUMNS, named=True)
    return JSONRenderer().render(s.case_list_data(rows, actor=actor))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("caller", CALLERS)
def test_rows_render_exactly_what_the_serializer_renders(world, varied, caller, language):
    actor = actor_for(getattr(world, caller))
    with translation.override(language):
        assert as_rows(actor) == as_serializer(actor)


def test_the_comparison_covers_the_office_s_fields_and_the_filer_s_view(world, varied):
    # What the byte comparison above was made over: the office sees flags and expectations, the filer never does.
    with translation.override("en"):
        office = {row["reference"]: row for row in s.case_list_data(rows_of(world.supervisor), actor=sup(world))}
        filer = {row["reference"]: row for row in s.case_list_data(rows_of(world.officer), actor=off(world))}
    intake, attack, closed, referred, own = (case.reference for case in varied)
    assert set(office) == {intake, attack, closed, referred}
    assert set(filer) == {intake, attack, closed, referred, own}
    assert office[referred]["open_flags"] == ["stalled", "review_prompt"]
    assert office[referred]["expected_min_rank"] == 3
    assert office[referred]["is_paused"] is True
    assert office[attack]["open_flags"] == ["idle", "downgraded"]
    assert office[attack]["max_injury"] == "serious_2"
    assert office[attack]["assigned_to"] == {"id": world.county_supervisor.pk, "name": "county_supervisor"}
    assert office[attack]["occurred_at"] is None
    assert office[closed]["unit"]["display_name"] == "Lingyin Police Station"
    assert office[intake]["unit"]["display_name"] == world.station.name
    assert all(row["open_flags"] == [] and row["expected_min_rank"] is None for row in filer.values())
    # The officer listed on the closed case sees that one case, as the filer does: without the office's fields.
    listed = s.case_list_data(rows_of(world.other_officer), actor=actor_for(world.other_officer))
    assert [(row["reference"], row["open_flags"]) for row in listed] == [(closed, [])]


def test_the_api_answers_the_serializer_s_json_byte_for_byte(world, varied, api):
    for caller in ("officer", "supervisor", "other_officer"):
        actor = actor_for(getattr(world, caller))
        response = api(caller).get("/api/v1/cases/")
        assert response.status_code == 200
        expected = b'{"next":null,"previous":null,"results":' + as_serializer(actor) + b"}"
        assert response.content == expected


def rows_of(user):
    return selectors.cases_for_api(actor_for(user)).order_by(*ORDER).values_list(*s.CASE_LIST_COLUMNS, named=True)


def sup(world):
    return actor_for(world.supervisor)


def off(world):
    return actor_for(world.officer)
