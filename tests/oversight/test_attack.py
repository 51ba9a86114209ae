"""The oversight app attacked from outside: other roles and units through every door (the pages, the API, the admin
site), ids mixed across campaigns and cases, stale tabs and double clicks, hostile and invalid input. Each attack
asserts the exact refusal and that nothing changed; an attack that succeeds is a regression test for its fix."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, OrgUnit, Role, User
from cases import services as case_services
from cases.choices import CaseStatus, EventKind, SuspectStatus
from cases.models import Case, CaseEvent, Notification, Suspect
from oversight import services
from oversight.choices import CHECKLISTS, Answer, CampaignKind, CampaignState, Measure, ProblemType, PursuitStatus
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
from tests.factories import member
from tests.oversight.conftest import Camp, case_at, new_campaign

SPECIAL = CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION]
API = "/api/v1/campaigns"


def today() -> date:
    return timezone.localdate()


def rows() -> tuple:
    """Every row the campaign doors may write, the cases, their suspects and timelines."""
    return (
        tuple(Campaign.objects.order_by("pk").values_list("pk", "name", "state", "selected_count", "seed", "scope")),
        tuple(CampaignCase.objects.order_by("pk").values_list("pk", "made_up_at")),
        tuple(ReviewerAssignment.objects.order_by("pk").values_list("pk", "sub_unit_id", "reviewer_id")),
        tuple(Review.objects.order_by("pk").values_list("pk", "reviewer_id", "summary")),
        tuple(ReviewAnswer.objects.order_by("pk").values_list("pk", "answer", "note")),
        tuple(Problem.objects.order_by("pk").values_list("pk", "description", "rectified_on", "rectification")),
        tuple(Accountability.objects.order_by("pk").values_list("pk", "officer_name", "document_reference")),
        tuple(PursuitRecord.objects.order_by("pk").values_list("pk", "status", "note")),
        tuple(Suspect.objects.order_by("pk").values_list("pk", "status", "disposition")),
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version")),
        CampaignEvent.objects.count(),
        CaseEvent.objects.count(),
    )


@dataclass
class Scene:
    """Campaign X (running, special supervision, owned by the city) over two closed west cases and one closed east
    case, the west county reviewed by its supervisor and the east county by its own; campaign Y over the same cases,
    reviewed by the same; a problem raised on the first west case in X and one in Y."""

    camp: Camp
    x: Campaign
    y: Campaign
    west: CampaignCase
    west2: CampaignCase
    east: CampaignCase
    y_west: CampaignCase
    problem: Problem
    y_problem: Problem
    station_supervisor: User  # supervises the west station, a child of the reviewed county, not assigned
    sibling_admin: User  # administrator of the other province

    @property
    def reviewer(self) -> User:
        return self.camp.world.county_supervisor


def build_scene(camp: Camp) -> Scene:
    w = camp.world
    cases = [
        case_at(camp, CaseStatus.CLOSED),
        case_at(camp, CaseStatus.CLOSED),
        case_at(camp, CaseStatus.CLOSED, east=True),
    ]
    started = []
    for name, kind in (
        ("专项监督X", CampaignKind.SPECIAL_SUPERVISION),
        ("专项监督Y", CampaignKind.SPECIAL_SUPERVISION),
    ):
        campaign = new_campaign(camp, name=name, kind=kind)
        services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
        services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=camp.east, reviewer=camp.east_supervisor)
        started.append(services.start_campaign(campaign=campaign, by=w.supervisor))
    x, y = started
    west, west2, east = (CampaignCase.objects.get(campaign=x, case=c) for c in cases)
    y_west = CampaignCase.objects.get(campaign=y, case=cases[0])
    problems = [
        services.raise_problem(
            item=item,
            by=w.county_supervisor,
            type=ProblemType.PROTRACTED,
            description="久拖不办",
            responsible_unit=w.county,
            rectify_by=today() + timedelta(days=10),
        )
        for item in (west, y_west)
    ]
    return Scene(
        camp=camp,
        x=x,
        y=y,
        west=west,
        west2=west2,
        east=east,
        y_west=y_west,
        problem=problems[0],
        y_problem=problems[1],
        station_supervisor=member(w.station, Role.SUPERVISOR, username="station_supervisor"),
        sibling_admin=member(w.sibling_province, Role.ADMIN, username="sibling_admin"),
    )


@pytest.fixture
def scene(camp) -> Scene:
    return build_scene(camp)


def browser(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def review_data(**notes: str) -> dict[str, str]:
    data = {"summary": ""}
    for item in SPECIAL:
        data[item] = Answer.PROBLEM if item in notes else Answer.PASS
        data[f"{item}_note"] = notes.get(item, "")
    return data


def problem_data(unit: OrgUnit, **changes: str) -> dict[str, str]:
    return {
        "type": ProblemType.EVIDENCE,
        "description": "证据未固定",
        "responsible_unit": unit.code,
        "rectify_by": str(today() + timedelta(days=5)),
        **changes,
    }


def rectify_data(problem: Problem, **changes: str) -> dict[str, str]:
    data = {"rectification": "已补充调查", "rectified_on": str(today())}
    data.update(changes)
    return {f"p{problem.pk}-{k}": v for k, v in data.items()}


def accountability_data(unit: OrgUnit, **changes: str) -> dict[str, str]:
    return {
        "officer_name": "王某",
        "officer_badge": "330001",
        "unit": unit.code,
        "measure": Measure.CRITICISM_EDUCATION,
        "document_reference": "杭公督〔2026〕1号",
        "decided_on": str(today()),
        "problem": "",
        **changes,
    }


def page_posts(s: Scene, item: CampaignCase, problem: Problem) -> list[tuple[str, str, dict[str, str]]]:
    """Every POST of the review page of ``item``, valid for its reviewer."""
    county = s.camp.world.county
    args = [item.campaign_id, item.pk]
    return [
        ("review", reverse("oversight:review-record", args=args), review_data()),
        ("problem", reverse("oversight:problem", args=args), problem_data(county)),
        ("rectify", reverse("oversight:rectify", args=[*args, problem.pk]), rectify_data(problem)),
        ("make-up", reverse("oversight:make-up", args=args), {"problem": str(problem.pk)}),
        ("accountability", reverse("oversight:accountability", args=args), accountability_data(county)),
    ]


def api_posts(s: Scene, item: CampaignCase, problem: Problem) -> list[tuple[str, str, str, dict]]:
    county = s.camp.world.county
    base = f"{API}/{item.campaign_id}/reviews/{item.pk}"
    answers = [{"item": i, "answer": "pass", "note": ""} for i in SPECIAL]
    return [
        ("review", "put", f"{base}/", {"answers": answers, "summary": ""}),
        (
            "problem",
            "post",
            f"{base}/problems/",
            {"type": "evidence", "description": "x", "responsible_unit": county.pk, "rectify_by": str(today())},
        ),
        (
            "rectify",
            "post",
            f"{base}/problems/{problem.pk}/rectify/",
            {"rectification": "x", "rectified_on": str(today())},
        ),
        ("make-up", "post", f"{base}/make-up/", {"problem": problem.pk}),
        (
            "accountability",
            "post",
            f"{base}/accountability/",
            {
                "officer_name": "王某",
                "unit": county.pk,
                "measure": "admonishment",
                "document_reference": "1号",
                "decided_on": str(today()),
            },
        ),
    ]


# --- another role or unit -----------------------------------------------------------------------------------------


def test_outsiders_get_nothing_from_the_pages_of_a_campaign_or_its_cases(scene):
    """An officer (403), a supervisor of a sibling province, an unassigned supervisor of a station under the reviewed
    county, the east county's reviewer on a west case, an administrator of another province (404): list, detail, the
    review page and every POST."""
    s, w = scene, scene.camp.world
    outsiders = [
        (w.officer, 403, 403),
        (w.sibling_supervisor, 404, 404),
        (s.station_supervisor, 404, 404),
        (s.sibling_admin, 404, 404),
        (s.camp.east_supervisor, 200, 404),  # sees campaign X (reviews the east), not its west cases
    ]
    before = rows()
    for user, campaign_code, item_code in outsiders:
        client = browser(user)
        assert client.get(reverse("oversight:detail", args=[s.x.pk])).status_code == campaign_code, user
        assert client.get(reverse("oversight:review", args=[s.x.pk, s.west.pk])).status_code == item_code, user
        for name, url, data in page_posts(s, s.west, s.problem):
            assert client.post(url, data).status_code == item_code, (user, name)
        for url in (reverse("oversight:start", args=[s.x.pk]), reverse("oversight:close", args=[s.x.pk])):
            assert client.post(url).status_code in (campaign_code if campaign_code != 200 else 403,), (user, url)
        assign = client.post(
            reverse("oversight:assign", args=[s.x.pk]), {"sub_unit": w.county.code, "reviewer": user.username}
        )
        assert assign.status_code == (campaign_code if campaign_code != 200 else 403), user
        listing = client.get(reverse("oversight:list"))
        if user != s.camp.east_supervisor:
            assert s.x.name not in listing.content.decode()
    assert rows() == before


def test_outsiders_get_nothing_from_the_api(scene):
    s, w = scene, scene.camp.world
    outsiders = [
        (w.officer, 403, 403),
        (w.sibling_supervisor, 404, 404),
        (s.station_supervisor, 404, 404),
        (s.sibling_admin, 404, 404),
        (s.camp.east_supervisor, 200, 404),
    ]
    before = rows()
    for user, campaign_code, item_code in outsiders:
        client = token_client(user)
        assert client.get(f"{API}/{s.x.pk}/").status_code == campaign_code, user
        assert client.get(f"{API}/{s.x.pk}/reviews/{s.west.pk}/").status_code == item_code, user
        for name, method, url, data in api_posts(s, s.west, s.problem):
            assert getattr(client, method)(url, data, format="json").status_code == item_code, (user, name)
        for url in (f"{API}/{s.x.pk}/start/", f"{API}/{s.x.pk}/close/"):
            assert client.post(url).status_code == (campaign_code if campaign_code != 200 else 403), (user, url)
        if campaign_code == 200:
            cases = client.get(f"{API}/{s.x.pk}/cases/").json()["results"]
            assert [c["id"] for c in cases] == [s.east.pk]
            reviews = client.get(f"{API}/{s.x.pk}/reviews/").json()["results"]
            assert reviews == []
    assert rows() == before


def test_ids_mixed_across_campaigns_and_cases_are_refused(scene):
    """The reviewer of both campaigns posts X's problem under Y's case, X's case under Y's URL, the other case's
    problem for a make-up or an accountability record: 404 or the field's refusal, nothing written."""
    s = scene
    client = browser(s.reviewer)
    before = rows()
    # X's case under Y's campaign id, and Y's problem under X's case.
    assert client.get(reverse("oversight:review", args=[s.y.pk, s.west.pk])).status_code == 404
    for _name, url, data in page_posts(s, s.west, s.problem):
        mixed = url.replace(f"/{s.x.pk}/cases/", f"/{s.y.pk}/cases/", 1)
        assert client.post(mixed, data).status_code == 404, mixed
    assert (
        client.post(
            reverse("oversight:rectify", args=[s.x.pk, s.west.pk, s.y_problem.pk]), rectify_data(s.y_problem)
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("oversight:rectify", args=[s.x.pk, s.west2.pk, s.problem.pk]), rectify_data(s.problem)
        ).status_code
        == 404
    )
    make_up = client.post(reverse("oversight:make-up", args=[s.x.pk, s.west.pk]), {"problem": str(s.y_problem.pk)})
    assert make_up.status_code == 400
    assert "Select a valid choice." in make_up.content.decode()
    held = client.post(
        reverse("oversight:accountability", args=[s.x.pk, s.west.pk]),
        accountability_data(s.camp.world.county, problem=str(s.y_problem.pk)),
    )
    assert held.status_code == 400
    assert "Select a valid choice." in held.content.decode()
    api = token_client(s.reviewer)
    for _name, method, url, data in api_posts(s, s.west, s.problem):
        mixed = url.replace(f"/{s.x.pk}/reviews/", f"/{s.y.pk}/reviews/", 1)
        assert getattr(api, method)(mixed, data, format="json").status_code == 404, mixed
    base = f"{API}/{s.x.pk}/reviews/{s.west2.pk}"
    assert (
        api.post(
            f"{base}/problems/{s.problem.pk}/rectify/",
            {"rectification": "x", "rectified_on": str(today())},
            format="json",
        ).status_code
        == 404
    )
    refused = api.post(f"{base}/make-up/", {"problem": s.problem.pk}, format="json")
    assert (refused.status_code, refused.json()["errors"]["problem"]) == (400, ["Choose a problem found in this case."])
    assert rows() == before


