"""An application filed, worked and closed entirely in the browser, in English and in Chinese."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases import flagging, services
from cases.choices import CaseStatus, Disposition
from cases.models import Attachment, Case
from cases.workflow import TRANSITIONS
from tests.cases.test_severity import attack, obstruction_left_alone
from tests.cases.test_views import png_bytes
from tests.factories import PASSWORD, case_in

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def act(page: Page, action: str, fields: dict[str, str] | None = None, checks: tuple[str, ...] = ()) -> None:
    """Open an action's panel on the case page, fill its form and press its button."""
    page.get_by_role("button", name=action, exact=True).first.click()
    panel = page.locator(f"#action-{action.lower()}")
    # Wait for Bootstrap's collapse animation to finish, or a click can land while the panel still moves.
    expect(page.locator(f"#action-{action.lower()}.collapse.show")).to_be_visible()
    for label, value in (fields or {}).items():
        control = panel.get_by_label(label, exact=True)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value=value[len("value=") :]) if value.startswith(
                "value="
            ) else control.select_option(label=value)
        else:
            control.fill(value)
    for label in checks:
        panel.get_by_label(label).check()
    panel.get_by_role("button", name=action, exact=True).click()
    expect(page.locator(".alert-success")).to_have_text(next_step_pattern(action))


def next_step_pattern(label: str) -> re.Pattern[str]:
    """What the page says happens next after the action labelled ``label`` (cases/workflow.py), any case, any date."""
    transition = next(t for t in TRANSITIONS.values() if str(t.label) == label)
    pattern = re.escape(str(transition.next_step))
    pattern = pattern.replace(re.escape("%(ref)s"), r"RG-\d{4}-\d{6}").replace(re.escape("%(due)s"), r".+")
    return re.compile(pattern)


def test_officer_files_and_supervisor_closes(page: Page, live_server, world, media, shoot, tmp_path):
    base = live_server.url
    photo = tmp_path / "injury.png"
    photo.write_bytes(png_bytes())

    log_in(page, base, "officer")
    page.get_by_role("link", name="New application").first.click()
    page.get_by_label("Incident type").select_option(label="Violent attack")
    occurred = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Occurred at").fill(occurred)
    page.get_by_label("Location").fill("杭州市西湖区北山街88号")
    shoot(page, "01-officer-new-application")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("(draft)")
    page.get_by_label("Summary").fill("盘查时被嫌疑人踢伤")
    page.get_by_label("What happened").fill("民警依法盘查，嫌疑人拒不配合并踢打民警腿部。")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Was a weapon used?").select_option(label="None")
    page.get_by_label("How many attackers?").fill("1")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator("main .list-group").get_by_text(world.officer.full_name)).to_be_visible()
    page.get_by_label("Name").fill("辅警 李明")
    page.get_by_label("Officer type").select_option(label="Auxiliary officer")
    page.get_by_label("Injury").select_option(label="Slight injury")
    page.get_by_role("button", name="Add officer").click()
    expect(page.locator("main .list-group").get_by_text("辅警 李明")).to_be_visible()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Name").fill("张某")
    page.get_by_role("button", name="Add suspect").click()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Green-channel emergency medical care").check()
    page.get_by_label("Legal service").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Evidence file").set_input_files(str(photo))
    page.get_by_label("Description").fill("伤情照片")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="injury.png")).to_be_visible()
    shoot(page, "02-officer-evidence")
    page.get_by_role("link", name="Continue").click()

    shoot(page, "03-officer-review")
    page.get_by_role("button", name="Submit").click()
    case = Case.objects.get()
    expect(page.locator(".alert-success")).to_contain_text(
        f"Your application {case.reference} is with the rights-protection office. A supervisor will review it by "
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    expect(page.locator("h1 .badge")).to_have_text("Intake")
    shoot(page, "04-officer-submitted")
    assert Attachment.objects.get(case=case).original_name == "injury.png"

    page.get_by_role("button", name="Log out").click()
    log_in(page, base, "supervisor")
    # Supervisors land on the dashboard; the queue is one link away.
    expect(page).to_have_url(re.compile(r"/$"))
    page.get_by_role("link", name="Queue", exact=True).click()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    page.locator("main").get_by_label("Search", exact=True).fill(case.reference)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    shoot(page, "05-supervisor-queue")
    page.get_by_role("link", name=case.reference).click()

    act(page, "Refer", {"Handling unit": f"value={world.county.pk}", "Track": "Criminal"})
    act(page, "Acknowledge", {"Handling unit's case number": "杭西公刑立字〔2026〕118号"})
    shoot(page, "06-supervisor-supervision")
    act(
        page,
        "Conclude",
        {"Reason (if a suspect has no final disposition, or the reason above is “other”)": "嫌疑人已刑事立案，待审判"},
    )
    act(
        page,
        "Close",
        checks=("The officer has been informed of the outcome", "The disposition is consistent with the facts"),
    )
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    shoot(page, "07-supervisor-closed")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_reopen_from_look_back(page: Page, live_server, world, shoot):
    case = case_in(world, CaseStatus.LOOK_BACK)
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    act(page, "Reopen", {"Problem found": "Downgraded handling", "Detail": "拘留天数与伤情不符"})
    expect(page.locator("h1 .badge")).to_have_text("Supervision")
    expect(page.get_by_text("拘留天数与伤情不符")).to_be_visible()
    shoot(page, "08-supervisor-reopened")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPERVISION


def test_stale_action_keeps_what_was_typed(page: Page, live_server, world):
    case = case_in(world, CaseStatus.INTAKE)
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("button", name="Reject", exact=True).first.click()
    expect(page.locator("#action-reject.collapse.show")).to_be_visible()
    page.locator("#action-reject").get_by_label("Reason").fill("与12389热线案件重复")
    # Someone else acts on the case meanwhile.
    services.add_note(case=case, by=world.county_supervisor, text="已电话核实")
    page.locator("#action-reject").get_by_role("button", name="Reject", exact=True).click()
    # Back on the case page, which says what changed and gives the reason back in the re-opened panel.
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator("#kept-notice")).to_contain_text(f"This case was changed by {world.county_supervisor} at ")
    expect(page.locator("#kept-notice")).to_contain_text("(Internal note: 已电话核实)")
    expect(page.locator("#action-reject.collapse.show")).to_be_visible()
    expect(page.locator("#action-reject").get_by_label("Reason")).to_have_value("与12389热线案件重复")
    case.refresh_from_db()
    assert case.status == CaseStatus.INTAKE


