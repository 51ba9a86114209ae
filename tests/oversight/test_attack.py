"""The oversight app attacked from outside: other roles and units through every door (the pages, the API, the admin
site), ids mixed across campaigns and cases, stale tabs and double clicks, hostile and invalid input. Each attack
asserts the exact refusal and that nothing changed; an attack that succeeds is a regression test for its fix."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, OrgUnit, Role, User
from cases import services as case_services
from cases.choices import CaseStatus, SuspectStatus
from cases.models import Case, CaseEvent, Notification, Suspect
from oversight import services
from oversight.choices import CHECKLISTS, Answer, CampaignKind, Measure, ProblemType, PursuitStatus
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
from oversight.reminders import send_reminders
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
        tuple(CampaignCase.objects.order_by("pk").values_list("pk", "made_up_at", "version")),
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


def version_of(item: CampaignCase) -> int:
    return CampaignCase.objects.get(pk=item.pk).version


def seen(item: CampaignCase, data: dict[str, str], prefix: str = "") -> dict[str, str]:
    """``data`` as the review page of ``item`` loaded now sends it: with the version the page shows."""
    return {**data, f"{prefix}version": str(version_of(item))}


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
    """The rectification form of ``problem`` on its review page loaded now (its version), with ``changes``."""
    data = {
        "rectification": "已补充调查",
        "rectified_on": str(today()),
        "version": str(version_of(problem.campaign_case)),
    }
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
        ("review", reverse("oversight:review-record", args=args), seen(item, review_data())),
        ("problem", reverse("oversight:problem", args=args), seen(item, problem_data(county))),
        ("rectify", reverse("oversight:rectify", args=[*args, problem.pk]), rectify_data(problem)),
        ("make-up", reverse("oversight:make-up", args=args), seen(item, {"problem": str(problem.pk)})),
        ("accountability", reverse("oversight:accountability", args=args), seen(item, accountability_data(county))),
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
    make_up = client.post(
        reverse("oversight:make-up", args=[s.x.pk, s.west.pk]), seen(s.west, {"problem": str(s.y_problem.pk)})
    )
    assert make_up.status_code == 400
    assert "Select a valid choice." in make_up.content.decode()
    held = client.post(
        reverse("oversight:accountability", args=[s.x.pk, s.west.pk]),
        seen(s.west, accountability_data(s.camp.world.county, problem=str(s.y_problem.pk))),
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
        reverse("oversight:accountability", args=[campaign.pk, other_item.pk]),
        seen(other_item, accountability_data(w.county)),
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
    assert (api.status_code, api.json()["errors"]) == (
        400,
        {"reviewer": ["This reviewer is already assigned to this sub-unit."]},
    )
    assert rows() == before


STALE = (
    "This case's review changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)


def page_text(answer) -> str:
    return answer.content.decode().replace("&#x27;", "'")


def test_a_second_rectification_from_a_stale_tab_is_refused_and_its_text_kept(scene):
    """Two tabs on the review page; the problem is rectified in the first; the second tab's form is refused with the
    reason above the page as it is now (the first rectification shown, the form gone), what it typed kept to copy,
    and the first rectification stands. Sent without a version (the API's unconditional write), it is refused as
    already rectified."""
    s = scene
    client = browser(s.reviewer)
    url = reverse("oversight:rectify", args=[s.x.pk, s.west.pk, s.problem.pk])
    second_tab = rectify_data(s.problem, rectification="另一次整改")
    assert client.post(url, rectify_data(s.problem)).status_code == 302
    before = rows()
    stale = client.post(url, second_tab)
    assert stale.status_code == 409
    html = page_text(stale)
    assert STALE in html
    assert "已补充调查" in html
    assert f'name="p{s.problem.pk}-rectification"' not in html
    kept = f"What was done: 另一次整改\nRectified on: {today()}"
    assert f'<textarea class="form-control" id="kept-text" rows="3" readonly>{kept}</textarea>' in html
    assert rows() == before
    api = token_client(s.reviewer).post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/{s.problem.pk}/rectify/",
        {"rectification": "另一次整改", "rectified_on": str(today())},
        format="json",
    )
    assert (api.status_code, api.json()["errors"]) == (
        400,
        {"non_field_errors": ["This problem is already recorded as rectified."]},
    )
    assert rows() == before
    assert Problem.objects.get(pk=s.problem.pk).rectification == "已补充调查"


def test_a_second_make_up_from_a_stale_tab_is_refused_and_the_api_says_it_was_already_made_up(scene):
    s = scene
    client = browser(s.reviewer)
    url = reverse("oversight:make-up", args=[s.x.pk, s.west.pk])
    clicked = seen(s.west, {"problem": str(s.problem.pk)})
    assert client.post(url, clicked).status_code == 302
    assert Case.objects.get(pk=s.west.case_id).status == CaseStatus.SUPERVISION
    before = rows()
    stale = client.post(url, clicked)
    assert stale.status_code == 409
    assert STALE in page_text(stale)
    assert 'id="makeup-heading"' not in page_text(stale)
    assert rows() == before
    api = token_client(s.reviewer).post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/make-up/", {"problem": s.problem.pk}, format="json"
    )
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
    stale = browser(s.reviewer).post(
        reverse("oversight:make-up", args=[s.x.pk, s.west.pk]), seen(s.west, {"problem": str(s.problem.pk)})
    )
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
    step = {
        "status": PursuitStatus.ARRESTED,
        "on": str(today()),
        "unit": w.county.code,
        "custody": "detained",
        "note": "",
    }
    step = seen(item, step)
    assert client.post(url, {f"f{record.pk}-{k}": v for k, v in step.items()}).status_code == 302
    before = rows()
    located = {**step, "status": PursuitStatus.LOCATED, "note": "在外地"}
    stale = client.post(url, {f"f{record.pk}-{k}": v for k, v in located.items()})
    assert stale.status_code == 409
    assert STALE in page_text(stale)
    assert "Note: 在外地" in page_text(stale)
    assert rows() == before
    # From a page loaded after the arrest (no step is offered there any more), the pursuit's own reason.
    current = client.post(url, {f"f{record.pk}-{k}": v for k, v in seen(item, located).items()}, follow=True)
    assert "The pursuit cannot go from “Arrested” to “Located”." in current.content.decode()
    assert rows() == before
    assert PursuitRecord.objects.get(pk=record.pk).status == PursuitStatus.ARRESTED


# --- hostile text ----------------------------------------------------------------------------------------------------

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>=HYPERLINK("http://x")+cmd@SUM\u202e'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"


def inert(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert ESCAPED in html


def create_data(camp: Camp, **changes: str) -> dict[str, str]:
    data = {
        "name": "2026年专项",
        "kind": CampaignKind.SPECIAL_SUPERVISION,
        "owner_unit": camp.city.code,
        "period_start": f"{today().year}-01-01",
        "period_end": f"{today().year}-12-31",
        "deadline": str(today() + timedelta(days=30)),
        "statuses": ["closed"],
        "selection": "all",
    }
    data.update(changes)
    return data


def test_hostile_text_is_kept_as_typed_and_stays_inert_on_every_page_the_api_and_the_e_mail(camp, mailoutbox):
    w = camp.world
    case, unreviewed = case_at(camp, CaseStatus.CLOSED), case_at(camp, CaseStatus.CLOSED)
    organiser, reviewer = browser(w.supervisor), browser(w.county_supervisor)
    assert organiser.post(reverse("oversight:new"), create_data(camp, name=HOSTILE)).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.name == HOSTILE
    assign = {"sub_unit": w.county.code, "reviewer": "county_supervisor"}
    assert organiser.post(reverse("oversight:assign", args=[campaign.pk]), assign).status_code == 302
    assert organiser.post(reverse("oversight:start", args=[campaign.pk])).status_code == 302
    item = CampaignCase.objects.get(campaign=campaign, case=case)
    args = [campaign.pk, item.pk]
    review = review_data(non_handling=HOSTILE)
    review["summary"] = HOSTILE
    assert reviewer.post(reverse("oversight:review-record", args=args), seen(item, review)).status_code == 302
    hostile_problem = seen(item, problem_data(w.county, description=HOSTILE))
    assert reviewer.post(reverse("oversight:problem", args=args), hostile_problem).status_code == 302
    problem = Problem.objects.get()
    rectified = rectify_data(problem, rectification=HOSTILE)
    assert reviewer.post(reverse("oversight:rectify", args=[*args, problem.pk]), rectified).status_code == 302
    held = seen(item, accountability_data(w.county, officer_name=HOSTILE, document_reference=HOSTILE))
    assert reviewer.post(reverse("oversight:accountability", args=args), held).status_code == 302
    stored = (
        Review.objects.get().summary,
        ReviewAnswer.objects.get(item="non_handling").note,
        Problem.objects.get().description,
        Problem.objects.get().rectification,
        Accountability.objects.get().officer_name,
        Accountability.objects.get().document_reference,
    )
    assert stored == (HOSTILE,) * 6
    for client, url in (
        (organiser, reverse("oversight:list")),
        (organiser, reverse("oversight:detail", args=[campaign.pk])),
        (organiser, reverse("oversight:review", args=args)),
        (reviewer, reverse("oversight:review", args=args)),
        (organiser, reverse("cases:detail", args=[case.pk])),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        inert(page.content.decode())
    # The API answers the text as stored, in JSON.
    api = token_client(w.supervisor)
    assert api.get(f"{API}/{campaign.pk}/").json()["name"] == HOSTILE
    body = api.get(f"{API}/{campaign.pk}/reviews/{item.pk}/").json()
    assert body["review"]["summary"] == HOSTILE
    assert body["problems"][0]["description"] == HOSTILE
    assert body["problems"][0]["rectification"] == HOSTILE
    assert (body["accountability"][0]["officer_name"], body["accountability"][0]["document_reference"]) == (
        HOSTILE,
        HOSTILE,
    )
    # The reminder e-mail: plain text only, the name on the one-line subject as typed.
    Campaign.objects.filter(pk=campaign.pk).update(deadline=today())
    assert CampaignCase.objects.filter(campaign=campaign, case=unreviewed, review__isnull=True).exists()
    counts = send_reminders()
    assert (counts["review_due"], counts["sent"], counts["failed"]) == (1, 1, 0)
    (mail,) = mailoutbox
    assert mail.subject.startswith(f"Campaign “{HOSTILE}”: 1 of your cases are not reviewed yet")
    assert mail.alternatives == []


def test_a_campaign_name_with_a_line_break_is_refused_so_its_reminders_can_be_sent(camp):
    """A line break in the name would sit in every reminder's subject: the mail library refuses such a header, so
    the reminders of the campaign would never go out (tried again, and refused, on every run)."""
    w = camp.world
    before = rows()
    for name in ("专项\r\nBcc: someone@elsewhere.example", "专项\n监督", "专项\u2028监督", "专项\x1b[31m"):
        page = browser(w.supervisor).post(reverse("oversight:new"), create_data(camp, name=name))
        assert page.status_code == 400, repr(name)
        assert "Write this on one line, without line breaks or control characters." in page.content.decode()
        api = token_client(w.supervisor).post(
            f"{API}/",
            {
                "name": name,
                "kind": "special_supervision",
                "owner_unit": camp.city.pk,
                "period_start": f"{today().year}-01-01",
                "period_end": f"{today().year}-12-31",
                "deadline": str(today() + timedelta(days=3)),
                "selection": "all",
            },
            format="json",
        )
        assert (api.status_code, api.json()["errors"]) == (
            400,
            {"name": ["Write this on one line, without line breaks or control characters."]},
        ), repr(name)
    assert rows() == before


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("description", 5000),
        ("rectification", 5000),
        ("officer_name", 100),
        ("document_reference", 100),
        ("summary", 5000),
        ("note", 5000),
    ],
)
def test_nul_bytes_and_over_long_text_are_refused_next_to_the_field_page_and_api(scene, field, limit):
    s, w = scene, scene.camp.world
    args = [s.x.pk, s.west.pk]
    page_forms = {
        "description": (
            reverse("oversight:problem", args=args),
            lambda v: seen(s.west, problem_data(w.county, description=v)),
        ),
        "rectification": (
            reverse("oversight:rectify", args=[*args, s.problem.pk]),
            lambda v: rectify_data(s.problem, rectification=v),
        ),
        "officer_name": (
            reverse("oversight:accountability", args=args),
            lambda v: seen(s.west, accountability_data(w.county, officer_name=v)),
        ),
        "document_reference": (
            reverse("oversight:accountability", args=args),
            lambda v: seen(s.west, accountability_data(w.county, document_reference=v)),
        ),
        "summary": (
            reverse("oversight:review-record", args=args),
            lambda v: seen(s.west, {**review_data(), "summary": v}),
        ),
        "note": (reverse("oversight:review-record", args=args), lambda v: seen(s.west, review_data(non_handling=v))),
    }
    url, data = page_forms[field]
    client = browser(s.reviewer)
    before = rows()
    for value, said in (
        ("整改\x00完毕", "Null characters are not allowed."),
        ("长" * 10_000, f"Ensure this value has at most {limit} characters (it has 10000)."),
    ):
        page = client.post(url, data(value))
        assert page.status_code == 400, (field, value[:5])
        html = page.content.decode()
        if field == "summary" and len(value) > limit:
            said = f"Keep this to {limit} characters or fewer."
        assert said in html, (field, said)
        assert 'aria-invalid="true"' in html
        # What was typed stays in the form to be corrected (the long text whole, not cut).
        if "\x00" not in value:
            assert value in html
    assert rows() == before


def test_nul_bytes_and_over_long_text_are_a_precise_400_from_the_api(scene):
    s, w = scene, scene.camp.world
    api = token_client(s.reviewer)
    base = f"{API}/{s.x.pk}/reviews/{s.west.pk}"
    before = rows()
    for value, said in (
        ("a\x00b", "Null characters are not allowed."),
        ("x" * 10_000, "Ensure this field has no more than 5000 characters."),
    ):
        answer = api.post(
            f"{base}/problems/",
            {"type": "evidence", "description": value, "responsible_unit": w.county.pk, "rectify_by": str(today())},
            format="json",
        )
        assert (answer.status_code, answer.json()["errors"]) == (400, {"description": [said]})
        answer = api.post(
            f"{base}/problems/{s.problem.pk}/rectify/",
            {"rectification": value, "rectified_on": str(today())},
            format="json",
        )
        assert (answer.status_code, answer.json()["errors"]) == (400, {"rectification": [said]})
    assert rows() == before


def test_only_white_space_is_refused_as_empty(scene):
    s, w = scene, scene.camp.world
    client = browser(s.reviewer)
    before = rows()
    page = client.post(
        reverse("oversight:problem", args=[s.x.pk, s.west.pk]),
        seen(s.west, problem_data(w.county, description=" \u3000\n\t ")),
    )
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()
    new = browser(w.supervisor).post(reverse("oversight:new"), create_data(s.camp, name="   "))
    assert new.status_code == 400
    assert "This field is required." in new.content.decode()
    assert rows() == before


# --- invalid values --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["period_start", "period_end", "deadline", "occurred_from", "occurred_to", "closed_from", "closed_to"]
)
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_out_of_any_real_range_are_refused_next_to_the_field_not_a_500_at_the_start(camp, field, day):
    """The form takes any date; a last day of 9999-12-31 in the scope overflowed when the campaign started."""
    w = camp.world
    changes = {field: day}
    if field == "period_start" and day.startswith("9999"):
        changes["period_end"] = day
    before = rows()
    page = browser(w.supervisor).post(reverse("oversight:new"), create_data(camp, **changes))
    assert page.status_code == 400
    assert "Give a date between 1900 and 2999." in page.content.decode()
    assert rows() == before


def test_a_draft_with_a_scope_day_at_the_end_of_time_cannot_be_made_so_starting_never_overflows(camp):
    w = camp.world
    with pytest.raises(ValidationError) as refused:
        services.set_scope(
            campaign=new_campaign(camp),
            by=w.supervisor,
            scope=Scope(occurred_to=date(9999, 12, 31)),
            selection="all",
        )
    assert refused.value.message_dict == {"occurred_to": ["Give a date between 1900 and 2999."]}


def test_problem_and_accountability_dates_out_of_range_are_refused(scene):
    s, w = scene, scene.camp.world
    args = [s.x.pk, s.west.pk]
    client = browser(s.reviewer)
    before = rows()
    page = client.post(
        reverse("oversight:problem", args=args), seen(s.west, problem_data(w.county, rectify_by="9999-12-31"))
    )
    assert page.status_code == 400
    assert "Give a date between 1900 and 2999." in page.content.decode()
    page = client.post(
        reverse("oversight:accountability", args=args),
        seen(s.west, accountability_data(w.county, decided_on="0001-01-01")),
    )
    assert page.status_code == 400
    assert "Give a date between 1900 and 2999." in page.content.decode()
    assert rows() == before


def test_a_deadline_before_the_period_starts_is_refused(camp):
    w = camp.world
    before = rows()
    year = today().year + 1
    page = browser(w.supervisor).post(
        reverse("oversight:new"),
        create_data(
            camp, period_start=f"{year}-06-01", period_end=f"{year}-12-31", deadline=str(today() + timedelta(days=1))
        ),
    )
    assert page.status_code == 400
    assert "The deadline cannot come before the period starts." in page.content.decode()
    assert rows() == before


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-3", "Ensure this value is greater than or equal to 1."),
        ("1000001", "Give the number of cases to sample, from 1 to 1000000."),
        ("99999999999999999999999", "Give the number of cases to sample, from 1 to 1000000."),
        ("", "Give the number of cases to sample, from 1 to 1000000."),
    ],
)
def test_sample_sizes_out_of_range_are_refused(camp, size, said):
    before = rows()
    page = browser(camp.world.supervisor).post(
        reverse("oversight:new"), create_data(camp, selection="sample", sample_size=size)
    )
    assert page.status_code == 400
    assert said in page.content.decode()
    assert rows() == before


def test_the_api_refuses_unknown_scope_filters_values_units_reviewers_and_choices(scene):
    s, w = scene, scene.camp.world
    api = token_client(w.supervisor)
    body = {
        "name": "专项",
        "kind": "special_supervision",
        "owner_unit": s.camp.city.pk,
        "period_start": f"{today().year}-01-01",
        "period_end": f"{today().year}-12-31",
        "deadline": str(today() + timedelta(days=3)),
        "selection": "all",
    }
    before = rows()
    cases = [
        ({"scope": {"status": ["closed"]}}, {"scope": ["status: A campaign's scope has no such filter."]}),
        ({"scope": {"statuses": ["nonsense"]}}, None),
        ({"scope": {"statuses": ["draft"]}}, {"statuses": ["Choose statuses from the list."]}),
        ({"scope": {"unit": w.sibling_station.pk}}, {"unit": ["Choose a unit within the owner unit."]}),
        ({"owner_unit": w.sibling_province.pk}, None),
        ({"kind": "witch_hunt"}, None),
        ({"selection": "sample", "sample_size": 0}, None),
        ({"selection": "sample", "sample_size": 10**12}, None),
        ({"period_start": "0001-01-01"}, None),
    ]
    for changes, errors in cases:
        answer = api.post(f"{API}/", {**body, **changes}, format="json")
        expected = 403 if "owner_unit" in changes else 400
        assert answer.status_code == expected, changes
        if errors is not None:
            assert answer.json()["errors"] == errors, changes
    assign = api.post(f"{API}/{s.x.pk}/reviewers/", {"sub_unit": w.county.pk, "reviewer": w.officer.pk}, format="json")
    assert (assign.status_code, assign.json()["errors"]) == (
        400,
        {"reviewer": ["The reviewer must be a supervisor of this sub-unit or of a unit above it."]},
    )
    deep = api.post(
        f"{API}/{s.x.pk}/reviewers/", {"sub_unit": w.station.pk, "reviewer": s.station_supervisor.pk}, format="json"
    )
    assert (deep.status_code, deep.json()["errors"]) == (
        400,
        {"sub_unit": ["Choose the owner unit or one of the units directly under it."]},
    )
    reviewer = token_client(s.reviewer)
    outside = reviewer.post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/",
        {"type": "evidence", "description": "x", "responsible_unit": w.sibling_station.pk, "rectify_by": str(today())},
        format="json",
    )
    assert (outside.status_code, outside.json()["errors"]) == (
        400,
        {"responsible_unit": ["Choose a unit within the campaign's owner unit."]},
    )
    bad_choice = reviewer.post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/",
        {"type": "corruption", "description": "x", "responsible_unit": w.county.pk, "rectify_by": str(today())},
        format="json",
    )
    assert bad_choice.status_code == 400
    assert list(bad_choice.json()["errors"]) == ["type"]
    early = reviewer.post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/{s.problem.pk}/rectify/",
        {"rectification": "x", "rectified_on": str(today() - timedelta(days=1))},
        format="json",
    )
    assert (early.status_code, early.json()["errors"]) == (
        400,
        {"rectified_on": ["The date cannot be before the problem was raised."]},
    )
    future = reviewer.post(
        f"{API}/{s.x.pk}/reviews/{s.west.pk}/problems/{s.problem.pk}/rectify/",
        {"rectification": "x", "rectified_on": str(today() + timedelta(days=1))},
        format="json",
    )
    assert (future.status_code, future.json()["errors"]) == (
        400,
        {"rectified_on": ["The date cannot be in the future."]},
    )
    assert rows() == before


# --- what the filing officer reads -----------------------------------------------------------------------------------


def test_the_filing_officer_reads_nothing_of_the_campaigns_review_problems_or_accountability(
    scene, django_capture_on_commit_callbacks, mailoutbox
):
    """Everything a campaign records about the officer's case, each text marked: the case page, the case sheet, the
    API's case and timeline, their notifications and e-mails hold none of it (the recall that a make-up does is the
    case workflow's own step, which the filer reads)."""
    s, w = scene, scene.camp.world
    marks = {
        name: f"MARK-{name}-标记" for name in ("note", "summary", "problem", "rectification", "officer", "document")
    }
    reviewer = browser(s.reviewer)
    args = [s.x.pk, s.west.pk]
    with django_capture_on_commit_callbacks(execute=True):
        review = review_data(non_handling=marks["note"])
        review["summary"] = marks["summary"]
        assert reviewer.post(reverse("oversight:review-record", args=args), seen(s.west, review)).status_code == 302
        raised = seen(s.west, problem_data(w.county, description=marks["problem"]))
        assert reviewer.post(reverse("oversight:problem", args=args), raised).status_code == 302
        problem = Problem.objects.get(description=marks["problem"])
        rectified = rectify_data(problem, rectification=marks["rectification"])
        assert reviewer.post(reverse("oversight:rectify", args=[*args, problem.pk]), rectified).status_code == 302
        held = accountability_data(w.county, officer_name=marks["officer"], document_reference=marks["document"])
        assert reviewer.post(reverse("oversight:accountability", args=args), seen(s.west, held)).status_code == 302
        made_up = seen(s.west, {"problem": str(problem.pk)})
        assert reviewer.post(reverse("oversight:make-up", args=args), made_up).status_code == 302
    case = Case.objects.get(pk=s.west.case_id)
    assert case.status == CaseStatus.SUPERVISION
    officer = browser(w.officer)
    api = token_client(w.officer)
    shown = [
        officer.get(reverse("cases:detail", args=[case.pk])).content.decode(),
        api.get(f"/api/v1/cases/{case.pk}/").content.decode(),
        api.get(f"/api/v1/cases/{case.pk}/events/").content.decode(),
        *(n.text for n in Notification.objects.filter(recipient=w.officer)),
        *(m.subject + m.body for m in mailoutbox if w.officer.email in m.to),
    ]
    assert officer.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    events = api.get(f"/api/v1/cases/{case.pk}/events/").json()
    assert "campaign" not in [e["kind"] for e in events["results"]]
    for text in shown:
        for mark in marks.values():
            assert mark not in text
        assert "久拖不办" not in text  # the problem raised when the scene was built
    # The office reads the campaign's steps on the same timeline.
    office = token_client(w.supervisor).get(f"/api/v1/cases/{case.pk}/events/").json()
    # Selected by X and Y, a problem in each when the scene was built; then review, problem, rectified,
    # accountability and made up in X.
    assert [e["kind"] for e in office["results"]].count("campaign") == 9


def test_a_reviewer_does_not_learn_a_drafts_seed_before_the_sample_is_drawn(camp):
    """The seed decides the sample: md5(seed || case id). A reviewer assigned while the campaign is a draft — a
    supervisor of a sub-unit under review — who read it could tell which of their cases the sample will draw and tidy
    those first. Its organisers see it; everyone sees it once the sample is drawn."""
    w = camp.world
    case_at(camp, CaseStatus.CLOSED)
    campaign = new_campaign(camp, selection="sample", sample_size=1, seed="secret-seed-42")
    services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    reviewer, api = browser(w.county_supervisor), token_client(w.county_supervisor)
    page = reviewer.get(reverse("oversight:detail", args=[campaign.pk]))
    assert page.status_code == 200
    assert "secret-seed-42" not in page.content.decode()
    assert api.get(f"{API}/{campaign.pk}/").json()["seed"] == ""
    assert [c["seed"] for c in api.get(f"{API}/").json()["results"]] == [""]
    assert (
        "secret-seed-42" in browser(w.supervisor).get(reverse("oversight:detail", args=[campaign.pk])).content.decode()
    )
    assert token_client(w.supervisor).get(f"{API}/{campaign.pk}/").json()["seed"] == "secret-seed-42"
    services.start_campaign(campaign=campaign, by=w.supervisor)
    assert "secret-seed-42" in reviewer.get(reverse("oversight:detail", args=[campaign.pk])).content.decode()
    assert api.get(f"{API}/{campaign.pk}/").json()["seed"] == "secret-seed-42"
