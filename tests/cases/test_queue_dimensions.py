"""The analysis's dimensions as queue filters (cases/dimensions.py, cases/queue_filters.py): the queue page and the
API's case list find exactly the cases whose code is asked for, "-" being "not recorded"; times are read in the
report's time zone (Asia/Shanghai, eight hours ahead of UTC); a value no case can have is refused beside its field on
the page and as a 400 naming the parameter in the API; every figure of the analysis links to a queue that counts it.
The Python codes, the queue's conditions and the summaries' SQL agree on every case."""

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.authority import ANONYMOUS
from accounts.models import SavedQueueFilter
from analysis import tables
from analysis.figures import analyse
from cases import dimensions, summaries
from cases.choices import CaseStatus, DutyScenario, IncidentKind, PlaceCategory, Weapon
from cases.dimensions import NOT_RECORDED, UnknownCode, dimension_q, filter_code
from cases.forms import QueueFilterForm
from cases.models import Case
from cases.queue_filters import DIMENSION_CHOICES, DIMENSION_PARAMS, QueueFilters, filters_q, weekhour_code
from cases.views.queue import _filters
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in

S = CaseStatus
VIOLENT, THREAT = IncidentKind.VIOLENT_ATTACK, IncidentKind.THREAT


def utc(day: int, hour: int, minute: int) -> datetime:
    """A moment of March 2025 in UTC (Shanghai is eight hours ahead: 2025-03-03 is a Monday there)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def facts(world) -> dict[str, Case]:
    """Open cases with known facts. The times sit near midnight UTC, where the local weekday and hour differ from
    UTC's: "mon_0030" is Monday 00:30 in Shanghai but Sunday 16:30 in UTC."""
    made = {
        # Monday 00:30 local (Sunday 16:30 UTC); two attackers, not organised: "few".
        "mon_0030": case_in(
            world,
            S.INTAKE,
            occurred_at=utc(2, 16, 30),
            duty_scenario=DutyScenario.ARREST,
            place_category=PlaceCategory.ROAD,
            weapon=Weapon.BLUNT,
            intoxicated=True,
            attackers=2,
            organised_or_incited=False,
        ),
        # Sunday 23:59 local (Sunday 15:59 UTC); three attackers, organisation not recorded: "group".
        "sun_2359": case_in(
            world,
            S.INTAKE,
            occurred_at=utc(2, 15, 59),
            duty_scenario=DutyScenario.PATROL,
            place_category=PlaceCategory.MARKET,
            weapon=Weapon.NONE,
            intoxicated=False,
            attackers=3,
        ),
        # Monday 07:30 local (Sunday 23:30 UTC); scenario and place not recorded; five attackers but organised:
        # "organised" comes first.
        "mon_0730": case_in(world, S.INTAKE, occurred_at=utc(2, 23, 30), attackers=5, organised_or_incited=True),
        # Wednesday 07:30 local (Tuesday 23:30 UTC); no attackers counted (0): not recorded.
        "wed_0730": case_in(
            world,
            S.INTAKE,
            occurred_at=utc(4, 23, 30),
            duty_scenario=DutyScenario.ARREST,
            weapon=Weapon.GUN,
            intoxicated=True,
            attackers=0,
            organised_or_incited=False,
        ),
        # A threat: Wednesday 10:00 local (02:00 UTC); the weapon is not asked (unknown); one attacker: "few".
        "threat": case_in(
            world,
            S.INTAKE,
            kind=THREAT,
            occurred_at=utc(5, 2, 0),
            duty_scenario=DutyScenario.ARREST,
            place_category=PlaceCategory.ROAD,
            attackers=1,
        ),
        # Nothing recorded, not even the time (a case from before the time was required).
        "unknown": case_in(world, S.INTAKE),
    }
    Case.objects.filter(pk=made["unknown"].pk).update(occurred_at=None)
    return made


def names(facts, references) -> set[str]:
    by_reference = {case.reference: name for name, case in facts.items()}
    return {by_reference[r] for r in references}


def on_the_page(client, params: dict) -> set[str]:
    response = client.get(reverse("cases:queue"), params)
    assert response.status_code == 200, response.context["form"].errors
    page = response.context["page"]
    assert page.count == len(page.cases)
    return {case.reference for case in page.cases}


