"""The people of a case — involved officers and suspects — changed, removed and restored (services and pages), and
the case's progress: where a draft resumes, the stepper, and what happens next after each action."""

import re
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.selectors import actor_for
from cases import policy, services, workflow
from cases.choices import CaseStatus, Disposition, EventKind, InjuryGrade, SupportKind
from cases.exceptions import StaleVersion
from cases.models import Case, CaseEvent, InvolvedOfficer, Suspect
from cases.templatetags.rg import event_text
from cases.workflow import TRANSITIONS
from tests.cases.test_services import snapshot
from tests.conftest import reauthenticated
from tests.factories import case_in, draft

S = CaseStatus


def filer_entry(case: Case) -> InvolvedOfficer:
    return InvolvedOfficer.objects.get(case=case, user=case.filed_by)


def people(case: Case) -> tuple:
    return (
        sorted(InvolvedOfficer.objects.filter(case=case).values_list("name", "injury", "user_id")),
        sorted(Suspect.objects.filter(case=case).values_list("name", "status")),
    )


def last_event(case: Case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).order_by("at", "id").last()


# --- services ---------------------------------------------------------------------------------------------------


def test_the_filer_records_his_injury_on_his_own_entry_which_stays_linked_to_his_account(world):
    case = draft(world)
    entry = filer_entry(case)
    services.update_involved_officer(
        officer=entry,
        by=world.officer,
        injury=InjuryGrade.MINOR_2,
        medical_notes="左腿软组织挫伤",
        expected_version=case.version,
    )
    entry.refresh_from_db()
    assert (entry.user_id, entry.injury, entry.medical_notes) == (
        world.officer.pk,
        InjuryGrade.MINOR_2,
        "左腿软组织挫伤",
    )
    event = last_event(case)
    assert event.kind == EventKind.OFFICER_UPDATED
    assert event.data == {
        "officer": entry.pk,
        "changes": {"injury": [InjuryGrade.NONE, InjuryGrade.MINOR_2], "medical_notes": ["***", "***"]},
    }
    assert event_text(event) == "Involved officer updated: injury, medical details"
    # He still may see his own medical details in full: the entry is his.
    assert policy.can_see_in_full(actor_for(world.officer), case, entry)
    assert Case.objects.get(pk=case.pk).max_injury_rank is not None


def test_a_change_to_a_party_made_on_a_stale_version_is_refused_and_changes_nothing(world):
    case = draft(world)
    seen = case.version
    services.add_suspect(case=case, by=world.officer, name="张某")
    suspect = Suspect.objects.get(case=case)
    before, listed = snapshot(case), people(case)
    with pytest.raises(StaleVersion):
        services.update_suspect(suspect=suspect, by=world.officer, name="李某", expected_version=seen)
    with pytest.raises(StaleVersion):
        services.remove_suspect(suspect=suspect, by=world.officer, expected_version=seen)
    with pytest.raises(StaleVersion):
        services.update_involved_officer(
            officer=filer_entry(case), by=world.officer, injury="slight", expected_version=seen
        )
    assert (snapshot(case), people(case)) == (before, listed)


def test_a_supervisor_removes_an_officer_listed_by_mistake_and_the_timeline_says_so(world):
    case = case_in(world, S.INTAKE)
    colleague = services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    removed = services.remove_involved_officer(officer=colleague, by=world.supervisor)
    assert removed.party == "officer"
    assert removed.name == "王警官"
    assert not InvolvedOfficer.objects.filter(pk=colleague.pk).exists()
    event = last_event(case)
    assert (event.kind, event.actor_id, event.data) == (
        EventKind.OFFICER_REMOVED,
        world.supervisor.pk,
        {"officer": colleague.pk, "removed": "王警官"},
    )


