"""Every page speaks the reader's language in sentences: no field names, codes or ISO timestamps in what users see.

The Chinese interface is walked as officer, supervisor and administrator over every main page (home, queue, the
case page in each status, notifications, reports, the rule catalogue, each filing step); the visible text of each
page is searched for identifier-looking ASCII (snake_case, UPPER_CASE codes, dotted.names) and ISO dates. The
allow-list names what users do know: case references (RG-…), rule codes (R7, S2), file formats, article numbers.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import services as account_services
from cases import flagging, notifications, services
from cases.choices import CaseStatus, Disposition
from cases.models import Case, CaseEvent, Notification
from cases.views.filing import STEP_NAMES
from tests.cases.test_severity import attack, obstruction_left_alone
from tests.e2e.test_browser import log_in
from tests.factories import PASSWORD, case_in, draft

pytestmark = pytest.mark.django_db(transaction=True)

# Identifier-looking ASCII: snake_case names, UPPER_CASE codes (two letters or more, with or without underscores),
# dotted.names (module or field paths), and ISO dates or timestamps.
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
UPPER = re.compile(r"\b[A-Z][A-Z0-9]{1,}(?:_[A-Z0-9]+)*\b")
DOTTED = re.compile(r"\b[a-z][a-z0-9]*(?:\.[a-z_][a-z0-9_]*)+\b")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?)?\b")
# What users know by these letters: the product, file formats, the case references, rule and suppression codes.
ALLOWED_UPPER = {"RG", "CSV", "XLSX", "PDF", "HTML", "API", "ID", "CNY", "JPEG", "PNG", "MP4", "KB", "MB", "GB"}
ALLOWED = re.compile(
    r"RG-\d{4}-\d{6}"  # case references
    r"|(?<![A-Za-z_])R\d+[a-z]?|\bS\d+\b"  # rule and suppression codes
    r"|\bXH-\d{4}-\d+\b"  # the handling unit's own case numbers recorded by the tests
)


def identifiers_in(text: str) -> list[str]:
    """Tokens in ``text`` that read as program identifiers or machine timestamps rather than words."""
    text = ALLOWED.sub(" ", text)
    found = [m.group(0) for m in ISO.finditer(text)]
    found += [m.group(0) for m in SNAKE.finditer(text)]
    found += [m.group(0) for m in DOTTED.finditer(text)]
    found += [m.group(0) for m in UPPER.finditer(text) if m.group(0) not in ALLOWED_UPPER]
    return found


def test_the_detector_finds_what_the_walk_looks_for():
    assert identifiers_in("已修改：narrative, summary") == []  # plain words: not identifiers by themselves
    assert identifiers_in("已修改：could_cause_serious_harm") == ["could_cause_serious_harm"]
    assert identifiers_in("标记：STALLED · IDLE") == ["STALLED", "IDLE"]
    assert identifiers_in("截止 2026-10-31T21:31:16.865090+00:00") == ["2026-10-31T21:31:16.865090+00:00"]
    assert identifiers_in("截止 2026-10-31") == ["2026-10-31"]
    assert identifiers_in("cases.rules.facts") == ["cases.rules.facts"]
    assert identifiers_in("RG-2026-000001 · R7 · S2 · 110 · 330106 · PDF · XLSX · CSV") == []


def walk_world(world) -> dict[str, Case]:
    """A case in every status, a downgrade, a review prompt, a stalled and idle case, an edited draft, and the
    notifications all of it brings."""
    cases = {status: case_in(world, status) for status in CaseStatus.values}
    edited = draft(world)
    services.update_case_details(
        case=edited,
        by=world.officer,
        expected_version=edited.version,
        changes={"summary": "民警盘查时遭踢打", "narrative": "嫌疑人拒不配合，踢打民警腿部。"},
    )
    cases["edited"] = edited
    cases["downgrade"] = attack(world, Disposition.ADMIN_FINE)
    cases["prompt"] = obstruction_left_alone(world)
    stalled = cases[CaseStatus.SUPERVISION]
    long_ago = timezone.now() - timedelta(days=40)
    Case.objects.filter(pk=stalled.pk).update(stage_due_at=long_ago, last_activity_at=long_ago)
    flagging.flag_cases()
    for event_id in CaseEvent.objects.values_list("pk", flat=True):
        notifications.deliver_for_event(event_id)
    return cases


def switch_to_chinese(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")


def log_in_chinese(page: Page, base: str, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("nav form[action$='logout/'] button")).to_be_visible()


def visible_problems(page: Page, path: str) -> list[str]:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    return identifiers_in(page.locator("body").inner_text())


def test_chinese_interface_shows_no_identifiers_or_iso_times(page: Page, live_server, world, shoot):
    base = live_server.url
    cases = walk_world(world)
    assert Notification.objects.filter(recipient=world.county_supervisor).exists()
    assert Notification.objects.filter(recipient=world.officer).exists()
    case_pages = [f"/cases/{c.pk}/" for c in cases.values()]
    filing = [f"/cases/{cases['edited'].pk}/edit/{step}/" for step in STEP_NAMES]
    walks = {
        "officer": ["/", "/notifications/", "/cases/new/", *filing, *case_pages],
        "county_supervisor": ["/", "/queue/", "/queue/?flag=stalled", "/notifications/", "/rules/", *case_pages],
        "admin": ["/", "/reports/", "/notifications/", "/rules/", *case_pages],
    }
    problems: dict[str, list[str]] = {}
    switch_to_chinese(page, base)
    for username, paths in walks.items():
        log_in_chinese(page, base, username)
        for path in paths:
            found = visible_problems(page, f"{base}{path}")
            if found:
                problems[f"{username} {path}"] = sorted(set(found))
        page.goto(f"{base}/notifications/")
        shoot(page, f"text-zh-notifications-{username}")
        page.locator("nav form[action$='logout/'] button").click()
        expect(page.get_by_label("用户名")).to_be_visible()
    assert problems == {}


def english_when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}"


def chinese_when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def choose_language(page: Page, code: str) -> None:
    """The language switch in the navigation bar."""
    page.locator(".lang-form select").select_option(code)
    page.locator(".lang-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if code == "zh-hans" else "en")


def test_notifications_flags_timeline_and_dates_read_in_the_readers_language(page: Page, live_server, world, shoot):
    base = live_server.url
    case = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    note = Notification.objects.get(recipient=world.county_supervisor, case=case, message="flag")
    edited = draft(world)
    services.update_case_details(
        case=edited,
        by=world.officer,
        expected_version=edited.version,
        changes={"summary": "民警盘查时遭踢打", "narrative": "嫌疑人拒不配合，踢打民警腿部。"},
    )

    log_in(page, base, "county_supervisor")
    page.goto(f"{base}/notifications/")
    row = page.locator("main .list-group-item", has_text=re.compile(rf"{case.reference}.*\bR1\b"))
    expect(row.locator("a")).to_have_text(
        f"The flag scan found that {case.reference} may have been handled below the minimum the law calls for: "
        "Violent attack on an officer on duty (rule R1) — review the disposition before the case concludes."
    )
    expect(row.locator(".small")).to_have_text(english_when(note.created_at))
    shoot(page, "text-en-notifications")
    page.goto(f"{base}/cases/{case.pk}/")
    flag = page.locator("[data-flag-kind=downgraded]")
    expect(flag.locator(".text-body-secondary")).to_have_text(
        "Incident date: 1 Jun 2025 · Incident type: Violent attack · Officers attacked: 1 · "
        "Worst injury: Slight injury · Outcome recorded: Administrative fine"
    )
    expect(page.locator("ol.timeline li.flag_raised")).to_contain_text(
        "Flag raised (Downgraded): R1 Violent attack on an officer on duty"
    )
    shoot(page, "text-en-case-flag")

    choose_language(page, "zh-hans")
    page.goto(f"{base}/notifications/")
    row = page.locator("main .list-group-item", has_text=re.compile(rf"{case.reference}.*\bR1\b"))
    # The same stored notification, rendered for a reader of Chinese: the rule's Chinese title, the Chinese date.
    expect(row.locator("a")).to_contain_text("暴力袭击正在依法执行职务的民警")
    expect(row.locator(".small")).to_have_text(chinese_when(note.created_at))
    shoot(page, "text-zh-notifications")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("[data-flag-kind=downgraded] .text-body-secondary")).to_have_text(
        "事发日期: 2025年6月1日 · 侵权类型: 暴力袭击 · 被袭民警人数: 1 · 最重伤情: 轻微伤 · 已记录的处理结果: 罚款"
    )
    expect(page.locator("ol.timeline li.flag_raised")).to_contain_text(
        "发出预警 (降格处理): R1 暴力袭击正在依法执行职务的民警"
    )
    shoot(page, "text-zh-case-flag")
    page.locator("nav form[action$='logout/'] button").click()

    page.get_by_label("用户名").fill("officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto(f"{base}/cases/{edited.pk}/")
    changed = page.locator("ol.timeline li.updated")
    expect(changed).to_contain_text("已修改：事件经过")
    expect(changed).to_contain_text("摘要")
    expect(changed).not_to_contain_text("narrative")
    shoot(page, "text-zh-timeline")
    choose_language(page, "en")
    expect(page.locator("ol.timeline li.updated")).to_contain_text("Changed: Summary, What happened")
    shoot(page, "text-en-timeline")


def test_unit_names_follow_the_interface_language(page: Page, live_server, world, shoot):
    base = live_server.url
    account_services.rename_org_unit(unit=world.station, name="北山派出所", name_en="Beishan Police Station")
    account_services.rename_org_unit(unit=world.county, name="西湖区分局", name_en="Xihu District Branch")
    case = case_in(world, CaseStatus.SUPERVISION)
    year = timezone.localtime(case.submitted_at or timezone.now()).year

    log_in(page, base, "admin")
    page.goto(f"{base}/cases/{case.pk}/")
    header = page.locator("main h1 + div")
    expect(header).to_contain_text("Beishan Police Station")
    expect(header).not_to_contain_text("北山派出所")
    expect(page.locator("main dl").first).to_contain_text("Beishan Police Station")
    shoot(page, "text-en-unit-case")
    page.goto(f"{base}/reports/?unit=330106&year={year}")
    expect(page.locator("main")).to_contain_text("Beishan Police Station (330106001)")
    expect(page.locator("main")).not_to_contain_text("北山派出所")
    shoot(page, "text-en-unit-report")

    choose_language(page, "zh-hans")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("main h1 + div")).to_contain_text("北山派出所")
    expect(page.locator("main")).not_to_contain_text("Beishan Police Station")
    shoot(page, "text-zh-unit-case")
    page.goto(f"{base}/reports/?unit=330106&year={year}")
    expect(page.locator("main")).to_contain_text("北山派出所 (330106001)")
    expect(page.locator("main")).not_to_contain_text("Beishan Police Station")
    shoot(page, "text-zh-unit-report")
