"""The early-warning pages (analysis/warning_views.py), the dashboard's count (cases/dashboard_panels.py) and the
notices in the notification list (cases/notices.py): who sees which warning, the filters and the count, the steps with
their refusals (403, 404, 400, 409 for a stale form), each leaving the warning as it was."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts import services as account_services
from accounts.models import Membership
from analysis import explain, services
from analysis.choices import WarningKind, WarningState
from analysis.models import EarlyWarning
from cases import messages
from cases.models import Notification
from tests.analysis.warnings_dataset import a_warning, four_warnings, state_of

LIST = "/analysis/warnings/"


@pytest.fixture
def warnings(world):
    return four_warnings(world)


def page(client, user, url=LIST, **params):
    client.force_login(user)
    with translation.override("en"):
        return client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


def listed(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-warning="(\d+)"', response.content.decode())}


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.mark.parametrize(
    ("who", "seen"),
    [
        # The city's supervisors: the county's rise and the station's repeats, not the province's rise.
        ("supervisor", {"unit_rise", "repeat_attacker", "repeat_victim"}),
        ("county_supervisor", {"unit_rise", "repeat_attacker", "repeat_victim"}),
        ("ministry_supervisor", {"unit_rise", "scenario_rise", "repeat_attacker", "repeat_victim"}),
        # The province's administrator: all but a suspect's earlier cases, which only supervisors are told.
        ("admin", {"unit_rise", "scenario_rise", "repeat_victim"}),
        ("sibling_supervisor", set()),
    ],
)
def test_each_reader_lists_the_warnings_of_their_area(client, world, warnings, who, seen):
    response = page(client, getattr(world, who))
    assert response.status_code == 200
    assert listed(response) == {getattr(warnings, kind).pk for kind in seen}
    count = len(seen)
    assert f"{count} warning{'s' if count != 1 else ''}." in text(response)


@pytest.mark.parametrize("who", ["officer", "other_officer"])
def test_officers_are_refused(client, world, warnings, who):
    assert page(client, getattr(world, who)).status_code == 403
    assert page(client, getattr(world, who), f"{LIST}{warnings.unit_rise.pk}/").status_code == 403


def test_anonymous_callers_are_sent_to_log_in(client, warnings):
    assert client.get(LIST)["Location"] == f"/accounts/login/?next={LIST}"


def test_the_list_says_each_warning_as_a_sentence_with_its_figures(client, world, warnings):
    body = text(page(client, world.county_supervisor))
    assert (
        "西湖区分局 received 7 cases from 1 Oct 2025 to 31 Dec 2025, where 0.3 were expected from the 24 months before "
        "(2 cases); 3 or more is beyond the control limit (p = 1e-08)."
    ) in body
    assert f"1 suspect in {warnings.repeat_attacker.case.reference} has earlier cases against police on record." in body
    assert (
        f"王警官 was attacked 3 times within twelve months, most recently in {warnings.repeat_victim.case.reference}."
    ) in body


def test_the_filters(client, world, warnings):
    reader = world.ministry_supervisor
    assert listed(page(client, reader, kind="unit_rise")) == {warnings.unit_rise.pk}
    assert listed(page(client, reader, unit="330106")) == {
        warnings.unit_rise.pk,
        warnings.repeat_attacker.pk,
        warnings.repeat_victim.pk,
    }
    services.acknowledge_warning(warning=warnings.unit_rise, by=world.county_supervisor)
    assert listed(page(client, reader, state="acknowledged")) == {warnings.unit_rise.pk}
    assert listed(page(client, reader, state="open", unit="330106")) == {
        warnings.repeat_attacker.pk,
        warnings.repeat_victim.pk,
    }


def test_a_unit_outside_the_area_is_not_found_and_a_bad_filter_refused(client, world, warnings):
    assert page(client, world.supervisor, unit="420000").status_code == 404
    assert page(client, world.supervisor, unit="999999").status_code == 404
    refused = page(client, world.supervisor, state="forgotten")
    assert refused.status_code == 400
    assert listed(refused) == set()
    assert "These filters are not valid." in text(refused)


def test_the_list_costs_the_same_queries_for_four_warnings_as_for_forty(client, world, warnings):
    client.force_login(world.ministry_supervisor)
    client.get(LIST)  # warm: session, content types

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(36):
        a_warning(WarningKind.UNIT_RISE, world.county, key=f"unit_rise:{world.county.pk}:extra-{n}")
    assert queries() == few


# --- a warning's page ----------------------------------------------------------------------------------------------


def detail(warning) -> str:
    return f"{LIST}{warning.pk}/"


@pytest.mark.parametrize(
    ("who", "kind", "status"),
    [
        ("sibling_supervisor", "unit_rise", 404),
        ("supervisor", "scenario_rise", 404),  # above the city
        ("admin", "repeat_attacker", 404),
        ("admin", "unit_rise", 200),
        ("supervisor", "repeat_attacker", 200),
    ],
)
def test_who_sees_a_warnings_page(client, world, warnings, who, kind, status):
    assert page(client, getattr(world, who), detail(getattr(warnings, kind))).status_code == status


def test_the_page_of_a_rise_shows_its_figures_and_offers_the_supervisor_to_acknowledge(client, world, warnings):
    response = page(client, world.county_supervisor, detail(warnings.unit_rise))
    body = text(response)
    assert "Window 1 Oct 2025 – 31 Dec 2025" in body
    assert "Baseline 1 Oct 2023 – 30 Sep 2025: 2 cases" in body
    assert "Expected in the window 0.25" in body
    assert "Control limit 3" in body
    assert "p-value 1e-08 (level 0.01)" in body
    assert 'id="acknowledge-form"' in response.content.decode()
    assert 'id="resolve-form"' not in response.content.decode()


def test_an_administrator_sees_it_without_the_steps(client, world, warnings):
    response = page(client, world.admin, detail(warnings.unit_rise))
    assert 'id="acknowledge-form"' not in response.content.decode()
    assert "The supervisors of this unit, or of a unit above it, acknowledge and resolve it." in text(response)


def test_the_page_of_a_repeat_attacker_names_the_earlier_cases_the_reader_may_know_of(client, world, warnings):
    response = page(client, world.supervisor, detail(warnings.repeat_attacker))
    assert response.status_code == 200
    assert response.context["earlier"] == []  # the fixture's suspects match nothing: none named, none counted
    assert f"Open {warnings.repeat_attacker.case.reference}" in text(response)


def post(client, user, url, data):
    client.force_login(user)
    with translation.override("en"):
        return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def step(client, user, warning, name, **fields):
    """POST the step's form (``acknowledge`` or ``resolve``) with these fields, prefixed as the page prefixes them."""
    return post(client, user, f"{detail(warning)}{name}/", {f"{name}-{k}": v for k, v in fields.items()})