def test_the_last_officer_of_a_submitted_case_cannot_be_removed(world):
    case = case_in(world, S.INTAKE)
    before, listed = snapshot(case), people(case)
    with pytest.raises(ValidationError) as refused:
        services.remove_involved_officer(officer=filer_entry(case), by=world.supervisor)
    assert refused.value.messages == [
        f"{world.officer.full_name} cannot be removed: a submitted case lists at least one officer. "
        "Add the right one first."
    ]
    assert (snapshot(case), people(case)) == (before, listed)


def test_an_officer_a_support_measure_is_recorded_for_cannot_be_removed(world):
    case = case_in(world, S.INTAKE)
    colleague = services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    services.record_support_measure(case=case, by=world.supervisor, kind=SupportKind.LEGAL_SERVICE, officer=colleague)
    before, listed = snapshot(case), people(case)
    with pytest.raises(ValidationError) as refused:
        services.remove_involved_officer(officer=colleague, by=world.supervisor)
    assert refused.value.messages == [
        "王警官 cannot be removed: a support measure is recorded for them. Change the officer instead."
    ]
    assert (snapshot(case), people(case)) == (before, listed)


def test_a_suspect_with_a_disposition_on_record_cannot_be_removed_even_once_it_is_set_back(world):
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.ADMIN_WARNING,
        lenient_reason="minor_circumstances",
    )
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.UNDER_INVESTIGATION,
    )
    before, listed = snapshot(case), people(case)
    with pytest.raises(ValidationError) as refused:
        services.remove_suspect(suspect=suspect, by=world.supervisor)
    assert refused.value.messages == [
        "张某 cannot be removed: a disposition is recorded for them. Correct the suspect instead."
    ]
    assert (snapshot(case), people(case)) == (before, listed)


@pytest.mark.parametrize(
    ("status", "who"),
    [(S.DRAFT, "other_officer"), (S.INTAKE, "officer"), (S.INTAKE, "admin"), (S.CLOSED, "supervisor")],
)
def test_who_may_not_remove_or_change_parties_is_refused_and_nothing_changes(world, status, who):
    case = case_in(world, status)
    entry = filer_entry(case)
    user = getattr(world, who)
    assert not policy.can_remove_parties(actor_for(user), case)
    before, listed = snapshot(case), people(case)
    with pytest.raises(PermissionDenied):
        services.remove_involved_officer(officer=entry, by=user)
    with pytest.raises(PermissionDenied):
        services.update_involved_officer(officer=entry, by=user, injury=InjuryGrade.SLIGHT)
    assert (snapshot(case), people(case)) == (before, listed)


def test_undoing_a_removal_lists_the_party_again_as_it_was_linked_and_with_its_masked_values(world):
    case = draft(world)
    services.update_involved_officer(officer=filer_entry(case), by=world.officer, medical_notes="右手骨折")
    services.add_suspect(case=case, by=world.officer, name="张某", id_number="330106199001011234")
    removed_officer = services.remove_involved_officer(officer=filer_entry(case), by=world.officer)
    removed_suspect = services.remove_suspect(suspect=Suspect.objects.get(case=case), by=world.officer)
    assert (InvolvedOfficer.objects.filter(case=case).count(), Suspect.objects.filter(case=case).count()) == (0, 0)
    assert last_event(case).kind == EventKind.SUSPECT_REMOVED
    assert event_text(last_event(case)) == "Suspect removed: 张某"

    officer = services.undo_removal(case=case, by=world.officer, removed=removed_officer)
    suspect = services.undo_removal(case=case, by=world.officer, removed=removed_suspect)
    officer.refresh_from_db()
    suspect.refresh_from_db()
    assert (officer.user_id, officer.name, officer.medical_notes) == (
        world.officer.pk,
        world.officer.full_name,
        "右手骨折",
    )
    assert (suspect.name, suspect.id_number, suspect.status) == ("张某", "330106199001011234", "identified")
    event = last_event(case)
    assert (event.kind, event.data) == (
        EventKind.SUSPECT_ADDED,
        {"suspect": suspect.pk, "name": "张某", "restored": True},
    )
    assert event_text(event) == "Removal undone: 张某 is listed again"


# --- the workflow's progress and next steps (pure) ---------------------------------------------------------------


