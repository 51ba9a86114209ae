"""The early-warning API (/api/v1/warnings/, analysis/api/warning_views.py): the pages' readers and rules, the steps
with the version in the body or If-Match (412 when stale, 409 when past the step), each refusal writing nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from analysis.choices import WarningKind, WarningState
from tests.analysis.warnings_dataset import a_warning, four_warnings, state_of
from tests.api.conftest import token_client

URL = "/api/v1/warnings/"


@pytest.fixture
def warnings(world):
    return four_warnings(world)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_reader_lists_the_warnings_of_their_area(world, warnings):
    city = {warnings.unit_rise.pk, warnings.repeat_attacker.pk, warnings.repeat_victim.pk}
    assert ids(token_client(world.supervisor).get(URL)) == city
    assert ids(token_client(world.ministry_supervisor).get(URL)) == {w.pk for w in warnings.all()}
    assert ids(token_client(world.admin).get(URL)) == {
        warnings.unit_rise.pk,
        warnings.scenario_rise.pk,
        warnings.repeat_victim.pk,
    }
    assert ids(token_client(world.sibling_supervisor).get(URL)) == set()


def test_a_warning_reads_as_its_figures_and_its_sentence(world, warnings):
    response = token_client(world.county_supervisor).get(f"{URL}{warnings.unit_rise.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert {k: body[k] for k in ("kind", "severity", "state", "case", "key", "version", "acknowledged_by")} == {
        "kind": "unit_rise",
        "severity": "high",
        "state": "open",
        "case": None,
        "key": warnings.unit_rise.key,
        "version": 1,
        "acknowledged_by": None,
    }
    assert body["owner_unit"]["code"] == "330106"
    assert body["figures"]["observed"] == 7
    assert body["explanation"] == (
        "西湖区分局 received 7 cases from 1 Oct 2025 to 31 Dec 2025, where 0.3 were expected from the 24 months before "
        "(2 cases); 3 or more is beyond the control limit (p = 1e-08)."
    )


def test_the_filters(world, warnings):
    client = token_client(world.ministry_supervisor)
    assert ids(client.get(URL, {"kind": "scenario_rise"})) == {warnings.scenario_rise.pk}
    assert ids(client.get(URL, {"unit": world.county.pk, "state": "open"})) == {
        warnings.unit_rise.pk,
        warnings.repeat_attacker.pk,
        warnings.repeat_victim.pk,
    }
    assert client.get(URL, {"state": "forgotten"}).status_code == 400
    assert client.get(URL, {"unit": ""}).status_code == 400
    assert token_client(world.supervisor).get(URL, {"unit": world.sibling_province.pk}).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("officer", 403), ("other_officer", 403)])
def test_officers_are_refused(world, warnings, who, status):
    client = token_client(getattr(world, who))
    assert client.get(URL).status_code == status
    assert client.get(f"{URL}{warnings.unit_rise.pk}/").status_code == status


def test_anonymous_callers_are_unauthenticated(warnings):
    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("who", "kind"),
    [("sibling_supervisor", "unit_rise"), ("supervisor", "scenario_rise"), ("admin", "repeat_attacker")],
)
def test_a_warning_outside_the_readers_area_is_not_found(world, warnings, who, kind):
    assert token_client(getattr(world, who)).get(f"{URL}{getattr(warnings, kind).pk}/").status_code == 404


def test_acknowledge_then_resolve_with_if_match(world, warnings):
    client = token_client(world.county_supervisor)
    warning = warnings.unit_rise
    response = client.post(
        f"{URL}{warning.pk}/acknowledge/", {"note": "已安排核查"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert (response.status_code, response["ETag"]) == (200, '"2"')
    assert (response.json()["state"], response.json()["acknowledgement_note"]) == ("acknowledged", "已安排核查")
    assert response.json()["acknowledged_by"]["id"] == world.county_supervisor.pk
    response = client.post(f"{URL}{warning.pk}/resolve/", {"note": "已核实", "version": 2}, format="json")
    assert (response.status_code, response["ETag"]) == (200, '"3"')
    assert state_of(warning)[:2] == (WarningState.RESOLVED, 3)
    assert response.json()["resolution_note"] == "已核实"


def test_a_stale_version_is_412_and_writes_nothing(world, warnings):
    warning = warnings.unit_rise
    client = token_client(world.county_supervisor)
    assert client.post(f"{URL}{warning.pk}/acknowledge/", {}, format="json").status_code == 200
    before = state_of(warning)
    response = client.post(f"{URL}{warning.pk}/resolve/", {"note": "已处理"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert response.json()["code"] == "stale_version"
    assert state_of(warning) == before


def test_a_step_the_warning_is_past_is_409(world, warnings):
    warning = warnings.unit_rise
    client = token_client(world.county_supervisor)
    before = state_of(warning)
    response = client.post(f"{URL}{warning.pk}/resolve/", {"note": "已处理"}, format="json")
    assert response.status_code == 409
    assert state_of(warning) == before


def test_a_resolution_without_a_note_is_400(world, warnings):
    warning = warnings.unit_rise
    client = token_client(world.county_supervisor)
    client.post(f"{URL}{warning.pk}/acknowledge/", {}, format="json")
    before = state_of(warning)
    for body in ({}, {"note": "   "}):
        response = client.post(f"{URL}{warning.pk}/resolve/", body, format="json")
        assert response.status_code == 400
    assert state_of(warning) == before


def test_the_body_and_if_match_must_agree(world, warnings):
    before = state_of(warnings.unit_rise)
    response = token_client(world.county_supervisor).post(
        f"{URL}{warnings.unit_rise.pk}/acknowledge/", {"version": 1}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert response.status_code == 400
    assert state_of(warnings.unit_rise) == before


@pytest.mark.parametrize(("who", "status"), [("admin", 403), ("sibling_supervisor", 404), ("officer", 403)])
def test_a_step_by_anyone_else_is_refused_and_writes_nothing(world, warnings, who, status):
    before = state_of(warnings.unit_rise)
    response = token_client(getattr(world, who)).post(f"{URL}{warnings.unit_rise.pk}/acknowledge/", {}, format="json")
    assert response.status_code == status
    assert state_of(warnings.unit_rise) == before


def test_the_list_costs_the_same_queries_for_four_warnings_as_for_forty(world, warnings):
    client = token_client(world.ministry_supervisor)
    client.get(URL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"page_size": 100}).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(36):
        a_warning(WarningKind.UNIT_RISE, world.county, key=f"unit_rise:{world.county.pk}:extra-{n}")
    assert queries() == few


def test_the_schema_describes_the_warnings(world):
    paths = token_client(world.supervisor).get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert {p for p in paths if p.startswith(URL)} == {
        URL,
        f"{URL}{{id}}/",
        f"{URL}{{id}}/acknowledge/",
        f"{URL}{{id}}/resolve/",
    }
    assert set(paths[f"{URL}{{id}}/resolve/"]["post"]["responses"]) == {"200", "400", "401", "403", "404", "409", "412"}