def test_a_supervisor_acknowledges_then_resolves_it(client, world, warnings):
    warning = warnings.unit_rise
    response = post(
        client,
        world.county_supervisor,
        f"{detail(warning)}acknowledge/",
        {"acknowledge-version": 1, "acknowledge-note": "已安排核查"},
    )
    assert (response.status_code, response["Location"]) == (302, detail(warning))
    assert state_of(warning)[:2] == (WarningState.ACKNOWLEDGED, 2)
    response = step(client, world.county_supervisor, warning, "resolve", version=2, note="已核实")
    assert response.status_code == 302
    warning.refresh_from_db()
    assert (warning.state, warning.version, warning.resolution_note, warning.resolved_by) == (
        WarningState.RESOLVED,
        3,
        "已核实",
        world.county_supervisor,
    )
    body = text(page(client, world.county_supervisor, detail(warning)))
    assert "Acknowledged by" in body
    assert "已安排核查" in body
    assert "Resolved by" in body
    assert 'id="resolve-form"' not in body


@pytest.mark.parametrize("who", ["admin", "ministry_supervisor", "sibling_supervisor", "officer"])
def test_a_step_by_anyone_else_is_refused_and_writes_nothing(client, world, warnings, who):
    warning = warnings.scenario_rise if who == "ministry_supervisor" else warnings.unit_rise
    before = state_of(warning)
    response = step(client, getattr(world, who), warning, "acknowledge", version=1)
    expected = {"admin": 403, "ministry_supervisor": 302, "sibling_supervisor": 404, "officer": 403}[who]
    assert response.status_code == expected
    if expected != 302:
        assert state_of(warning) == before


def test_a_stale_form_is_refused_with_the_page_as_it_is_now_and_what_was_typed(client, world, warnings):
    warning = warnings.unit_rise
    services.acknowledge_warning(warning=warning, by=world.supervisor, note="市局已安排")
    before = state_of(warning)
    response = step(client, world.county_supervisor, warning, "acknowledge", version=1, note="县局核查中")
    assert response.status_code == 409
    assert state_of(warning) == before
    body = text(response)
    assert "This warning changed after you opened it, so nothing was saved." in body
    assert "县局核查中" in body  # kept to copy
    assert 'id="resolve-form"' in response.content.decode()  # what can be done now
    assert response.context["resolve_form"]["version"].value() == 2


def test_a_step_the_warning_is_past_is_refused_with_409(client, world, warnings):
    warning = warnings.unit_rise
    before = state_of(warning)
    response = post(
        client, world.county_supervisor, f"{detail(warning)}resolve/", {"resolve-version": 1, "resolve-note": "已处理"}
    )
    assert response.status_code == 409
    assert "Acknowledge the warning before you resolve it." in text(response)
    assert state_of(warning) == before


