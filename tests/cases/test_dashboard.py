"""The office's dashboard (cases/dashboard.py): exact figures for a built world, each figure's link listing exactly
its cases in the queue, the unit picker that never widens, and who lands where."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import actor_for
from cases import dashboard, services
from cases.choices import CaseStatus, PauseReason
from cases.models import Case, Referral
from cases.queue_filters import month_of, month_range
from tests.factories import case_in, complete_details

S = CaseStatus


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@dataclass
class Office:
    cases: dict[str, Case]
    now: object


def _submit_elsewhere(by, unit) -> Case:
    case = services.create_draft_case(by=by, unit=unit, details=complete_details())
    return services.submit_case(case=case, by=by, expected_version=case.version)


@pytest.fixture
def office(world) -> Office:
    """Open cases of the city's subtree in every stage, with clocks, flags, assignment and submission dates set
    exactly; a closed one; and one in the other province that no figure of the city may count."""
    now = timezone.now()
    this_start = month_range(month_of(now))[0]
    last_start = month_range(month_of(this_start - timedelta(days=1)))[0]
    made = {
        "a": case_in(world, S.INTAKE),
        "b": case_in(world, S.INTAKE),
        "c": case_in(world, S.INTAKE),
        "d": case_in(world, S.REFERRED),
        "e": case_in(world, S.SUPERVISION),
        "f": case_in(world, S.LOOK_BACK),
        "g": case_in(world, S.CLOSED),
        "h": _submit_elsewhere(world.other_officer, world.other_station),
        "sibling": _submit_elsewhere(world.sibling_officer, world.sibling_station),
    }
    plan = {
        # name: (stage due, submitted)
        "a": (now - timedelta(days=2), last_start + timedelta(days=1)),
        "b": (now + timedelta(days=3), this_start + timedelta(hours=1)),
        "c": (now - timedelta(days=1), last_start + timedelta(days=2)),
        "d": (now + timedelta(days=20), this_start + timedelta(hours=2)),
        "e": (now + timedelta(days=20), now - timedelta(days=400)),
        "f": (now - timedelta(days=1), now - timedelta(days=100)),
        "g": (None, this_start + timedelta(hours=3)),
        "h": (now + timedelta(days=30), now - timedelta(days=200)),
        "sibling": (now - timedelta(days=5), this_start + timedelta(hours=4)),
    }
    flags = {"is_stalled": False, "is_idle": False, "has_overdue_referral": False}
    for name, (due, submitted) in plan.items():
        Case.objects.filter(pk=made[name].pk).update(
            stage_due_at=due,
            submitted_at=submitted,
            assigned_to=None,
            is_downgraded=False,
            has_review_prompt=False,
            **flags,
        )
    Case.objects.filter(pk=made["b"].pk).update(assigned_to=world.supervisor)
    Case.objects.filter(pk=made["c"].pk).update(paused_at=now, pause_reason=PauseReason.APPRAISAL_PENDING)
    Case.objects.filter(pk=made["d"].pk).update(is_downgraded=True)
    Case.objects.filter(pk=made["e"].pk).update(has_review_prompt=True, is_stalled=True)
    Case.objects.filter(pk=made["sibling"].pk).update(is_downgraded=True)
    # Days from submission to the first referral: d 2, f 4, g 6 (e was submitted more than a year ago).
    for name, days in {"d": 2, "e": 1, "f": 4, "g": 6}.items():
        Referral.objects.filter(case=made[name], suspect__isnull=True).update(
            referred_at=plan[name][1] + timedelta(days=days)
        )
    return Office(cases={k: Case.objects.get(pk=v.pk) for k, v in made.items()}, now=now)


def counts(board: dashboard.Dashboard) -> dict[str, int]:
    return {name: fig.count for name, fig in board.figures.items()}


def every_figure(board: dashboard.Dashboard) -> list[dashboard.Figure]:
    figures = list(board.figures.values())
    for stage in board.stages:
        figures += [stage.open, stage.overdue, stage.week, stage.paused]
    figures += [row.awaiting for row in board.referrals]
    for row in board.sub_units:
        figures += [row.open, row.overdue, row.flagged]
    return figures


CITY = {
    "open": 7,
    "overdue": 2,  # a and f; c's deadline has passed but its clock is paused
    "week": 1,
    "paused": 1,
    "unassigned": 6,
    "flagged": 2,
    "flag_downgraded": 1,
    "flag_review_prompt": 1,
    "flag_stalled": 1,
    "flag_idle": 0,
    "flag_overdue_referral": 0,
    "awaiting": 1,
    "look_back": 1,
    "this_month": 3,  # b, d and the closed g
    "last_month": 2,
}
STAGES = {
    S.INTAKE: (4, 1, 1, 1),
    S.REFERRED: (1, 0, 0, 0),
    S.SUPERVISION: (1, 0, 0, 0),
    S.LOOK_BACK: (1, 1, 0, 0),
}


def test_the_city_supervisors_figures_are_exact_and_leave_out_the_other_province(world, office):
    board = dashboard.build(actor_for(world.supervisor), None)
    assert board.unit == world.city
    assert {k: v for k, v in counts(board).items() if ":" not in k} == CITY
    assert {r.stage: (r.open.count, r.overdue.count, r.week.count, r.paused.count) for r in board.stages} == STAGES
    assert [(r.unit, r.awaiting.count) for r in board.referrals] == [(world.county, 1)]
    assert [c.reference for c in board.oldest] == [office.cases[n].reference for n in "ehfac"]
    assert [(r.unit, r.open.count, r.overdue.count, r.flagged.count, r.median_days) for r in board.sub_units] == [
        (world.county, 7, 2, 2, pytest.approx(4.0))
    ]


def test_a_sub_unit_narrows_and_its_table_sorts_by_each_column(world, office):
    actor = actor_for(world.county_supervisor)
    board = dashboard.build(actor, world.county, sort="-open")
    rows = [(r.unit, r.open.count, r.overdue.count, r.flagged.count, r.median_days) for r in board.sub_units]
    assert rows == [(world.station, 6, 2, 2, pytest.approx(4.0)), (world.other_station, 1, 0, 0, None)]
    assert [r.unit for r in dashboard.build(actor, world.county, sort="open").sub_units] == [
        world.other_station,
        world.station,
    ]
    assert [r.unit for r in dashboard.build(actor, world.county, sort="-median").sub_units] == [
        world.station,
        world.other_station,
    ]
    station = dashboard.build(actor, world.other_station)
    assert (station.figures["open"].count, station.figures["this_month"].count, station.sub_units) == (1, 0, [])


def queue_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    page = response.context["page"]
    assert not page.count_capped
    return page.count


@pytest.mark.parametrize(
    ("who", "unit"), [("supervisor", None), ("county_supervisor", "county"), ("admin", None), ("supervisor", "station")]
)
def test_every_figures_link_lists_exactly_that_many_cases_in_the_queue(client, world, office, who, unit):
    user = getattr(world, who)
    client.force_login(user)
    board = dashboard.build(actor_for(user), getattr(world, unit) if unit else None)
    figures = every_figure(board)
    assert len(figures) > 30
    checked = [(fig.url, fig.count, queue_count(client, fig.url)) for fig in figures]
    assert [(url, n) for url, n, q in checked if n != q] == []
    assert sum(n for _, n, _ in checked) > 0


def test_the_page_shows_the_figures_as_links_with_sentences(client, world, office):
    client.force_login(world.supervisor)
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "cases/dashboard.html"
    html = response.content.decode()
    board = response.context["board"]
    overdue = board.figures["overdue"]
    assert f'href="{overdue.url.replace("&", "&amp;")}"' in html
    assert "2 open cases are overdue. Show these cases in the queue." in html
    assert office.cases["sibling"].reference not in html
    assert 'aria-sort="ascending"' in html  # the unit column, the default order


def test_the_sorted_column_says_so(client, world, office):
    client.force_login(world.county_supervisor)
    html = client.get("/", {"unit": world.county.code, "sort": "-overdue"}).content.decode()
    assert html.count('aria-sort="descending"') == 1
    assert html.count('aria-sort="none"') == 4
    assert html.index(world.station.name) < html.index(world.other_station.name)


@pytest.mark.parametrize("outside", ["sibling_province", "ministry", "sibling_station"])
def test_a_unit_outside_the_subtree_is_refused_and_nothing_is_counted(client, world, office, outside):
    client.force_login(world.supervisor)
    response = client.get("/", {"unit": getattr(world, outside).code})
    assert response.status_code == 400
    assert response.context["board"] is None
    html = response.content.decode()
    assert "Choose one of your own units; that unit is not among them." in html
    assert office.cases["sibling"].reference not in html
    assert "Show these cases in the queue." not in html


def test_the_picker_refuses_an_outside_unit_in_chinese_too(client, world, office):
    client.force_login(world.county_supervisor)
    response = client.get("/", {"unit": world.city.code}, headers={"accept-language": "zh-hans"})
    assert response.status_code == 400
    assert response.context["board"] is None


def test_the_officer_keeps_their_applications(client, world, office):
    client.force_login(world.officer)
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "cases/home.html"
    assert "board" not in response.context


def test_the_administrator_sees_the_dashboard_of_their_province(client, world, office):
    client.force_login(world.admin)
    response = client.get("/")
    assert (response.status_code, response.templates[0].name) == (200, "cases/dashboard.html")
    board = response.context["board"]
    assert board.unit == world.province
    assert counts(board)["open"] == 7
    assert client.get(reverse("cases:queue")).status_code == 200


def test_the_dashboard_costs_the_same_queries_for_10_cases_as_for_200(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.perf.test_queries import copies

    client.force_login(world.supervisor)
    client.get("/")  # warm: session, content types

    def uncached() -> int:
        cache.clear()  # the medians too
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured.captured_queries)

    copies(world, 10, world.officer)
    small = uncached()
    copies(world, 190, world.officer)
    assert uncached() == small
    assert small <= 20


def test_an_unknown_sort_falls_back_to_the_unit_order(client, world, office):
    client.force_login(world.county_supervisor)
    response = client.get("/", {"unit": world.county.code, "sort": "-nonsense"})
    assert response.status_code == 200
    assert [r.unit for r in response.context["board"].sub_units] == [world.station, world.other_station]