def test_queue_tells_downgrades_from_review_prompts_and_links_to_the_rule(page: Page, live_server, world, shoot):
    downgrade = attack(world, Disposition.ADMIN_FINE)
    prompt = obstruction_left_alone(world)
    flagging.flag_cases()
    log_in(page, live_server.url, "supervisor")
    expect(page).to_have_url(re.compile(r"/$"))
    page.get_by_role("link", name="Queue", exact=True).click()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    rows = page.locator("#queue-results tbody tr")
    expect(rows.filter(has_text=downgrade.reference).locator(".badge", has_text="Downgraded")).to_be_visible()
    expect(rows.filter(has_text=prompt.reference).locator(".badge", has_text="Review prompt")).to_be_visible()
    expect(rows.filter(has_text=prompt.reference).locator(".badge", has_text="Downgraded")).to_have_count(0)

    # The filter: review prompts only (htmx replaces the results as the box is ticked).
    page.locator("#queue-filters").get_by_label("Review prompt", exact=True).check()
    expect(page.get_by_role("link", name=downgrade.reference)).to_have_count(0)
    expect(page.get_by_role("link", name=prompt.reference)).to_be_visible()
    shoot(page, "11-queue-review-prompts")

    page.get_by_role("link", name=prompt.reference).click()
    flag = page.locator("[data-flag-kind=review_prompt]")
    expect(flag).to_contain_text("Review prompt: the rule rests on material not verified from the official text")
    shoot(page, "12-case-review-prompt")
    flag.get_by_role("link", name="The rule in the catalogue").click()
    expect(page).to_have_url(re.compile(r"/rules/#rule-R7-2025-01-18$"))
    version = page.locator("#rule-R7-2025-01-18")
    expect(version).to_be_in_viewport()
    expect(version).to_contain_text("Review prompt")
    expect(version).to_contain_text("Not every part of this rule is verified against the official text")
    shoot(page, "13-rule-catalogue")


def test_chinese_interface(page: Page, live_server, world, shoot):
    case = case_in(world, CaseStatus.SUPERVISION)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_label("用户名").fill("supervisor")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("h1 .badge")).to_have_text("督办")
    expect(page.get_by_role("heading", name="办理动态")).to_be_visible()
    shoot(page, "09-chinese-case-page")
    page.goto(f"{live_server.url}/queue/")
    shoot(page, "10-chinese-queue")


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id)"""


def test_every_form_control_has_a_label_and_focus_is_visible(page: Page, live_server, world):
    case = case_in(world, CaseStatus.SUPERVISION)
    log_in(page, live_server.url, "supervisor")
    for path in ("/queue/", f"/cases/{case.pk}/", "/notifications/", "/accounts/password_change/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(UNLABELLED) == [], path
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "officer")
    for path in ("/cases/new/", "/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(UNLABELLED) == [], path
    # Keyboard users see where they are: the focused control gets a visible outline.
    page.goto(f"{live_server.url}/cases/new/")
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
