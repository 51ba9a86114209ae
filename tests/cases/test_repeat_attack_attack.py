# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""Repeat attackers and welfare prompts (issue 21), tried from outside: a filer probing ID numbers through the
automatic fact, the timeline and the API; numbers typed oddly; suspects corrected after the match; the welfare
prompt's recipients and sentence. Each test asserts the safe behaviour."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from accounts.selectors import actor_for
from cases import policy, selectors, services, welfare
from cases.choices import Disposition, IncidentKind, NotificationKind
from cases.models import Case, CaseEvent, Notification, WelfarePrompt
from cases.templatetags.rg import event_text
from tests.api.conftest import token_client
from tests.factories import World, complete_details, member

pytestmark = pytest.mark.django_db

TARGET = "33010619920315451X"
SET_FROM_RECORD = "Set from the record"


def punished_elsewhere(world: World, number: str = TARGET, *, days_ago: int = 60) -> Case:
    """A case filed at the other station (which the officer does not see), whose suspect was convicted."""
    case = services.create_draft_case(
        by=world.other_officer,
        unit=world.other_station,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=days_ago)),
    )
    case = services.submit_case(case=case, by=world.other_officer, expected_version=None)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=number)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CONVICTED_277_5_BASIC,
        decided_at=timezone.localdate() - timedelta(days=30),
    )
    return case


def probe(world: World, number: str, **details) -> Case:
    """The officer's own application with a number typed as its suspect's, submitted."""
    case = services.create_draft_case(by=world.officer, unit=world.station, details=complete_details(**details))
    services.add_suspect(case=case, by=world.officer, name="某人", id_number=number)
    return services.submit_case(case=case, by=world.officer, expected_version=None)


def fact_on_page(client: Client, case: Case) -> str:
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    start = page.index('data-fact-value="prior_attack_on_police">') + len('data-fact-value="prior_attack_on_police">')
    return page[start : page.index("</dd>", start)]


def page_text(client: Client, case: Case) -> str:
    return client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the filer as an oracle ------------------------------------------------------------------------------------------


def test_the_filer_cannot_learn_from_their_own_submitted_case_whether_a_typed_number_was_punished(world):
    """The officer types a target's number on a draft and submits: the page, the API detail and the timeline show their own answer, not the record's."""
    earlier = punished_elsewhere(world)
    assert not selectors.cases_visible_to(world.officer).filter(pk=earlier.pk).exists()
    case = probe(world, TARGET)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True  # the rules see it

    client = Client()
    client.force_login(world.officer)
    assert fact_on_page(client, case) == "not answered"
    assert SET_FROM_RECORD not in page_text(client, case)
    api = token_client(world.officer)
    assert api.get(f"/api/v1/cases/{case.pk}/").json()["prior_attack_on_police"] is None
    events = api.get(f"/api/v1/cases/{case.pk}/events/").json()
    assert [e for e in events["results"] if "derived" in (e.get("data") or {})] == []
    assert "prior_attack_on_police" not in str(events)

    # The office reads the record's answer, and why.
    client.force_login(world.supervisor)
    assert fact_on_page(client, case) == "yes"
    assert SET_FROM_RECORD in page_text(client, case)
    assert token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/").json()["prior_attack_on_police"] is True


def test_the_filer_reads_their_own_no_and_a_number_without_a_record_reads_alike(world):
    """Answered "no", the filer reads "no" whether or not the number was punished: both probes look the same."""
    punished_elsewhere(world)
    matched = probe(world, TARGET, prior_attack_on_police=False)
    unmatched = probe(world, "330106199203154521", prior_attack_on_police=False)
    client = Client()
    client.force_login(world.officer)
    assert fact_on_page(client, matched) == fact_on_page(client, unmatched) == "no"
    api = token_client(world.officer)
    assert api.get(f"/api/v1/cases/{matched.pk}/").json()["prior_attack_on_police"] is False
    kinds = [
        [(e["kind"], e["action"]) for e in api.get(f"/api/v1/cases/{c.pk}/events/").json()["results"]]
        for c in (matched, unmatched)
    ]
    assert kinds[0] == kinds[1] == [("created", ""), ("suspect_added", ""), ("transition", "submit")]


