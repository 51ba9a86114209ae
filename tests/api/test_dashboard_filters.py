"""The queue filters the dashboard links to (stage clock, submission month, referrals awaiting acknowledgement) are
the API's too: the same question asked in each interface's words finds the same cases (cases/queue_filters.py)."""

from urllib.parse import urlencode

import pytest

from cases.choices import CaseStatus
from cases.queue_filters import month_of
from tests.api.test_case_queue import OPEN, in_the_api, on_the_page
from tests.cases.test_dashboard import office  # noqa: F401  (the fixture)

ALL = "&".join(f"status={s}" for s in CaseStatus.values if s != CaseStatus.DRAFT)


def names(office, references) -> set[str]:  # noqa: F811
    by_reference = {case.reference: name for name, case in office.cases.items()}
    return {by_reference[r] for r in references}


@pytest.mark.parametrize(
    ("page_query", "api_query", "expected"),
    [
        ("due=overdue", f"{OPEN}&due=overdue", {"a", "f"}),
        ("due=week", f"{OPEN}&due=week", {"b"}),
        ("due=paused", f"{OPEN}&due=paused", {"c"}),
        ("status=intake&due=overdue", "status=intake&due=overdue", {"a"}),
        ("status=look_back", "status=look_back", {"f"}),
        ("flag=stalled", f"{OPEN}&flag=stalled", {"e"}),
        ("view=unassigned&due=overdue", f"{OPEN}&assigned=nobody&due=overdue", {"a", "f"}),
        ("awaiting=on", f"{OPEN}&awaiting=true", {"d"}),
        ("awaiting_unit={county_code}", f"{OPEN}&awaiting_unit={{county_pk}}", {"d"}),
        ("awaiting_unit={station_code}", f"{OPEN}&awaiting_unit={{station_pk}}", set()),
        (f"{ALL}&submitted={{this_month}}", "submitted={this_month}", {"b", "d", "g"}),
        ("submitted={this_month}", f"{OPEN}&submitted={{this_month}}", {"b", "d"}),
    ],
)
def test_the_page_and_the_api_find_the_same_cases_by_the_new_filters(
    client,
    world,
    api,
    office,  # noqa: F811
    page_query,
    api_query,
    expected,
):
    values = {
        "county_code": world.county.code,
        "county_pk": world.county.pk,
        "station_code": world.station.code,
        "station_pk": world.station.pk,
        "this_month": month_of(office.now),
    }
    client.force_login(world.supervisor)
    page = on_the_page(client, page_query.format(**values))
    assert names(office, page) == expected
    assert in_the_api(api("supervisor"), api_query.format(**values)) == page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "submitted=2026-13",
            "submitted",
            "Write a month as year and month, for example 2026-03, or a year, for example 2026.",
        ),
        (
            "submitted=March",
            "submitted",
            "Write a month as year and month, for example 2026-03, or a year, for example 2026.",
        ),
        (
            "submitted=20265",
            "submitted",
            "Write a month as year and month, for example 2026-03, or a year, for example 2026.",
        ),
        ("due=late", "due", "Select a valid choice. late is not one of the available choices."),
        ("awaiting_unit=999999999", "awaiting_unit", "No unit has this code."),
    ],
)
def test_a_bad_new_filter_is_refused_beside_its_field_on_the_page(client, world, query, field, message):
    client.force_login(world.supervisor)
    response = client.get(f"/queue/?{query}")
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    typed = query.split("=", 1)[1]
    assert response.context["form"].data[field] == typed  # what was typed stays in the form


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("submitted=2026-13", "submitted"),
        ("due=late", "due"),
        ("awaiting_unit=999999999", "awaiting_unit"),
        ("awaiting=maybe", "awaiting"),
        ("submitted=", "submitted"),
    ],
)
def test_a_bad_new_filter_is_a_precise_api_error(world, api, query, field):
    response = api("supervisor").get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_a_month_in_the_api_is_a_local_calendar_month(world, api, office):  # noqa: F811
    month = month_of(office.now)
    response = api("supervisor").get(f"/api/v1/cases/?{urlencode({'submitted': month})}&page_size=100")
    assert response.status_code == 200
    assert names(office, {r["reference"] for r in response.json()["results"]}) == {"b", "d", "g"}


def test_a_whole_year_of_submissions_is_one_filter_on_the_page_and_in_the_api(client, world, api):
    """``submitted=2025`` is the local year: a case submitted at 00:10 on 1 January in Shanghai (16:10 UTC the day
    before) is in it, one submitted at 23:30 on 31 December 2024 is not."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from cases import services
    from tests.factories import draft
    from tests.reports.dataset import clock

    sh = ZoneInfo("Asia/Shanghai")
    made = {}
    for name, moment in {
        "before": datetime(2024, 12, 31, 23, 30, tzinfo=sh),
        "first": datetime(2025, 1, 1, 0, 10, tzinfo=sh),
        "last": datetime(2025, 12, 31, 23, 59, tzinfo=sh),
        "after": datetime(2026, 1, 1, 0, 0, tzinfo=sh),
    }.items():
        with clock(moment):
            case = draft(world)
            made[name] = services.submit_case(case=case, by=world.officer, expected_version=case.version).reference
    client.force_login(world.supervisor)
    page = on_the_page(client, "submitted=2025")
    assert set(page) == {made["first"], made["last"]}
    assert in_the_api(api("supervisor"), f"{OPEN}&submitted=2025") == page
