"""In a real browser: what the filer reads of his case and what stays with the office, a support request answered
on the request itself, and the facts shown read-only and asked by incident type; in English and in Chinese."""

import pytest
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from cases import flagging, services
from cases.choices import Disposition, FindingProblem, SupportKind, SupportStatus
from cases.models import CaseEvent, Notification, SupportMeasure
from cases.rules.facts import FACTS
from cases.services.support_requests import set_requested_support
from tests.cases.test_severity import attack
from tests.e2e.test_browser import log_in
from tests.factories import draft

pytestmark = pytest.mark.django_db(transaction=True)

# Values are spelled out (a note's visibility "internal"/"shared", the status "approved") so that this file also runs,
# and fails, against the code before these features.

FINDING_DETAIL = "处罚偏轻，应立案侦查"
PHONE_NOTE = "领导电话：此案从轻处理"
SHARED_NOTE = "已电话告知本人处理进展"
FACT_LABELS = {f.name: f.label for f in FACTS}


def zh(text: object) -> str:
    """A label as the Chinese interface shows it."""
    with translation.override("zh-hans"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def to_chinese(page: Page) -> None:
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")


def to_english(page: Page) -> None:
    page.locator("#language").select_option("en")
    page.locator(".lang-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def log_out(page: Page) -> None:
    page.context.clear_cookies()


# --- item 7: the filer does not read the office's internal material ---------------------------------------------


def test_the_filer_reads_his_case_without_the_offices_internal_material(page: Page, live_server, world, shoot):
    case = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.DOWNGRADED, detail=FINDING_DETAIL)
    base = live_server.url

    # The supervisor writes one note for the office (the default) and one for the officer.
    log_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("[data-flag-kind=downgraded]")).to_be_visible()
    note = page.locator("form[action$='/notes/']")
    expect(note.get_by_label("Who may read it")).to_have_value("internal")
    note.get_by_label("Note").fill(PHONE_NOTE)
    note.get_by_role("button", name="Add note").click()
    expect(page.locator(".alert-success")).to_contain_text("Note added.")
    note.get_by_label("Note").fill(SHARED_NOTE)
    note.get_by_label("Who may read it").select_option("shared")
    note.get_by_role("button", name="Add note").click()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(f"Internal note: {PHONE_NOTE}")
    expect(timeline).to_contain_text(f"Note: {SHARED_NOTE}")
    expect(page.get_by_text(FINDING_DETAIL)).to_be_visible()
    shoot(page, "visibility-01-supervisor-sees-everything")
    notes = CaseEvent.objects.filter(case=case, kind="note").order_by("id")
    assert [(e.data["text"], e.data["visibility"]) for e in notes] == [
        (PHONE_NOTE, "internal"),
        (SHARED_NOTE, "shared"),
    ]

    # The officer: his case's status, support and the shared note; no flag box, no finding, no internal note.
    log_out(page)
    log_in(page, base, "officer")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("h1")).to_contain_text(case.reference)
    expect(page.locator("ol.timeline")).to_contain_text(SHARED_NOTE)
    expect(page.locator("[data-flag-kind]")).to_have_count(0)
    expect(page.get_by_text("Expected at least")).to_have_count(0)
    expect(page.get_by_text(FINDING_DETAIL)).to_have_count(0)
    expect(page.get_by_text(PHONE_NOTE)).to_have_count(0)
    expect(page.get_by_role("heading", name="Supervision findings")).to_have_count(0)
    expect(page.locator("ol.timeline li.finding, ol.timeline li.flag_raised")).to_have_count(0)
    # An officer's own note has no visibility to choose: the office reads it, and so does he.
    expect(page.get_by_label("Who may read it")).to_have_count(0)
    shoot(page, "visibility-02-officer-en")

    to_chinese(page)
    expect(page.locator("ol.timeline")).to_contain_text(SHARED_NOTE)
    expect(page.locator("[data-flag-kind]")).to_have_count(0)
    expect(page.get_by_text(zh("Expected at least"))).to_have_count(0)
    expect(page.get_by_text(FINDING_DETAIL)).to_have_count(0)
    expect(page.get_by_text(PHONE_NOTE)).to_have_count(0)
    expect(page.get_by_role("heading", name=zh("Supervision findings"))).to_have_count(0)
    shoot(page, "visibility-03-officer-zh")

    # The API the officer's terminal reads: the same shared timeline, no flags.
    events = page.request.get(f"{base}/api/v1/cases/{case.pk}/events/").json()["results"]
    assert [e["kind"] for e in events if e["kind"] in ("finding", "flag_raised")] == []
    assert [e["data"]["text"] for e in events if e["kind"] == "note"] == [SHARED_NOTE]
    detail = page.request.get(f"{base}/api/v1/cases/{case.pk}/").json()
    assert (detail["open_flags"], detail["expected_min_rank"]) == ([], None)
    assert page.request.get(f"{base}/api/v1/cases/{case.pk}/findings/").status == 403


