"""The campaign pages: who gets them (404 for an invisible campaign or case, 403 for a forbidden step), what a valid
form does, and that a refused form keeps what was typed and changes nothing."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from cases.choices import CaseStatus, EventKind
from cases.models import CaseEvent
from oversight import services
from oversight.choices import Answer, CampaignState, ProblemType
from oversight.models import Campaign, CampaignCase, Problem, Review, ReviewerAssignment
from tests.oversight.conftest import case_at, new_campaign
from tests.oversight.test_services import SPECIAL, snapshot


def _create_data(camp, **changes):
    today = timezone.localdate()
    data = {
        "name": "2026年回头看",
        "kind": "look_back",
        "owner_unit": camp.city.code,
        "period_start": f"{today.year}-01-01",
        "period_end": f"{today.year}-12-31",
        "deadline": str(today + timedelta(days=60)),
        "statuses": ["closed"],
        "kinds": ["threat"],
        "unit": camp.east.code,
        "closed_from": f"{today.year}-01-01",
        "selection": "sample",
        "sample_size": "5",
        "seed": "seed-1",
    }
    data.update(changes)
    return data


def test_the_list_and_the_nav_link_are_for_supervisors_and_administrators(client, camp):
    campaign = new_campaign(camp)
    client.force_login(camp.world.supervisor)
    page = client.get(reverse("oversight:list"))
    assert page.status_code == 200
    assert campaign.name in page.content.decode()
    assert reverse("oversight:list") in client.get(reverse("cases:home")).content.decode()
    client.force_login(camp.world.officer)
    assert client.get(reverse("oversight:list")).status_code == 403
    assert client.get(reverse("oversight:detail", args=[campaign.pk])).status_code == 403
    assert f'href="{reverse("oversight:list")}"' not in client.get(reverse("cases:home")).content.decode()
    client.force_login(camp.world.sibling_supervisor)
    assert campaign.name not in client.get(reverse("oversight:list")).content.decode()
    assert client.get(reverse("oversight:detail", args=[campaign.pk])).status_code == 404


def test_creating_a_campaign_from_the_form(client, camp):
    client.force_login(camp.world.supervisor)
    assert client.get(reverse("oversight:new")).status_code == 200
    answer = client.post(reverse("oversight:new"), _create_data(camp))
    campaign = Campaign.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("oversight:detail", args=[campaign.pk])
    today = timezone.localdate()
    assert campaign.scope == {
        "statuses": ["closed"],
        "kinds": ["threat"],
        "unit_path": camp.east.path,
        "closed_from": f"{today.year}-01-01",
    }
    assert (campaign.selection, campaign.sample_size, campaign.seed) == ("sample", 5, "seed-1")


def test_a_refused_form_keeps_what_was_typed_and_says_why(client, camp):
    client.force_login(camp.world.supervisor)
    yesterday = str(timezone.localdate() - timedelta(days=1))
    answer = client.post(reverse("oversight:new"), _create_data(camp, deadline=yesterday, sample_size=""))
    page = answer.content.decode()
    assert answer.status_code == 400
    assert Campaign.objects.count() == 0
    assert "The deadline cannot be in the past." in page
    assert "Give the number of cases to sample, from 1 to 1000000." in page
    assert 'value="2026年回头看"' in page
    assert 'value="seed-1"' in page
    assert f'value="{yesterday}"' in page
    assert re.search(r'<input[^>]*value="threat"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="vehicle_ramming"[^>]*checked', page)


def test_a_unit_outside_the_actors_subtree_is_not_offered(client, camp):
    client.force_login(camp.world.county_supervisor)
    answer = client.post(reverse("oversight:new"), _create_data(camp, unit=""))
    assert answer.status_code == 400
    assert Campaign.objects.count() == 0
    assert "Select a valid choice" in answer.content.decode()


def test_starting_assigning_reviewing_and_closing_through_the_pages(client, camp):
    world = camp.world
    case = case_at(camp, CaseStatus.CLOSED)
    campaign = new_campaign(camp)
    client.force_login(world.county_supervisor)
    before = snapshot()
    assert client.post(reverse("oversight:start", args=[campaign.pk])).status_code == 404  # not theirs to see yet
    assert snapshot() == before
    client.force_login(world.supervisor)
    assert client.post(reverse("oversight:start", args=[campaign.pk])).status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.RUNNING
    wrong = client.post(
        reverse("oversight:assign", args=[campaign.pk]), {"sub_unit": camp.east.code, "reviewer": "county_supervisor"}
    )
    assert wrong.status_code == 400
    assert "The reviewer must be a supervisor of this sub-unit or of a unit above it." in wrong.content.decode()
    assert ReviewerAssignment.objects.count() == 0
    ok = client.post(
        reverse("oversight:assign", args=[campaign.pk]),
        {"sub_unit": world.county.code, "reviewer": "county_supervisor"},
    )
    assert ok.status_code == 302
    item = CampaignCase.objects.get(case=case)
    page = client.get(reverse("oversight:detail", args=[campaign.pk])).content.decode()
    assert case.reference in page
    assert reverse("oversight:review", args=[campaign.pk, item.pk]) in page

    # The city supervisor runs the campaign but does not review: the page shows no checklist form and refuses one.
    review_url = reverse("oversight:review-record", args=[campaign.pk, item.pk])
    # As the review page sends it: with the version it showed (nothing recorded yet).
    answers = {**dict.fromkeys(SPECIAL, Answer.PASS), "version": "1"}
    assert client.post(review_url, answers).status_code == 403
    assert Review.objects.count() == 0

    client.force_login(world.county_supervisor)
    page = client.get(reverse("oversight:review", args=[campaign.pk, item.pk]))
    assert page.status_code == 200
    assert 'id="review-form"' in page.content.decode()
    missing = client.post(
        review_url, {**answers, "protracted": Answer.PROBLEM, "protracted_note": "", "summary": "草稿"}
    )
    assert missing.status_code == 400
    assert "Say what the problem is." in missing.content.decode()
    assert "草稿" in missing.content.decode()
    assert Review.objects.count() == 0
    assert client.post(review_url, answers).status_code == 302
    assert Review.objects.get().reviewer == world.county_supervisor

    problem_url = reverse("oversight:problem", args=[campaign.pk, item.pk])
    late = client.post(
        problem_url,
        {
            "type": ProblemType.PROTRACTED,
            "description": "超期",
            "responsible_unit": world.station.code,
            "rectify_by": str(timezone.localdate() - timedelta(days=1)),
            "version": "2",
        },
    )
    assert late.status_code == 400
    assert "The rectification date cannot be in the past." in late.content.decode()
    assert "超期" in late.content.decode()
    assert Problem.objects.count() == 0

    client.force_login(world.supervisor)
    assert client.post(reverse("oversight:close", args=[campaign.pk])).status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.CLOSED


def test_a_reviewer_sees_only_the_cases_of_their_sub_unit(client, camp):
    world = camp.world
    west = case_at(camp, CaseStatus.CLOSED)
    east = case_at(camp, CaseStatus.CLOSED, east=True)
    campaign = new_campaign(camp)
    services.assign_reviewer(
        campaign=campaign, by=world.supervisor, sub_unit=world.county, reviewer=world.county_supervisor
    )
    services.start_campaign(campaign=campaign, by=world.supervisor)
    client.force_login(world.county_supervisor)
    page = client.get(reverse("oversight:detail", args=[campaign.pk])).content.decode()
    assert west.reference in page
    assert east.reference not in page
    east_item = CampaignCase.objects.get(case=east)
    assert client.get(reverse("oversight:review", args=[campaign.pk, east_item.pk])).status_code == 404


def test_the_case_timeline_shows_the_campaign_step_to_the_office_only(client, camp):
    case = case_at(camp, CaseStatus.CLOSED)
    campaign = new_campaign(camp)
    services.start_campaign(campaign=campaign, by=camp.world.supervisor)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CAMPAIGN).count() == 1
    client.force_login(camp.world.supervisor)
    text = f"Campaign “{campaign.name}”: Selected for review"
    assert text in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    client.force_login(camp.world.officer)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    assert campaign.name not in page.content.decode()


def test_the_campaign_page_shows_progress_per_sub_unit(client, camp):
    world = camp.world
    west = case_at(camp, CaseStatus.CLOSED)
    case_at(camp, CaseStatus.CLOSED, east=True)
    campaign = new_campaign(camp)
    services.assign_reviewer(
        campaign=campaign, by=world.supervisor, sub_unit=world.county, reviewer=world.county_supervisor
    )
    services.start_campaign(campaign=campaign, by=world.supervisor)
    item = CampaignCase.objects.get(case=west)
    services.record_review(item=item, by=world.county_supervisor, answers=dict.fromkeys(SPECIAL, (Answer.PASS, "")))
    services.raise_problem(
        item=item,
        by=world.county_supervisor,
        type=ProblemType.EVIDENCE,
        description="证据未固定",
        responsible_unit=world.station,
        rectify_by=timezone.localdate(),
    )
    client.force_login(world.supervisor)
    page = client.get(reverse("oversight:detail", args=[campaign.pk]))
    rows = [
        (p.unit.code if p.unit else "total", p.selected, p.reviewed, p.problems, p.rectified, p.overdue, p.made_up)
        for p in page.context["progress"]
    ]
    assert rows == [("330106", 1, 1, 1, 0, 0, 0), ("330108", 1, 0, 0, 0, 0, 0), ("total", 2, 1, 1, 0, 0, 0)]


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_campaign_page_costs_the_same_queries_whatever_the_number_of_cases(client, camp):
    world = camp.world
    for east in (False, True):
        case_at(camp, CaseStatus.CLOSED, east=east)
    small = services.start_campaign(campaign=new_campaign(camp), by=world.supervisor)
    for east in (False, True, False):
        case_at(camp, CaseStatus.CLOSED, east=east)
    large = services.start_campaign(campaign=new_campaign(camp), by=world.supervisor)
    for campaign in (small, large):
        services.assign_reviewer(
            campaign=campaign, by=world.supervisor, sub_unit=world.county, reviewer=world.county_supervisor
        )
        for item in CampaignCase.objects.filter(campaign=campaign, sub_unit=world.county):
            services.record_review(
                item=item, by=world.county_supervisor, answers=dict.fromkeys(SPECIAL, (Answer.PASS, ""))
            )
    assert large.selected_count == 5
    client.force_login(world.supervisor)
    client.get(reverse("oversight:list"))  # the session's first request reads what later ones find cached
    assert _queries(client, reverse("oversight:detail", args=[small.pk])) == _queries(
        client, reverse("oversight:detail", args=[large.pk])
    )


def test_in_chinese_a_campaign_is_not_said_to_be_an_export_being_written_or_a_closed_case(client, camp):
    # "Running" and "Closed" were shared with the report exports (生成中, "being written") and the cases (已结案,
    # "case closed"), and the reviewer's "Assign" with the case's (指派承办人, "assign the handler").
    case_at(camp, CaseStatus.CLOSED)
    campaign = services.start_campaign(campaign=new_campaign(camp), by=camp.world.supervisor)
    client.force_login(camp.world.supervisor)
    client.cookies["django_language"] = "zh-hans"

    def badge() -> str:
        page = client.get(reverse("oversight:detail", args=[campaign.pk])).content.decode()
        assert "指派承办人" not in page
        return re.search(r"data-campaign-state>([^<]*)<", page).group(1)

    def listed() -> str:
        page = client.get(reverse("oversight:list")).content.decode()
        return re.search(r'<span class="badge[^"]*">([^<]*)</span>', page).group(1)

    with translation.override("zh-hans"):
        running = pgettext("campaign state", "Running")
        closed = pgettext("campaign state", "Closed")
        assert gettext("Running") == "生成中"
        assert gettext("Closed") == "已结案"
    assert (badge(), listed()) == (running, running)
    assert running != "生成中"
    services.close_campaign(campaign=campaign, by=camp.world.supervisor)
    assert (badge(), listed()) == (closed, closed)
    assert closed != "已结案"
