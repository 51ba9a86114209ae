"""The campaign API: what each endpoint answers (exact values), that each write goes through the campaign services
(the log, the timelines), that a refused request is a precise 400/403/404 and changes nothing, and that the lists
cost the same number of queries whatever their length. Who gets what is the authorization matrix's
(docs/authorization-matrix.md); here the people are the world's plus the county's reviewer."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services as case_services
from cases.choices import CaseStatus, SuspectStatus
from cases.models import Case, CaseEvent, Suspect
from oversight import services
from oversight.choices import CHECKLISTS, CampaignKind, LogStep, ProblemType, PursuitStatus, SelectionMode
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    PursuitRecord,
    Review,
    ReviewAnswer,
    ReviewerAssignment,
)
from oversight.scope import Scope
from tests.api.conftest import token_client
from tests.oversight.conftest import Camp, build_camp, case_at, new_campaign

C = "/api/v1/campaigns"
SPECIAL = CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION]


@dataclass
class Api:
    camp: Camp
    campaign: Campaign  # running, over the closed cases: two in the west county, one in the east
    west: list[CampaignCase]
    east: CampaignCase
    draft: Campaign
    pursuit: Campaign
    record: PursuitRecord


def build_api(camp: Camp) -> Api:
    w = camp.world
    west_cases = [case_at(camp, CaseStatus.CLOSED), case_at(camp, CaseStatus.CLOSED)]
    east_case = case_at(camp, CaseStatus.CLOSED, east=True)
    campaign = new_campaign(camp)
    services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    campaign = services.start_campaign(campaign=campaign, by=w.supervisor)
    west = [CampaignCase.objects.get(campaign=campaign, case=c) for c in west_cases]
    east = CampaignCase.objects.get(campaign=campaign, case=east_case)
    draft = new_campaign(camp, name="回头看", kind=CampaignKind.LOOK_BACK)
    fugitive_case = case_at(camp, CaseStatus.SUPERVISION)
    suspect = case_services.add_suspect(case=fugitive_case, by=w.supervisor, name="赵某", status=SuspectStatus.AT_LARGE)
    case_services.add_suspect(case=fugitive_case, by=w.supervisor, name="孙某", status=SuspectStatus.AT_LARGE)
    pursuit = new_campaign(
        camp, name="追逃", kind=CampaignKind.FUGITIVE_PURSUIT, scope=Scope(statuses=(CaseStatus.SUPERVISION,))
    )
    services.assign_reviewer(campaign=pursuit, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    pursuit = services.start_campaign(campaign=pursuit, by=w.supervisor)
    return Api(camp, campaign, west, east, draft, pursuit, PursuitRecord.objects.get(suspect=suspect))


@pytest.fixture(scope="module")
def _module_api(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_api(build_camp())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def api(_module_api, db) -> Api:
    return _module_api


def as_(user) -> APIClient:
    return token_client(user)


def rows() -> tuple:
    """Every row the campaign API may write, and the case timelines."""
    return (
        tuple(Campaign.objects.order_by("pk").values_list("pk", "state", "selected_count", "seed")),
        tuple(CampaignCase.objects.order_by("pk").values_list("pk", "made_up_at")),
        tuple(ReviewerAssignment.objects.order_by("pk").values_list("pk", "reviewer_id")),
        tuple(Review.objects.order_by("pk").values_list("pk", "summary")),
        tuple(ReviewAnswer.objects.order_by("pk").values_list("pk", "answer", "note")),
        tuple(Problem.objects.order_by("pk").values_list("pk", "rectified_on", "rectification")),
        tuple(Accountability.objects.order_by("pk").values_list("pk")),
        tuple(PursuitRecord.objects.order_by("pk").values_list("pk", "status")),
        tuple(Suspect.objects.order_by("pk").values_list("pk", "status", "disposition")),
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version")),
        CampaignEvent.objects.count(),
        CaseEvent.objects.count(),
    )


def all_pass(**notes: str) -> list[dict[str, str]]:
    return [
        {"item": item, "answer": "problem" if item in notes else "pass", "note": notes.get(item, "")}
        for item in SPECIAL
    ]


def today():
    return timezone.localdate()


# --- campaigns --------------------------------------------------------------------------------------------------------


def test_the_list_shows_the_campaigns_the_caller_runs_or_reviews(api):
    w = api.camp.world
    body = as_(w.supervisor).get(f"{C}/").json()
    assert [c["name"] for c in body["results"]] == ["追逃", "回头看", "2026年袭警案件专项监督"]
    assert body["results"][2]["state"] == "running"
    assert body["results"][2]["selected_count"] == 3
    assert body["results"][2]["owner_unit"]["code"] == "330100"
    assert body["results"][2]["scope"]["statuses"] == ["closed"]
    reviewer = as_(w.county_supervisor).get(f"{C}/").json()
    assert [c["name"] for c in reviewer["results"]] == ["追逃", "2026年袭警案件专项监督"]
    assert as_(api.camp.east_supervisor).get(f"{C}/").json()["results"] == []
    refused = as_(w.officer).get(f"{C}/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"


def test_creating_a_campaign_and_its_refusals(api):
    w = api.camp.world
    data = {
        "name": "2026年袭警专项监督",
        "kind": "special_supervision",
        "owner_unit": w.city.pk,
        "period_start": f"{today().year}-01-01",
        "period_end": f"{today().year}-12-31",
        "deadline": (today() + timedelta(days=20)).isoformat(),
        "scope": {"statuses": ["closed"], "kinds": ["threat"], "unit": api.camp.east.pk},
        "selection": "sample",
        "sample_size": 5,
        "seed": "s-1",
    }
    before = rows()
    for change, field in [
        ({"deadline": (today() - timedelta(days=1)).isoformat()}, "deadline"),
        ({"scope": {"unit": w.sibling_province.pk}}, "unit"),
        ({"selection": "all"}, "sample_size"),
        ({"kind": "other"}, "kind"),
        ({"scope": {"statuses": ["draft"]}}, "statuses"),
    ]:
        response = as_(w.supervisor).post(f"{C}/", {**data, **change}, format="json")
        assert response.status_code == 400, change
        assert field in response.json()["errors"] or field in response.json()["errors"].get("scope", [""])[0], change
    assert as_(w.sibling_supervisor).post(f"{C}/", data, format="json").status_code == 403
    assert as_(w.officer).post(f"{C}/", data, format="json").status_code == 403
    assert rows() == before
    response = as_(w.supervisor).post(f"{C}/", data, format="json")
    assert response.status_code == 201
    body = response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert (campaign.name, campaign.state, campaign.sample_size, campaign.seed) == (
        "2026年袭警专项监督",
        "draft",
        5,
        "s-1",
    )
    assert campaign.scope == {"statuses": ["closed"], "kinds": ["threat"], "unit_path": api.camp.east.path}
    assert body["progress"] == [
        {
            "unit": None,
            "selected": 0,
            "reviewed": 0,
            "problems": 0,
            "rectified": 0,
            "overdue": 0,
            "made_up": 0,
            "accountable": 0,
            "reviewers": [],
        }
    ]
    assert list(CampaignEvent.objects.filter(campaign=campaign).values_list("step", flat=True)) == [LogStep.CREATED]


def test_the_detail_has_the_progress_per_sub_unit(api):
    w = api.camp.world
    body = as_(w.supervisor).get(f"{C}/{api.campaign.pk}/").json()
    assert [(p["unit"] and p["unit"]["code"], p["selected"], p["reviewed"]) for p in body["progress"]] == [
        ("330106", 2, 0),
        ("330108", 1, 0),
        (None, 3, 0),
    ]
    assert [r["name"] for r in body["progress"][0]["reviewers"]] == [
        w.county_supervisor.full_name or "county_supervisor"
    ]
    mine = as_(w.county_supervisor).get(f"{C}/{api.campaign.pk}/").json()
    assert [(p["unit"] and p["unit"]["code"], p["selected"]) for p in mine["progress"]] == [("330106", 2), (None, 2)]
    assert as_(api.camp.east_supervisor).get(f"{C}/{api.campaign.pk}/").status_code == 404
    assert as_(w.officer).get(f"{C}/{api.campaign.pk}/").status_code == 403


def test_start_assign_and_close(api):
    w = api.camp.world
    before = rows()
    assert as_(w.county_supervisor).post(f"{C}/{api.draft.pk}/start/").status_code == 404  # not theirs to see
    refused = as_(w.supervisor).post(f"{C}/{api.campaign.pk}/start/")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid")
    bad = as_(w.supervisor).post(
        f"{C}/{api.draft.pk}/reviewers/", {"sub_unit": w.county.pk, "reviewer": w.officer.pk}, format="json"
    )
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["reviewer"])
    missing = as_(w.supervisor).post(
        f"{C}/{api.draft.pk}/reviewers/", {"sub_unit": w.county.pk, "reviewer": 999999}, format="json"
    )
    assert (missing.status_code, list(missing.json()["errors"])) == (400, ["reviewer"])
    assert rows() == before
    started = as_(w.supervisor).post(f"{C}/{api.draft.pk}/start/")
    assert started.status_code == 200
    assert (started.json()["state"], started.json()["selected_count"]) == ("running", 3)
    assigned = as_(w.supervisor).post(
        f"{C}/{api.draft.pk}/reviewers/",
        {"sub_unit": api.camp.east.pk, "reviewer": api.camp.east_supervisor.pk},
        format="json",
    )
    assert assigned.status_code == 201
    assert (assigned.json()["sub_unit"]["code"], assigned.json()["reviewer"]["id"]) == (
        "330108",
        api.camp.east_supervisor.pk,
    )
    listed = as_(w.supervisor).get(f"{C}/{api.draft.pk}/reviewers/").json()
    assert [(r["sub_unit"]["code"], r["reviewer"]["id"]) for r in listed] == [("330108", api.camp.east_supervisor.pk)]
    closed = as_(w.supervisor).post(f"{C}/{api.draft.pk}/close/")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert as_(w.supervisor).post(f"{C}/{api.draft.pk}/close/").status_code == 400


# --- the selected cases and their reviews -----------------------------------------------------------------------------


def test_the_selected_cases_page_by_id_with_constant_queries(api):
    w = api.camp.world
    client = as_(w.supervisor)
    # Pages go by id; which selected case got which id is the database's insertion order, not the fixture's.
    by_id = sorted([*api.west, api.east], key=lambda item: item.pk)
    first = client.get(f"{C}/{api.campaign.pk}/cases/?page_size=2").json()
    assert [r["id"] for r in first["results"]] == [by_id[0].pk, by_id[1].pk]
    assert first["results"][0]["case"]["reference"] == by_id[0].case.reference
    assert (first["results"][0]["reviewed_at"], first["results"][0]["problem_count"]) == (None, 0)
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [by_id[2].pk]
    assert [r["id"] for r in as_(w.county_supervisor).get(f"{C}/{api.campaign.pk}/cases/").json()["results"]] == sorted(
        item.pk for item in api.west
    )
    with CaptureQueriesContext(connection) as one:
        client.get(f"{C}/{api.campaign.pk}/cases/?page_size=1")
    with CaptureQueriesContext(connection) as three:
        client.get(f"{C}/{api.campaign.pk}/cases/?page_size=3")
    assert len(one) == len(three)


def test_a_whole_review_through_the_api(api):
    w = api.camp.world
    reviewer = as_(w.county_supervisor)
    item = api.west[0]
    base = f"{C}/{api.campaign.pk}/reviews/{item.pk}"
    empty = reviewer.get(f"{base}/").json()
    assert (empty["review"], empty["problems"], empty["made_up"], empty["accountability"]) == (None, [], None, [])
    recorded = reviewer.put(
        f"{base}/", {"answers": all_pass(protracted="拖延三个月"), "summary": "基本规范"}, format="json"
    )
    assert recorded.status_code == 200
    review = recorded.json()["review"]
    assert review["summary"] == "基本规范"
    assert [(a["item"], a["answer"], a["note"]) for a in review["answers"]][2] == (
        "protracted",
        "problem",
        "拖延三个月",
    )
    problem = reviewer.post(
        f"{base}/problems/",
        {
            "type": "protracted",
            "description": "久拖未结",
            "responsible_unit": w.county.pk,
            "rectify_by": today().isoformat(),
        },
        format="json",
    )
    assert problem.status_code == 201
    pid = problem.json()["id"]
    assert (problem.json()["type"], problem.json()["rectified_on"]) == ("protracted", None)
    rectified = as_(w.supervisor).post(
        f"{base}/problems/{pid}/rectify/",
        {"rectification": "已督促办结", "rectified_on": today().isoformat()},
        format="json",
    )
    assert (rectified.status_code, rectified.json()["rectified_on"]) == (200, today().isoformat())
    made_up = reviewer.post(f"{base}/make-up/", {"problem": pid}, format="json")
    assert made_up.status_code == 200
    assert made_up.json()["made_up"]["problem"] == pid
    assert Case.objects.get(pk=item.case_id).status == CaseStatus.SUPERVISION  # recalled and reopened
    accountable = reviewer.post(
        f"{base}/accountability/",
        {
            "officer_name": "钱某",
            "unit": w.county.pk,
            "measure": "admonishment",
            "document_reference": "杭督〔2026〕7号",
            "decided_on": today().isoformat(),
            "problem": pid,
        },
        format="json",
    )
    assert accountable.status_code == 201
    assert (accountable.json()["measure"], accountable.json()["problem"]) == ("admonishment", pid)
    listed = as_(w.supervisor).get(f"{C}/{api.campaign.pk}/reviews/").json()["results"]
    assert [r["id"] for r in listed] == [item.pk]
    assert [p["id"] for p in listed[0]["problems"]] == [pid]
    assert [a["officer_name"] for a in listed[0]["accountability"]] == ["钱某"]
    steps = list(CampaignEvent.objects.filter(campaign=api.campaign, campaign_case=item).values_list("step", flat=True))
    assert steps == [
        LogStep.REVIEWED,
        LogStep.PROBLEM_RAISED,
        LogStep.RECTIFIED,
        LogStep.MADE_UP,
        LogStep.ACCOUNTABILITY,
    ]


@pytest.mark.parametrize(
    ("who", "method", "path", "data", "code"),
    [
        ("supervisor", "put", "", {"answers": []}, 403),  # a runner, not the reviewer
        ("east_supervisor", "put", "", {"answers": []}, 404),
        ("county_supervisor", "put", "", {"answers": [{"item": "support", "answer": "pass"}]}, 400),
        ("county_supervisor", "put", "", {"answers": [{"item": "support", "answer": "maybe"}]}, 400),
        ("county_supervisor", "put", "", {"answers": [*all_pass()[:-1], {"item": "evidence", "answer": "pass"}]}, 400),
        ("county_supervisor", "put", "", {"answers": all_pass(evidence="")}, 400),  # a problem needs a note
        ("county_supervisor", "post", "problems/", {"type": "x", "description": "d"}, 400),
        (
            "county_supervisor",
            "post",
            "problems/",
            {"type": "evidence", "description": "d", "responsible_unit": "sibling", "rectify_by": "today"},
            400,
        ),
        ("admin", "post", "problems/", {}, 403),
        ("county_supervisor", "post", "make-up/", {"problem": 999999}, 400),
        (
            "county_supervisor",
            "post",
            "accountability/",
            {
                "officer_name": "",
                "unit": "county",
                "measure": "admonishment",
                "document_reference": "x",
                "decided_on": "today",
            },
            400,
        ),
        (
            "county_supervisor",
            "post",
            "accountability/",
            {
                "officer_name": "王",
                "unit": "county",
                "measure": "admonishment",
                "document_reference": "x",
                "decided_on": "tomorrow",
            },
            400,
        ),
        ("officer", "post", "accountability/", {}, 403),
    ],
)
def test_refusals_are_precise_and_change_nothing(api, who, method, path, data, code):
    w = api.camp.world
    user = getattr(api.camp, who, None) or getattr(w, who)
    values = {
        "today": today().isoformat(),
        "tomorrow": (today() + timedelta(days=1)).isoformat(),
        "sibling": w.sibling_province.pk,
        "county": w.county.pk,
    }
    data = {k: values.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    before = rows()
    response = getattr(as_(user), method)(f"{C}/{api.campaign.pk}/reviews/{api.west[1].pk}/{path}", data, format="json")
    assert response.status_code == code, response.json()
    assert rows() == before


def test_a_problem_of_another_case_is_not_found_and_a_rectified_one_is_refused(api):
    w = api.camp.world
    problem = services.raise_problem(
        item=api.west[0],
        by=w.county_supervisor,
        type=ProblemType.EVIDENCE,
        description="证据",
        responsible_unit=w.county,
        rectify_by=today(),
    )
    before = rows()
    url = f"{C}/{api.campaign.pk}/reviews/{api.west[1].pk}/problems/{problem.pk}/rectify/"
    assert (
        as_(w.supervisor)
        .post(url, {"rectification": "x", "rectified_on": today().isoformat()}, format="json")
        .status_code
        == 404
    )
    assert rows() == before
    services.rectify_problem(problem=problem, by=w.supervisor, rectification="已补正", rectified_on=today())
    before = rows()
    url = f"{C}/{api.campaign.pk}/reviews/{api.west[0].pk}/problems/{problem.pk}/rectify/"
    again = as_(w.supervisor).post(url, {"rectification": "x", "rectified_on": today().isoformat()}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "invalid")
    assert rows() == before


def test_the_reviews_list_costs_the_same_queries_for_one_or_three(api):
    w = api.camp.world
    for item in api.west:
        services.record_review(item=item, by=w.county_supervisor, answers=dict.fromkeys(SPECIAL, ("pass", "")))
        services.raise_problem(
            item=item,
            by=w.county_supervisor,
            type=ProblemType.EVIDENCE,
            description="证据",
            responsible_unit=w.county,
            rectify_by=today(),
        )
    client = as_(w.supervisor)
    client.get(f"{C}/{api.campaign.pk}/reviews/")  # the token is looked up once, then cached
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{C}/{api.campaign.pk}/reviews/?page_size=1").json()["results"]) == 1
    with CaptureQueriesContext(connection) as two:
        assert len(client.get(f"{C}/{api.campaign.pk}/reviews/?page_size=2").json()["results"]) == 2
    assert len(one) == len(two)


# --- fugitive pursuit -------------------------------------------------------------------------------------------------


def test_pursuits_listed_and_a_step_recorded(api):
    w = api.camp.world
    listed = as_(w.county_supervisor).get(f"{C}/{api.pursuit.pk}/pursuits/").json()["results"]
    assert [r["id"] for r in listed] == sorted(
        PursuitRecord.objects.filter(campaign_case__campaign=api.pursuit).values_list("pk", flat=True)
    )
    assert sorted((r["status"], r["suspect"]["name"], r["suspect"]["status"]) for r in listed) == [
        ("at_large", "孙某", "at_large"),
        ("at_large", "赵某", "at_large"),
    ]
    url = f"{C}/{api.pursuit.pk}/pursuits/{api.record.pk}/steps/"
    before = rows()
    for data, code in [
        ({"status": "escaped", "on": today().isoformat(), "unit": w.county.pk}, 400),
        ({"status": "arrested", "on": (today() + timedelta(days=1)).isoformat(), "unit": w.county.pk}, 400),
        ({"status": "extradited", "on": today().isoformat(), "unit": w.county.pk, "cross_border": False}, 400),
    ]:
        assert as_(w.county_supervisor).post(url, data, format="json").status_code == code
    assert (
        as_(w.admin)
        .post(url, {"status": "arrested", "on": today().isoformat(), "unit": w.county.pk}, format="json")
        .status_code
        == 403
    )
    assert as_(api.camp.east_supervisor).post(url, {}, format="json").status_code == 404
    assert rows() == before
    response = as_(w.county_supervisor).post(
        url,
        {
            "status": "extradited",
            "on": today().isoformat(),
            "unit": w.county.pk,
            "custody": "arrested",
            "note": "自境外押解回国",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["ended_on"], body["cross_border"], body["note"]) == (
        PursuitStatus.EXTRADITED,
        today().isoformat(),
        True,
        "自境外押解回国",
    )
    assert body["suspect"]["status"] == SuspectStatus.ARRESTED
    assert (
        as_(w.county_supervisor)
        .post(url, {"status": "located", "on": today().isoformat(), "unit": w.county.pk}, format="json")
        .status_code
        == 400
    )


def test_an_unknown_campaign_path_is_the_apis_not_found(api):
    response = as_(api.camp.world.supervisor).get(f"{C}/{api.campaign.pk}/nothing-here/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("selection", [SelectionMode.ALL])
def test_an_anonymous_request_is_401(api, selection):
    assert APIClient().get(f"{C}/").status_code == 401
    assert APIClient().post(f"{C}/", {"selection": selection}, format="json").status_code == 401


@pytest.mark.parametrize(("path", "small", "large"), [("", 1, 3), ("pursuits/", 1, 2)])
def test_the_campaign_and_pursuit_lists_cost_the_same_queries_whatever_their_length(api, path, small, large):
    client = as_(api.camp.world.supervisor)
    url = f"{C}/{api.pursuit.pk}/{path}" if path else f"{C}/"
    client.get(url)  # the token is looked up once, then cached
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(f"{url}?page_size={small}").json()["results"]) == small
    with CaptureQueriesContext(connection) as more:
        assert len(client.get(f"{url}?page_size={large}").json()["results"]) == large
    assert len(few) == len(more)
