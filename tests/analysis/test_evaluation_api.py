"""The evaluation report API (/api/v1/analysis/evaluations/, analysis/api/evaluation_views.py): the pages' readers and
rules, the figures as each reader may read them, the lessons and steps with the version in the body or If-Match (412
when stale, 409 when past the step), each refusal writing nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis import services
from analysis.choices import EvaluationState
from analysis.models import EvaluationReport
from tests.analysis.evaluation_dataset import evaluation_dataset
from tests.analysis.test_evaluation_steps import LESSONS, state_of
from tests.api.conftest import token_client

URL = "/api/v1/analysis/evaluations/"


@pytest.fixture
def report(world):
    return services.start_evaluation(unit=world.county, year=2025, quarter=2, by=world.county_supervisor)[0]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_each_reader_lists_the_reports_of_their_area_with_filters(world, report):
    city = services.start_evaluation(unit=world.city, year=2024, quarter=0, by=world.supervisor)[0]
    assert ids(token_client(world.supervisor).get(URL)) == [city.pk, report.pk]
    assert ids(token_client(world.county_supervisor).get(URL)) == [report.pk]
    assert ids(token_client(world.admin).get(URL, {"year": 2024})) == [city.pk]
    assert ids(token_client(world.supervisor).get(URL, {"unit": world.county.pk})) == [report.pk]
    assert ids(token_client(world.supervisor).get(URL, {"state": "approved"})) == []
    assert ids(token_client(world.sibling_supervisor).get(URL)) == []
    assert token_client(world.sibling_supervisor).get(URL, {"unit": world.county.pk}).status_code == 404
    assert token_client(world.officer).get(URL).status_code == 403
    assert token_client(world.supervisor).get(URL, {"state": "nope"}).status_code == 400


def test_the_list_answers_in_the_same_queries_for_more_reports(world, report):
    client = token_client(world.supervisor)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for quarter in (1, 3, 4):
        services.start_evaluation(unit=world.county, year=2025, quarter=quarter, by=world.county_supervisor)
    with CaptureQueriesContext(connection) as four:
        assert len(ids(client.get(URL))) == 4
    assert len(four) == len(one)


def test_creating_a_report_and_creating_it_again(world):
    client = token_client(world.county_supervisor)
    created = client.post(URL, {"unit": world.county.pk, "year": 2025, "quarter": 2}, format="json")
    assert created.status_code == 201
    assert (created.json()["state"], created.json()["version"], created["ETag"]) == ("draft", 1, '"1"')
    again = token_client(world.supervisor).post(
        URL, {"unit": world.county.pk, "year": 2025, "quarter": 2}, format="json"
    )
    assert (again.status_code, again.json()["id"]) == (200, created.json()["id"])
    refused = client.post(URL, {"unit": world.county.pk, "year": 2999, "quarter": 2}, format="json")
    assert refused.status_code == 400
    assert EvaluationReport.objects.count() == 1


@pytest.mark.parametrize(("who", "code"), [("admin", 403), ("sibling_supervisor", 404), ("officer", 403)])
def test_who_may_not_create_one_creates_nothing(world, who, code):
    response = token_client(getattr(world, who)).post(
        URL, {"unit": world.county.pk, "year": 2025, "quarter": 2}, format="json"
    )
    assert response.status_code == code
    assert EvaluationReport.objects.count() == 0


def test_a_report_answers_its_figures_as_the_reader_may_read_them(world, report):
    data = evaluation_dataset(world)
    body = token_client(world.county_supervisor).get(f"{URL}{report.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    f = body["figures"]
    assert f["frozen"] is False
    assert f["cases"] == {"current": 5, "previous": 1, "change_pct": 400.0}
    assert f["officer_strength"] == {"current": 200, "previous": 100, "change_pct": 100.0}
    assert f["cases_per_100_officers"] == {"current": 2.5, "previous": 1.0}
    assert f["duty_scenarios"]["top"][0] == {"code": "call_110", "cases": 3, "share_pct": 60.0}
    assert f["repeat_attackers"] == {
        "cases": 2,
        "suspects": 2,
        "listed": [
            {"case": data.a1.pk, "reference": data.a1.reference, "suspect": "张某", "earlier_cases": 2},
            {"case": data.a3.pk, "reference": data.a3.reference, "suspect": "L. S.", "earlier_cases": 1},
        ],
    }
    assert [(w["id"], w["state"]) for w in f["warnings"]] == [
        (data.unit_rise.pk, "acknowledged"),
        (data.repeat.pk, "open"),
    ]
    admin = token_client(world.admin).get(f"{URL}{report.pk}/").json()["figures"]
    assert admin["repeat_attackers"] == {"cases": 2, "suspects": 2, "listed": []}
    assert [w["id"] for w in admin["warnings"]] == [data.unit_rise.pk]


def test_lessons_with_if_match_and_a_stale_version_is_412(world, report):
    client = token_client(world.county_supervisor)
    done = client.patch(f"{URL}{report.pk}/", {"lessons": LESSONS}, format="json", HTTP_IF_MATCH='"1"')
    assert (done.status_code, done.json()["lessons"], done["ETag"]) == (200, LESSONS, '"2"')
    before = state_of(report)
    stale = client.patch(f"{URL}{report.pk}/", {"lessons": "覆盖"}, format="json", HTTP_IF_MATCH='"1"')
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    too_long = client.patch(f"{URL}{report.pk}/", {"lessons": "字" * 20001, "version": 2}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["errors"]["lessons"] == [
        "Keep the lessons and measures to 20000 characters; this text has 20001."
    ]
    assert state_of(report) == before


def test_the_steps_with_four_eyes_409_past_the_step_and_refusals_writing_nothing(world, report):
    writer = token_client(world.county_supervisor)
    writer.patch(f"{URL}{report.pk}/", {"lessons": LESSONS, "version": 1}, format="json")
    submitted = writer.post(f"{URL}{report.pk}/submit/", {"version": 2}, format="json")
    assert (submitted.status_code, submitted.json()["state"]) == (200, EvaluationState.SUBMITTED)
    before = state_of(report)
    assert writer.post(f"{URL}{report.pk}/approve/", {"version": 3}, format="json").status_code == 403
    assert writer.post(f"{URL}{report.pk}/return/", {"note": "退回"}, format="json").status_code == 403
    assert token_client(world.admin).post(f"{URL}{report.pk}/approve/", {}, format="json").status_code == 403
    assert token_client(world.sibling_supervisor).post(f"{URL}{report.pk}/approve/").status_code == 404
    assert writer.patch(f"{URL}{report.pk}/", {"lessons": "改", "version": 3}, format="json").status_code == 409
    assert writer.post(f"{URL}{report.pk}/submit/", {"version": 3}, format="json").status_code == 409
    boss = token_client(world.supervisor)
    assert boss.post(f"{URL}{report.pk}/return/", {"version": 3, "note": " "}, format="json").status_code == 400
    assert boss.post(f"{URL}{report.pk}/approve/", {"version": 2}, format="json").status_code == 412
    assert state_of(report) == before
    approved = boss.post(f"{URL}{report.pk}/approve/", {}, format="json", HTTP_IF_MATCH='"3"')
    assert approved.status_code == 200
    body = approved.json()
    assert (body["state"], body["approved_by"]["id"], body["figures"]["frozen"]) == (
        EvaluationState.APPROVED,
        world.supervisor.pk,
        True,
    )
    after = state_of(report)
    assert token_client(world.ministry_supervisor).post(f"{URL}{report.pk}/approve/").status_code == 409
    assert (
        token_client(world.ministry_supervisor)
        .post(f"{URL}{report.pk}/return/", {"note": "x"}, format="json")
        .status_code
        == 409
    )
    assert state_of(report) == after


def test_a_return_through_the_api(world, report):
    services.submit_evaluation(report=report, by=world.county_supervisor, lessons=LESSONS)
    response = token_client(world.ministry_supervisor).post(
        f"{URL}{report.pk}/return/", {"note": "请补充整改措施", "version": 2}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["return_note"], body["returned_by"]["id"], body["submitted_by"]) == (
        EvaluationState.DRAFT,
        "请补充整改措施",
        world.ministry_supervisor.pk,
        None,
    )
