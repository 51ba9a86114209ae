"""The evaluation report pages (analysis/evaluation_views.py): the list with its filters and "start a report", a
report's page with its figures as each reader may read them, the lessons with the stale guard (409, what was typed
kept), the steps with their refusals (403, 404, 400, 409), each leaving the report as it was; the downloads behind the
password, resumed after it and logged."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analysis import services
from analysis.choices import EvaluationState, WarningKind
from analysis.models import EvaluationReport
from cases import services as services_of_cases
from cases.models import AccessLog
from tests.analysis.dataset import at, filed
from tests.analysis.evaluation_dataset import N1, evaluation_dataset
from tests.analysis.test_evaluation_steps import LESSONS, state_of
from tests.analysis.warnings_dataset import a_warning
from tests.conftest import reauthenticated

LIST = "/analysis/evaluations/"


def get(client, user, url=LIST, **params):
    client.force_login(user)
    with translation.override("en"):
        return client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


def post(client, user, url, data):
    client.force_login(user)
    with translation.override("en"):
        return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def detail(report) -> str:
    return f"{LIST}{report.pk}/"


def new_report(world, quarter=2, year=2025, by=None) -> EvaluationReport:
    return services.start_evaluation(unit=world.county, year=year, quarter=quarter, by=by or world.county_supervisor)[0]


@pytest.fixture
def report(world):
    return new_report(world)


def submitted(world, report) -> EvaluationReport:
    report = services.save_lessons(report=report, by=world.county_supervisor, lessons=LESSONS)
    return services.submit_evaluation(report=report, by=world.county_supervisor)


def test_officers_are_refused_and_other_areas_do_not_exist(client, world, report):
    assert get(client, world.officer).status_code == 403
    assert get(client, world.officer, detail(report)).status_code == 403
    assert get(client, world.sibling_supervisor, detail(report)).status_code == 404
    assert get(client, world.sibling_supervisor, LIST, unit=world.county.code).status_code == 404
    assert get(client, world.county_supervisor, LIST, year="nope").status_code == 400


def test_the_list_shows_the_reports_of_ones_area_with_its_filters(client, world, report):
    city = services.start_evaluation(unit=world.city, year=2025, quarter=0, by=world.supervisor)[0]
    ids = lambda response: [int(pk) for pk in re.findall(r'data-report="(\d+)"', response.content.decode())]  # noqa: E731
    assert ids(get(client, world.supervisor)) == [city.pk, report.pk]  # the year before its quarters
    assert ids(get(client, world.county_supervisor)) == [report.pk]
    assert ids(get(client, world.supervisor, LIST, unit=world.county.code)) == [report.pk]
    assert ids(get(client, world.supervisor, LIST, state=EvaluationState.SUBMITTED)) == []
    assert ids(get(client, world.admin, LIST, year=2025)) == [city.pk, report.pk]
    assert ids(get(client, world.sibling_supervisor)) == []
    # Supervisors may start one, administrators not: they see no form.
    assert 'id="evaluation-start"' in get(client, world.supervisor).content.decode()
    assert 'id="evaluation-start"' not in get(client, world.admin).content.decode()


def test_the_list_answers_in_the_same_queries_for_more_reports(client, world, report):
    client.force_login(world.supervisor)
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for quarter in (1, 3, 4):
        new_report(world, quarter=quarter)
    with CaptureQueriesContext(connection) as four:
        response = client.get(LIST)
    assert response.content.decode().count("data-report=") == 4
    assert len(four) == len(one)


def test_the_analysis_page_links_to_the_list(client, world):
    assert f'href="{LIST}"' in get(client, world.supervisor, "/analysis/").content.decode()


def test_starting_a_report_and_starting_it_again_leads_to_it(client, world):
    data = {"unit": world.county.code, "year": 2025, "quarter": 2}
    response = post(client, world.county_supervisor, f"{LIST}start/", data)
    report = EvaluationReport.objects.get()
    assert (response.status_code, response["Location"]) == (302, detail(report))
    again = post(client, world.supervisor, f"{LIST}start/", data)
    assert (again.status_code, again["Location"], EvaluationReport.objects.count()) == (302, detail(report), 1)


@pytest.mark.parametrize(
    ("who", "unit", "status"),
    [("admin", "330106", 403), ("sibling_supervisor", "330106", 404), ("county_supervisor", "330100", 404)],
)
def test_who_may_not_start_one_starts_nothing(client, world, who, unit, status):
    response = post(client, getattr(world, who), f"{LIST}start/", {"unit": unit, "year": 2025, "quarter": 2})
    assert response.status_code == status
    assert EvaluationReport.objects.count() == 0


def test_a_period_out_of_range_is_refused_on_the_form(client, world):
    response = post(client, world.county_supervisor, f"{LIST}start/", {"unit": "330106", "year": 2999, "quarter": 1})
    assert response.status_code == 400
    assert "Choose a year from 2015 to" in text(response)
    assert EvaluationReport.objects.filter(year=2999).count() == 0


def test_a_supervisor_reads_the_figures_and_the_masked_repeat_attackers(client, world, report):
    data = evaluation_dataset(world)
    response = get(client, world.county_supervisor, detail(report))
    assert response.status_code == 200
    body = text(response)
    assert "Case analysis and evaluation: 西湖区分局, Q2 2025" in body
    assert "Cases 5 1 400.0 2.50 1.00" in body  # the quarter, a year earlier, the change, the rates per 100
    assert f"{data.a1.reference} 张某 2" in body
    assert f"{data.a3.reference} L. S. 1" in body
    assert "张三丰" not in body
    assert "Rise in a unit's cases 1 1 0 0" in body
    assert "Suspect with earlier cases against police 1 0 0 1" in body
    assert 'id="lessons-form"' in response.content.decode()


def test_an_administrator_reads_the_counts_and_acts_on_nothing(client, world, report):
    data = evaluation_dataset(world)
    response = get(client, world.admin, detail(report))
    body = text(response)
    assert data.a1.reference not in body
    assert "2 suspects in 2 of the period's cases have earlier cases against police in the unit's area." in body
    assert "Suspect with earlier cases against police 0 0 0 0" in body  # not a warning they could open
    html = response.content.decode()
    assert 'id="lessons-form"' not in html
    assert 'id="read-only-note"' in html


def test_saving_the_lessons(client, world, report):
    response = post(
        client, world.supervisor, f"{detail(report)}lessons/", {"lessons-version": 1, "lessons-lessons": LESSONS}
    )
    assert (response.status_code, response["Location"]) == (302, detail(report))
    assert EvaluationReport.objects.get().lessons == LESSONS


def test_a_stale_save_is_refused_with_409_and_the_typed_text_kept(client, world, report):
    services.save_lessons(report=report, by=world.supervisor, lessons="市局先写的")
    before = state_of(report)
    typed = "县局写的<b>经验</b>"
    response = post(
        client, world.county_supervisor, f"{detail(report)}lessons/", {"lessons-version": 1, "lessons-lessons": typed}
    )
    assert response.status_code == 409
    assert state_of(report) == before
    assert "This report changed after you opened it, so nothing was saved." in text(response)
    html = response.content.decode()
    assert (
        '<textarea class="form-control" id="kept-text" rows="6" readonly>县局写的&lt;b&gt;经验&lt;/b&gt;</textarea>'
        in html
    )
    assert response.context["lessons_form"]["version"].value() == 2  # the form as the report is now


def test_lessons_too_long_are_refused_beside_the_field(client, world, report):
    before = state_of(report)
    response = post(
        client,
        world.county_supervisor,
        f"{detail(report)}lessons/",
        {"lessons-version": 1, "lessons-lessons": "字" * 20001},
    )
    assert response.status_code == 400
    assert "Keep the lessons and measures to 20000 characters; this text has 20001." in text(response)
    assert state_of(report) == before


def test_save_and_submit_then_four_eyes(client, world, report):
    response = post(
        client, world.county_supervisor, f"{detail(report)}submit/", {"lessons-version": 1, "lessons-lessons": LESSONS}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.lessons, report.submitted_by) == (
        EvaluationState.SUBMITTED,
        LESSONS,
        world.county_supervisor,
    )
    before = state_of(report)
    # The submitter is refused, before the form is read.
    refused = post(client, world.county_supervisor, f"{detail(report)}approve/", {"approve-version": 2})
    assert refused.status_code == 403
    assert state_of(report) == before
    assert 'id="four-eyes-note"' in get(client, world.county_supervisor, detail(report)).content.decode()
    for who, status in (("admin", 403), ("sibling_supervisor", 404), ("officer", 403)):
        assert post(client, getattr(world, who), f"{detail(report)}approve/", {"approve-version": 2}).status_code == (
            status
        )
    assert state_of(report) == before
    done = post(client, world.supervisor, f"{detail(report)}approve/", {"approve-version": 2})
    assert done.status_code == 302
    assert EvaluationReport.objects.get().state == EvaluationState.APPROVED


def test_a_return_needs_a_note(client, world, report):
    report = submitted(world, report)
    before = state_of(report)
    response = post(client, world.supervisor, f"{detail(report)}return/", {"return-version": 3, "return-note": " "})
    assert response.status_code == 400
    assert "Say what should change: a return needs a note." in text(response)
    assert state_of(report) == before
    response = post(
        client, world.supervisor, f"{detail(report)}return/", {"return-version": 3, "return-note": "请补充整改措施"}
    )
    assert response.status_code == 302
    page = text(get(client, world.county_supervisor, detail(report)))
    assert "请补充整改措施" in page
    assert EvaluationReport.objects.get().state == EvaluationState.DRAFT


def test_a_step_the_report_is_past_is_refused_with_409(client, world, report):
    report = submitted(world, report)
    before = state_of(report)
    response = post(
        client, world.supervisor, f"{detail(report)}lessons/", {"lessons-version": 3, "lessons-lessons": "改"}
    )
    assert response.status_code == 409
    assert "This report was submitted for approval: it changes only if it is returned." in text(response)
    assert state_of(report) == before


def test_the_downloads_need_the_password_resume_after_it_and_are_logged(client, world, report):
    client.force_login(world.county_supervisor)
    url = reverse("analysis:evaluation-file", args=[report.pk, "xlsx"])
    asked = client.get(url)
    assert (asked.status_code, asked["Location"].startswith(reverse("reauth"))) == (302, True)
    assert not AccessLog.objects.filter(object_ref__startswith="evaluation").exists()
    reauthenticated(client)
    page = client.get(detail(report)).content.decode()
    assert re.findall(r"<a [^>]*data-resume[^>]*>", page) == [
        f'<a class="btn btn-outline-primary" href="{url}" data-resume>'
    ]
    assert "data-resume" not in client.get(detail(report)).content.decode()  # once
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="rightsguard-evaluation-{report.pk}.xlsx"'
    assert response.content[:2] == b"PK"
    assert client.get(reverse("analysis:evaluation-file", args=[report.pk, "csv"])).status_code == 404
    refs = list(AccessLog.objects.filter(object_ref__startswith="evaluation").values_list("object_ref", flat=True))
    assert refs == [f"evaluation report={report.pk} unit=330106 year=2025 quarter=2 state=draft format=xlsx lang=en"]
    client.force_login(world.sibling_supervisor)
    reauthenticated(client)
    assert client.get(url).status_code == 404


def test_the_report_page_answers_in_the_same_queries_whatever_its_rows(client, world, report):
    data = evaluation_dataset(world)  # five cases, two repeat attackers, two warnings of the quarter
    client.force_login(world.county_supervisor)
    client.get(detail(report))
    with CaptureQueriesContext(connection) as fewer:
        client.get(detail(report))
    again = filed(world, world.station, world.officer, at(2025, 6, 2), occurred=at(2025, 6, 1))
    services_of_cases.add_suspect(case=again, by=world.supervisor, name="Li Sisi", id_number=N1)
    a_warning(WarningKind.REPEAT_ATTACKER, world.station, case=again, raised_at=at(2025, 6, 3))
    with CaptureQueriesContext(connection) as more:
        response = client.get(detail(report))
    html = response.content.decode()
    assert [f'href="/cases/{pk}/"' in html for pk in (data.a1.pk, data.a3.pk, again.pk)] == [True, True, True]
    assert len(more) == len(fewer)