def test_a_reviewer_moved_away_from_the_sub_unit_no_longer_sees_the_campaign(scene):
    """The west county's reviewer becomes a supervisor of the east county instead: still a supervisor, still assigned
    to the west county, but no longer supervising it. The campaign (its name, scope, seed, reviewers) is hidden from
    them on the pages and the API, as their reminders already are."""
    s, w = scene, scene.camp.world
    client = browser(s.reviewer)
    assert client.get(reverse("oversight:detail", args=[s.x.pk])).status_code == 200
    account_services.revoke_membership(membership=Membership.objects.get(user=s.reviewer, unit=w.county))
    account_services.grant_membership(user=s.reviewer, unit=s.camp.east, role=Role.SUPERVISOR)
    before = rows()
    assert client.get(reverse("oversight:detail", args=[s.x.pk])).status_code == 404
    assert s.x.name not in client.get(reverse("oversight:list")).content.decode()
    for _name, url, data in page_posts(s, s.west, s.problem):
        assert client.post(url, data).status_code == 404
    api = token_client(s.reviewer)
    assert api.get(f"{API}/{s.x.pk}/").status_code == 404
    assert api.get(f"{API}/{s.x.pk}/reviewers/").status_code == 404
    assert [c["id"] for c in api.get(f"{API}/").json()["results"]] == []
    assert rows() == before


