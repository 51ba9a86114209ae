"""The analysis API (analysis/api): the page's figures as numbers and codes, for the page's readers only."""

import pytest

from analysis.models import OfficerStrength
from tests.analysis.dataset import THREAT, VIOLENT, analysis_dataset
from tests.api.conftest import token_client

URL = "/api/v1/analysis/"


@pytest.fixture
def dataset(world):
    cases = analysis_dataset(world)
    OfficerStrength.objects.create(
        unit=world.station, year=2025, regular=20, auxiliary=5, recorded_at="2025-01-01T00:00Z"
    )
    return cases


def test_the_county_figures_as_numbers(world, dataset):
    response = token_client(world.county_supervisor).get(URL, {"unit": world.county.pk, "year": 2025})
    assert response.status_code == 200
    body = response.json()
    assert body["unit"]["code"] == "330106"
    assert body["year"] == 2025
    assert body["months"][2:4] == [
        {"month": 3, "cases": 1, "cases_previous_year": 0},
        {"month": 4, "cases": 2, "cases_previous_year": 0},
    ]
    assert [y["year"] for y in body["years"]] == [2021, 2022, 2023, 2024, 2025]
    assert body["years"][-1] == {"year": 2025, "cases": 3, "officers_injured": 1}
    station, other = body["sub_units"]
    assert station["unit"]["code"] == "330106001"
    assert {k: station[k] for k in ("cases", "officers_injured", "officer_strength", "cases_per_100_officers")} == {
        "cases": 2,
        "officers_injured": 1,
        "officer_strength": {"regular": 20, "auxiliary": 5},
        "cases_per_100_officers": 8.0,
    }
    assert other["officer_strength"] is None
    assert other["cases_per_100_officers"] is None
    assert body["total"]["unit"] is None
    assert body["total"]["cases"] == 3
    # The county has no record of its own and its other station none either: no strength, no rate (not a guess).
    assert body["total"]["officer_strength"] is None
    assert body["total"]["cases_per_100_officers"] is None
    assert body["scenarios"] == [
        {"kind": THREAT, "duty_scenario": "", "cases": 1},
        {"kind": VIOLENT, "duty_scenario": "", "cases": 1},
        {"kind": VIOLENT, "duty_scenario": "call_110", "cases": 1},
    ]
    assert body["heat_map"] == [
        {"weekday": 2, "hour": 0, "cases": 1},
        {"weekday": 5, "hour": 14, "cases": 1},
        {"weekday": 7, "hour": 22, "cases": 1},
    ]
    assert body["heat_map_time_not_recorded"] == 0
    # Nothing referred, flagged or looked back yet in this small set.
    assert body["handling_total"] == {
        "unit": None,
        "own": False,
        "cases_first_referred": 0,
        "median_days_to_first_referral": None,
        "cases_flagged_downgraded": 0,
        "downgraded_share_pct": 0.0,
        "downgrade_flags_overridden": 0,
        "look_back_reviews": [],
    }
    assert [h["unit"]["code"] for h in body["handling"]] == ["330106001", "330106002"]
    assert body["breakdowns"]["crowd"] == [
        {"code": "", "cases": 1, "cases_previous_year": 0},
        {"code": "few", "cases": 1, "cases_previous_year": 0},
        {"code": "organised", "cases": 1, "cases_previous_year": 0},
    ]


@pytest.mark.parametrize(
    ("who", "query", "code"),
    [
        ("officer", {"year": 2025}, 403),
        ("sibling_supervisor", {"year": 2025, "unit": "county"}, 404),
        ("county_supervisor", {"year": 2025, "unit": "city"}, 404),
        ("county_supervisor", {"year": 1999}, 400),
        ("county_supervisor", {"year": 2025, "unit": ""}, 400),
        ("county_supervisor", {}, 400),
    ],
)
def test_the_api_refuses_what_the_page_refuses(world, dataset, who, query, code):
    if isinstance(query.get("unit"), str) and query["unit"]:
        query = {**query, "unit": getattr(world, query["unit"]).pk}
    response = token_client(getattr(world, who)).get(URL, query)
    assert response.status_code == code, response.content


def test_the_default_unit_is_the_callers_widest(world, dataset):
    body = token_client(world.supervisor).get(URL, {"year": 2025}).json()
    assert body["unit"]["code"] == world.city.code
    assert body["total"]["cases"] == 3