# --- item 6: a support request answered on the request ----------------------------------------------------------


def _case_with_a_request(world):
    case = draft(world)
    set_requested_support(case=case, by=world.officer, kinds=[SupportKind.GREEN_CHANNEL], notes="左腿受伤")
    case.refresh_from_db()
    return services.submit_case(case=case, by=world.officer, expected_version=case.version)


def _answer(page: Page, measure: SupportMeasure, fields: dict[str, str], summary: str) -> None:
    item = page.locator(f"[data-support-measure='{measure.pk}']")
    details = item.locator("details")
    expect(details.locator("summary")).to_have_text(summary)
    if details.get_attribute("open") is None:  # a form sent back with its errors stays open
        details.locator("summary").click()
    for label, value in fields.items():
        control = item.get_by_label(label, exact=True)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    item.get_by_role("button", name="Save the answer").click()


def test_the_office_answers_a_support_request_and_the_officer_reads_the_answer(page: Page, live_server, world, shoot):
    case = _case_with_a_request(world)
    request = SupportMeasure.objects.get(case=case)
    base = live_server.url
    today = timezone.localdate()

    log_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.pk}/")
    item = page.locator(f"[data-support-measure='{request.pk}']")
    expect(item).to_have_attribute("data-support-status", SupportStatus.REQUESTED)
    expect(item).to_contain_text("Waiting for the office's answer.")
    shoot(page, "support-01-request-waiting")

    # Declining needs a reason: refused, nothing changes.
    _answer(page, request, {"Answer": "decline"}, "Answer the request")
    expect(item.locator(".invalid-feedback, .alert-danger").first).to_contain_text("Say why the request is declined")
    request.refresh_from_db()
    assert request.status == SupportStatus.REQUESTED

    _answer(
        page, request, {"Answer": "approve", "Reason (the officer reads it)": "同意，已联系医院"}, "Answer the request"
    )
    expect(page.locator(".alert-success")).to_contain_text("Answer recorded; the officer is told.")
    expect(item).to_have_attribute("data-support-status", "approved")
    _answer(
        page,
        request,
        {"Answer": "deliver", "Provided by": "西湖区人民医院", "Delivered on": today.isoformat()},
        "Record the delivery",
    )
    expect(item).to_have_attribute("data-support-status", SupportStatus.DELIVERED)
    expect(item.locator(".support-provider")).to_have_text("西湖区人民医院")
    # One measure, one line: the request itself was answered and delivered.
    expect(page.locator("[data-support-measure]")).to_have_count(1)
    shoot(page, "support-02-delivered-supervisor")
    request.refresh_from_db()
    assert (request.status, request.provider, request.delivered_on, request.decision_reason) == (
        SupportStatus.DELIVERED,
        "西湖区人民医院",
        today,
        "同意，已联系医院",
    )
    assert request.decided_by == world.supervisor
    assert SupportMeasure.objects.filter(case=case).count() == 1
    verbs = list(
        Notification.objects.filter(recipient=world.officer, case=case).order_by("id").values_list("verb", flat=True)
    )
    who = world.supervisor.full_name or world.supervisor.username
    assert verbs[-2:] == [
        f"{who} approved the support request “Green-channel emergency medical care” in {case.reference} (reason: "
        "“同意，已联系医院”) — the office arranges it.",
        f"{who} recorded the support “Green-channel emergency medical care” in {case.reference} as delivered by "
        f"西湖区人民医院 on {today.day} {today:%b %Y} — tell the office if it did not reach you.",
    ]

    # The officer reads the same record, in English and in Chinese.
    log_out(page)
    log_in(page, base, "officer")
    page.goto(f"{base}/cases/{case.pk}/")
    item = page.locator(f"[data-support-measure='{request.pk}']")
    expect(item).to_have_attribute("data-support-status", SupportStatus.DELIVERED)
    expect(item.locator(".badge")).to_have_text(str(SupportStatus.DELIVERED.label))
    expect(item.locator(".support-provider")).to_have_text("西湖区人民医院")
    expect(item.locator(".support-reason")).to_have_text("同意，已联系医院")
    expect(item.locator("form")).to_have_count(0)
    shoot(page, "support-03-officer-en")
    to_chinese(page)
    expect(item.locator(".badge")).to_have_text(zh(SupportStatus.DELIVERED.label))
    expect(item.locator(".support-provider")).to_have_text("西湖区人民医院")
    shoot(page, "support-04-officer-zh")
    page.goto(f"{base}/notifications/")
    expect(page.locator("main")).to_contain_text(case.reference)
    shoot(page, "support-05-officer-notifications-zh")


