"""Repeat attackers (issue 21): suspects matched across cases by the blind index of their ID number; the earlier cases
named on the case page only to those who read both; the "previously punished for attacking police" fact set from the
record, with its reason on the timeline."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.selectors import actor_for
from cases import selectors, services
from cases.choices import CaseStatus, Disposition, EventKind, IncidentKind, LenientReason
from cases.fields import blind_index, normalise_id_number, normalise_id_number_v1, second_generation
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, CaseEvent, Suspect
from cases.templatetags.rg import event_text
from tests.factories import World, case_in, complete_details, draft

pytestmark = pytest.mark.django_db

NUMBER = "33010619920315451X"
# The same number as a filer might type it: full-width digits, spaces, a lower-case check letter.
TYPED_DIFFERENTLY = "３３０１０６ 1992 0315 451x"
OTHER_NUMBER = "330106199203154521"


def earlier_punished(world: World, *, number: str = NUMBER, disposition: str = Disposition.CONVICTED_277_5_BASIC):
    """A case of 60 days ago in supervision whose suspect was convicted (or handled as ``disposition``)."""
    case = case_in(world, CaseStatus.SUPERVISION, occurred_at=timezone.now() - timedelta(days=60))
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=number)
    if disposition != Disposition.UNDER_INVESTIGATION:
        services.record_disposition(
            suspect=suspect,
            by=world.supervisor,
            disposition=disposition,
            decided_at=timezone.localdate() - timedelta(days=30),
        )
    return case


def hubei_case(world: World, number: str = NUMBER) -> Case:
    case = services.create_draft_case(
        by=world.sibling_officer,
        unit=world.sibling_station,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=90)),
    )
    services.add_suspect(case=case, by=world.sibling_officer, name="何某", id_number=number)
    return services.submit_case(case=case, by=world.sibling_officer, expected_version=None)


def new_case_with_suspect(world: World, number: str) -> Case:
    case = draft(world)
    services.add_suspect(case=case, by=world.officer, name="何某", id_number=number)
    return case


def derived_events(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED, data__derived="repeat_suspect"))


def test_the_same_number_typed_differently_has_the_same_index_and_another_number_does_not():
    assert blind_index(TYPED_DIFFERENTLY) == blind_index(NUMBER) != ""
    assert blind_index(OTHER_NUMBER) != blind_index(NUMBER)


def test_a_submitted_case_whose_suspect_was_punished_before_gets_the_fact_and_says_why(world):
    earlier_punished(world)
    case = new_case_with_suspect(world, TYPED_DIFFERENTLY)
    # Not on the draft: a draft is the filer's alone.
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None
    assert derived_events(case) == []

    case = services.submit_case(case=case, by=world.officer, expected_version=None)

    case.refresh_from_db()
    assert case.prior_attack_on_police is True
    [event] = derived_events(case)
    suspect = case.suspects.get()
    assert event.data == {
        "changes": {"prior_attack_on_police": [None, True]},
        "derived": "repeat_suspect",
        "suspect": suspect.pk,
    }
    assert event.actor is None
    assert event_text(event) == (
        "Set from the record: the attacker was previously punished for attacking police — a suspect's ID number "
        "matches a suspect punished in an earlier case."
    )
    # Created, suspect added, submitted: the fact rides on the submission's version. The rules read it.
    assert case.version == 3
    snapshot = load_snapshots([case.pk], timezone.now())[case.pk]
    assert snapshot.facts.prior_attack_on_police is True


def test_a_supervisor_adding_the_suspect_to_an_open_case_sets_it_and_an_earlier_no_gives_way(world):
    earlier_punished(world)
    case = case_in(world, CaseStatus.INTAKE, prior_attack_on_police=False)
    services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=TYPED_DIFFERENTLY)
    case.refresh_from_db()
    assert case.prior_attack_on_police is True
    assert [e.data["changes"] for e in derived_events(case)] == [{"prior_attack_on_police": [False, True]}]


def test_changing_a_suspects_number_to_a_punished_ones_sets_it_once(world):
    earlier_punished(world)
    case = case_in(world, CaseStatus.INTAKE)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=OTHER_NUMBER)
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is None
    services.update_suspect(suspect=suspect, by=world.supervisor, id_number=NUMBER)
    services.update_suspect(suspect=suspect, by=world.supervisor, name="何某某")
    assert Case.objects.get(pk=case.pk).prior_attack_on_police is True
    assert len(derived_events(case)) == 1


def test_a_different_number_does_not_match(world):
    earlier_punished(world)
    case = services.submit_case(
        case=new_case_with_suspect(world, OTHER_NUMBER), by=world.officer, expected_version=None
    )
    case.refresh_from_db()
    assert case.prior_attack_on_police is None
    assert derived_events(case) == []
    assert selectors.earlier_cases_against_police(actor_for(world.ministry_supervisor), case) == []


def test_an_earlier_case_without_a_punishment_is_named_but_sets_nothing(world):
    earlier = earlier_punished(world, disposition=Disposition.UNDER_INVESTIGATION)
    case = services.submit_case(case=new_case_with_suspect(world, NUMBER), by=world.officer, expected_version=None)
    case.refresh_from_db()
    assert case.prior_attack_on_police is None
    assert selectors.earlier_cases_against_police(actor_for(world.supervisor), case) == [earlier]


def test_a_type_that_does_not_ask_the_fact_is_not_given_it(world):
    earlier_punished(world)
    case = new_case_with_suspect(world, NUMBER)
    services.update_case_details(
        case=case, by=world.officer, expected_version=None, changes={"kind": IncidentKind.ONLINE_DEFAMATION}
    )
    case = services.submit_case(case=case, by=world.officer, expected_version=None)
    case.refresh_from_db()
    assert case.prior_attack_on_police is None
    assert derived_events(case) == []


def earlier_line(client: Client, case: Case) -> str:
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    start = page.find("data-earlier-cases")
    return page[start : page.find("</p>", start)] if start >= 0 else ""


def test_the_case_page_names_only_the_earlier_cases_the_reader_may_read_both_of(world):
    zhejiang = earlier_punished(world)
    hubei = hubei_case(world)
    case = services.submit_case(case=new_case_with_suspect(world, NUMBER), by=world.officer, expected_version=None)
    client = Client()

    # The city's supervisor reads Zhejiang's ID numbers, not Hubei's: one case named; Hubei's neither named nor counted.
    client.force_login(world.supervisor)
    assert earlier_line(client, case) == (
        'data-earlier-cases="1">A suspect of this case was a suspect in 1 earlier case against police: '
        f'<a href="/cases/{zhejiang.pk}/">{zhejiang.reference}</a>'
    )
    # The ministry's supervisor reads both, oldest incident first.
    client.force_login(world.ministry_supervisor)
    assert earlier_line(client, case) == (
        'data-earlier-cases="2">A suspect of this case was a suspect in 2 earlier cases against police: '
        f'<a href="/cases/{hubei.pk}/">{hubei.reference}</a>, '
        f'<a href="/cases/{zhejiang.pk}/">{zhejiang.reference}</a>'
    )
    # Neither the filer nor the province's administrator reads the suspects' ID numbers: no line at all.
    for reader in (world.officer, world.admin):
        client.force_login(reader)
        assert client.get(f"/cases/{case.pk}/").status_code == 200
        assert earlier_line(client, case) == ""
    # Hubei's supervisor does not see the new case at all, nor is it named on the Hubei case as "earlier" (it is later).
    assert selectors.earlier_cases_against_police(actor_for(world.sibling_supervisor), hubei) == []


def test_a_later_case_is_not_earlier_and_a_withdrawn_one_is_not_on_record(world):
    withdrawn = draft(world, occurred_at=timezone.now() - timedelta(days=10))
    services.add_suspect(case=withdrawn, by=world.officer, name="何某", id_number=NUMBER)
    services.withdraw_case(case=withdrawn, by=world.officer, expected_version=None, reason="Filed by mistake")
    case = services.submit_case(case=new_case_with_suspect(world, NUMBER), by=world.officer, expected_version=None)
    later = earlier_punished(world)
    Case.objects.filter(pk=later.pk).update(occurred_at=timezone.now())
    assert selectors.earlier_cases_against_police(actor_for(world.ministry_supervisor), case) == []


# GB 11643-1999's own example: a first-generation number and its 18-digit form (check letter X).
FIRST_GENERATION = "110105491231002"
SECOND_GENERATION = "11010519491231002X"


def test_a_first_generation_number_is_read_as_its_eighteen_digit_form():
    assert second_generation(FIRST_GENERATION) == SECOND_GENERATION
    assert second_generation("330106920315451") == "330106199203154511"
    assert normalise_id_number("１１０１０５ ４９１２３１ ００２") == SECOND_GENERATION
    assert blind_index(FIRST_GENERATION) == blind_index(SECOND_GENERATION.lower()) != ""
    # Only a number of exactly fifteen digits is converted: sixteen digits, or fifteen with a letter, are as typed.
    assert normalise_id_number("1101054912310021") == "1101054912310021"
    assert normalise_id_number("11010549123100X") == "11010549123100X"
    # An 18-digit number whose check digit does not follow from the 15-digit one is another number.
    assert blind_index(FIRST_GENERATION) != blind_index("110105194912310021")


def test_a_suspect_recorded_under_the_old_cards_number_is_matched_by_the_new_one(world):
    earlier_punished(world, number=FIRST_GENERATION)
    case = services.submit_case(
        case=new_case_with_suspect(world, SECOND_GENERATION), by=world.officer, expected_version=None
    )
    case.refresh_from_db()
    assert case.prior_attack_on_police is True
    assert len(derived_events(case)) == 1


def test_the_migration_reindexes_the_first_generation_numbers_and_going_back_restores_the_old_digests(world):
    old_suspect = services.add_suspect(
        case=case_in(world, CaseStatus.INTAKE), by=world.supervisor, name="何某", id_number=FIRST_GENERATION
    )
    new_suspect = services.add_suspect(
        case=case_in(world, CaseStatus.INTAKE), by=world.supervisor, name="何某", id_number=SECOND_GENERATION
    )
    as_before = blind_index(FIRST_GENERATION, normalise=normalise_id_number_v1)
    assert as_before != blind_index(FIRST_GENERATION)
    Suspect.objects.filter(pk=old_suspect.pk).update(id_number_index=as_before)  # as stored before the change
    index = {old_suspect.pk: as_before, new_suspect.pk: blind_index(SECOND_GENERATION)}

    def stored() -> dict[int, str]:
        return dict(Suspect.objects.values_list("pk", "id_number_index"))

    class Editor:
        connection = connection

    migration = importlib.import_module("cases.migrations.0040_id_number_index_first_generation")
    migration.refill_index(apps, Editor())
    assert stored() == {**index, old_suspect.pk: blind_index(SECOND_GENERATION)}
    migration.refill_index_as_before(apps, Editor())
    assert stored() == index


def test_a_punishment_recorded_after_a_later_case_came_in_sets_its_fact_and_a_correction_gives_it_back(
    world, django_capture_on_commit_callbacks
):
    # The earlier case's suspect is still under investigation when the later case is submitted: nothing matches.
    earlier = earlier_punished(world, disposition=Disposition.UNDER_INVESTIGATION)
    suspect = earlier.suspects.get()
    later = services.submit_case(
        case=new_case_with_suspect(world, TYPED_DIFFERENTLY), by=world.officer, expected_version=None
    )
    later.refresh_from_db()
    assert (later.prior_attack_on_police, derived_events(later)) == (None, [])
    version = later.version
    # The conviction, decided a month ago (before the later attack of yesterday), is recorded only now: the later
    # case is matched again once the record commits.
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=suspect,
            by=world.supervisor,
            disposition=Disposition.CONVICTED_277_5_BASIC,
            decided_at=timezone.localdate() - timedelta(days=30),
        )
    later.refresh_from_db()
    assert later.prior_attack_on_police is True
    assert later.version == version + 1
    [event] = derived_events(later)
    assert (event.actor, event.data["derived"]) == (None, "repeat_suspect")
    # The conviction corrected to a decision not to prosecute: no punishment, and the record gives back the answer.
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=suspect,
            by=world.supervisor,
            disposition=Disposition.CRIMINAL_NON_PROSECUTION,
            lowered_reason="复核后认定不构成犯罪",
            lenient_reason=LenientReason.INSUFFICIENT_EVIDENCE,
        )
    later.refresh_from_db()
    assert later.prior_attack_on_police is None
    assert later.version == version + 2
    assert list(
        CaseEvent.objects.filter(case=later, data__derived="no_repeat_suspect").values_list("data__answer", flat=True)
    ) == [None]
    # Matching again is idempotent: nothing changes a second time.
    assert services.rederive_later_cases(suspect.id_number_index, changed_case=earlier.pk) == 0
    assert Case.objects.get(pk=later.pk).version == version + 2


def test_a_punishment_decided_after_the_later_attack_does_not_make_it_a_repeat(
    world, django_capture_on_commit_callbacks
):
    earlier = earlier_punished(world, disposition=Disposition.UNDER_INVESTIGATION)
    later = services.submit_case(case=new_case_with_suspect(world, NUMBER), by=world.officer, expected_version=None)
    version = Case.objects.get(pk=later.pk).version
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=earlier.suspects.get(),
            by=world.supervisor,
            disposition=Disposition.CONVICTED_277_5_BASIC,
            decided_at=timezone.localdate(),  # after the later case's incident
        )
    later.refresh_from_db()
    assert (later.prior_attack_on_police, later.version, derived_events(later)) == (None, version, [])


def test_a_closed_later_case_keeps_the_facts_it_was_closed_on(world, django_capture_on_commit_callbacks):
    earlier = earlier_punished(world, disposition=Disposition.UNDER_INVESTIGATION)
    closed = case_in(world, CaseStatus.CLOSED, occurred_at=timezone.now() - timedelta(days=2))
    Suspect.objects.create(case=closed, name="何某", id_number=NUMBER)
    version = Case.objects.get(pk=closed.pk).version
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=earlier.suspects.get(),
            by=world.supervisor,
            disposition=Disposition.CONVICTED_277_5_BASIC,
            decided_at=timezone.localdate() - timedelta(days=30),
        )
    closed.refresh_from_db()
    assert (closed.prior_attack_on_police, closed.version) == (None, version)


def test_a_punished_suspects_number_corrected_moves_the_match_to_the_later_cases_of_the_new_number(
    world, django_capture_on_commit_callbacks
):
    earlier = earlier_punished(world, number=OTHER_NUMBER)
    later = services.submit_case(case=new_case_with_suspect(world, NUMBER), by=world.officer, expected_version=None)
    later.refresh_from_db()
    assert later.prior_attack_on_police is None
    with django_capture_on_commit_callbacks(execute=True):
        services.update_suspect(suspect=earlier.suspects.get(), by=world.supervisor, id_number=NUMBER)
    later.refresh_from_db()
    assert later.prior_attack_on_police is True
    assert [e.data["derived"] for e in derived_events(later)] == ["repeat_suspect"]


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张某"),
        ("何某", "何某"),
        ("欧阳娜娜", "欧某"),
        ("  李 四 ", "李某"),
        ("Li Sisi", "L. S."),
        ("maria de la cruz", "M. D. L. C."),
        ("", ""),
        ("   ", ""),
    ],
)
def test_a_name_in_a_document_is_masked_as_case_documents_write_it(name, masked):
    from cases.sensitive import mask_name

    assert mask_name(name) == masked
