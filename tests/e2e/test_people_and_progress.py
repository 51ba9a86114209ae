"""People in the application (edit, remove with confirmation and undo, nothing typed lost) and the case's progress
(a draft resumes where the officer left off, the stepper, what happens next), in a real browser, in English and
Chinese. Chinese texts are read from the catalogue, so the tests hold as it is translated."""

import re

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from cases import services, workflow
from cases.choices import CaseStatus, InjuryGrade
from cases.models import Case, CaseEvent, InvolvedOfficer, Suspect
from cases.workflow import TRANSITIONS
from tests.e2e.test_browser import log_in
from tests.factories import PASSWORD, case_in, draft

pytestmark = pytest.mark.django_db(transaction=True)


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def log_in_chinese(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("main")).to_be_visible()


def answer_dialogs(page: Page, said: list[str], accept: bool) -> None:
    def answer(dialog) -> None:
        said.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", answer)


def test_people_are_edited_removed_and_restored_and_nothing_typed_is_lost(page: Page, live_server, world, shoot):
    base = live_server.url
    case = draft(world)
    log_in(page, base, "officer")
    page.goto(f"{base}/cases/{case.pk}/edit/officers/")

    # The filer records his injury on his own entry, which stays his.
    me = page.locator("[data-party=officer]", has_text=world.officer.full_name)
    expect(me).to_contain_text("No injury")
    me.get_by_role("link", name="Edit").click()
    page.get_by_label("Injury", exact=True).select_option(label="Minor injury, grade 2")
    page.get_by_label("Medical details", exact=True).fill("左腿软组织挫伤")
    shoot(page, "people-01-edit-own-entry")
    page.get_by_role("button", name="Save changes").click()
    expect(me).to_contain_text("Minor injury, grade 2")
    entry = InvolvedOfficer.objects.get(case=case, user=world.officer)
    assert (entry.injury, entry.medical_notes) == (InjuryGrade.MINOR_2, "左腿软组织挫伤")

    # A colleague typed but not added is added by "Continue", not lost.
    page.locator("#add-officer").get_by_label("Name", exact=True).fill("辅警 李明")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/edit/suspects/$"))
    assert list(InvolvedOfficer.objects.filter(case=case).values_list("name", flat=True).order_by("pk")) == [
        world.officer.full_name,
        "辅警 李明",
    ]

    # A suspect is added, corrected, removed after a confirmation, and the removal undone.
    page.locator("#add-suspect").get_by_label("Name", exact=True).fill("张某")
    page.get_by_role("button", name="Add suspect").click()
    page.locator("[data-party=suspect]", has_text="张某").get_by_role("link", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("张某某")
    page.get_by_label("ID number", exact=True).fill("330106199001011234")
    page.get_by_role("button", name="Save changes").click()
    suspect_row = page.locator("[data-party=suspect]", has_text="张某某")
    expect(suspect_row).to_contain_text("330*************34")
    expect(page.locator("main")).not_to_contain_text("330106199001011234")

    said: list[str] = []
    answer_dialogs(page, said, accept=False)
    suspect_row.get_by_role("button", name="Remove").click()
    expect(suspect_row).to_be_visible()
    assert Suspect.objects.filter(case=case).count() == 1
    answer_dialogs(page, said, accept=True)
    suspect_row.get_by_role("button", name="Remove").click()
    expect(page.locator("[data-undo]")).to_contain_text("张某某 was removed.")
    assert said == ["Remove 张某某 from the suspects?", "Remove 张某某 from the suspects?"]
    assert not Suspect.objects.filter(case=case).exists()
    shoot(page, "people-02-removed-with-undo")
    page.locator("[data-undo]").get_by_role("button", name="Undo").click()
    expect(suspect_row).to_be_visible()
    assert list(Suspect.objects.filter(case=case).values_list("name", "id_number")) == [
        ("张某某", "330106199001011234")
    ]

    # Leaving by a link with a suspect typed but not added asks first; staying keeps what was typed.
    page.locator("#add-suspect").get_by_label("Name", exact=True).fill("王某")
    answer_dialogs(page, said, accept=False)
    page.get_by_role("link", name="6. Support").click()
    assert said[-1] == "You typed a suspect but did not add them. Leave without adding them?"
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/edit/suspects/$"))
    expect(page.locator("#add-suspect").get_by_label("Name", exact=True)).to_have_value("王某")
    shoot(page, "people-03-unsaved-suspect-kept")

    kinds = list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True))
    assert [k for k in kinds if k != "created"] == [
        "officer_updated",
        "officer_added",
        "suspect_added",
        "suspect_updated",
        "suspect_removed",
        "suspect_added",
    ]