def test_a_reviewer_whose_membership_is_revoked_after_the_page_loaded_changes_nothing(scene):
    s, w = scene, scene.camp.world
    client = browser(s.reviewer)
    assert client.get(reverse("oversight:review", args=[s.x.pk, s.west.pk])).status_code == 200
    account_services.revoke_membership(membership=Membership.objects.get(user=s.reviewer, unit=w.county))
    before = rows()
    for name, url, data in page_posts(s, s.west, s.problem):
        assert client.post(url, data).status_code == 403, name
    assert rows() == before


def test_a_campaign_organiser_who_is_a_party_to_the_case_does_not_follow_it_up(camp):
    """The city supervisor runs the campaign and is listed on a case as an involved officer: like a reviewer who is a
    party, they may not record what was done about its problems or who is held accountable for it — through the page
    or the API. On the campaign's other cases they still do."""
    w = camp.world
    theirs, other = case_at(camp, CaseStatus.SUPERVISION), case_at(camp, CaseStatus.SUPERVISION)
    case_services.add_involved_officer(case=theirs, by=w.county_supervisor, name="市局督察", user=w.supervisor)
    campaign = new_campaign(camp, scope=Scope(statuses=(CaseStatus.SUPERVISION,)))
    services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    campaign = services.start_campaign(campaign=campaign, by=w.supervisor)
    item, other_item = (CampaignCase.objects.get(campaign=campaign, case=c) for c in (theirs, other))
    problem = services.raise_problem(
        item=item,
        by=w.county_supervisor,
        type=ProblemType.PROTRACTED,
        description="久拖不办",
        responsible_unit=w.county,
        rectify_by=today(),
    )
    s = Scene(camp, campaign, campaign, item, other_item, other_item, item, problem, problem, w.officer, w.officer)
    before = rows()
    client = browser(w.supervisor)
    page = client.get(reverse("oversight:review", args=[campaign.pk, item.pk]))
    assert page.status_code == 200
    assert 'id="accountability-form"' not in page.content.decode()
    for name, url, data in page_posts(s, item, problem):
        if name in ("rectify", "accountability"):
            assert client.post(url, data).status_code == 403, name
    api = token_client(w.supervisor)
    for name, method, url, data in api_posts(s, item, problem):
        if name in ("rectify", "accountability"):
            refused = getattr(api, method)(url, data, format="json")
            assert refused.status_code == 403, name
            assert refused.json()["detail"] == str(services.FOLLOW_UP_REFUSAL)
    assert rows() == before
    held = client.post(
        reverse("oversight:accountability", args=[campaign.pk, other_item.pk]), accountability_data(w.county)
    )
    assert held.status_code == 302
    assert Accountability.objects.filter(campaign_case=other_item).count() == 1


