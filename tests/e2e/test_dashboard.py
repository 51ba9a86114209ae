"""The supervisor's dashboard in a real browser, in English and Chinese: every figure is a link whose accessible
name is a sentence, and following it shows the queue with exactly that many cases."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tests.cases.test_dashboard import office  # noqa: F401  (the fixture)
from tests.e2e.test_browser import log_in
from tests.e2e.test_people_and_progress import log_in_chinese, zh

pytestmark = pytest.mark.django_db(transaction=True)


def queue_count(page: Page) -> int:
    """The count the queue states: "7 cases", or "Cases 1–7 of 7" (the total is the last number)."""
    summary = page.locator("#queue-position")
    expect(summary).to_be_visible()
    return int(re.findall(r"\d+", summary.inner_text())[-1])


def follow_every_figure(page: Page, base: str, sentence_end: str) -> list[tuple[str, int, int]]:
    """Each figure of the dashboard: its accessible name, its number, and the queue's count behind the link."""
    page.goto(f"{base}/")
    # The figures of cases (a panel another part of the application adds, such as the open early warnings, leads to
    # its own page: it is not a count of the queue's).
    figures = 'a.dash-figure[href^="/queue/"]'
    links = page.locator(figures)
    total = links.count()
    assert total > 30
    assert page.locator("a.dash-figure").count() == total + page.locator("[data-panel] a.dash-figure").count()
    seen = []
    for i in range(total):
        page.goto(f"{base}/")
        link = page.locator(figures).nth(i)
        name, number = link.get_attribute("aria-label"), int(link.inner_text())
        assert name.startswith(str(number)) or str(number) in name
        assert name.endswith(sentence_end)
        link.click()
        expect(page).to_have_url(re.compile(r"/queue/\?"))
        seen.append((name, number, queue_count(page)))
    return seen


def test_a_supervisor_follows_each_figure_to_the_same_count_in_the_queue(page: Page, live_server, world, office, shoot):  # noqa: F811
    cache.clear()
    log_in(page, live_server.url, "supervisor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard of")
    overdue = page.get_by_role("link", name="2 open cases are overdue. Show these cases in the queue.")
    expect(overdue).to_have_text("2")
    expect(page.locator("th[aria-sort=ascending]")).to_have_count(1)
    shoot(page, "dashboard-01-city-supervisor")
    seen = follow_every_figure(page, live_server.url, "Show these cases in the queue.")
    assert [s for s in seen if s[1] != s[2]] == []
    assert sum(s[1] for s in seen) > 0

    # The sub-unit table sorts on the server; the heading says how.
    page.goto(f"{live_server.url}/?unit={world.county.code}")
    page.locator("#dash-units").locator("xpath=..").get_by_role("link", name=re.compile("^Open cases")).click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Open cases")
    shoot(page, "dashboard-02-county-sorted")


def test_the_dashboard_in_chinese_links_to_the_same_counts(page: Page, live_server, world, office, shoot):  # noqa: F811
    cache.clear()
    log_in_chinese(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    shoot(page, "dashboard-03-chinese")
    seen = follow_every_figure(page, live_server.url, zh("Show these cases in the queue."))
    assert [s for s in seen if s[1] != s[2]] == []

    # A unit outside the subtree is refused beside the picker, and nothing is counted.
    page.goto(f"{live_server.url}/?unit={world.sibling_province.code}")
    expect(page.locator("#dashboard-unit .invalid-feedback")).to_have_text(
        zh("Choose one of your own units; that unit is not among them.")
    )
    expect(page.locator("a.dash-figure")).to_have_count(0)