def test_a_supervisor_corrects_and_removes_people_on_the_case_page_in_chinese(page: Page, live_server, world, shoot):
    base = live_server.url
    case = case_in(world, CaseStatus.INTAKE)
    services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    services.add_suspect(case=case, by=world.supervisor, name="张某")
    log_in_chinese(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.pk}/")

    officer = page.locator("main li", has_text="王警官").last
    officer.get_by_role("link", name=zh("Edit %(name)s") % {"name": "王警官"}).click()
    page.locator("select[name=officer-injury]").select_option("slight")
    page.get_by_role("button", name=zh("Save changes")).click()
    expect(page.locator(".alert-success")).to_contain_text(zh("Saved the changes to %(name)s.") % {"name": "王警官"})
    expect(page.locator("main li", has_text="王警官").last).to_contain_text(zh("Slight injury"))

    said: list[str] = []
    answer_dialogs(page, said, accept=True)
    page.locator("main li", has_text="王警官").last.get_by_role(
        "button", name=zh("Remove %(name)s") % {"name": "王警官"}
    ).click()
    expect(page.locator("[data-undo]")).to_contain_text(zh("%(name)s was removed.").replace("%(name)s", "王警官"))
    assert said == [zh("Remove %(name)s from the involved officers?").replace("%(name)s", "王警官")]
    shoot(page, "people-04-chinese-case-page-removed")
    assert not InvolvedOfficer.objects.filter(case=case, name="王警官").exists()
    page.locator("[data-undo]").get_by_role("button", name=zh("Undo")).click()
    expect(page.locator(".alert-success")).to_contain_text(zh("%(name)s is listed again.") % {"name": "王警官"})
    assert InvolvedOfficer.objects.get(case=case, name="王警官").injury == InjuryGrade.SLIGHT

    # The filer's entry is the only other officer: removing the last one would be refused; a suspect goes.
    answer_dialogs(page, said, accept=True)
    page.locator("main li", has_text="张某").last.get_by_role(
        "button", name=zh("Remove %(name)s") % {"name": "张某"}
    ).click()
    expect(page.locator("[data-undo]")).to_be_visible()
    assert not Suspect.objects.filter(case=case).exists()
    event = CaseEvent.objects.filter(case=case).order_by("at", "id").last()
    assert (event.kind, event.actor_id, event.data["removed"]) == ("suspect_removed", world.supervisor.pk, "张某")


def test_the_filer_removes_himself_by_mistake_and_undoes_it_in_chinese(page: Page, live_server, world, shoot):
    base = live_server.url
    case = draft(world)
    log_in_chinese(page, base, "officer")
    page.goto(f"{base}/cases/{case.pk}/edit/officers/")
    said: list[str] = []
    answer_dialogs(page, said, accept=True)
    page.locator("[data-party=officer]").get_by_role(
        "button", name=zh("Remove %(name)s") % {"name": world.officer.full_name}
    ).click()
    expect(page.locator("[data-undo]")).to_be_visible()
    expect(page.get_by_role("button", name=zh("Add myself"))).to_be_visible()
    shoot(page, "people-05-chinese-filer-removed")
    page.locator("[data-undo]").get_by_role("button", name=zh("Undo")).click()
    expect(page.locator("[data-party=officer]")).to_contain_text(world.officer.full_name)
    expect(page.get_by_role("button", name=zh("Add myself"))).to_have_count(0)
    assert InvolvedOfficer.objects.get(case=case).user_id == world.officer.pk


def stepper_states(page: Page) -> list[tuple[str, str]]:
    items = page.locator("[data-stepper] li")
    return [
        (items.nth(i).get_attribute("data-stage"), items.nth(i).get_attribute("class").split("case-stage-")[-1])
        for i in range(items.count())
    ]


def test_a_draft_resumes_where_the_officer_left_off_and_the_case_shows_its_progress(
    page: Page, live_server, world, shoot
):
    base = live_server.url
    case = draft(world)
    log_in(page, base, "officer")
    page.goto(f"{base}/cases/{case.pk}/edit/suspects/")
    page.goto(f"{base}/")
    page.get_by_role("link", name=case.reference).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/edit/suspects/$"))
    expect(page.locator("[aria-current=step]")).to_have_text("5. Suspects")
    shoot(page, "progress-01-resumed-at-suspects")

    page.goto(f"{base}/cases/{case.pk}/edit/review/")
    page.get_by_role("button", name="Submit").click()
    case.refresh_from_db()
    due = date_format(timezone.localtime(case.stage_due_at), "DATE_FORMAT")
    expect(page.locator(".alert-success")).to_have_text(
        f"Your application {case.reference} is with the rights-protection office. A supervisor will review it by {due}."
    )
    assert stepper_states(page) == [
        ("draft", "done"),
        ("intake", "current"),
        ("referred", "next"),
        ("supervision", "next"),
        ("look_back", "next"),
        ("closed", "next"),
    ]
    submitted = CaseEvent.objects.get(case=case, to_status=CaseStatus.INTAKE).at
    expect(page.locator("[data-stage=intake]")).to_contain_text(
        date_format(timezone.localtime(submitted), "SHORT_DATE_FORMAT")
    )
    expect(page.locator("[data-stage=intake]")).to_contain_text("due")
    expect(page.locator("[data-stage=referred]")).to_contain_text("not yet")
    shoot(page, "progress-02-submitted-stepper")


def test_the_next_step_and_the_stepper_in_chinese(page: Page, live_server, world, shoot):
    base = live_server.url
    case = case_in(world, CaseStatus.INTAKE)
    log_in_chinese(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.pk}/")
    refer = zh("Refer")
    page.get_by_role("button", name=refer, exact=True).first.click()
    expect(page.locator("#action-refer.collapse.show")).to_be_visible()
    page.locator("#action-refer select[name=refer-to_unit]").select_option(value=str(world.county.pk))
    page.locator("#action-refer select[name=refer-track]").select_option("criminal")
    page.locator("#action-refer").get_by_role("button", name=refer, exact=True).click()
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.REFERRED
    with translation.override("zh-hans"):
        due = date_format(timezone.localtime(case.stage_due_at), "DATE_FORMAT")
        expected = str(TRANSITIONS["refer"].next_step) % {"ref": case.reference, "due": due}
        labels = [str(CaseStatus(s).label) for s in workflow.STAGES]
    expect(page.locator(".alert-success")).to_have_text(expected)
    expect(page.locator("[data-stepper] .case-stage-label")).to_have_text(labels)
    assert [state for _stage, state in stepper_states(page)] == ["done", "done", "current", "next", "next", "next"]
    expect(page.locator("[data-stage=referred]")).to_have_attribute("aria-current", "step")
    shoot(page, "progress-03-chinese-referred")