def in_the_api(client, params: dict) -> set[str]:
    response = client.get("/api/v1/cases/", {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


EVERY = {"mon_0030", "sun_2359", "mon_0730", "wed_0730", "threat", "unknown"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, EVERY),
        # The duty scenario whatever the type; the type is the ``kind`` filter.
        ({"scenario": "arrest"}, {"mon_0030", "wed_0730", "threat"}),
        ({"scenario": "arrest", "kind": VIOLENT}, {"mon_0030", "wed_0730"}),
        ({"scenario": "arrest", "kind": THREAT}, {"threat"}),
        ({"scenario": "patrol"}, {"sun_2359"}),
        ({"scenario": "-"}, {"mon_0730", "unknown"}),
        ({"scenario": "traffic"}, set()),
        ({"place": "road"}, {"mon_0030", "threat"}),
        ({"place": "market"}, {"sun_2359"}),
        ({"place": "-"}, {"mon_0730", "wed_0730", "unknown"}),
        ({"place": "school"}, set()),
        ({"weapon": "blunt"}, {"mon_0030"}),
        ({"weapon": "none"}, {"sun_2359"}),
        ({"weapon": "gun"}, {"wed_0730"}),
        ({"weapon": "unknown"}, {"mon_0730", "threat", "unknown"}),
        ({"intox": "yes"}, {"mon_0030", "wed_0730"}),
        ({"intox": "no"}, {"sun_2359"}),
        ({"intox": "-"}, {"mon_0730", "threat", "unknown"}),
        # Two attackers are "few", three a "group"; organised comes first whatever the number; 0 and none: "-".
        ({"crowd": "organised"}, {"mon_0730"}),
        ({"crowd": "group"}, {"sun_2359"}),
        ({"crowd": "few"}, {"mon_0030", "threat"}),
        ({"crowd": "-"}, {"wed_0730", "unknown"}),
        # Weekday and hour in local time, apart and together.
        ({"weekday": "1"}, {"mon_0030", "mon_0730"}),
        ({"weekday": "7"}, {"sun_2359"}),
        ({"weekday": "3"}, {"wed_0730", "threat"}),
        ({"weekday": "2"}, set()),  # Tuesday in UTC, Wednesday here
        ({"weekday": "-"}, {"unknown"}),
        ({"hour": "0"}, {"mon_0030"}),
        ({"hour": "23"}, {"sun_2359"}),
        ({"hour": "7"}, {"mon_0730", "wed_0730"}),
        ({"hour": "16"}, set()),  # mon_0030's hour in UTC
        ({"weekday": "1", "hour": "7"}, {"mon_0730"}),
        ({"weekday": "3", "hour": "7"}, {"wed_0730"}),
        ({"weekday": "1", "hour": "0"}, {"mon_0030"}),
        ({"weekday": "7", "hour": "23"}, {"sun_2359"}),
        ({"weekday": "1", "hour": "23"}, set()),
        ({"weekday": "3", "hour": "10"}, {"threat"}),
        # With each other and with the other filters.
        ({"place": "road", "crowd": "few"}, {"mon_0030", "threat"}),
        ({"place": "road", "crowd": "few", "kind": VIOLENT}, {"mon_0030"}),
        ({"intox": "yes", "weekday": "3"}, {"wed_0730"}),
        ({"scenario": "-", "place": "-", "crowd": "-"}, {"unknown"}),
    ],
)
def test_the_page_and_the_api_find_exactly_the_cases_of_each_code(client, world, facts, params, expected):
    client.force_login(world.supervisor)
    page = on_the_page(client, params)
    assert names(facts, page) == expected
    assert in_the_api(token_client(world.supervisor), {**params, "status": "intake"}) == page


