"""In a real browser: the officer reads notifications that say who did what and what to do, opens one (it becomes
read), marks another read, filters to the unread ones; then chooses how each kind reaches them, in English and
Chinese."""

import pytest
from playwright.sync_api import Page, expect

from accounts import services as account_services
from cases import notifications, services
from cases.choices import CaseStatus, NotificationDelivery, Track
from cases.models import Case, CaseEvent, NotificationPreference, Referral
from tests.e2e.test_browser import log_in
from tests.factories import case_in, due_day

pytestmark = pytest.mark.django_db(transaction=True)


def referred_and_acknowledged(world) -> Case:
    world.supervisor.full_name = "赵敏"
    world.supervisor.save(update_fields=["full_name"])
    account_services.rename_org_unit(unit=world.county, name="西湖区分局", name_en="Xihu District Branch")
    case = case_in(world, CaseStatus.INTAKE)
    case = services.refer_case(
        case=case, by=world.supervisor, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
    )
    case = services.acknowledge_referral(
        case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-2026-118"
    )
    for event in CaseEvent.objects.filter(case=case, action__in=["refer", "acknowledge"]):
        notifications.deliver_for_event(event.pk)  # a no-op if the on-commit delivery already ran
    return case


def test_reading_notifications_and_choosing_how_they_arrive(page: Page, live_server, world):
    case = referred_and_acknowledged(world)
    ref = case.reference
    due = due_day(Referral.objects.get(case=case).due_at)
    referred = (
        f"赵敏 referred {ref} to Xihu District Branch — it is to be acknowledged by {due}; nothing is needed from you."
    )
    acknowledged = (
        f"赵敏 recorded that Xihu District Branch acknowledged {ref} — its handling is now supervised; nothing is "
        "needed from you."
    )
    log_in(page, live_server.url, "officer")
    page.get_by_role("link", name="Notifications").click()
    inbox = page.locator("#inbox")
    expect(page.locator("#inbox-counts")).to_contain_text("You have 2 unread notifications.")
    expect(inbox.get_by_role("link")).to_have_text([acknowledged, referred])  # newest first
    expect(page.locator("#inbox-position")).to_have_text("1–2 of 2")

    # Opening one takes the officer to the case and marks it read.
    inbox.get_by_role("link", name=referred).click()
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#inbox-counts")).to_contain_text("You have 1 unread notification.")
    read_row = page.locator("[data-state=read]")
    expect(read_row.get_by_role("link")).to_have_text(referred)

    # Unread only, then mark the other read without opening it.
    page.get_by_label("Show").select_option(label="Unread only")
    page.get_by_role("button", name="Filter").click()
    expect(inbox.get_by_role("link")).to_have_text([acknowledged])
    inbox.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_role("status")).to_have_text("The notification is marked as read.")
    expect(page).to_have_url(f"{live_server.url}/notifications/?show=unread&kind=")
    expect(inbox).to_have_text("No notifications.")
    expect(page.locator("#inbox-counts")).to_contain_text("You have 0 unread notifications.")

    # The settings, from the account menu: in-app only for case moves, the daily digest for support answers.
    page.get_by_role("link", name="Notification settings").first.click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    expect(page.get_by_role("group", name="Case moves").get_by_label("E-mail at once")).to_be_checked()
    page.get_by_role("group", name="Case moves").get_by_label("In-app only").check()
    page.get_by_role("group", name="Support answers").get_by_label("Daily digest e-mail").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Your notification settings are saved.")
    expect(page.get_by_role("group", name="Case moves").get_by_label("In-app only")).to_be_checked()
    chosen = dict(NotificationPreference.objects.filter(user=world.officer).values_list("kind", "delivery"))
    assert (chosen["case_moves"], chosen["support_answers"], chosen["flags"]) == (
        NotificationDelivery.IN_APP,
        NotificationDelivery.DAILY,
        NotificationDelivery.EMAIL,
    )

    # The same page in Chinese.
    page.get_by_label("Language").select_option(label="简体中文")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="通知设置")).to_be_visible()
    expect(page.get_by_role("group", name="案件流转").get_by_label("仅站内通知")).to_be_checked()
    expect(page.get_by_role("group", name="保障申请答复").get_by_label("每日汇总邮件")).to_be_checked()
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#inbox").get_by_role("link").first).to_have_text(
        f"赵敏已记录西湖区分局确认接收 {ref}——案件已进入督办；您无需做任何处理。"
    )
