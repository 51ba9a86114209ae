"""Issue 17, "never silent, never lost", in a real browser, in English and in Chinese: a sort never hides cases, a
stale or no longer possible action says what happened and gives the typed text back, and an export asked for before
the password is confirmed goes ahead after it."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import Page, expect

from accounts import services as account_services
from accounts.models import Membership
from cases import services
from cases.choices import CaseStatus, FindingProblem, Track
from cases.models import Case, CaseEvent, ReportExport
from cases.views.kept import _when
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.factories import PASSWORD, case_in

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "zh-hans"]


def log_in(page: Page, base: str, username: str, language: str) -> None:
    page.goto(f"{base}/accounts/login/")
    if language != "en":
        page.locator("form.lang-form select").select_option(language)
        page.locator("form.lang-form button").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("form[action$='/logout/'] button")).to_be_visible()


def tr(language: str, text: str, **params: str) -> str:
    with translation.override(language):
        return _(text) % params if params else _(text)


def moved_by(case: Case, language: str) -> str:
    event = CaseEvent.objects.filter(case=case).order_by("-at", "-id").first()
    assert event is not None
    assert event.actor is not None
    with translation.override(language):
        return _("This case moved to “%(status)s” by %(who)s at %(when)s.") % {
            "status": Case.objects.get(pk=case.pk).get_status_display(),
            "who": str(event.actor),
            "when": _when(event.at),
        }


@pytest.mark.parametrize("language", LANGUAGES)
def test_sorting_by_deadline_lists_the_closed_cases(page: Page, live_server, world, shoot, language):
    closed = [case_in(world, CaseStatus.CLOSED), case_in(world, CaseStatus.CLOSED)]
    case_in(world, CaseStatus.INTAKE)
    log_in(page, live_server.url, "supervisor", language)
    page.goto(f"{live_server.url}/queue/?status=closed&sort=due")
    results = page.locator("#queue-results")
    with translation.override(language):
        two = translation.gettext("Cases %(first)s–%(last)s of %(n)s") % {"first": 1, "last": 2, "n": 2}
    expect(results.locator("#queue-position")).to_have_text(two)
    for case in closed:
        expect(results.get_by_role("link", name=case.reference)).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(2)
    shoot(page, f"silent-queue-closed-by-deadline-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_reject_after_someone_else_referred_says_who_and_keeps_the_reason(
    page: Page, live_server, world, shoot, language
):
    case = case_in(world, CaseStatus.INTAKE)
    log_in(page, live_server.url, "supervisor", language)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    reject = tr(language, "Reject")
    page.get_by_role("button", name=reject, exact=True).first.click()
    expect(page.locator("#action-reject.collapse.show")).to_be_visible()
    page.locator("#action-reject textarea[name='reject-reason']").fill("与12389热线案件重复")
    # Another supervisor refers the case meanwhile.
    WORKFLOW_ACTIONS["refer"].service(
        case=case, by=world.county_supervisor, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
    )
    page.locator("#action-reject").get_by_role("button", name=reject, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    banner = page.locator("#kept-notice")
    expect(banner).to_contain_text(moved_by(case, language))
    expect(banner).to_contain_text(world.county_supervisor.full_name)
    expect(page.locator("#kept-text")).to_have_value("与12389热线案件重复")
    expect(page.locator("#action-reject")).to_have_count(0)
    shoot(page, f"silent-stale-reject-{language}")
    case.refresh_from_db()
    assert case.status == CaseStatus.REFERRED
    # The notice is said once: a reload shows the case without it.
    page.reload()
    expect(page.locator("#kept-notice")).to_have_count(0)


def test_the_kept_text_can_be_copied(page: Page, live_server, world):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    case = case_in(world, CaseStatus.LOOK_BACK)
    log_in(page, live_server.url, "supervisor", "en")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.locator("form[action$='/notes/'] textarea").fill("家属已电话告知处理结果")
    WORKFLOW_ACTIONS["close"].service(
        case=case,
        by=world.county_supervisor,
        expected_version=case.version,
        officer_informed=True,
        disposition_consistent=True,
    )
    page.locator("form[action$='/notes/']").get_by_role("button", name="Add note").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator("#kept-notice")).to_contain_text(moved_by(case, "en"))
    expect(page.locator("#kept-notice")).to_contain_text(
        "Nothing was saved, and “Add a note” is not possible at this stage any more."
    )
    expect(page.locator("#kept-text")).to_have_value("家属已电话告知处理结果")
    page.locator("#kept-notice").get_by_role("button", name="Copy the text").click()
    expect(page.locator("#kept-notice [data-copy-status]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "家属已电话告知处理结果"
    assert not CaseEvent.objects.filter(case=case, kind="note").exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_close_from_a_back_button_form_in_supervision_says_why(page: Page, live_server, world, shoot, language):
    case = case_in(world, CaseStatus.LOOK_BACK)
    log_in(page, live_server.url, "supervisor", language)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    close = tr(language, "Close")
    page.get_by_role("button", name=close, exact=True).first.click()
    panel = page.locator("#action-close")
    expect(page.locator("#action-close.collapse.show")).to_be_visible()
    panel.locator("input[type=checkbox][name='close-officer_informed']").check()
    panel.locator("input[type=checkbox][name='close-disposition_consistent']").check()
    # The look-back found a deficiency in another tab: the case is back in supervision.
    WORKFLOW_ACTIONS["reopen"].service(
        case=case,
        by=world.county_supervisor,
        expected_version=case.version,
        problem=FindingProblem.values[0],
        detail="处置结果与事实不符",
    )
    panel.get_by_role("button", name=close, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    banner = page.locator("#kept-notice")
    expect(banner).to_contain_text(moved_by(case, language))
    with translation.override(language):
        expected = _(
            "Nothing was saved, and “%(form)s” is not possible at this stage any more. What you typed is kept below "
            "so you can copy it."
        ) % {"form": _("Close")}
    expect(banner).to_contain_text(expected)
    shoot(page, f"silent-stale-close-{language}")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPERVISION


def test_a_stale_handling_form_still_offered_comes_back_filled_in(page: Page, live_server, world, shoot):
    case = case_in(world, CaseStatus.SUPERVISION)
    log_in(page, live_server.url, "supervisor", "en")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("button", name="Pause the clock", exact=True).click()
    panel = page.locator("#panel-pause")
    expect(page.locator("#panel-pause.collapse.show")).to_be_visible()
    panel.get_by_label("Why is the clock paused?").select_option(index=1)
    panel.get_by_label("Note").fill("伤情鉴定中")
    services.add_note(case=case, by=world.county_supervisor, text="已联系办案单位")
    panel.get_by_role("button", name="Pause the clock").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    banner = page.locator("#kept-notice")
    expect(banner).to_contain_text(f"This case was changed by {world.county_supervisor.full_name} at ")
    expect(banner).to_contain_text("Internal note: 已联系办案单位")
    expect(banner).to_contain_text(
        "Nothing was saved. What you typed is back in “Pause the clock” below: check it and send it again."
    )
    expect(page.locator("#panel-pause.collapse.show")).to_be_visible()
    expect(panel.get_by_label("Note")).to_have_value("伤情鉴定中")
    shoot(page, "silent-stale-pause-en")
    # Sent again from the page now showing the case as it is, it goes through.
    panel.get_by_role("button", name="Pause the clock").click()
    expect(page.locator(".alert-success")).to_contain_text("The clock is paused.")
    assert Case.objects.get(pk=case.pk).paused_at is not None


@pytest.mark.parametrize("language", LANGUAGES)
def test_export_after_the_password_goes_ahead_and_a_pdf_shows_progress(
    page: Page, live_server, world, shoot, language, media
):
    case_in(world, CaseStatus.INTAKE)
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/reports/")
    hint = page.locator("#export-hint")
    with translation.override(language):
        warning = translation.ngettext(
            "You will be asked for your password first: exports need it confirmed within the last %(minutes)s minute.",
            "You will be asked for your password first: exports need it confirmed within the last %(minutes)s minutes.",
            5,
        ) % {"minutes": 5}
    expect(hint).to_contain_text(warning)
    shoot(page, f"silent-export-password-first-{language}")

    page.locator("#exports button[value=csv]").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauth/"))
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_download() as download:
        page.locator("main button[type=submit]").click()
    assert re.fullmatch(r"rightsguard-\d{4}-\d+\.csv", download.value.suggested_filename)
    expect(page).to_have_url(re.compile(r"/reports/\?unit=\d+&year=\d{4}#exports$"))
    expect(page.locator("#export-resumed")).to_be_visible()
    expect(hint).not_to_contain_text(warning)
    shoot(page, f"silent-export-resumed-{language}")

    # The PDF is drawn in the background with its progress shown, and downloads by itself once ready.
    with page.expect_download() as pdf:
        page.locator("#exports button[value=pdf]").click()
    assert re.fullmatch(r"rightsguard-\d{4}-\d+\.pdf", pdf.value.suggested_filename)
    job = ReportExport.objects.get()
    assert (job.format, job.status, job.progress) == ("pdf", "done", 100)
    expect(page.locator(f"#export-{job.pk}")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_filter_the_queue_cannot_apply_is_said_above_the_results_and_kept(
    page: Page, live_server, world, shoot, language
):
    """With JavaScript only the results are replaced: a refused filter (a 400) is swapped in with its errors, and the
    typed value stays in its field."""
    case_in(world, CaseStatus.INTAKE)
    log_in(page, live_server.url, "supervisor", language)
    page.goto(f"{live_server.url}/queue/")
    month = page.locator("#queue-filters input[name=submitted]")
    month.fill("2026-3")
    with page.expect_response(lambda r: "/queue/?" in r.url and r.status == 400):
        month.dispatch_event("change")
    errors = page.locator("#queue-filter-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(
        tr(language, "These filters could not be applied, so the queue shows all your cases:")
    )
    expect(errors.locator("li")).to_have_text(
        [
            f"{tr(language, 'Submitted in')}: "
            f"{tr(language, 'Write a month as year and month, for example 2026-03, or a year, for example 2026.')}"
        ]
    )
    expect(month).to_have_value("2026-3")
    expect(page.locator("#request-failed")).to_be_hidden()
    shoot(page, f"silent-queue-refused-filter-{language}")
    # Put right, the notice goes and the filter applies.
    month.fill("2026-03")
    with page.expect_response(lambda r: "/queue/?" in r.url and r.status == 200):
        month.dispatch_event("change")
    expect(errors).to_have_count(0)


def test_an_autosave_the_server_refuses_says_so(page: Page, live_server, world):
    case = services.create_draft_case(by=world.officer, unit=world.station, details={"summary": "草稿"})
    log_in(page, live_server.url, "officer", "en")
    page.goto(f"{live_server.url}/cases/{case.pk}/edit/incident/")
    location = page.locator("input[name=location], textarea[name=location]").first
    occurred = page.locator("input[name=occurred_at]")
    occurred.fill("2099-01-01T10:00")
    with page.expect_response(lambda r: r.request.method == "POST" and r.status == 400):
        location.fill("北山街")
    expect(page.locator("#autosave-status")).to_have_text(
        "Not saved: check the highlighted fields and press “Save and continue”."
    )
    case.refresh_from_db()
    assert case.location == ""


@pytest.mark.parametrize("failure", ["refused", "offline"])
def test_a_request_that_fails_in_the_background_is_said_on_the_page(page: Page, live_server, world, failure):
    """A reveal refused because the membership ended after the page loaded (a stale tab), or a server that cannot be
    reached: the click does not seem to do nothing."""
    case = case_in(world, CaseStatus.SUPERVISION)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number="330106199001011234")
    log_in(page, live_server.url, "supervisor", "en")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    reveal = page.get_by_role("button", name="Reveal").first
    expect(reveal).to_be_visible()
    notice = page.locator("#request-failed")
    expect(notice).to_be_hidden()
    if failure == "refused":
        for membership in Membership.objects.filter(user=world.supervisor):
            account_services.revoke_membership(membership=membership)
        reveal.click()
        expect(notice).to_have_text(
            "That did not go through: the server refused or could not answer it. Nothing on this page was changed; "
            "try again, or reload the page."
        )
    else:
        page.route("**/reveal/**", lambda route: route.abort())
        reveal.click()
        expect(notice).to_have_text(
            "That did not go through: the server could not be reached. Check the connection and try again; what you "
            "typed is still on this page."
        )
    expect(notice).to_be_visible()
    expect(page.locator("#main .sensitive-revealed")).to_have_count(0)
