"""The search box in the top bar, in a real browser: a supervisor finds cases by an officer's name, an English word,
a suspect's ID number and one- and two-character Chinese words, in English and in Chinese, and each result says
which field matched (never the ID number). Chinese texts are read from the catalogue, so the test holds as it is
translated."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from cases import services
from cases.choices import CaseStatus
from tests.e2e.test_browser import log_in
from tests.e2e.test_people_and_progress import log_in_chinese
from tests.factories import case_in

pytestmark = pytest.mark.django_db(transaction=True)

ID_NUMBER = "11010119800101001X"


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def search_from_the_top_bar(page: Page, label: str, button: str, text: str) -> None:
    page.get_by_role("navigation").get_by_label(label).fill(text)
    page.get_by_role("navigation").get_by_role("button", name=button, exact=True).click()
    expect(page).to_have_url(re.compile(r"/search/\?q="))


def test_a_supervisor_searches_from_the_top_bar_in_english_and_chinese(page: Page, live_server, world, shoot):
    neutral = {"location": "某地", "narrative": "经过"}
    attacked = case_in(world, CaseStatus.INTAKE, summary="路遇袭警事件", **neutral)
    lakeside = case_in(world, CaseStatus.INTAKE, summary="事件", location="Lakeside Road 7", narrative="经过")
    named = case_in(world, CaseStatus.INTAKE, summary="事件", **neutral)
    services.add_involved_officer(case=named, by=world.supervisor, name="王磊")
    services.add_suspect(case=named, by=world.supervisor, name="赵某", id_number=ID_NUMBER)
    base = live_server.url

    log_in(page, base, "supervisor")
    search_from_the_top_bar(page, "Search cases", "Search", "王磊")
    results = page.locator("#search-results")
    expect(results).to_contain_text(named.reference)
    expect(results).to_contain_text("Matched: officer name “王磊”.")
    expect(results).not_to_contain_text(attacked.reference)
    shoot(page, "search-01-officer-name")

    search_from_the_top_bar(page, "Search cases", "Search", "lakeside")
    expect(results).to_contain_text(lakeside.reference)
    expect(results).to_contain_text("Matched: location “Lakeside Road 7”.")

    search_from_the_top_bar(page, "Search cases", "Search", "110101 19800101001x")
    expect(results).to_contain_text(named.reference)
    expect(results).to_contain_text("Matched: a suspect's ID number (not shown).")
    expect(page.locator("main")).not_to_contain_text(ID_NUMBER)

    log_in_chinese(page, base, "supervisor")
    for word in ("袭警", "袭"):
        search_from_the_top_bar(page, zh("Search cases"), zh("Search"), word)
        expect(results).to_contain_text(attacked.reference)
        expect(results).to_contain_text(zh("Matched: summary “%(value)s”.") % {"value": "路遇袭警事件"})
        expect(results).not_to_contain_text(named.reference)
    shoot(page, "search-02-two-characters-zh")
    # What was searched for stays in the page's own search box, to refine it.
    expect(page.locator("main").locator("input[name=q]")).to_have_value("袭")
