"""The case policy: every yes/no check agrees with the queryset beside it, for every kind of person; and one request
reads the user's grants once."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import RequestActor
from accounts.models import OrgUnit, Role, User
from accounts.selectors import actor_for
from cases import policy, services
from cases.choices import CaseStatus
from cases.models import Case, ReportExport
from tests.api.conftest import token_client
from tests.factories import World, case_in, complete_details, draft, member

S = CaseStatus

# Who asks: an officer of the cases' unit (their filer), officers elsewhere, supervisors of the unit, of its parent
# and above, of a sibling province, the province's administrator, and a deactivated supervisor.
PEOPLE = (
    "officer",
    "other_officer",
    "sibling_officer",
    "station_supervisor",
    "county_supervisor",
    "supervisor",
    "sibling_supervisor",
    "admin",
    "inactive",
)


class Setting:
    def __init__(self, world: World) -> None:
        self.world = world
        self.people: dict[str, User] = {name: getattr(world, name, None) for name in PEOPLE}
        self.people["station_supervisor"] = member(world.station, Role.SUPERVISOR, username="station_supervisor")
        inactive = member(world.city, Role.SUPERVISOR, username="inactive")
        inactive.is_active = False
        inactive.save(update_fields=["is_active"])
        self.people["inactive"] = inactive
        self.cases: dict[str, Case] = {
            "draft": draft(world),
            "intake": case_in(world, S.INTAKE),
            "rejected": case_in(world, S.REJECTED),
            "victim": self._filed(world.other_officer, world.other_station, listing=world.officer, submit=True),
            "victim_draft": self._filed(world.other_officer, world.other_station, listing=world.officer),
            "sibling": self._filed(world.sibling_officer, world.sibling_station, submit=True),
        }
        self.units = list(OrgUnit.objects.order_by("path"))

    @staticmethod
    def _filed(by: User, unit: OrgUnit, *, listing: User | None = None, submit: bool = False) -> Case:
        case = services.create_draft_case(by=by, unit=unit, details=complete_details())
        if listing is not None:
            services.add_involved_officer(case=case, by=by, user=listing)
        if submit:
            case = services.submit_case(case=case, by=by, expected_version=None)
        return case

    def names(self, cases) -> set[str]:  # type: ignore[no-untyped-def]
        ids = set(cases.values_list("pk", flat=True))
        return {name for name, case in self.cases.items() if case.pk in ids}

    def unit_codes(self, units) -> set[str]:  # type: ignore[no-untyped-def]
        return set(units.values_list("code", flat=True))


@pytest.fixture
def setting(world) -> Setting:
    return Setting(world)


VISIBLE = {
    "officer": {"draft", "intake", "rejected", "victim"},
    "other_officer": {"victim", "victim_draft"},
    "sibling_officer": {"sibling"},
    "station_supervisor": {"intake", "rejected"},
    "county_supervisor": {"intake", "rejected", "victim"},
    "supervisor": {"intake", "rejected", "victim"},
    "sibling_supervisor": {"sibling"},
    "admin": {"intake", "rejected", "victim"},
    "inactive": set(),
}
OVERSEEN = {name: set() if "officer" in name else cases for name, cases in VISIBLE.items()}
SUPERVISED = {
    "station_supervisor": {"draft", "intake", "rejected"},
    "county_supervisor": {"draft", "intake", "rejected", "victim", "victim_draft"},
    "supervisor": {"draft", "intake", "rejected", "victim", "victim_draft"},
    "sibling_supervisor": {"sibling"},
}
STATIONS = {"330106001", "330106002"}
REPORTABLE = {
    "station_supervisor": {"330106001"},
    "county_supervisor": {"330106", *STATIONS},
    "supervisor": {"330100", "330106", *STATIONS},
    "sibling_supervisor": {"420000", "420100", "420100001"},
    "admin": {"330000", "330100", "330106", *STATIONS},
}
QUEUE_UNITS = {name: codes for name, codes in REPORTABLE.items() if name != "admin"}


@pytest.mark.parametrize("who", PEOPLE)
def test_seeing_a_case_agrees_with_the_visible_cases(setting, who):
    actor = actor_for(setting.people[who])
    assert setting.names(policy.visible_cases(actor)) == VISIBLE[who]
    assert {name for name, case in setting.cases.items() if policy.can_see(actor, case)} == VISIBLE[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_overseeing_a_case_agrees_with_the_overseen_cases(setting, who):
    actor = actor_for(setting.people[who])
    assert setting.names(policy.overseen_cases(actor)) == OVERSEEN[who]
    assert {name for name, case in setting.cases.items() if policy.can_oversee(actor, case)} == OVERSEEN[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_supervising_agrees_with_the_supervised_cases_and_units(setting, who):
    actor = actor_for(setting.people[who])
    cases = SUPERVISED.get(who, set())
    assert setting.names(policy.supervised_cases(actor)) == cases
    assert {name for name, case in setting.cases.items() if policy.supervises(actor, case.unit_path)} == cases
    units = QUEUE_UNITS.get(who, set())
    assert setting.unit_codes(policy.supervised_units(actor)) == units
    assert {u.code for u in setting.units if policy.supervises(actor, u.path)} == units
    assert {u.code for u in setting.units if policy.can_refer_to(actor, u)} == units


@pytest.mark.parametrize("who", PEOPLE)
def test_the_queue_and_dashboard_cover_the_supervised_and_administered_subtrees(setting, who):
    """Supervisors and administrators have the queue and land on the dashboard, over the subtrees they oversee (the
    reportable units); officers have neither."""
    actor = actor_for(setting.people[who])
    units = REPORTABLE.get(who, set())
    assert setting.unit_codes(policy.queue_units(actor)) == units
    assert policy.has_queue(actor) is bool(units)
    assert policy.has_dashboard(actor) is bool(units)
    assert {c.unit_path for c in policy.queue_scope(actor)} <= {u.path for u in policy.queue_units(actor)}


@pytest.mark.parametrize("who", PEOPLE)
def test_reporting_on_a_unit_agrees_with_the_reportable_units(setting, who):
    actor = actor_for(setting.people[who])
    units = REPORTABLE.get(who, set())
    assert setting.unit_codes(policy.reportable_units(actor)) == units
    assert {u.code for u in setting.units if policy.can_report_on(actor, u)} == units
    assert policy.can_report(actor) is bool(units)
    # The picker shows the reportable units down to county level, and the membership units themselves.
    assert setting.unit_codes(policy.picker_units(actor)) <= units
    assert setting.unit_codes(policy.reportable_units(actor).exclude(level="station")) <= setting.unit_codes(
        policy.picker_units(actor)
    )


@pytest.mark.parametrize("who", PEOPLE)
def test_reading_the_rule_catalogue_needs_a_membership(setting, who):
    """The catalogue holds no case data: every active member of a unit reads it, officers included; a deactivated
    account does not, nor (tests/cases/test_rule_catalogue.py) one without a membership."""
    assert policy.can_read_rule_catalogue(actor_for(setting.people[who])) is (who != "inactive")


@pytest.mark.parametrize("who", PEOPLE)
def test_following_an_export_agrees_with_the_visible_exports(setting, who):
    w, people = setting.world, setting.people
    exports = {
        f"{requester}@{unit.code}": ReportExport.objects.create(
            requested_by=people[requester],
            unit=unit,
            year=2026,
            format="csv",
            language="en",
            created_at=timezone.now(),
        )
        for requester, unit in [
            ("supervisor", w.county),
            ("supervisor", w.sibling_station),  # a unit the requester does not (or no longer) cover
            ("admin", w.province),
            ("county_supervisor", w.county),
            ("inactive", w.city),
            ("officer", w.station),
        ]
    }
    expected = {
        "supervisor": {"supervisor@330106"},
        "admin": {"admin@330000"},
        "county_supervisor": {"county_supervisor@330106"},
    }.get(who, set())
    actor = actor_for(people[who])
    visible = set(policy.visible_exports(actor).values_list("pk", flat=True))
    assert {name for name, job in exports.items() if job.pk in visible} == expected
    assert {name for name, job in exports.items() if policy.can_see_export(actor, job)} == expected


@pytest.mark.parametrize("case_name", ["draft", "intake", "victim", "sibling"])
def test_being_assigned_agrees_with_the_assignable_supervisors(setting, case_name):
    case = setting.cases[case_name]
    assignable = set(policy.assignable_supervisors(case).values_list("username", flat=True))
    expected = {
        "draft": {"station_supervisor", "county_supervisor", "supervisor", "ministry_supervisor"},
        "intake": {"station_supervisor", "county_supervisor", "supervisor", "ministry_supervisor"},
        "victim": {"county_supervisor", "supervisor", "ministry_supervisor"},
        "sibling": {"sibling_supervisor", "ministry_supervisor"},
    }[case_name]
    assert assignable == expected
    everyone = User.objects.all()
    assert {u.username for u in everyone if policy.can_be_assigned(actor_for(u), case)} == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_the_units_offered_for_filing_are_units_the_person_may_file_in(setting, who):
    actor = actor_for(setting.people[who])
    offered = list(policy.filing_units(actor))
    expected = {"officer": {"330106001"}, "other_officer": {"330106002"}, "sibling_officer": {"420100001"}}
    assert {u.code for u in offered} == expected.get(who, set())
    assert all(policy.can_file_in(actor, u.path) for u in offered)
    assert policy.can_file(actor) is bool(offered)


# --- the grants are read once per request ------------------------------------------------------------------------


def membership_queries(queries: CaptureQueriesContext) -> int:
    """Reads of the memberships themselves (the assignment form's list of supervisors joins them to users)."""
    return sum('FROM "accounts_membership"' in q["sql"] for q in queries.captured_queries)


def test_the_case_page_reads_the_grants_once(client, world):
    case = case_in(world, S.SUPERVISION)
    client.force_login(world.supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    # The page used them for the lookup, the actions offered, the reveal buttons and the navigation.
    assert sum('"accounts_membership"' in q["sql"] for q in queries.captured_queries) == 2  # + assignable supervisors
    assert response.context["ws"].actions
    assert response.context["nav_is_supervisor"] is True
    assert membership_queries(queries) == 1


def test_an_api_case_detail_reads_the_token_users_grants_once(world):
    case = case_in(world, S.SUPERVISION)
    client = token_client(world.supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    # The actions are the token user's: the grants were read after the token was checked, not for an anonymous user.
    assert (
        {a["action"] for a in response.json()["allowed_actions"]}
        == {t.action for t in policy.available_actions(actor_for(world.supervisor), case)}
        != set()
    )
    assert membership_queries(queries) == 1


def test_an_actor_read_before_authentication_is_read_again_for_the_authenticated_user(world, django_assert_num_queries):
    request = HttpRequest()
    request.user = AnonymousUser()
    actor = RequestActor(request)
    with django_assert_num_queries(0):
        assert actor.is_active is False
        assert actor.grants == ()
    request.user = world.supervisor  # as the API does once a token is checked
    with django_assert_num_queries(1):
        assert actor.is_active is True
        assert actor.paths_for(Role.SUPERVISOR) == (world.city.path,)
        assert actor.user_id == world.supervisor.pk
    request.user = world.officer  # a log-in in the same request
    with django_assert_num_queries(1):
        assert actor.user_id == world.officer.pk
        assert actor.paths_for(Role.OFFICER) == (world.station.path,)
