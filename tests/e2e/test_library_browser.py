"""The typical-case library in a real Chromium: a supervisor proposes a closed case from its page, accepts the proposed
replacements and drafts the rest, sends it for approval; the administrator approves and publishes it; an officer reads
it on a phone (nothing wider than the screen), says it was useful, and the read is counted once."""

import pytest
from playwright.sync_api import Page, expect

from library.models import LibraryFeedback, LibraryRead, WriteUp
from tests.e2e.test_browser import log_in
from tests.library.conftest import Lib, build_lib

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture
def lib(transactional_db) -> Lib:
    return build_lib()


def as_user(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username)


def test_propose_draft_anonymise_approve_publish_and_read_on_a_phone(page: Page, live_server, lib, shoot):
    base = live_server.url
    as_user(page, base, "supervisor")
    page.goto(f"{base}/cases/{lib.case.pk}/")
    page.get_by_role("button", name="Propose as a typical case").click()
    expect(page.locator("#writeup-state")).to_have_text("Proposed")
    # The proposal, as a diff: the suspect's name becomes a role, the ID number what it is.
    diff = page.locator(".writeup-diff").filter(has_text="嫌疑人A").first
    expect(diff.locator("del").filter(has_text="张三").first).to_be_visible()
    expect(page.locator("#leftovers")).to_contain_text("an ID number")
    shoot(page, "library-proposal")
    page.get_by_role("button", name="Accept all proposed replacements").click()
    expect(page.locator("#no-leftovers")).to_be_visible()
    form = page.locator("#writeup-form")
    form.get_by_label("How it was handled (Chinese)").fill("现场控制嫌疑人，固定执法记录仪视频，依法移送起诉。")
    form.get_by_label("Outcome (Chinese)").fill("嫌疑人A被判处有期徒刑十个月。")
    form.get_by_label("Lessons for officers (Chinese)").fill("遇车辆冲撞先避让，保全视频证据，及时呼叫支援。")
    form.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#writeup-state")).to_have_text("Being drafted")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.locator("#writeup-state")).to_have_text("Awaiting approval")
    writeup = WriteUp.objects.get()

    as_user(page, base, "admin")
    page.goto(f"{base}/library/manage/{writeup.pk}/")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator("#writeup-state")).to_have_text("Published")

    as_user(page, base, "other_officer")
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/library/")
    page.get_by_role("link", name="处警时遭嫌疑人A驾车冲撞").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("处警时遭嫌疑人A驾车冲撞")
    expect(page.locator("article")).to_contain_text("遇车辆冲撞先避让")
    assert page.evaluate(PAGE_WIDTH) <= PHONE["width"]
    shoot(page, "library-phone")
    page.get_by_role("button", name="Yes").click()
    expect(page.locator("#feedback-given")).to_be_visible()
    page.reload()
    assert list(LibraryRead.objects.values_list("reader__username", "unit__code")) == [("other_officer", "330106002")]
    assert list(LibraryFeedback.objects.values_list("reader__username", "useful")) == [("other_officer", True)]
    # The source case is not named to a reader who cannot see it.
    expect(page.locator("#source-case")).to_have_count(0)