# --- item 5: the facts, asked by incident type and shown read-only --------------------------------------------


def test_facts_are_asked_by_incident_type_and_shown_read_only(page: Page, live_server, world, shoot):
    case = draft(world, kind="violent_attack")
    base = live_server.url
    log_in(page, base, "officer")

    # A kick: the weapon and the attackers are asked, online views are not.
    page.goto(f"{base}/cases/{case.pk}/edit/facts/")
    expect(page.get_by_label("Online posts: how many views?")).to_have_count(0)
    page.get_by_label("Was a weapon used?").select_option(label="Blunt object")
    page.get_by_label("How many attackers?").fill("2")
    page.get_by_role("button", name="Save and continue").click()
    page.goto(f"{base}/cases/{case.pk}/edit/support/")
    page.get_by_label("Green-channel emergency medical care").check()
    page.get_by_label("Anything the office should know").fill("左腿受伤，需要优先救治")
    page.get_by_role("button", name="Save and continue").click()

    # The review step shows the answers, and "not answered" where there is none, and the support notes.
    page.goto(f"{base}/cases/{case.pk}/edit/review/")
    facts = page.locator("dl.facts")
    expect(facts.locator("[data-fact-value=weapon]")).to_have_text("Blunt object")
    expect(facts.locator("[data-fact-value=attackers]")).to_have_text("2")
    expect(facts.locator("[data-fact-value=intoxicated]")).to_have_text("not answered")
    expect(facts.locator("[data-fact-value=online_views]")).to_have_count(0)
    expect(page.locator("[data-support-measure]")).to_contain_text("左腿受伤，需要优先救治")
    shoot(page, "facts-01-review-violent-attack-en")
    to_chinese(page)
    expect(facts.locator("[data-fact=weapon]")).to_have_text(capfirst(zh(FACT_LABELS["weapon"])))
    expect(facts.locator("[data-fact-value=weapon]")).to_have_text(zh("Blunt object"))
    expect(facts.locator("[data-fact-value=intoxicated]")).to_have_text(zh("not answered"))
    expect(page.locator("[data-support-measure]")).to_contain_text("左腿受伤，需要优先救治")
    shoot(page, "facts-02-review-violent-attack-zh")
    to_english(page)

    # Now it was a post online: the answers about the attack are cleared, with a notice, and the timeline keeps them.
    page.goto(f"{base}/cases/{case.pk}/edit/incident/")
    page.get_by_label("Incident type").select_option(label="Online defamation or insult")
    notice = page.locator("#autosave-status .facts-cleared")
    expect(notice).to_contain_text("do not apply to “Online defamation or insult” and were cleared")
    expect(notice).to_contain_text("Weapon, Attackers")
    shoot(page, "facts-03-type-changed-answers-cleared")
    case.refresh_from_db()
    assert (case.kind, case.weapon, case.attackers) == ("online_defamation", "unknown", None)
    event = CaseEvent.objects.filter(case=case, kind="updated").latest("id")
    assert event.data["cleared_facts"] == ["attackers", "weapon"]
    assert (event.data["changes"]["weapon"], event.data["changes"]["attackers"]) == (["blunt", "unknown"], [2, None])

    page.goto(f"{base}/cases/{case.pk}/edit/facts/")
    expect(page.get_by_label("Was a weapon used?")).to_have_count(0)
    expect(page.get_by_label("How many attackers?")).to_have_count(0)
    page.get_by_label("Online posts: how many views?").fill("12000")
    page.get_by_role("button", name="Save and continue").click()
    case.refresh_from_db()
    assert case.online_views == 12000

    # Submitted, the supervisor reads the facts on the case page without opening "Correct the facts".
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    log_out(page)
    log_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.pk}/")
    facts = page.locator("dl.facts")
    expect(facts).to_be_visible()
    expect(facts.locator("[data-fact-value=online_views]")).to_have_text("12000")
    expect(facts.locator("[data-fact-value=online_reposts]")).to_have_text("not answered")
    expect(facts.locator("[data-fact-value=weapon]")).to_have_count(0)
    expect(page.locator("#panel-facts").get_by_label("Was a weapon used?")).to_have_count(0)
    shoot(page, "facts-04-case-page-supervisor")