# --- welfare prompts -------------------------------------------------------------------------------------------------


def welfare_notes() -> list[tuple[str, int, str]]:
    return list(
        Notification.objects.filter(kind=NotificationKind.WELFARE)
        .order_by("id")
        .values_list("recipient__username", "case_id", "verb")
    )


def filed(world: World, by, unit, days_ago: int, run, *, officers=(), with_filer: bool = True) -> Case:
    """A case ``by`` files at ``unit`` about an attack ``days_ago`` days ago, listing ``officers`` (accounts, or
    (name, badge) pairs), submitted with its jobs run."""
    case = services.create_draft_case(
        by=by,
        unit=unit,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=days_ago)),
        add_filer_as_officer=with_filer,
    )
    for officer in officers:
        if isinstance(officer, tuple):
            services.add_involved_officer(case=case, by=by, name=officer[0], badge_number=officer[1])
        else:
            services.add_involved_officer(case=case, by=by, user=officer)
    with run(execute=True):
        return services.submit_case(case=case, by=by, expected_version=None)


@pytest.fixture
def binjiang(world: World):
    """A second county of the city, with its own station, officer and rights-protection supervisor."""
    county = account_services.create_org_unit(code="330108", name="滨江区分局", level="county", parent=world.city)
    station = account_services.create_org_unit(code="330108001", name="西兴派出所", level="station", parent=county)
    return (
        station,
        member(station, Role.OFFICER, username="binjiang_officer"),
        member(county, Role.SUPERVISOR, username="binjiang_supervisor"),
    )


def test_the_prompt_goes_to_an_office_over_the_officers_own_unit_not_only_the_cases(
    world, binjiang, django_capture_on_commit_callbacks
):
    """The officer of 北山 (西湖 county) is listed on three cases filed in 滨江 county: the 滨江 office, which does not supervise him, is not told; the nearest office over both his unit and the case (the city's) is."""
    station, filer, _binjiang_supervisor = binjiang
    run = django_capture_on_commit_callbacks
    for days_ago in (200, 100):
        filed(world, filer, station, days_ago, run, officers=[world.officer], with_filer=False)
    third = filed(world, filer, station, 1, run, officers=[world.officer], with_filer=False)

    prompt = WelfarePrompt.objects.get(officer_key=f"user:{world.officer.pk}")
    assert (prompt.case_id, prompt.attacks) == (third.pk, 3)
    assert [(who, case) for who, case, _verb in welfare_notes()] == [("supervisor", third.pk)]
    # And the city's supervisor reads it in the notification list.
    assert [n.pk for n in selectors.notifications_for(actor_for(world.supervisor))] == [
        Notification.objects.get(kind=NotificationKind.WELFARE).pk
    ]


def test_an_officer_listed_by_account_and_by_badge_number_alone_is_one_officer_prompted_once(
    world, django_capture_on_commit_callbacks
):
    """Two attacks listed by account, a third by his badge number only, a fourth by account again: one prompt, not one per way of listing him."""
    run = django_capture_on_commit_callbacks
    badge = world.officer.badge_number
    filed(world, world.officer, world.station, 200, run)
    filed(world, world.officer, world.station, 100, run)
    third = filed(world, world.other_officer, world.other_station, 50, run, officers=[("张警官", badge.lower())])
    filed(world, world.officer, world.station, 1, run)

    assert list(WelfarePrompt.objects.values_list("officer_key", "case_id", "attacks")) == [
        (f"user:{world.officer.pk}", third.pk, 3)
    ]
    assert len(welfare_notes()) == 1


def test_a_badge_number_typed_with_spaces_around_it_is_stored_without_them(world, django_capture_on_commit_callbacks):
    """A badge number typed " f30217\u3000" (an ideographic space too) is the officer F30217 on the other cases: counted."""
    run = django_capture_on_commit_callbacks
    for days_ago in (90, 60):
        filed(world, world.officer, world.station, days_ago, run, officers=[("何志强", "F30217")], with_filer=False)
    last = filed(world, world.officer, world.station, 1, run, officers=[("何志强", " f30217\u3000")], with_filer=False)
    listed = last.officers.get()
    assert listed.badge_number == "f30217"
    officer = welfare.officer_of(listed)
    assert welfare.attacks_within(officer, until=last.occurred_at) == 3
    assert list(WelfarePrompt.objects.values_list("officer_key", "case_id")) == [("badge:330000:F30217", last.pk)]


