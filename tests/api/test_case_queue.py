"""The queue page and the API's case list filter by one rule (cases/queue_filters.py): the same question asked in each
interface's words finds the same cases; and the API's pages walk both ways through the one keyset paginator."""

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, InjuryGrade
from cases.models import Case
from tests.factories import case_in

S = CaseStatus
OPEN = "status=intake&status=referred&status=supervision&status=look_back"


@pytest.fixture
def queue(world):
    """Open cases, each findable by one field or filter only, and a closed one."""
    now = timezone.now()
    plain = {"summary": "一般摘要", "narrative": "一般经过", "location": "一般地点"}
    made = {
        "summary": case_in(world, S.INTAKE, **{**plain, "summary": "醉酒后辱骂民警"}),
        "narrative": case_in(world, S.INTAKE, **{**plain, "narrative": "当事人驾车冲撞执勤民警"}),
        "location": case_in(world, S.REFERRED, **{**plain, "location": "灵隐路口"}, kind="threat"),
        "dispatch": case_in(world, S.SUPERVISION, **plain, dispatch_ref="J3301062026031500042"),
        "old": case_in(world, S.INTAKE, **plain, occurred_at=now - timedelta(days=30)),
        "closed": case_in(world, S.CLOSED, **plain),
    }
    services.update_involved_officer(
        officer=made["narrative"].officers.get(), by=world.supervisor, injury=InjuryGrade.SERIOUS_2
    )
    Case.objects.filter(pk=made["location"].pk).update(is_stalled=True)
    services.assign_case(case=made["summary"], by=world.supervisor, expected_version=None, assignee=world.supervisor)
    return made


def names(queue, references) -> set[str]:
    by_reference = {case.reference: name for name, case in queue.items()}
    return {by_reference[r] for r in references}


def on_the_page(client, query: str) -> set[str]:
    response = client.get(f"{reverse('cases:queue')}?{query}")
    assert response.status_code == 200, response.content
    return {case.reference for case in response.context["page"].cases}


def in_the_api(client, query: str) -> set[str]:
    response = client.get(f"/api/v1/cases/?page_size=100&{query}")
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("page_query", "api_query", "expected"),
    [
        ("", OPEN, {"summary", "narrative", "location", "dispatch", "old"}),
        ("status=closed", "status=closed", {"closed"}),
        ("kind=threat", f"{OPEN}&kind=threat", {"location"}),
        ("flag=stalled", f"{OPEN}&flag=stalled", {"location"}),
        ("injury=4", f"{OPEN}&injury_at_least=serious_2", {"narrative"}),
        ("view=mine", f"{OPEN}&assigned=me", {"summary"}),
        ("view=unassigned", f"{OPEN}&assigned=nobody", {"narrative", "location", "dispatch", "old"}),
        ("q=辱骂", f"{OPEN}&q=辱骂", {"summary"}),
        ("q=冲撞执勤", f"{OPEN}&q=冲撞执勤", {"narrative"}),
        ("q=灵隐路", f"{OPEN}&q=灵隐路", {"location"}),
        ("q=j330106202603", f"{OPEN}&q=j330106202603", {"dispatch"}),
        ("q=%20灵隐路%20", f"{OPEN}&q=%20灵隐路%20", {"location"}),
        ("place=-&kind=threat", f"{OPEN}&place=-&kind=threat", {"location"}),
        ("place=road", f"{OPEN}&place=road", set()),
    ],
)
def test_the_page_and_the_api_find_the_same_cases(client, world, api, queue, page_query, api_query, expected):
    client.force_login(world.supervisor)
    page = on_the_page(client, page_query)
    assert names(queue, page) == expected
    assert in_the_api(api("supervisor"), api_query) == page


