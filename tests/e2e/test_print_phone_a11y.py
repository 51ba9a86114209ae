"""Printing, phones and accessibility, in a real Chromium: the print layout and the case sheet, the case lists and the
case page at 390 px, the navigation's contrast and current page, and axe-core on every main page, for each role, in
English and Chinese, at desktop and phone sizes (with a screenshot of each page under test-output/screenshots/)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from cases import services
from cases.choices import CaseStatus, FindingProblem
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import PASSWORD, case_in, draft

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ID_NUMBER = "330106199001011234"


def sign_in(page: Page, base: str, username: str, language: str = "en") -> None:
    """A fresh session as ``username`` with the interface in ``language`` (the language cookie, as the switch sets)."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("#id_username")).to_have_count(0)


@pytest.fixture
def worked_case(world):
    """A case in supervision with an injured officer, an identified suspect and a supervision finding."""
    case = case_in(world, CaseStatus.SUPERVISION)
    services.add_involved_officer(case=case, by=world.supervisor, name="辅警 李明", medical_notes="右胫骨骨折")
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.NOT_HANDLED, detail="未及时立案")
    case.refresh_from_db()
    return case


# --- printing -------------------------------------------------------------------------------------------------------


def test_a_printed_case_page_is_the_record_without_navigation_buttons_or_reveal(
    page: Page, live_server, world, worked_case
):
    base = live_server.url
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{worked_case.pk}/")
    expect(page.get_by_role("button", name="Reveal").first).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    reveals = page.get_by_role("button", name="Reveal", include_hidden=True)
    expect(reveals).to_have_count(2)
    for reveal in reveals.all():
        expect(reveal).to_be_hidden()
    expect(page.get_by_role("heading", name="Actions")).to_be_hidden()
    expect(page.get_by_role("heading", name="Handling")).to_be_hidden()
    expect(page.get_by_role("link", name="Case sheet (PDF)")).to_be_hidden()
    visible_buttons = page.evaluate(
        "() => Array.from(document.querySelectorAll('button, .btn')).filter(e => e.offsetParent !== null).length"
    )
    assert visible_buttons == 0
    # The record itself is all there, the masked values as masks.
    expect(page.get_by_role("heading", level=1)).to_contain_text(worked_case.reference)
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_text("330*************34")).to_be_visible()
    expect(page.get_by_text("未及时立案")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "page-case-print-en.png"), full_page=True)


def test_the_case_sheet_downloads_from_the_case_page_for_a_supervisor_only(page: Page, live_server, world, worked_case):
    base = live_server.url
    sign_in(page, base, "supervisor", "zh-hans")
    page.goto(f"{base}/cases/{worked_case.pk}/")
    with page.expect_download() as info:
        page.locator(f"a[href='/cases/{worked_case.pk}/sheet.pdf']").click()
    download = info.value
    assert download.suggested_filename == f"{worked_case.reference}-case-sheet.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    sign_in(page, base, "officer")
    page.goto(f"{base}/cases/{worked_case.pk}/")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.locator(f"a[href='/cases/{worked_case.pk}/sheet.pdf']")).to_have_count(0)


# --- phones ---------------------------------------------------------------------------------------------------------

INSIDE = """(e) => {
  const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth;
}"""
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


def test_at_390_px_every_column_of_the_lists_is_on_screen_and_the_actions_come_first(
    page: Page, live_server, world, worked_case
):
    base = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, base, "officer")
    row = page.locator("main tbody tr").filter(has_text=worked_case.reference)
    # Reference, incident type, status, stage due, latest event: all five on screen.
    for column in range(1, 6):
        cell = row.locator(f"td:nth-child({column})")
        expect(cell).to_be_visible()
        assert cell.evaluate(INSIDE), column
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]

    sign_in(page, base, "supervisor")
    # The supervisor lands on the dashboard, which fits the phone too; then the queue.
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]
    page.goto(f"{base}/queue/")
    row = page.locator("#queue-rows tr").filter(has_text=worked_case.reference)
    # The bulk checkbox, reference, incident, status and deadline; unit, last activity and assignee (5th, 7th and 8th)
    # are left out on phones.
    for column in (1, 2, 3, 4, 6):
        cell = row.locator(f"td:nth-child({column})")
        expect(cell).to_be_visible()
        assert cell.evaluate(INSIDE), column
    expect(row.locator("td:nth-child(6)")).to_contain_text("days left")
    for column in (5, 7, 8):
        expect(row.locator(f"td:nth-child({column})")).to_be_hidden()
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]

    page.goto(f"{base}/cases/{worked_case.pk}/")
    actions = page.get_by_role("heading", name="Actions").bounding_box()
    facts = page.get_by_text("What happened", exact=True).bounding_box()
    timeline = page.get_by_role("heading", name="Timeline").bounding_box()
    assert actions is not None
    assert facts is not None
    assert timeline is not None
    assert actions["y"] < facts["y"] < timeline["y"]
    assert actions["y"] < PHONE["height"]  # on the first screen
    conclude = page.get_by_role("button", name="Conclude", exact=True).first.bounding_box()
    assert conclude is not None
    assert actions["y"] < conclude["y"] < facts["y"]
    # Handling and notes, as on a wide screen, come with the record, after it.
    handling = page.get_by_role("heading", name="Handling").bounding_box()
    assert handling is not None
    assert handling["y"] > timeline["y"]
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]
    # On a wide screen the actions stay in the side column, level with the facts.
    page.set_viewport_size(DESKTOP)
    actions = page.get_by_role("heading", name="Actions").bounding_box()
    facts = page.get_by_text("What happened", exact=True).bounding_box()
    assert actions is not None
    assert facts is not None
    assert actions["x"] > facts["x"] + 500
    assert actions["y"] < facts["y"]
    expect(page.locator("main")).not_to_contain_text("{#")
    # The forms are the same ones, not a copy for phones.
    assert page.locator("#actions").count() == 1
    assert page.locator("form[action$='/actions/conclude/']").count() == 1