def test_a_badge_number_of_another_province_is_another_officer(world, django_capture_on_commit_callbacks):
    """Badge numbers are issued by each province: two Hubei cases listing badge F30217 are not attacks on the Zhejiang officer F30217."""
    run = django_capture_on_commit_callbacks
    for days_ago in (90, 60):
        filed(world, world.sibling_officer, world.sibling_station, days_ago, run, officers=[("王警官", "F30217")])
    last = filed(world, world.officer, world.station, 1, run, officers=[("何志强", "F30217")], with_filer=False)
    officer = welfare.officer_of(last.officers.get())
    assert welfare.attacks_within(officer, until=last.occurred_at) == 1
    assert WelfarePrompt.objects.count() == 0
    assert welfare_notes() == []


def test_an_attack_exactly_twelve_months_before_is_outside_the_twelve_months(world, django_capture_on_commit_callbacks):
    """The boundary: an attack at the same moment a year earlier is not counted; a minute later it is."""
    run = django_capture_on_commit_callbacks
    now = timezone.now().replace(microsecond=0)
    first = filed(world, world.officer, world.station, 100, run)
    filed(world, world.officer, world.station, 50, run)
    last = filed(world, world.officer, world.station, 1, run)
    year_before = welfare.twelve_months_before(last.occurred_at)
    Case.objects.filter(pk=first.pk).update(occurred_at=year_before)
    officer = welfare.officer_of(last.officers.get())
    assert welfare.attacks_within(officer, until=last.occurred_at) == 2
    Case.objects.filter(pk=first.pk).update(occurred_at=year_before + timedelta(minutes=1))
    assert welfare.attacks_within(officer, until=last.occurred_at) == 3
    assert now  # the clock is real: the cases above were made relative to it


# --- the match, kept true --------------------------------------------------------------------------------------------


def record_entries(case: Case) -> list[tuple[str, dict]]:
    return [
        (e.data["derived"], e.data["changes"])
        for e in CaseEvent.objects.filter(case=case, data__has_key="derived").order_by("id")
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "33010619920315451x",
        " 330106 1992 0315 451X ",
        "３３０１０６１９９２０３１５４５１ｘ",
        "330106199203154\u3000\u200951X",
    ],
)
def test_the_number_typed_oddly_still_matches(world, typed):
    """Lower-case check letter, spaces inside and around, full-width digits and letter, ideographic and thin spaces: the same number."""
    earlier = punished_elsewhere(world)
    case = probe(world, typed)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    assert selectors.earlier_cases_against_police(actor_for(world.supervisor), case) == [earlier]


def test_junk_around_the_number_is_another_number(world):
    """ "ID 33010619920315451X" or a trailing full stop is not the number: no match (and no false match either)."""
    punished_elsewhere(world)
    for typed in ("ID33010619920315451X", "33010619920315451X."):
        case = probe(world, typed)
        assert Case.objects.get(pk=case.pk).prior_attack_on_police is None


def test_a_suspects_number_corrected_away_gives_the_answer_back(world):
    """The suspect's number was mistyped as a punished one: corrected, the fact goes back to the filer's answer, with an entry saying why; the line names nothing."""
    punished_elsewhere(world)
    case = probe(world, TARGET, prior_attack_on_police=False)
    suspect = case.suspects.get()
    services.update_suspect(suspect=suspect, by=world.supervisor, id_number="330106199203154521")
    case.refresh_from_db()
    assert case.prior_attack_on_police is False
    assert record_entries(case) == [
        ("repeat_suspect", {"prior_attack_on_police": [False, True]}),
        ("no_repeat_suspect", {"prior_attack_on_police": [True, False]}),
    ]
    assert selectors.earlier_cases_against_police(actor_for(world.supervisor), case) == []
    event = CaseEvent.objects.filter(case=case, data__derived="no_repeat_suspect").get()
    assert event_text(event) == (
        "Set back from the record: no suspect's ID number matches a suspect punished in an earlier case any more, so "
        "the answer given before stands again."
    )
    # The filer never saw either: their answer throughout.
    # The filer reads the answer as it stands (no answer read otherwise: it holds no yes the record set).
    assert selectors.fact_answers_as_read(actor_for(world.officer), case) == {}
    assert case.prior_attack_on_police is False
    assert (
        CaseEvent.objects.filter(case=case).filter(policy.shared_events_q()).filter(data__has_key="derived").count()
        == 0
    )


