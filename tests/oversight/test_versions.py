"""A selected case's version: every write about it raises it once, and a write from a page or a client that read an
older one (a stale tab, a second reviewer, a form sent twice) is refused whole, the page showing the case as it is now
with what was typed kept. The API takes the version in the body or in If-Match, as the case API does, and its text
fields take only text."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Role
from cases.choices import SuspectStatus
from cases.exceptions import StaleVersion
from oversight import services
from oversight.choices import Answer, Measure, ProblemType, PursuitStatus
from oversight.models import Accountability, CampaignCase, Problem, Review, ReviewAnswer
from tests.api.conftest import token_client
from tests.factories import member
from tests.oversight.test_attack import (
    API,
    SPECIAL,
    STALE,
    Scene,
    accountability_data,
    browser,
    build_scene,
    page_text,
    problem_data,
    pursuit_scene,
    review_data,
    rows,
    seen,
    today,
    version_of,
)


@pytest.fixture
def scene(camp) -> Scene:
    return build_scene(camp)


def page_version(html: str, form_id: str) -> str:
    """The version a form of the review page carries, as a browser would send it."""
    found = re.search(rf'<input type="hidden" name="version" value="(\d+)" id="{form_id}-version">', html)
    assert found is not None, form_id
    return found[1]


# --- the pages ---------------------------------------------------------------------------------------------------


def test_a_problem_form_sent_twice_records_one_problem_and_says_why_the_second_was_not(scene):
    """A double click, or the browser sending the form again: the second is refused as stale, one problem recorded,
    the page says so and keeps what was typed in the form, now carrying the current version."""
    s, w = scene, scene.camp.world
    client = browser(s.reviewer)
    html = client.get(reverse("oversight:review", args=[s.x.pk, s.west.pk])).content.decode()
    data = {**problem_data(w.county, description="证据未固定，未调取监控"), "version": page_version(html, "problem")}
    url = reverse("oversight:problem", args=[s.x.pk, s.west.pk])
    count = Problem.objects.filter(campaign_case=s.west).count()
    assert client.post(url, data).status_code == 302
    assert Problem.objects.filter(campaign_case=s.west).count() == count + 1
    before = rows()
    again = client.post(url, data)
    assert again.status_code == 409
    html = page_text(again)
    assert STALE in html
    assert rows() == before
    assert Problem.objects.filter(campaign_case=s.west, description="证据未固定，未调取监控").count() == 1
    # Back in its form (open), not in the box for a form the page no longer has; sending it again would now be taken.
    assert "证据未固定，未调取监控</textarea>" in html
    assert 'id="kept-text"' not in html
    assert page_version(html, "problem") == str(version_of(s.west))


def test_an_accountability_form_sent_twice_records_one_decision(scene):
    s, w = scene, scene.camp.world
    client = browser(s.reviewer)
    data = seen(s.west, accountability_data(w.county, officer_name="王某某"))
    url = reverse("oversight:accountability", args=[s.x.pk, s.west.pk])
    assert client.post(url, data).status_code == 302
    before = rows()
    again = client.post(url, data)
    assert again.status_code == 409
    assert STALE in page_text(again)
    assert rows() == before
    assert list(Accountability.objects.filter(campaign_case=s.west).values_list("officer_name", flat=True)) == [
        "王某某"
    ]


def test_a_second_reviewers_stale_tab_does_not_replace_the_first_review(scene):
    """Two reviewers of the county open the same case; the first records the review; the second's tab, loaded
    before, is refused: the first review stands, the page shows it and gives the second their answers back, with the
    current version so that, checked, they can send them again."""
    s, w = scene, scene.camp.world
    second = member(w.county, Role.SUPERVISOR, username="county_supervisor_2")
    services.assign_reviewer(campaign=s.x, by=w.supervisor, sub_unit=w.county, reviewer=second)
    first_tab, second_tab = browser(s.reviewer), browser(second)
    page = reverse("oversight:review", args=[s.x.pk, s.west.pk])
    url = reverse("oversight:review-record", args=[s.x.pk, s.west.pk])
    first_version = page_version(first_tab.get(page).content.decode(), "review")
    second_version = page_version(second_tab.get(page).content.decode(), "review")
    assert first_version == second_version
    first = {**review_data(protracted="超期两个月未结"), "summary": "第一位", "version": first_version}
    assert first_tab.post(url, first).status_code == 302
    before = rows()
    answers = {**review_data(non_handling="第二位的意见"), "summary": "第二位的总结", "version": second_version}
    refused = second_tab.post(url, answers)
    assert refused.status_code == 409
    assert rows() == before
    review = Review.objects.get(campaign_case=s.west)
    assert (review.reviewer, review.summary) == (s.reviewer, "第一位")
    assert dict(ReviewAnswer.objects.filter(review=review).values_list("item", "note")) == {
        item: ("超期两个月未结" if item == "protracted" else "") for item in SPECIAL
    }
    html = page_text(refused)
    assert STALE in html
    # The review as it stands, then the second reviewer's answers in the form.
    assert "This is the review as it is recorded now; your answers are in the form below." in html
    assert "超期两个月未结" in html
    assert 'value="第二位的意见"' in html
    assert "第二位的总结</textarea>" in html
    current = page_version(html, "review")
    assert current == str(version_of(s.west))
    # Checked, sent again from that page: taken.
    assert second_tab.post(url, {**answers, "version": current}).status_code == 302
    review = Review.objects.get(campaign_case=s.west)
    assert (review.reviewer, review.summary) == (second, "第二位的总结")


def test_a_form_without_its_version_is_refused_with_a_sentence(scene):
    s, w = scene, scene.camp.world
    before = rows()
    answer = browser(s.reviewer).post(reverse("oversight:problem", args=[s.x.pk, s.west.pk]), problem_data(w.county))
    assert answer.status_code == 400
    assert "The page that sent this form is incomplete. Reload it, then send the form again." in page_text(answer)
    assert rows() == before


# --- the services ----------------------------------------------------------------------------------------------------


def test_each_write_about_a_selected_case_raises_its_version_once(scene):
    s, w = scene, scene.camp.world
    item, by = s.west, s.reviewer
    steps = [
        lambda: services.record_review(item=item, by=by, answers=dict.fromkeys(SPECIAL, (Answer.PASS, ""))),
        lambda: services.record_review(item=item, by=by, answers=dict.fromkeys(SPECIAL, (Answer.NOT_APPLICABLE, ""))),
        lambda: services.raise_problem(
            item=item,
            by=by,
            type=ProblemType.EVIDENCE,
            description="证据未固定",
            responsible_unit=w.county,
            rectify_by=today() + timedelta(days=3),
        ),
        lambda: services.rectify_problem(problem=s.problem, by=by, rectification="已补充", rectified_on=today()),
        lambda: services.record_accountability(
            item=item,
            by=by,
            officer_name="王某",
            unit=w.county,
            measure=Measure.ADMONISHMENT,
            document_reference="1号",
            decided_on=today(),
        ),
        # Through the case workflow (recall, reopen): the selected case's own version rises too.
        lambda: services.make_up_case(item=item, by=by, problem=s.problem),
    ]
    for number, step in enumerate(steps):
        before = version_of(item)
        step()
        assert version_of(item) == before + 1, number
    # A refusal raises nothing.
    before = version_of(item)
    with pytest.raises(ValidationError):
        services.raise_problem(
            item=item, by=by, type=ProblemType.EVIDENCE, description=" ", responsible_unit=w.county, rectify_by=today()
        )
    assert version_of(item) == before
    assert version_of(s.west2) == 1


def test_a_pursuit_step_raises_the_version_once_and_a_stale_one_is_refused(camp):
    w = camp.world
    _campaign, item, record = pursuit_scene(camp)
    assert version_of(item) == 1
    step = {"on": today(), "unit": w.county, "custody": SuspectStatus.DETAINED}
    services.record_pursuit_step(record=record, by=w.county_supervisor, status=PursuitStatus.LOCATED, **step)
    assert version_of(item) == 2
    before = rows()
    with pytest.raises(StaleVersion):
        services.record_pursuit_step(
            record=record, by=w.county_supervisor, status=PursuitStatus.ARRESTED, expected_version=1, **step
        )
    assert rows() == before
    services.record_pursuit_step(
        record=record, by=w.county_supervisor, status=PursuitStatus.ARRESTED, expected_version=2, **step
    )
    assert version_of(item) == 3


@pytest.mark.parametrize("write", ["review", "problem", "rectify", "make_up", "accountability"])
def test_a_write_from_an_older_version_is_refused_whole(scene, write):
    s, w = scene, scene.camp.world
    item, by = s.west, s.reviewer
    stale = version_of(item) - 1
    calls = {
        "review": lambda v: services.record_review(
            item=item, by=by, answers=dict.fromkeys(SPECIAL, (Answer.PASS, "")), expected_version=v
        ),
        "problem": lambda v: services.raise_problem(
            item=item,
            by=by,
            type=ProblemType.EVIDENCE,
            description="证据未固定",
            responsible_unit=w.county,
            rectify_by=today(),
            expected_version=v,
        ),
        "rectify": lambda v: services.rectify_problem(
            problem=s.problem, by=by, rectification="已补充", rectified_on=today(), expected_version=v
        ),
        "make_up": lambda v: services.make_up_case(item=item, by=by, problem=s.problem, expected_version=v),
        "accountability": lambda v: services.record_accountability(
            item=item,
            by=by,
            officer_name="王某",
            unit=w.county,
            measure=Measure.ADMONISHMENT,
            document_reference="1号",
            decided_on=today(),
            expected_version=v,
        ),
    }
    before = rows()
    with pytest.raises(StaleVersion) as refused:
        calls[write](stale)
    assert (refused.value.messages, refused.value.code) == ([STALE], "stale_version")
    assert rows() == before
    calls[write](stale + 1)
    assert version_of(item) == stale + 2


# --- the API ---------------------------------------------------------------------------------------------------------


def test_the_api_gives_the_version_and_refuses_a_stale_one_with_412(scene):
    s, w = scene, scene.camp.world
    api = token_client(s.reviewer)
    base = f"{API}/{s.x.pk}/reviews/{s.west.pk}"
    read = api.get(f"{base}/")
    version = version_of(s.west)
    assert (read.status_code, read.json()["version"], read["ETag"]) == (200, version, f'"{version}"')
    answers = [{"item": i, "answer": "pass", "note": ""} for i in SPECIAL]
    recorded = api.put(f"{base}/", {"answers": answers, "summary": "首次"}, format="json", HTTP_IF_MATCH=f'"{version}"')
    assert (recorded.status_code, recorded.json()["version"], recorded["ETag"]) == (
        200,
        version + 1,
        f'"{version + 1}"',
    )
    before = rows()
    stale_put = api.put(
        f"{base}/", {"answers": answers, "summary": "覆盖"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    problem = {"type": "evidence", "description": "x", "responsible_unit": w.county.pk, "rectify_by": str(today())}
    stale_post = api.post(f"{base}/problems/", {**problem, "version": version}, format="json")
    for refused in (stale_put, stale_post):
        assert (refused.status_code, refused.json()) == (412, {"code": "stale_version", "detail": STALE})
    assert rows() == before
    assert Review.objects.get(campaign_case=s.west).summary == "首次"
    differ = api.post(f"{base}/problems/", {**problem, "version": version}, format="json", HTTP_IF_MATCH='"99"')
    assert (differ.status_code, differ.json()["errors"]) == (
        400,
        {"version": ["The version in the body and in If-Match differ."]},
    )
    assert rows() == before
    taken = api.post(f"{base}/problems/", {**problem, "version": version + 1}, format="json")
    assert (taken.status_code, taken["ETag"]) == (201, f'"{version + 2}"')


def test_the_api_idempotency_key_still_replays_the_first_answer(scene):
    """A retried POST with its key gets the first answer (not a 412 for the version it raised), one problem."""
    s, w = scene, scene.camp.world
    api = token_client(s.reviewer)
    url = f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/"
    body = {
        "type": "evidence",
        "description": "重试",
        "responsible_unit": w.county.pk,
        "rectify_by": str(today()),
        "version": version_of(s.west),
    }
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Problem.objects.filter(description="重试").count() == 1


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ("create", "name"),
        ("create", "seed"),
        ("review", "summary"),
        ("review", "answers.note"),
        ("problem", "description"),
        ("rectify", "rectification"),
        ("accountability", "officer_name"),
        ("accountability", "officer_badge"),
        ("accountability", "document_reference"),
    ],
)
def test_the_api_refuses_a_number_where_text_is_expected(scene, endpoint, field):
    s, w = scene, scene.camp.world
    base = f"{API}/{s.x.pk}/reviews/{s.west.pk}"
    answers = [{"item": i, "answer": "pass", "note": ""} for i in SPECIAL]
    requests = {
        "create": (
            "post",
            f"{API}/",
            {
                "name": "专项",
                "kind": "special_supervision",
                "owner_unit": s.camp.city.pk,
                "period_start": f"{today().year}-01-01",
                "period_end": f"{today().year}-12-31",
                "deadline": str(today() + timedelta(days=30)),
                "selection": "sample",
                "sample_size": 2,
                "seed": "abc",
            },
        ),
        "review": ("put", f"{base}/", {"answers": answers, "summary": "总结"}),
        "problem": (
            "post",
            f"{base}/problems/",
            {"type": "evidence", "description": "x", "responsible_unit": w.county.pk, "rectify_by": str(today())},
        ),
        "rectify": (
            "post",
            f"{base}/problems/{s.problem.pk}/rectify/",
            {"rectification": "x", "rectified_on": str(today())},
        ),
        "accountability": (
            "post",
            f"{base}/accountability/",
            {
                "officer_name": "王某",
                "officer_badge": "330001",
                "unit": w.county.pk,
                "measure": "admonishment",
                "document_reference": "1号",
                "decided_on": str(today()),
            },
        ),
    }
    method, url, body = requests[endpoint]
    if field == "answers.note":
        body["answers"] = [{**answers[0], "note": 5}, *answers[1:]]
        expected = {"answers": ["0: note: Not a valid string."]}
    else:
        body[field] = 5
        expected = {field: ["Not a valid string."]}
    user = w.supervisor if endpoint == "create" else s.reviewer
    before = rows()
    answer = getattr(token_client(user), method)(url, body, format="json")
    assert (answer.status_code, answer.json()["errors"]) == (400, expected)
    assert rows() == before


def test_the_api_refuses_a_number_for_a_pursuit_note(camp):
    w = camp.world
    campaign, _item, record = pursuit_scene(camp)
    before = rows()
    answer = token_client(w.county_supervisor).post(
        f"{API}/{campaign.pk}/pursuits/{record.pk}/steps/",
        {"status": "located", "on": str(today()), "unit": w.county.pk, "note": 5},
        format="json",
    )
    assert (answer.status_code, answer.json()["errors"]) == (400, {"note": ["Not a valid string."]})
    assert rows() == before
    assert CampaignCase.objects.get(pk=record.campaign_case_id).version == 1