def test_every_transition_says_what_happens_next_with_the_reference():
    for t in TRANSITIONS.values():
        text = str(t.next_step)
        assert "%(ref)s" in text, t.action
        assert text % {"ref": "RG-2026-000001", "due": "12 Dec"}


def test_progress_marks_the_stages_done_current_and_next():
    at = {s: datetime(2026, 12, i + 1, tzinfo=UTC) for i, s in enumerate(workflow.STAGES)}
    steps = workflow.progress(S.REFERRED, {s: at[s] for s in (S.DRAFT, S.INTAKE, S.REFERRED)})
    assert [(p.status, p.state, p.entered_at) for p in steps] == [
        (S.DRAFT, "done", at[S.DRAFT]),
        (S.INTAKE, "done", at[S.INTAKE]),
        (S.REFERRED, "current", at[S.REFERRED]),
        (S.SUPERVISION, "next", None),
        (S.LOOK_BACK, "next", None),
        (S.CLOSED, "next", None),
    ]
    # A recalled case: back in look-back, the closing it went through is to come again.
    steps = workflow.progress(S.LOOK_BACK, at)
    assert [p.state for p in steps] == ["done", "done", "done", "done", "current", "next"]
    # A case that left the path: what it passed is done, the exit comes last.
    rejected = datetime(2026, 12, 9, tzinfo=UTC)
    steps = workflow.progress(S.REJECTED, {S.DRAFT: at[S.DRAFT], S.INTAKE: at[S.INTAKE], S.REJECTED: rejected})
    assert [(p.status, p.state) for p in steps] == [
        (S.DRAFT, "done"),
        (S.INTAKE, "done"),
        (S.REFERRED, "next"),
        (S.SUPERVISION, "next"),
        (S.LOOK_BACK, "next"),
        (S.CLOSED, "next"),
        (S.REJECTED, "exit"),
    ]
    assert steps[-1].entered_at == rejected


# --- pages --------------------------------------------------------------------------------------------------------


