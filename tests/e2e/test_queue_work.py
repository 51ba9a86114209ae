"""The supervisor's queue in the browser: column sorting, incident types ticked without Ctrl, bulk work with a partial
failure, a filter shared with the unit seen by a colleague, read-only, and a big workbook prepared in the background."""

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role
from cases import services
from cases.choices import CaseStatus, IncidentKind
from cases.models import AccessLog, Case, QueueExport
from tests.e2e.test_browser import log_in
from tests.e2e.test_print_phone_a11y import AXE, RUN_AXE
from tests.factories import PASSWORD, case_in, member

pytestmark = pytest.mark.django_db(transaction=True)


def row_of(page: Page, case: Case):
    return page.locator("#queue-rows tr").filter(has_text=case.reference)


def test_bulk_assign_lists_the_case_changed_in_another_tab_as_refused(page: Page, live_server, world, shoot):
    a, b, c = (case_in(world, CaseStatus.INTAKE) for _ in range(3))
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/queue/")
    # "Select all on this page", then untick c.
    page.get_by_label("Select all cases on this page").check()
    row_of(page, c).get_by_role("checkbox").uncheck()
    expect(row_of(page, a).get_by_role("checkbox")).to_be_checked()
    # Meanwhile, in another tab, a colleague writes on b.
    services.add_note(case=b, by=world.county_supervisor, text="另一个标签页里的改动")
    page.get_by_label("With the selected cases").select_option("assign")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign: 2 selected cases")
    page.get_by_label("Supervisor in charge").select_option(label=str(world.county_supervisor))
    page.get_by_role("button", name="Assign: apply to 2 cases").click()
    expect(page.get_by_role("status")).to_have_text("Done: 1. Refused: 1.")
    outcomes = page.locator("#bulk-outcomes tbody tr")
    expect(outcomes.filter(has_text=a.reference)).to_contain_text("Done")
    expect(outcomes.filter(has_text=b.reference)).to_contain_text(
        "Refused Someone else changed this case after you opened the queue, so nothing was done to it."
    )
    expect(outcomes).to_have_count(2)
    shoot(page, "queue-bulk-partial-failure")
    assert [x.assigned_to_id for x in Case.objects.filter(pk__in=[a.pk, b.pk, c.pk]).order_by("pk")] == [
        world.county_supervisor.pk,
        None,
        None,
    ]
    page.get_by_role("link", name="Back to the queue").click()
    expect(page).to_have_url(re.compile(r"/queue/$"))


def test_column_headers_sort_and_say_so(page: Page, live_server, world):
    soon, later = case_in(world, CaseStatus.INTAKE), case_in(world, CaseStatus.INTAKE)
    Case.objects.filter(pk=soon.pk).update(stage_due_at=timezone.now() + timedelta(days=1))
    Case.objects.filter(pk=later.pk).update(stage_due_at=timezone.now() + timedelta(days=8))
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/queue/?view=all")
    header = page.get_by_role("columnheader", name="Deadline")
    expect(header).not_to_have_attribute("aria-sort", re.compile(".*"))
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"view=all&sort=due&dir=asc"))
    expect(page.get_by_role("columnheader", name="Deadline")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#queue-rows tr").first).to_contain_text(soon.reference)
    page.get_by_role("columnheader", name="Deadline").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Deadline")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#queue-rows tr").first).to_contain_text(later.reference)
    expect(page.get_by_text("Cases 1–2 of 2")).to_be_visible()


def test_several_incident_types_are_ticked_without_ctrl(page: Page, live_server, world):
    attack = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.VIOLENT_ATTACK)
    threat = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.THREAT)
    other = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.DOXXING)
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/queue/")
    filters = page.locator("#queue-filters")
    expect(filters.get_by_label("Violent attack")).to_be_hidden()  # folded until opened
    filters.locator("summary", has_text="Incident type").click()
    filters.get_by_label("Violent attack").check()
    expect(page).to_have_url(re.compile(r"kind=violent_attack"))
    filters.get_by_label("Threat or intimidation").check()
    expect(page).to_have_url(re.compile(r"kind=violent_attack&kind=threat"))
    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=attack.reference)).to_have_count(1)
    expect(rows.filter(has_text=threat.reference)).to_have_count(1)
    expect(rows.filter(has_text=other.reference)).to_have_count(0)


def test_a_filter_shared_with_the_unit_is_seen_by_a_colleague_read_only(page: Page, live_server, world, shoot):
    member(world.city, Role.SUPERVISOR, username="colleague")
    overdue = case_in(world, CaseStatus.INTAKE)
    Case.objects.filter(pk=overdue.pk).update(stage_due_at=timezone.now() - timedelta(days=1))
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/queue/?sort=due")
    page.get_by_label("Name this filter").fill("我们的逾期案件")
    page.get_by_label(re.compile("Share it with the supervisors of")).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").or_(page.locator(".alert-success"))).to_contain_text("我们的逾期案件")
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server.url, "colleague")
    page.goto(f"{live_server.url}/queue/")
    shared = page.get_by_role("list", name="Shared with your unit")
    expect(shared.get_by_role("link", name="我们的逾期案件")).to_be_visible()
    expect(shared.get_by_role("button")).to_have_count(0)  # nothing to rename or delete
    expect(page.get_by_role("button", name="Delete filter 我们的逾期案件")).to_have_count(0)
    shoot(page, "queue-shared-view-colleague")
    shared.get_by_role("link", name="我们的逾期案件").click()
    expect(page).to_have_url(re.compile(r"/queue/\?sort=due$"))
    expect(page.locator("#queue-rows tr").first).to_contain_text(overdue.reference)


def test_a_big_workbook_is_prepared_in_the_background_and_downloaded_from_its_page(
    page: Page, live_server, world, settings, media, shoot
):
    settings.RIGHTSGUARD_INLINE_EXPORT_MAX = 1  # two cases are already "too many" to write while the user waits
    first = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.THREAT)
    second = case_in(world, CaseStatus.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, CaseStatus.INTAKE, kind=IncidentKind.DOXXING)
    page.add_init_script(path=str(AXE))
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/queue/?kind=threat&sort=created&dir=asc")
    page.get_by_role("link", name="Excel (XLSX)").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauth/"))
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare the workbook")
    expect(page.locator("#workbook-prepare")).to_contain_text("These 2 cases are too many to write into a workbook")
    assert page.evaluate(RUN_AXE) == []
    shoot(page, "queue-workbook-prepare")
    page.get_by_role("button", name="Prepare the workbook").click()

    expect(page).to_have_url(re.compile(r"/queue/workbooks/$"))
    expect(page.locator(".alert-success")).to_contain_text("Your workbook of 2 cases is being prepared.")
    job = QueueExport.objects.get()
    row = page.locator(f"#workbook-{job.pk}")
    expect(row).to_contain_text("2 cases")
    download = row.get_by_role("link", name="Download")
    expect(download).to_be_visible()  # the task ran on commit (eager here); a worker would take a moment
    assert page.evaluate(RUN_AXE) == []
    shoot(page, "queue-workbooks-ready")
    with page.expect_download() as file:
        download.click()
    assert re.fullmatch(r"rightsguard-queue-\d{8}\.xlsx", file.value.suggested_filename)
    sheet = openpyxl.load_workbook(io.BytesIO(file.value.path().read_bytes())).active
    assert [r[0] for r in sheet.iter_rows(values_only=True)] == ["Reference", first.reference, second.reference]
    assert AccessLog.objects.filter(action="download", object_ref__contains=f"via=download:{job.pk}").count() == 1