# What each interface says of a value no case can have.
NOT_A_CHOICE = "Select a valid choice. {} is not one of the available choices."


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"place": "nowhere"}, "place", NOT_A_CHOICE.format("nowhere")),
        ({"hour": "24"}, "hour", NOT_A_CHOICE.format("24")),
        ({"hour": "07"}, "hour", NOT_A_CHOICE.format("07")),
        ({"hour": "-"}, "hour", NOT_A_CHOICE.format("-")),
        ({"weekday": "0"}, "weekday", NOT_A_CHOICE.format("0")),
        ({"weekday": "8"}, "weekday", NOT_A_CHOICE.format("8")),
        ({"scenario": "violent_attack:arrest"}, "scenario", NOT_A_CHOICE.format("violent_attack:arrest")),
        ({"weapon": "-"}, "weapon", NOT_A_CHOICE.format("-")),  # a weapon is always recorded
        ({"intox": "maybe"}, "intox", NOT_A_CHOICE.format("maybe")),
        ({"crowd": "3"}, "crowd", NOT_A_CHOICE.format("3")),
        (
            {"weekday": "-", "hour": "3"},
            "hour",
            "A case whose time is not recorded has no hour: choose a day, or no hour.",
        ),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_on_the_page(client, world, facts, params, field, message):
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:queue"), params)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {field: [message]}
    assert response.context["filter_errors"] == [f"{form.fields[field].label}: {message}"]
    # The queue shows all the user's cases, not a list filtered by what was understood of the rest.
    assert names(facts, {c.reference for c in response.context["page"].cases}) == EVERY
    html = response.content.decode()
    assert f'<div class="invalid-feedback d-block" id="id_{field}_errors" role="alert">' in html


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"place": "nowhere"}, "place"),
        ({"hour": "24"}, "hour"),
        ({"hour": "07"}, "hour"),
        ({"weekday": "0"}, "weekday"),
        ({"scenario": "violent_attack:arrest"}, "scenario"),
        ({"weapon": "-"}, "weapon"),
        ({"intox": "maybe"}, "intox"),
        ({"crowd": "3"}, "crowd"),
        ({"place": ""}, "place"),  # present means valid: an empty parameter is not "no filter" in the API
        ({"weekday": "-", "hour": "3"}, "hour"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter_in_the_api(world, facts, params, field):
    response = token_client(world.supervisor).get("/api/v1/cases/", params)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    value = params[field]
    if value == "":
        assert errors[field] == ["Give a value, or leave the parameter out."]
    elif field == "hour" and params.get("weekday") == "-":
        assert errors[field] == ["Leave hour out when weekday is - (the time is not recorded): such a case has none."]
    else:
        assert errors[field] == [NOT_A_CHOICE.format(value)]


def test_the_filters_show_as_selects_with_their_choices_and_keep_the_chosen_value(client, world, facts):
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:queue"), {"place": "-", "weekday": "1", "hour": "0", "crowd": "few"})
    html = response.content.decode()
    assert '<select name="place" class="form-select" id="id_place">' in html
    assert '<option value="-" selected>Not recorded</option>' in html
    assert '<option value="road">Road or street</option>' in html
    assert '<option value="1" selected>Monday</option>' in html
    assert '<option value="0" selected>00:00–00:59</option>' in html
    assert '<option value="few" selected>One or two attackers</option>' in html
    assert '<option value="organised">Organised or incited</option>' in html
    zh = client.get(reverse("cases:queue"), {"weekday": "7"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<option value="7" selected>星期日</option>' in zh.content.decode()


def test_the_paging_sort_links_saved_filters_and_export_keep_the_dimension_filters(client, world, facts):
    client.force_login(world.supervisor)
    query = "place=-&weekday=1&hour=7"
    response = client.get(f"{reverse('cases:queue')}?{query}&sort=created")
    assert response.context["base_query"] == f"{query}&sort=created"
    assert response.context["sort_links"]["due"]["url"] == f"?{query}&sort=due&dir=asc"
    assert response.context["save_form"].initial == {"query": f"{query}&sort=created"}
    # A saved filter is the page's query: opening it asks the same question.
    client.post(reverse("cases:queue-save"), {"name": "夜间", "query": query})
    saved = SavedQueueFilter.objects.get(user=world.supervisor)
    assert saved.query == query
    reopened = client.get(f"{reverse('cases:queue')}?{saved.query}")
    assert names(facts, {c.reference for c in reopened.context["page"].cases}) == {"mon_0730"}
    # The export lists the same cases.
    reauthenticated(client)
    exported = client.get(reverse("cases:queue-export"), {"place": "-", "crowd": "-", "format": "csv"})
    assert exported.status_code == 200
    rows = b"".join(exported.streaming_content).decode("utf-8-sig").splitlines()
    assert names(facts, {row.split(",")[0] for row in rows[1:]}) == {"wed_0730", "unknown"}
    refused = client.get(reverse("cases:queue-export"), {"place": "nowhere", "format": "csv"})
    assert refused.status_code == 400


def test_the_case_list_schema_declares_each_dimension_with_its_values(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    expected = {
        "scenario": {"-", *DutyScenario.values},
        "place": {"-", *PlaceCategory.values},
        "weapon": set(Weapon.values),
        "intox": {"yes", "no", "-"},
        "crowd": {"organised", "group", "few", "-"},
        "weekday": {"1", "2", "3", "4", "5", "6", "7", "-"},
        "hour": {str(h) for h in range(24)},
    }
    for name, values in expected.items():
        assert parameters[name]["in"] == "query"
        assert parameters[name]["schema"]["type"] == "string"
        assert set(parameters[name]["schema"]["enum"]) == values, name


@pytest.mark.parametrize(("unit", "reader"), [("province", "ministry_supervisor"), ("county", "supervisor")])
def test_every_figure_of_the_analysis_links_to_exactly_the_cases_it_counts(client, world, facts, unit, reader):
    """The analysis of the province (read from the summaries, on PostgreSQL) and of the county (counted live): each
    figure's link opens a queue that counts the figure's value."""
    summaries.reconcile(repair=True)  # the unknown time was written straight to the row
    analysis = analyse(unit=getattr(world, unit), year=timezone.localdate().year)
    client.force_login(getattr(world, reader))
    checked: dict[str, int] = {}
    for grid in tables.grids(analysis):
        for row in grid.rows:
            for value, link in zip(row.values, row.links, strict=False):
                if not link:
                    continue
                if link not in checked:
                    response = client.get(link)
                    assert response.status_code == 200, (link, response.context["form"].errors)
                    checked[link] = response.context["page"].count
                assert (grid.key, row.label, checked[link]) == (grid.key, row.label, value), link
    linked = {frozenset(parse_qs(urlparse(link).query).keys() - {"status", "unit", "submitted"}) for link in checked}
    assert linked >= {
        frozenset({"kind", "scenario"}),
        frozenset({"scenario"}),
        frozenset({"place"}),
        frozenset({"weapon"}),
        frozenset({"intox"}),
        frozenset({"crowd"}),
        frozenset({"weekday", "hour"}),
        frozenset({"weekday"}),
        frozenset({"hour"}),
    }
    assert max(checked.values()) == len(facts)  # the totals
    assert sum(1 for n in checked.values() if n) >= 30, sorted(checked.values())
    assert analysis.heat[(1, 7)] == 1  # mon_0730, read in local time
    assert analysis.heat_unknown == 1


# --- the one definition, read three ways ---------------------------------------------------------------------------


def test_every_value_offered_is_a_code_the_dimension_knows_and_no_other_is_offered():
    assert DIMENSION_PARAMS == ("scenario", "place", "weapon", "intox", "crowd", "weekday", "hour")
    offered = {name: [value for value, _label in choices] for name, choices in DIMENSION_CHOICES.items()}
    for value in offered["scenario"]:
        dimension_q(dimensions.SCENARIO, ":" + filter_code(value))
    for name, dimension in (
        ("place", dimensions.PLACE),
        ("weapon", dimensions.WEAPON),
        ("intox", dimensions.INTOX),
        ("crowd", dimensions.CROWD),
    ):
        for value in offered[name]:
            dimension_q(dimension, filter_code(value))
    for day in offered["weekday"]:
        for hour in ["", *(offered["hour"] if day != NOT_RECORDED else [])]:
            dimension_q(dimensions.WEEKHOUR, weekhour_code(day, hour))
    # "-" stands for the empty code wherever a case can have it: a weapon is always recorded.
    assert [name for name, values in offered.items() if NOT_RECORDED in values] == [
        "scenario",
        "place",
        "intox",
        "crowd",
        "weekday",
    ]
    with pytest.raises(UnknownCode):
        weekhour_code(NOT_RECORDED, "3")
    assert (weekhour_code("2", ""), weekhour_code("", "5"), weekhour_code("2", "5")) == ("2:", ":5", "2:5")


def _filters_for(name: str, value: str) -> QueueFilters:
    return QueueFilters(**{name: value})


def _expected_value(name: str, case_codes: dict[str, str]) -> set[str]:
    """The filter values of parameter ``name`` that should find a case of these codes."""
    if name == "scenario":
        code = case_codes[dimensions.SCENARIO].partition(":")[2]
    elif name in ("weekday", "hour"):
        day, _sep, hour = case_codes[dimensions.WEEKHOUR].partition(":")
        if not case_codes[dimensions.WEEKHOUR]:
            return {NOT_RECORDED} if name == "weekday" else set()
        return {day if name == "weekday" else hour}
    else:
        code = case_codes[name]
    return {code or NOT_RECORDED}


def _randomise(cases: list[Case], seed: int) -> None:
    """Random facts on each case, written straight to the rows (only the database's constraints hold them)."""
    rng = random.Random(seed)
    base = datetime(2025, 3, 2, 15, 0, tzinfo=UTC)
    for case in cases:
        Case.objects.filter(pk=case.pk).update(
            kind=rng.choice(IncidentKind.values),
            duty_scenario=rng.choice(["", *DutyScenario.values]),
            place_category=rng.choice(["", *PlaceCategory.values]),
            weapon=rng.choice(Weapon.values),
            intoxicated=rng.choice([None, True, False]),
            attackers=rng.choice([None, 0, 1, 2, 3, 4, 12]),
            organised_or_incited=rng.choice([None, True, False]),
            # Around midnight, local and UTC, over a week; now and then unknown.
            occurred_at=rng.choice([None, base + timedelta(minutes=rng.randrange(7 * 24 * 60))]),
        )


@pytest.fixture
def random_cases(world) -> list[Case]:
    return [case_in(world, S.INTAKE) for _ in range(12)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_case_is_found_by_the_filter_of_its_own_code_and_by_no_other(world, random_cases, seed):
    """For every value of every dimension filter, the queue's condition finds exactly the cases whose Python code
    (``dimensions.codes``) is that value: the two definitions agree."""
    _randomise(random_cases, seed)
    cases = list(Case.objects.filter(pk__in=[c.pk for c in random_cases]))
    codes = {case.pk: dimensions.codes(case) for case in cases}
    assert len({c[dimensions.WEEKHOUR] for c in codes.values()}) > 5  # the draw spread the times
    for name, choices in DIMENSION_CHOICES.items():
        for value, _label in choices:
            found = set(
                Case.objects.filter(pk__in=codes)
                .filter(filters_q(_filters_for(name, value), actor=ANONYMOUS))
                .values_list("pk", flat=True)
            )
            wanted = {pk for pk, case_codes in codes.items() if value in _expected_value(name, case_codes)}
            assert found == wanted, (name, value)
    # The whole scenario code, type and scenario together, and weekday with hour together.
    for pk, case_codes in codes.items():
        kind, _sep, scenario = case_codes[dimensions.SCENARIO].partition(":")
        day, _sep, hour = case_codes[dimensions.WEEKHOUR].partition(":")
        together = QueueFilters(
            kinds=(kind,),
            scenario=scenario or NOT_RECORDED,
            weekday=day or NOT_RECORDED,
            hour=hour,
        )
        found = set(
            Case.objects.filter(pk__in=codes).filter(filters_q(together, actor=ANONYMOUS)).values_list("pk", flat=True)
        )
        wanted = {
            other
            for other, c in codes.items()
            if (c[dimensions.SCENARIO], c[dimensions.WEEKHOUR])
            == (case_codes[dimensions.SCENARIO], case_codes[dimensions.WEEKHOUR])
        }
        assert found == wanted
        assert pk in wanted


@pytest.mark.parametrize("seed", [4, 5])
def test_the_summaries_sql_gives_each_case_its_python_codes(postgres_only, world, random_cases, seed):
    _randomise(random_cases, seed)
    columns = ", ".join(dimensions.SQL[d] for d in dimensions.DIMENSIONS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, {columns} FROM {Case._meta.db_table} c",  # noqa: S608 - the module's own expressions
            {"tz": settings.TIME_ZONE},
        )
        sql = {row[0]: dict(zip(dimensions.DIMENSIONS, row[1:], strict=True)) for row in cursor.fetchall()}
    python = {case.pk: dimensions.codes(case) for case in Case.objects.all()}
    assert set(sql) == {c.pk for c in random_cases}
    assert sql == python


def test_the_form_turns_each_parameter_into_the_filter(world):
    form = QueueFilterForm(
        {
            "scenario": "-",
            "place": "road",
            "weapon": "gun",
            "intox": "no",
            "crowd": "group",
            "weekday": "2",
            "hour": "9",
        }
    )
    assert form.is_valid(), form.errors
    assert _filters(form) == QueueFilters(
        scenario="-", place="road", weapon="gun", intox="no", crowd="group", weekday="2", hour="9"
    )