def test_a_matching_suspect_removed_gives_the_answer_back_but_another_match_keeps_it(world):
    """Two suspects with the punished number (listed twice by mistake): removing one keeps the fact; removing both gives the answer back."""
    punished_elsewhere(world)
    case = probe(world, TARGET)
    twice = services.add_suspect(case=case, by=world.supervisor, name="某人", id_number=TARGET.lower())
    assert len(record_entries(case)) == 1
    services.remove_suspect(suspect=twice, by=world.supervisor)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    services.remove_suspect(suspect=case.suspects.get(), by=world.supervisor)
    case.refresh_from_db()
    assert case.prior_attack_on_police is None
    assert [d for d, _c in record_entries(case)] == ["repeat_suspect", "no_repeat_suspect"]


def test_a_supervisors_own_answer_after_the_record_stays_when_the_number_changes(world):
    """The supervisor confirmed "yes" by hand after the record set it: correcting the number does not undo a person's answer."""
    punished_elsewhere(world)
    case = probe(world, TARGET)
    services.update_case_details(
        case=case, by=world.supervisor, expected_version=None, changes={"prior_attack_on_police": False}
    )
    services.update_case_details(
        case=case, by=world.supervisor, expected_version=None, changes={"prior_attack_on_police": True}
    )
    services.update_suspect(suspect=case.suspects.get(), by=world.supervisor, id_number="330106199203154521")
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    assert [d for d, _c in record_entries(case)] == ["repeat_suspect"]


def test_the_incident_moved_before_the_punishment_unmakes_the_match_and_back(world):
    """The earlier conviction was decided 30 days ago: an attack moved to 40 days ago was not after it (the answer comes back); moved to yesterday again, the fact is set again."""
    punished_elsewhere(world)
    case = probe(world, TARGET)
    services.update_case_details(
        case=case,
        by=world.supervisor,
        expected_version=None,
        changes={"occurred_at": timezone.now() - timedelta(days=40)},
    )
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None
    services.update_case_details(
        case=case,
        by=world.supervisor,
        expected_version=None,
        changes={"occurred_at": timezone.now() - timedelta(days=1)},
    )
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    assert [d for d, _c in record_entries(case)] == ["repeat_suspect", "no_repeat_suspect", "repeat_suspect"]


def test_a_type_that_asks_the_fact_chosen_later_gets_it(world):
    """Filed as online defamation (the fact not asked), the supervisor corrects the type to a violent attack: the match is made then."""
    punished_elsewhere(world)
    case = probe(world, TARGET, kind=IncidentKind.ONLINE_DEFAMATION)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None
    services.update_case_details(
        case=case, by=world.supervisor, expected_version=None, changes={"kind": IncidentKind.VIOLENT_ATTACK}
    )
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    services.update_case_details(
        case=case, by=world.supervisor, expected_version=None, changes={"kind": IncidentKind.ONLINE_DEFAMATION}
    )
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None


def test_an_earlier_case_withdrawn_or_rejected_is_no_record(world):
    """The earlier case with the same number was withdrawn (or rejected): nothing named, nothing set."""
    withdrawn = services.create_draft_case(
        by=world.other_officer,
        unit=world.other_station,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=50)),
    )
    services.add_suspect(case=withdrawn, by=world.other_officer, name="何某", id_number=TARGET)
    services.submit_case(case=withdrawn, by=world.other_officer, expected_version=None)
    services.withdraw_case(case=withdrawn, by=world.other_officer, expected_version=None, reason="Filed by mistake")
    case = probe(world, TARGET)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None
    assert selectors.earlier_cases_against_police(actor_for(world.ministry_supervisor), case) == []