def test_the_edit_page_never_shows_a_masked_value_and_an_empty_field_keeps_it(client, world):
    case = draft(world)
    entry = filer_entry(case)
    services.update_involved_officer(officer=entry, by=world.officer, medical_notes="右手骨折")
    client.force_login(world.officer)
    url = reverse("cases:edit-party", args=[case.pk, "officer", entry.pk])
    page = client.get(url + "?step=officers")
    body = page.content.decode()
    assert page.status_code == 200
    assert "右手骨折" not in body
    assert "Recorded, and hidden here. Leave this empty to keep it; type to replace it." in body
    case.refresh_from_db()
    form = {
        "version": case.version,
        "step": "officers",
        "officer-name": entry.name,
        "officer-badge_number": entry.badge_number,
        "officer-officer_type": "regular",
        "officer-duty_status": "on_duty",
        "officer-injury": "slight",
        "officer-medical_notes": "",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:edit", args=[case.pk, "officers"])
    entry.refresh_from_db()
    assert (entry.injury, entry.medical_notes, entry.user_id) == ("slight", "右手骨折", world.officer.pk)
    case.refresh_from_db()
    response = client.post(url, {**form, "version": case.version, "officer-clear_medical_notes": "on"})
    entry.refresh_from_db()
    assert (response.status_code, entry.medical_notes) == (302, "")


def test_an_edit_on_a_stale_version_is_shown_again_with_what_was_typed(client, world):
    case = draft(world)
    entry = filer_entry(case)
    seen = case.version
    services.add_suspect(case=case, by=world.officer, name="张某")
    client.force_login(world.officer)
    url = reverse("cases:edit-party", args=[case.pk, "officer", entry.pk])
    response = client.post(
        url,
        {
            "version": seen,
            "officer-name": "王小明",
            "officer-officer_type": "regular",
            "officer-duty_status": "on_duty",
            "officer-injury": "slight",
        },
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "changed by someone else" in body
    assert 'value="王小明"' in body
    entry.refresh_from_db()
    assert (entry.name, entry.injury) == (world.officer.full_name, "none")


def officer_form(**values: str) -> dict[str, str]:
    return {
        "step": "officers",
        "officer-name": "",
        "officer-badge_number": "",
        "officer-officer_type": "regular",
        "officer-duty_status": "on_duty",
        "officer-injury": "none",
        "officer-medical_notes": "",
        **{f"officer-{k}": v for k, v in values.items()},
    }


def test_continue_adds_the_colleague_typed_but_not_added(client, world):
    case = draft(world)
    client.force_login(world.officer)
    url = reverse("cases:add-party", args=[case.pk, "officer"])
    response = client.post(url, {**officer_form(name="辅警 李明", injury="slight"), "continue": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:edit", args=[case.pk, "suspects"])
    assert InvolvedOfficer.objects.filter(case=case, name="辅警 李明", injury="slight").count() == 1


def test_continue_with_an_untouched_form_moves_on_and_with_a_half_typed_one_keeps_it(client, world):
    case = draft(world)
    client.force_login(world.officer)
    url = reverse("cases:add-party", args=[case.pk, "officer"])
    response = client.post(url, {**officer_form(), "continue": "1"})
    assert (response.status_code, response["Location"]) == (302, reverse("cases:edit", args=[case.pk, "suspects"]))
    assert InvolvedOfficer.objects.filter(case=case).count() == 1
    # An injury chosen but no name: not added, not lost.
    response = client.post(url, {**officer_form(injury="slight", badge_number="A1234"), "continue": "1"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "What you typed is not added yet: correct it, or empty the form to go on." in body
    assert 'value="A1234"' in body
    assert InvolvedOfficer.objects.filter(case=case).count() == 1


def test_removing_from_the_wizard_offers_an_undo_that_restores_the_linked_entry(client, world):
    case = draft(world)
    entry = filer_entry(case)
    client.force_login(world.officer)
    response = client.post(
        reverse("cases:remove-party", args=[case.pk, "officer", entry.pk]),
        {"version": case.version, "step": "officers"},
    )
    assert response["Location"] == reverse("cases:edit", args=[case.pk, "officers"])
    page = client.get(response["Location"]).content.decode()
    assert f"{world.officer.full_name} was removed." in page
    assert "Add myself" in page
    response = client.post(reverse("cases:undo-removal", args=[case.pk]), {"step": "officers"})
    assert response.status_code == 302
    assert filer_entry(case).name == world.officer.full_name
    # Once undone, there is nothing left to undo.
    page = client.get(reverse("cases:edit", args=[case.pk, "officers"])).content.decode()
    assert "was removed." not in page
    assert "Add myself" not in page
    response = client.post(reverse("cases:undo-removal", args=[case.pk]), {"step": "officers"}, follow=True)
    assert "There is no removal to undo here any more." in response.content.decode()
    assert InvolvedOfficer.objects.filter(case=case).count() == 1


def test_add_myself_lists_the_filer_with_his_account(client, world):
    case = draft(world)
    services.remove_involved_officer(officer=filer_entry(case), by=world.officer)
    client.force_login(world.officer)
    response = client.post(reverse("cases:add-party", args=[case.pk, "officer"]), {"step": "officers", "myself": "1"})
    assert response.status_code == 302
    entry = filer_entry(case)
    assert (entry.name, entry.badge_number) == (world.officer.full_name, world.officer.badge_number)


def test_a_refused_removal_on_the_case_page_says_why_and_changes_nothing(client, world):
    case = case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    before, listed = snapshot(case), people(case)
    response = client.post(
        reverse("cases:remove-party", args=[case.pk, "officer", filer_entry(case).pk]),
        {"version": case.version},
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot be removed: a submitted case lists at least one officer." in response.content.decode()
    assert (snapshot(case), people(case)) == (before, listed)


def test_the_case_page_offers_no_removal_of_the_only_officer_of_a_submitted_case(client, world):
    case = case_in(world, S.INTAKE)
    only = reverse("cases:remove-party", args=[case.pk, "officer", filer_entry(case).pk])
    client.force_login(world.supervisor)
    assert only not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    colleague = services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert only in body
    assert reverse("cases:remove-party", args=[case.pk, "officer", colleague.pk]) in body


def test_the_case_page_offers_edit_and_remove_only_to_whom_the_policy_allows(client, world):
    case = case_in(world, S.INTAKE)
    services.add_suspect(case=case, by=world.supervisor, name="张某")
    edit = reverse("cases:edit-party", args=[case.pk, "suspect", Suspect.objects.get(case=case).pk])
    client.force_login(world.supervisor)
    assert edit in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    client.force_login(world.officer)
    assert edit not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    before = people(case)
    response = client.post(
        edit, {"suspect-name": "李某", "suspect-status": "identified", "version": Case.objects.get(pk=case.pk).version}
    )
    assert response.status_code == 403
    assert people(case) == before


def test_a_draft_resumes_at_the_step_last_opened_or_else_the_first_not_done(client, world):
    case = services.create_draft_case(by=world.officer, unit=world.station, details={"kind": "other"})
    client.force_login(world.officer)
    resume = reverse("cases:resume", args=[case.pk])
    assert client.get(resume)["Location"] == reverse("cases:edit", args=[case.pk, "incident"])
    version = Case.objects.get(pk=case.pk).version
    client.get(reverse("cases:edit", args=[case.pk, "suspects"]))
    case.refresh_from_db()
    # Where the filer was is not a change to the record.
    assert (case.draft_step, case.version) == ("suspects", version)
    assert client.get(resume)["Location"] == reverse("cases:edit", args=[case.pk, "suspects"])
    home = client.get(reverse("cases:home")).content.decode()
    assert f'href="{resume}"' in home
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' not in home


def test_the_case_page_shows_the_stages_with_their_dates(client, world):
    case = case_in(world, S.REFERRED)
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    stepper = body[body.index("data-stepper") : body.index("</ol>", body.index("data-stepper"))]
    states = re.findall(r'case-stage-(\w+)" data-stage="(\w+)"', stepper)
    assert states == [
        ("done", "draft"),
        ("done", "intake"),
        ("current", "referred"),
        ("next", "supervision"),
        ("next", "look_back"),
        ("next", "closed"),
    ]
    submitted = CaseEvent.objects.get(case=case, to_status=S.INTAKE).at
    day = timezone.localtime(submitted)
    assert f"{day.day} {day:%b %Y}" in stepper  # 6 Dec 2026, the English pages' one date format
    assert stepper.count("not yet") == 3


def test_after_an_action_the_page_says_what_happens_next(client, world):
    case = draft(world)
    client.force_login(world.officer)
    response = client.post(
        reverse("cases:action", args=[case.pk, "submit"]), {"submit-version": case.version}, follow=True
    )
    case.refresh_from_db()
    due = date_format(timezone.localtime(case.stage_due_at), "DATE_FORMAT")
    expected = (
        f"Your application {case.reference} is with the rights-protection office. A supervisor will review it by {due}."
    )
    body = response.content.decode()
    assert expected in body
    assert "done." not in body


def test_the_reveal_still_works_for_the_filer_after_editing_his_entry(client, world):
    case = draft(world)
    entry = filer_entry(case)
    client.force_login(world.officer)
    client.post(
        reverse("cases:edit-party", args=[case.pk, "officer", entry.pk]),
        {
            "version": case.version,
            "officer-name": entry.name,
            "officer-officer_type": "regular",
            "officer-duty_status": "on_duty",
            "officer-injury": "minor_2",
            "officer-medical_notes": "左腿软组织挫伤",
        },
    )
    services.submit_case(case=case, by=world.officer, expected_version=Case.objects.get(pk=case.pk).version)
    reauthenticated(client)
    response = client.post(reverse("cases:reveal", args=[case.pk, "officer", entry.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "左腿软组织挫伤" in response.content.decode()