def test_a_reference_is_found_by_any_part_of_it_on_both(client, world, api, queue):
    client.force_login(world.supervisor)
    reference = queue["dispatch"].reference
    for text in (reference, reference.lower()):
        assert names(queue, on_the_page(client, f"q={text}")) == {"dispatch"}
        assert names(queue, in_the_api(api("supervisor"), f"{OPEN}&q={text}")) == {"dispatch"}
    year = reference[: len("RG-2026")]
    assert names(queue, in_the_api(api("supervisor"), f"q={year}")) == set(queue)
    # Any part of a reference finds it too: its number without the prefix (issue 18), on both.
    assert names(queue, in_the_api(api("supervisor"), f"{OPEN}&q={reference[-6:]}")) == {"dispatch"}
    assert names(queue, on_the_page(client, f"q={reference[-6:]}")) == {"dispatch"}


def test_the_page_and_the_api_agree_on_unit_subtrees_and_incident_dates(client, world, api, queue):
    client.force_login(world.supervisor)
    assert on_the_page(client, "unit=330106002") == in_the_api(
        api("supervisor"), f"{OPEN}&unit={world.other_station.pk}"
    )
    assert on_the_page(client, "unit=330106002") == set()
    county = on_the_page(client, "unit=330106")
    assert names(queue, county) == {"summary", "narrative", "location", "dispatch", "old"}
    assert in_the_api(api("supervisor"), f"{OPEN}&unit={world.county.pk}") == county
    # The page's dates are whole local days; the API's times are instants: the same cut, told two ways.
    day = (timezone.localtime() - timedelta(days=10)).date()
    cut = urlencode({"t": timezone.make_aware(datetime.combine(day, time.min)).isoformat()})[2:]
    older = on_the_page(client, f"occurred_to={day - timedelta(days=1)}")
    assert names(queue, older) == {"old"}
    assert in_the_api(api("supervisor"), f"{OPEN}&occurred_before={cut}") == older
    newer = on_the_page(client, f"occurred_from={day}")
    assert names(queue, newer) == {"summary", "narrative", "location", "dispatch"}
    assert in_the_api(api("supervisor"), f"{OPEN}&occurred_after={cut}") == newer


def test_an_unknown_unit_is_a_400_not_an_empty_list(world, api, queue):
    missing = max(world.sibling_station.pk, world.county.pk) + 1000
    response = api("supervisor").get(f"/api/v1/cases/?unit={missing}")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["unit"])
    # A unit outside the caller's cases is still a valid question, with no answer.
    assert in_the_api(api("supervisor"), f"unit={world.sibling_station.pk}") == set()


def test_pages_walk_forward_and_back_with_the_same_links(world, api):
    made = [case_in(world, S.INTAKE) for _ in range(5)]
    newest_first = [c.reference for c in reversed(made)]
    client = api("supervisor")
    first = client.get("/api/v1/cases/?page_size=2").json()
    assert ([r["reference"] for r in first["results"]], first["previous"]) == (newest_first[:2], None)
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert [r["reference"] for r in second["results"]] == newest_first[2:4]
    assert ([r["reference"] for r in third["results"]], third["next"]) == (newest_first[4:], None)
    back = client.get(third["previous"]).json()
    assert [r["reference"] for r in back["results"]] == newest_first[2:4]
    start = client.get(back["previous"]).json()
    assert ([r["reference"] for r in start["results"]], start["previous"]) == (newest_first[:2], None)
    assert client.get(start["next"]).json()["results"] == back["results"]
    assert first["next"].startswith("http://testserver/api/v1/cases/?")


@pytest.mark.parametrize("ordering", ["reference", "-reference", "created_at", "-last_activity_at"])
def test_pages_follow_each_ordering_through_ties(world, api, ordering):
    made = [case_in(world, S.INTAKE) for _ in range(5)]
    same = timezone.now()
    Case.objects.filter(pk__in=[c.pk for c in made]).update(last_activity_at=same, created_at=same)
    expected = list(
        Case.objects.filter(pk__in=[c.pk for c in made])
        .order_by(ordering, "-id" if ordering.startswith("-") else "id")
        .values_list("reference", flat=True)
    )
    client = api("supervisor")
    seen: list[str] = []
    url = f"/api/v1/cases/?page_size=2&ordering={ordering}"
    while url:
        body = client.get(url).json()
        seen += [r["reference"] for r in body["results"]]
        url = body["next"]
    assert seen == expected