def test_a_resolution_without_a_note_is_refused_beside_the_field(client, world, warnings):
    warning = warnings.unit_rise
    services.acknowledge_warning(warning=warning, by=world.county_supervisor)
    before = state_of(warning)
    response = post(
        client, world.county_supervisor, f"{detail(warning)}resolve/", {"resolve-version": 2, "resolve-note": "  "}
    )
    assert response.status_code == 400
    assert "Say what was found and done: a resolution needs a note." in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert state_of(warning) == before


def test_a_form_without_its_version_is_refused(client, world, warnings):
    before = state_of(warnings.unit_rise)
    response = post(client, world.county_supervisor, f"{detail(warnings.unit_rise)}acknowledge/", {})
    assert response.status_code == 400
    assert "The page that sent this form is incomplete." in text(response)
    assert state_of(warnings.unit_rise) == before


# --- the dashboard and the notification list ---------------------------------------------------------------------


def panel(response) -> tuple[str, str]:
    html = response.content.decode()
    found = re.search(
        r'data-panel="open_warnings"><dt>(.*?)</dt><dd><a class="dash-figure" href="([^"]+)"[^>]*>(\d+)</a>', html
    )
    assert found, "no early-warning panel on the dashboard"
    return found.group(1), unescape(found.group(2)), int(found.group(3))


def test_the_dashboard_counts_the_open_warnings_the_reader_sees(client, world, warnings):
    assert panel(page(client, world.supervisor, "/")) == ("Open early warnings", f"{LIST}?state=open&unit=330100", 3)
    services.acknowledge_warning(warning=warnings.unit_rise, by=world.county_supervisor)
    assert panel(page(client, world.supervisor, "/"))[2] == 2
    assert panel(page(client, world.ministry_supervisor, "/"))[2] == 3
    assert panel(page(client, world.ministry_supervisor, "/", unit="330000")) == (
        "Open early warnings",
        f"{LIST}?state=open&unit=330000",
        3,
    )


def test_an_officers_home_has_no_panel(client, world, warnings):
    assert 'data-panel="open_warnings"' not in page(client, world.officer, "/").content.decode()


def notice(world, warning) -> Notification:
    params = explain.notice_params(warning.kind, warning.figures, (warning.owner_unit.name, warning.owner_unit.name_en))
    services.case_services.notify_unit_office(
        unit=warning.owner_unit, topic=explain.TOPIC, params=params, link=detail(warning)
    )
    return Notification.objects.get(message=messages.NOTICE, recipient=world.county_supervisor)


def test_a_notice_is_in_the_list_and_opens_its_warning(client, world, warnings):
    note = notice(world, warnings.unit_rise)
    body = text(page(client, world.county_supervisor, "/notifications/"))
    assert "Early warning: 西湖区分局 received 7 cases" in body
    assert "Notices about units" in body
    response = client.get(f"/notifications/{note.pk}/")
    assert (response.status_code, response["Location"]) == (302, detail(warnings.unit_rise))
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notice_is_no_longer_read_once_the_reader_stops_overseeing_the_unit(client, world, warnings):
    note = notice(world, warnings.unit_rise)
    account_services.revoke_membership(membership=Membership.objects.get(user=world.county_supervisor))
    client.force_login(world.county_supervisor)
    assert client.get(f"/notifications/{note.pk}/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_the_notification_api_names_the_unit_and_the_link(client, world, warnings):
    note = notice(world, warnings.unit_rise)
    client.force_login(world.county_supervisor)
    rows = client.get("/api/v1/notifications/").json()["results"]
    assert [(r["id"], r["case"], r["unit"]["code"], r["link"], r["kind"]) for r in rows] == [
        (note.pk, None, "330106", detail(warnings.unit_rise), "notices")
    ]
    assert EarlyWarning.objects.count() == 4


def test_the_main_menu_leads_readers_of_reports_to_the_warnings_and_marks_where_they_are(client, world):
    nav = re.compile(r'<a class="nav-link( active" aria-current="page)?" href="/analysis/(warnings/)?">([^<]+)</a>')
    for user in (world.supervisor, world.admin):
        # On the warnings' list the warnings' link is the current page, the analysis' link is not.
        assert nav.findall(page(client, user).content.decode()) == [
            ("", "", "Analysis"),
            (' active" aria-current="page', "warnings/", "Early warnings"),
        ]
        assert nav.findall(page(client, user, "/analysis/").content.decode()) == [
            (' active" aria-current="page', "", "Analysis"),
            ("", "warnings/", "Early warnings"),
        ]
    # An officer reads no reports: neither link is there.
    assert nav.findall(page(client, world.officer, "/").content.decode()) == []