# --- navigation, log-in, favicon ------------------------------------------------------------------------------------

CONTRAST = """(e) => {
  const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let bg = e; while (bg && getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
  const fore = lum(rgb(getComputedStyle(e).color)), back = lum(rgb(getComputedStyle(bg).backgroundColor));
  const [a, b] = [fore, back].sort((x, y) => y - x);
  return Math.round((a + 0.05) / (b + 0.05) * 100) / 100;
}"""


def test_navigation_reads_at_aa_marks_the_current_page_and_nothing_is_missing(page: Page, live_server, world):
    base = live_server.url
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(f"{base}/accounts/login/")
    # The log-in fields are Bootstrap inputs like every other form's.
    for field in ("#id_username", "#id_password"):
        expect(page.locator(field)).to_have_class("form-control")
    sign_in(page, base, "supervisor")
    nav = page.get_by_role("navigation", name="Main")
    # A supervisor lands on the dashboard.
    dashboard = nav.get_by_role("link", name="Dashboard")
    expect(dashboard).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    rules = nav.get_by_role("link", name="Rules")
    assert rules.evaluate(CONTRAST) == 7.56  # #d6e0f2 on #0b3d91
    assert dashboard.evaluate(CONTRAST) == 10.04  # the current page: white
    rules.click()
    expect(nav.get_by_role("link", name="Rules")).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    page.goto(f"{base}/admin/")  # the admin site links no icon: the browser asks for /favicon.ico
    expect(page.locator("#site-name")).to_be_visible()
    assert missing == []
    icon = page.request.get(f"{base}/favicon.ico")
    assert icon.ok
    assert icon.headers["content-type"] == "image/svg+xml"


# --- axe-core on every main page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    name: str
    path: str
    heading: str  # a selector that shows the page rendered (not an error page)


def visits(world, case, draft_case) -> dict[str, list[Visit]]:
    c, d = case.pk, draft_case.pk
    return {
        "": [Visit("login", "/accounts/login/", "#id_username")],
        "officer": [
            Visit("home", "/", "main table"),
            Visit("new-application", "/cases/new/", "main form"),
            *(Visit(f"filing-{step}", f"/cases/{d}/edit/{step}/", "main h1") for step in FILING_STEPS),
            Visit("case-officer", f"/cases/{c}/", ".timeline"),
            Visit("notifications", "/notifications/", "main h1"),
            Visit("notification-settings", "/notifications/settings/", "main form"),
            Visit("rules", "/rules/", "main h1"),
            Visit("password-change", "/accounts/password_change/", "#id_old_password"),
            Visit("api-tokens", "/accounts/tokens/", "main h1"),
            Visit("two-factor", "/accounts/mfa/setup/", "main h1"),
        ],
        "supervisor": [
            Visit("dashboard", "/", "#dash-summary"),
            Visit("queue", "/queue/", "#queue-rows"),
            Visit("case", f"/cases/{c}/", "#actions"),
            Visit("reports", "/reports/", "main h1"),
            Visit("notifications-supervisor", "/notifications/", "main h1"),
        ],
        "admin": [
            Visit("reports-admin", "/reports/", "main h1"),
            Visit("case-admin", f"/cases/{c}/", ".timeline"),
            Visit("administration", "/admin/", "#site-name"),
        ],
    }


FILING_STEPS = ("incident", "narrative", "facts", "officers", "suspects", "support", "evidence", "review")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_finds_no_serious_violation_on_any_main_page(page: Page, live_server, world, worked_case, language, size):
    base = live_server.url
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    draft_case = draft(world)
    services.add_note(case=worked_case, by=world.officer, text="已电话告知当事民警")
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    # The pages' Content-Security-Policy refuses an injected <script> element (add_script_tag) as inline script;
    # an init script is handed to the browser directly, before each page's own scripts, and leaves the policy on.
    page.add_init_script(path=str(AXE))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict]] = {}
    checked: list[str] = []
    for role, pages in visits(world, worked_case, draft_case).items():
        if role:
            sign_in(page, base, role, language)
        else:
            page.context.clear_cookies()
            page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
        for visit in pages:
            response = page.goto(f"{base}{visit.path}")
            assert response is not None
            assert response.status == 200, (visit.name, response.status)
            expect(page.locator(visit.heading).first).to_be_attached()
            # The admin site writes the language code as Django spells it (zh-hans), the pages as BCP 47 (zh-Hans).
            expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{language}$", re.IGNORECASE))
            violations = page.evaluate(RUN_AXE)
            if violations:
                found[f"{visit.name} ({role or 'anonymous'})"] = violations
            checked.append(visit.name)
            lang = "zh" if language == "zh-hans" else "en"
            page.screenshot(path=str(SCREENSHOTS / f"page-{visit.name}-{lang}-{size}.png"), full_page=True)
    assert len(checked) == 26
    listed = json.dumps(found, ensure_ascii=False, indent=1)
    assert found == {}, f"serious or critical accessibility violations:\n{listed}"