def test_the_admin_site_shows_the_campaign_log_to_its_organisers_only(scene):
    """The campaign's log names every selected case's problems, accountability measures and pursuit steps; the
    campaign page shows it to the organisers only. A reviewer of the west county given the admin site's view
    permissions must not read there what happened to the east county's cases."""
    s, w = scene, scene.camp.world
    services.raise_problem(
        item=s.east,
        by=s.camp.east_supervisor,
        type=ProblemType.INTERFERENCE,
        description="东部问题",
        responsible_unit=s.camp.east,
        rectify_by=today(),
    )
    for user in (s.reviewer, w.supervisor):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="oversight"))
    east_event = CampaignEvent.objects.get(campaign=s.x, campaign_case=s.east)
    reviewer = browser(s.reviewer)
    listing = reviewer.get(reverse("admin:oversight_campaignevent_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    assert reviewer.get(reverse("admin:oversight_campaignevent_change", args=[east_event.pk])).status_code == 302
    organiser = browser(w.supervisor)
    shown = organiser.get(reverse("admin:oversight_campaignevent_changelist"))
    assert {e.pk for e in shown.context["cl"].result_list} == set(CampaignEvent.objects.values_list("pk", flat=True))


# --- stale tabs, double clicks, races ------------------------------------------------------------------------------


def shown_messages(answer) -> list[str]:
    return [str(m) for m in answer.context["messages"]] if answer.context else []


def test_starting_or_closing_twice_and_acting_on_a_closed_campaign_change_nothing(scene):
    s, w = scene, scene.camp.world
    organiser = browser(w.supervisor)
    before = rows()
    again = organiser.post(reverse("oversight:start", args=[s.x.pk]), follow=True)
    assert shown_messages(again) == ["This is not possible while the campaign is “Running”."]
    assert rows() == before
    services.close_campaign(campaign=s.x, by=w.supervisor)
    before = rows()
    twice = organiser.post(reverse("oversight:close", args=[s.x.pk]), follow=True)
    assert shown_messages(twice) == ["This is not possible while the campaign is “Closed”."]
    api = token_client(w.supervisor)
    for url in (f"{API}/{s.x.pk}/start/", f"{API}/{s.x.pk}/close/"):
        refused = api.post(url)
        assert (refused.status_code, refused.json()["errors"]) == (
            400,
            {"non_field_errors": ["This is not possible while the campaign is “Closed”."]},
        )
    assign = organiser.post(
        reverse("oversight:assign", args=[s.x.pk]), {"sub_unit": w.county.code, "reviewer": "supervisor"}
    )
    assert assign.status_code == 400
    # The reviewer's tab, loaded while the campaign ran: every step refused with the reason, nothing written.
    reviewer = browser(s.reviewer)
    for name, url, data in page_posts(s, s.west, s.problem):
        refused = reviewer.post(url, data)
        assert refused.status_code == 403, name
        assert str(
            services.REVIEW_REFUSAL if name in ("review", "problem", "make-up") else services.FOLLOW_UP_REFUSAL
        ) in refused.content.decode().replace("&#x27;", "'"), name
    assert rows() == before


def test_assigning_the_same_reviewer_twice_is_refused(scene):
    s, w = scene, scene.camp.world
    before = rows()
    twice = browser(w.supervisor).post(
        reverse("oversight:assign", args=[s.x.pk]), {"sub_unit": w.county.code, "reviewer": "county_supervisor"}
    )
    assert twice.status_code == 400
    assert "This reviewer is already assigned to this sub-unit." in twice.content.decode()
    api = token_client(w.supervisor).post(
        f"{API}/{s.x.pk}/reviewers/", {"sub_unit": w.county.pk, "reviewer": s.reviewer.pk}, format="json"
    )
    assert (api.status_code, api.json()["errors"]) == (400, {"reviewer": ["This reviewer is already assigned to this sub-unit."]})
    assert rows() == before


def test_a_second_rectification_from_a_stale_tab_says_it_is_already_recorded(scene):
    """Two tabs on the review page; the problem is rectified in the first; the second tab's form is refused with the
    reason shown on the page, and the first rectification stands."""
    s = scene
    client = browser(s.reviewer)
    url = reverse("oversight:rectify", args=[s.x.pk, s.west.pk, s.problem.pk])
    assert client.post(url, rectify_data(s.problem)).status_code == 302
    before = rows()
    stale = client.post(url, rectify_data(s.problem, rectification="另一次整改"), follow=True)
    assert "This problem is already recorded as rectified." in stale.content.decode()
    assert rows() == before
    assert Problem.objects.get(pk=s.problem.pk).rectification == "已补充调查"


def test_a_second_make_up_from_a_stale_tab_says_it_was_already_made_up(scene):
    s = scene
    client = browser(s.reviewer)
    url = reverse("oversight:make-up", args=[s.x.pk, s.west.pk])
    assert client.post(url, {"problem": str(s.problem.pk)}).status_code == 302
    assert Case.objects.get(pk=s.west.case_id).status == CaseStatus.SUPERVISION
    before = rows()
    stale = client.post(url, {"problem": str(s.problem.pk)}, follow=True)
    assert "This case has already been sent back to be handled again." in stale.content.decode()
    assert rows() == before
    api = token_client(s.reviewer).post(f"{API}/{s.x.pk}/reviews/{s.west.pk}/make-up/", {"problem": s.problem.pk}, format="json")
    assert (api.status_code, api.json()["errors"]) == (
        400,
        {"non_field_errors": ["This case has already been sent back to be handled again."]},
    )
    assert rows() == before


def test_making_up_a_case_reopened_since_the_page_loaded_is_refused_next_to_the_problem(scene):
    """The case was recalled and reopened through the case workflow after the review page loaded: it is being
    handled again already."""
    s, w = scene, scene.camp.world
    case = Case.objects.get(pk=s.west.case_id)
    case = case_services.recall_case(case=case, by=w.supervisor, expected_version=case.version, reason="新的事实")
    case_services.reopen_case(
        case=case, by=w.supervisor, expected_version=case.version, problem="protracted", detail="久拖"
    )
    before = rows()
    stale = browser(s.reviewer).post(reverse("oversight:make-up", args=[s.x.pk, s.west.pk]), {"problem": str(s.problem.pk)})
    assert stale.status_code == 400
    assert (
        "The case is at the stage “Supervision”: only a concluded or closed case is sent back to be handled again."
        in stale.content.decode()
    )
    assert rows() == before


def pursuit_scene(camp: Camp) -> tuple[Campaign, CampaignCase, PursuitRecord]:
    w = camp.world
    case = case_at(camp, CaseStatus.SUPERVISION)
    suspect = case_services.add_suspect(case=case, by=w.supervisor, name="赵某", status=SuspectStatus.AT_LARGE)
    campaign = new_campaign(
        camp, name="追逃", kind=CampaignKind.FUGITIVE_PURSUIT, scope=Scope(statuses=(CaseStatus.SUPERVISION,))
    )
    services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    campaign = services.start_campaign(campaign=campaign, by=w.supervisor)
    return campaign, CampaignCase.objects.get(campaign=campaign), PursuitRecord.objects.get(suspect=suspect)


def test_a_pursuit_step_from_a_stale_tab_after_the_pursuit_ended_says_so(camp):
    """The suspect was caught (recorded in one tab); the other tab, loaded while the suspect was at large, records
    them located: refused with the reason on the page, the arrest stands."""
    w = camp.world
    campaign, item, record = pursuit_scene(camp)
    client = browser(w.county_supervisor)
    url = reverse("oversight:pursuit", args=[campaign.pk, item.pk, record.pk])
    step = {"status": PursuitStatus.ARRESTED, "on": str(today()), "unit": w.county.code, "custody": "detained", "note": ""}
    assert client.post(url, {f"f{record.pk}-{k}": v for k, v in step.items()}).status_code == 302
    before = rows()
    located = {**step, "status": PursuitStatus.LOCATED, "note": "在外地"}
    stale = client.post(url, {f"f{record.pk}-{k}": v for k, v in located.items()}, follow=True)
    assert "The pursuit cannot go from “Arrested” to “Located”." in stale.content.decode()
    assert rows() == before
    assert PursuitRecord.objects.get(pk=record.pk).status == PursuitStatus.ARRESTED
