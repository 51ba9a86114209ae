"""Oversight campaigns run whole in the browser: a special supervision from the form to its closing — a random
sample, a reviewer, a review with a problem, a rectification, a closed case made up through the case workflow,
accountability — with the progress per sub-unit checked after every step; and a fugitive pursuit to an arrest, in
English and in Chinese, seen on the case page."""

import io
import re
from collections.abc import Callable
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Page, expect

from accounts.models import OrgUnit
from cases import services as case_services
from cases.choices import AccessAction, CaseStatus, Disposition, SuspectStatus
from cases.models import AccessLog
from oversight.choices import CHECKLISTS, CampaignKind, ChecklistItem, Measure, ProblemType
from oversight.models import Campaign, CampaignCase
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_browser import log_in
from tests.factories import PASSWORD
from tests.oversight.conftest import Camp, build_camp, case_at
from tests.oversight.test_report import csv_grids, pdf_text

pytestmark = pytest.mark.django_db(transaction=True)

# Progress columns, in the order the campaign page shows them.
COLUMNS = ("selected", "reviewed", "problems", "rectified", "overdue", "made_up", "accountable")


@pytest.fixture
def camp(transactional_db) -> Camp:
    return build_camp()


def say(lang: str) -> Callable[[str], str]:
    """The interface's words in ``lang``, from the same catalogue the pages use."""

    def tr(text: str) -> str:
        with translation.override(lang):
            return gettext(text)

    return tr


def progress(page: Page) -> dict[str, tuple[int, ...]]:
    """The campaign page's progress table: each row's figures by its first cell (the sub-unit, or the total)."""
    rows = page.locator("#campaign-progress tbody tr")
    expect(rows.first).to_be_visible()
    result = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        cells = row.locator("td").all_inner_texts()
        result[row.locator("th").inner_text().strip()] = tuple(int(c) for c in cells[: len(COLUMNS)])
    return result


def figures(*values: int) -> tuple[int, ...]:
    assert len(values) == len(COLUMNS)
    return values


# --- the campaign report ----------------------------------------------------------------------------------------------

# The report's tables (oversight/report_files.py) by key, with their columns; a progress column of the campaign page is
# the report's column of the same figure.
REPORT_GRIDS = {
    "figures": (
        "selected",
        "reviewed",
        "problems",
        "rectified",
        "rectified_on_time",
        "rectified_late",
        "overdue",
        "made_up",
        "accountable",
    ),
    "problems": tuple(ProblemType.values),
    "accountability": ("accountable", "decisions", *Measure.values),
}
# The report's words, written out (the Chinese from locale/zh_Hans/LC_MESSAGES/django.po): a heading lost to English
# in the Chinese files fails here, where a test asking the catalogue would agree with it.
REPORT_WORDS = {
    "en": {
        "heading": "Campaign report",
        "file_title": "RightsGuard campaign report",
        "report_link": "Report",
        "csv": "Download CSV",
        "xlsx": "Download Excel",
        "pdf": "Download PDF",
        "figures_title": "Figures by sub-unit",
        "problems_title": "Problems found by type",
        "accountability_title": "Accountability",
        "summary": "Summary",
        "charts": "Charts",
        "key_figures": "Key figures",
        "campaign": "Campaign",
        "state": "State",
        "closed": "Closed",
        "sub_unit": "Sub-unit",
        "total": "Total",
        "selected": "Cases selected",
        "reviewed": "Cases reviewed",
        "problems": "Problems found",
        "rectified": "Problems rectified",
        "rectified_on_time": "Rectified on time",
        "rectified_late": "Rectified late",
        "overdue": "Overdue rectifications",
        "made_up": "Cases made up",
        "accountable": "Officers held accountable",
        "decisions": "Accountability decisions",
        "non_handling": "Non-handling",
        "downgraded": "Downgraded handling",
        "protracted": "Protracted delay",
        "interference": "Obstruction or interference in handling",
        "evidence": "Evidence",
        "time_limits": "Time limits",
        "support": "Support",
        "look_back": "Look-back",
        "criticism_education": "Criticism and education",
        "admonishment": "Admonishment",
        "disciplinary_sanction": "Disciplinary sanction",
    },
    "zh-hans": {
        "heading": "专项活动报表",
        "file_title": "民警维权系统专项活动报表",
        "report_link": "报表",
        "csv": "下载 CSV",
        "xlsx": "下载 Excel",
        "pdf": "下载 PDF",
        "figures_title": "各下级单位数据",
        "problems_title": "按类型统计的问题",
        "accountability_title": "责任追究",
        "summary": "摘要",
        "charts": "图表",
        "key_figures": "主要数据",
        "campaign": "活动",
        "state": "状态",
        "closed": "已结束",
        "sub_unit": "下级单位",
        "total": "合计",
        "selected": "抽选案件数",
        "reviewed": "已评查案件数",
        "problems": "发现问题数",
        "rectified": "已整改问题数",
        "rectified_on_time": "按期整改",
        "rectified_late": "逾期整改",
        "overdue": "逾期未整改",
        "made_up": "补办案件数",
        "accountable": "被问责人数",
        "decisions": "问责决定数",
        "non_handling": "不作为",
        "downgraded": "降格处理",
        "protracted": "久拖不决",
        "interference": "阻挠、干扰办案",
        "evidence": "证据",
        "time_limits": "办理时限",
        "support": "保障措施",
        "look_back": "回头看",
        "criticism_education": "批评教育",
        "admonishment": "诫勉",
        "disciplinary_sanction": "纪律处分",
    },
}
# The key figures (the page's cards, the workbook's summary, the PDF's first table), in their order.
KEY_FIGURES = ("selected", "reviewed", "problems", "rectified_on_time", "overdue", "made_up", "accountable")

Tables = dict[str, dict[str, dict[str, int]]]  # {table title: {row label: {column heading: figure}}}


def walk_report_figures(expected: dict[str, tuple[int, ...]], worked: str) -> dict[str, dict[str, dict[str, int]]]:
    """The report's figures the walk made, {table: {row (sub-unit name or "Total"): {column: figure}}}: the progress
    rows the walk asserted, and what the report adds. The walk's one rectification was recorded today against a date
    ten days ahead (on time, none late); its two problems were of the evidence and of downgraded handling; its one
    accountability an admonishment of one officer. All of them in the ``worked`` sub-unit: every other one has none."""
    assert set(expected) >= {worked, "Total"}
    tables: dict[str, dict[str, dict[str, int]]] = {key: {} for key in REPORT_GRIDS}
    for row, values in expected.items():
        p = dict(zip(COLUMNS, values, strict=True))
        worked_here = row in (worked, "Total")
        tables["figures"][row] = {
            **{c: p[c] for c in ("selected", "reviewed", "problems", "rectified", "overdue", "made_up", "accountable")},
            "rectified_on_time": 1 if worked_here else 0,
            "rectified_late": 0,
        }
        by_type = {"evidence": 1, "downgraded": 1} if worked_here else {}
        tables["problems"][row] = {t: by_type.get(t, 0) for t in ProblemType.values}
        measures = {"admonishment": 1} if worked_here else {}
        tables["accountability"][row] = {
            "accountable": 1 if worked_here else 0,
            "decisions": 1 if worked_here else 0,
            **{m: measures.get(m, 0) for m in Measure.values},
        }
    return tables


def report_tables(
    figures: dict[str, dict[str, dict[str, int]]], labels: dict[str, str], words: dict[str, str]
) -> Tables:
    """The figures as the report writes them in one language: tables by title, rows by label, columns by heading."""
    return {
        words[f"{grid}_title"]: {
            labels[row]: {words[column]: values[column] for column in REPORT_GRIDS[grid]}
            for row, values in rows.items()
        }
        for grid, rows in figures.items()
    }


def as_text(tables: Tables) -> dict[str, dict[str, dict[str, str]]]:
    return {t: {r: {c: str(n) for c, n in cells.items()} for r, cells in rows.items()} for t, rows in tables.items()}


def page_tables(page: Page) -> dict[str, dict[str, dict[str, str]]]:
    """The report page's tables as the reader sees them: by the section's heading, rows by their header cell."""
    tables = {}
    for grid in REPORT_GRIDS:
        table = page.locator(f"#grid-{grid}")
        headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        rows = {}
        for row in table.locator("tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            rows[row.locator("th").inner_text().strip()] = dict(zip(headings[1:], cells, strict=True))
        title = page.locator(f"#grid-heading-{grid}").inner_text().strip()
        tables[title] = rows
        assert headings[0] in (REPORT_WORDS["en"]["sub_unit"], REPORT_WORDS["zh-hans"]["sub_unit"])
    return tables


def download(page: Page, name: str, *, reauth: bool = False) -> tuple[str, bytes]:
    """Press one of the report's download links (after the password, when ``reauth``); the file's name and bytes."""
    link = page.locator("#report-downloads").get_by_role("link", name=name, exact=True)
    if reauth:
        link.click()
        expect(page).to_have_url(re.compile(r"/accounts/reauth/\?next="))
        page.locator("input[name=password]").fill(PASSWORD)
        with page.expect_download() as file:
            page.locator("main button[type=submit]").click()
    else:
        with page.expect_download() as file:
            link.click()
    return file.value.suggested_filename, file.value.path().read_bytes()


def xlsx_tables(raw: bytes) -> tuple[list[str], dict[str, int], Tables]:
    """The workbook's sheet names, its summary's key figures, and its tables (one a sheet, numbers as numbers)."""
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    summary = wb.worksheets[0]
    key = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True) if isinstance(row[1], int)}
    tables: Tables = {}
    for sheet in wb.worksheets[1:-1]:
        head, *rows = list(sheet.iter_rows(values_only=True))
        table = tables[sheet.title] = {}
        for row in rows:
            if row[0] is None:  # the table ends; its note follows a blank row
                break
            table[row[0]] = dict(zip(head[1:], row[1:], strict=True))
    return wb.sheetnames, key, tables


def export_the_report(page: Page, campaign: Campaign, expected: dict[str, tuple[int, ...]], worked: OrgUnit) -> None:
    """From the campaign page to its report: the page's tables, then its CSV, XLSX and PDF, in English and in Simplified
    Chinese, each checked against the figures the walk made (``expected``, the progress rows it asserted by sub-unit
    name and "Total", and what the report adds for the ``worked`` sub-unit's problems and accountability)."""
    figures = walk_report_figures(expected, worked.display_name)
    units = {
        i.sub_unit.display_name: i.sub_unit
        for i in CampaignCase.objects.filter(campaign=campaign).select_related("sub_unit")
    }
    base = page.url.split("/campaigns/")[0]
    exports_before = AccessLog.objects.filter(action=AccessAction.EXPORT).count()

    for lang in ("en", "zh-hans"):
        words = REPORT_WORDS[lang]
        with translation.override(lang):
            # A sub-unit is "name (code)" in the report, by the name of the language.
            labels = {row: words["total"] if row == "Total" else str(units[row]) for row in expected}
        tables = report_tables(figures, labels, words)
        total = figures["figures"]["Total"]
        key_figures = {words[k]: total[k] for k in KEY_FIGURES}

        if lang == "en":
            # The reader follows the campaign page's link to the report.
            expect(page).to_have_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
            page.get_by_role("link", name=words["report_link"], exact=True).click()
            expect(page).to_have_url(f"{base}/campaigns/{campaign.pk}/report/")
        else:
            page.locator(".lang-form select").select_option(lang)
            page.locator(".lang-form button[type=submit]").click()
            expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            expect(page).to_have_url(f"{base}/campaigns/{campaign.pk}/report/")
        expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"])
        meta = page.locator("#report-meta")
        expect(meta.locator("dt").first).to_have_text(words["campaign"])
        expect(meta.locator("dd").first).to_have_text(campaign.name)
        assert page_tables(page) == as_text(tables)
        cards = page.locator(".kpi")
        shown = {c.locator(".small").inner_text().strip(): c.locator(".fs-3").inner_text().strip() for c in cards.all()}
        assert shown == {k: str(n) for k, n in key_figures.items()}
        if lang == "en":
            expect(page.locator("#report-hint")).to_contain_text(
                "You will be asked for your password first: exports need it confirmed within the last 5 minutes."
            )
        page.screenshot(path=str(SCREENSHOTS / f"campaign-04-report-{lang}.png"), full_page=True)

        # CSV: the password first (once: it holds for the next few minutes), then straight to the file.
        name, raw = download(page, words["csv"], reauth=lang == "en")
        assert name == f"rightsguard-campaign-{campaign.pk}-report.csv"
        head, grids = csv_grids(raw)
        assert head[0] == [words["file_title"]]
        assert head[1] == [words["campaign"], campaign.name]
        assert head[5] == [words["state"], words["closed"]]
        assert grids == as_text(tables)
        if lang == "en":
            # The file came, and the reader is back on the report, not left at the password form.
            expect(page).to_have_url(f"{base}/campaigns/{campaign.pk}/report/")
            expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"])
            expect(page.locator("#report-resumed")).to_have_text(
                "Password confirmed. The file downloads now; if nothing happens, press “Download CSV” again."
            )
            expect(page.locator("#report-hint")).not_to_contain_text("You will be asked for your password first")

        name, raw = download(page, words["xlsx"])
        assert name == f"rightsguard-campaign-{campaign.pk}-report.xlsx"
        sheets, summary, workbook = xlsx_tables(raw)
        assert sheets == [words["summary"], *tables, words["charts"]]
        assert summary == key_figures
        assert workbook == tables

        name, raw = download(page, words["pdf"])
        assert name == f"rightsguard-campaign-{campaign.pk}-report.pdf"
        text = pdf_text(raw)
        # Chinese text comes out of the PDF with spaces between some characters: compare without spaces.
        flat = text.replace(" ", "")
        for heading in (words["heading"], words["key_figures"], *tables):
            assert heading.replace(" ", "") in flat, heading
        for title, rows in tables.items():
            columns = REPORT_GRIDS[next(g for g in REPORT_GRIDS if words[f"{g}_title"] == title)]
            for label, cells in rows.items():
                line = " ".join([label, *(str(cells[words[c]]) for c in columns)])
                assert line.replace(" ", "") in flat, (title, line)
        for label, figure in key_figures.items():
            assert f"{label}{figure}".replace(" ", "") in flat, label

    # Six downloads, each in the access log with its format and language.
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT).order_by("pk")[exports_before:]
    assert [(e.user.username, e.object_ref) for e in exports] == [
        ("supervisor", f"campaign-report campaign={campaign.pk} format={fmt} lang={lang}")
        for lang in ("en", "zh-hans")
        for fmt in ("csv", "xlsx", "pdf")
    ]


def log_in_zh(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def create_campaign(page: Page, base: str, tr: Callable[[str], str], fields: dict[str, str], kind: str) -> Campaign:
    """Fill the new-campaign form (the owner: the city) and create it; returns the draft."""
    page.goto(f"{base}/campaigns/")
    page.get_by_role("link", name=tr("New campaign")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("New campaign"))
    today = timezone.localdate()
    page.get_by_label(tr("Name"), exact=True).fill(fields["name"])
    page.get_by_label(tr("Kind"), exact=True).select_option(kind)
    page.get_by_label(tr("Owner unit"), exact=True).select_option("330100")
    page.get_by_label(tr("Period from"), exact=True).fill(f"{today.year}-01-01")
    page.get_by_label(tr("Period to"), exact=True).fill(f"{today.year}-12-31")
    page.get_by_label(tr("Deadline"), exact=True).fill(str(today + timedelta(days=30)))
    for status in fields.get("statuses", "").split():
        page.locator(f"input[name=statuses][value={status}]").check()
    page.locator(f"input[name=selection][value={fields['selection']}]").check()
    if fields.get("sample_size"):
        page.get_by_label(tr("Sample size"), exact=True).fill(fields["sample_size"])
    page.get_by_role("button", name=tr("Create campaign")).click()
    campaign = Campaign.objects.get(name=fields["name"])
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    expect(page.locator(".alert-success")).to_have_text(
        tr("Campaign “%(name)s” created as a draft.") % {"name": fields["name"]}
    )
    expect(page.locator("[data-campaign-state]")).to_have_text(tr("Draft"))
    return campaign


# --- special supervision ---------------------------------------------------------------------------------------------


def test_a_special_supervision_campaign_from_sample_to_closing(page: Page, live_server, camp, shoot):
    base, world = live_server.url, camp.world
    west = [case_at(camp, CaseStatus.CLOSED) for _ in range(3)]
    east = [case_at(camp, CaseStatus.CLOSED, east=True) for _ in range(2)]
    case_at(camp, CaseStatus.SUPERVISION)  # still being handled: out of scope
    tr = say("en")
    log_in(page, base, "supervisor")

    # Create: a random sample of three of the city's five closed cases, the seed left to the campaign.
    campaign = create_campaign(
        page,
        base,
        tr,
        {"name": "2026年袭警案件专项监督", "statuses": "closed", "selection": "sample", "sample_size": "3"},
        "special_supervision",
    )
    expect(page.locator("#campaign-cases")).to_have_count(0)
    expect(page.get_by_text("Cases are selected when the campaign starts.")).to_be_visible()

    # Start: the sample is drawn and its seed recorded and shown.
    page.get_by_role("button", name="Start and select cases").click()
    expect(page.locator(".alert-success")).to_have_text("Campaign started: 3 cases selected.")
    expect(page.locator("[data-campaign-state]")).to_have_text("Running")
    campaign.refresh_from_db()
    assert len(campaign.seed) == 16
    expect(page.get_by_text(f"seed {campaign.seed}")).to_be_visible()
    selected = CampaignCase.objects.filter(campaign=campaign).select_related("case")
    assert {i.case_id for i in selected} <= {c.pk for c in west + east}
    in_west = sorted(i.pk for i in selected if i.sub_unit_id == world.county.pk)
    in_east = 3 - len(in_west)
    assert len(in_west) >= 1  # only two cases are in the east
    shown = {
        world.county.display_name: figures(len(in_west), 0, 0, 0, 0, 0, 0),
        **({camp.east.display_name: figures(in_east, 0, 0, 0, 0, 0, 0)} if in_east else {}),
        "Total": figures(3, 0, 0, 0, 0, 0, 0),
    }
    assert progress(page) == shown
    expect(page.locator("#campaign-cases tbody tr")).to_have_count(3)
    shoot(page, "campaign-01-started")

    # Assign a reviewer for the west county: the supervisor themself.
    assign = page.locator("form[action$='/reviewers/']")
    assign.get_by_label("Sub-unit").select_option(world.county.code)
    assign.get_by_label("Reviewer").select_option("supervisor")
    assign.get_by_role("button", name="Assign the reviewer").click()
    expect(page.locator(".alert-success")).to_have_text("Reviewer assigned.")
    west_row = page.locator("#campaign-progress tbody tr").filter(has_text=world.county.display_name)
    expect(west_row.locator("td").last).to_have_text(str(world.supervisor))
    assert progress(page) == shown

    # Review a west case: the checklist, with the downgrading item a problem.
    item = CampaignCase.objects.select_related("case").get(pk=in_west[0])
    page.locator("#campaign-cases").get_by_role("link", name=item.case.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review of {item.case.reference}")
    form = page.locator("#review-form")
    for answer in CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION]:
        row = form.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=str(ChecklistItem(answer).label)))
        row.get_by_label("Problem" if answer == ChecklistItem.DOWNGRADED else "Pass", exact=True).check()
    expect(form.locator("input[type=radio]:checked")).to_have_count(7)
    form.get_by_label("Summary").fill("处理偏轻，应重新办理。")
    # A problem without a note is refused, and nothing typed or ticked is lost.
    form.get_by_role("button", name="Record review").click()
    expect(form.get_by_role("alert")).to_have_text("Say what the problem is.")
    expect(form.get_by_label("Summary")).to_have_value("处理偏轻，应重新办理。")
    downgraded_row = form.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=str(ChecklistItem.DOWNGRADED.label), exact=True)
    )
    expect(downgraded_row.get_by_label("Problem", exact=True)).to_be_checked()
    expect(form.locator("input[type=radio][value=pass]:checked")).to_have_count(6)
    downgraded_row.get_by_role("textbox").fill("殴打民警仅予警告，未依法从重。")
    form.get_by_role("button", name="Record review").click()
    expect(page.locator(".alert-success")).to_have_text("Review recorded.")
    expect(page.get_by_text(re.compile(rf"Recorded by {re.escape(str(world.supervisor))} on "))).to_be_visible()

    # Two problems: the evidence (to be rectified) and the downgrading (the case is made up for it).
    for problem, description in (
        (ProblemType.EVIDENCE, "执法记录仪视频未及时调取。"),
        (ProblemType.DOWNGRADED, "袭警致伤仅予警告，降格处理。"),
    ):
        page.locator("summary", has_text="Record a problem").click()
        problem_form = page.locator("#problem-form")
        problem_form.get_by_label("Type").select_option(problem.value)
        problem_form.get_by_label("Description").fill(description)
        problem_form.get_by_label("Responsible unit").select_option(world.county.code)
        problem_form.get_by_label("Rectify by").fill(str(timezone.localdate() + timedelta(days=10)))
        problem_form.get_by_role("button", name="Record problem").click()
        expect(page.locator(".alert-success")).to_have_text("Problem recorded.")
    expect(page.locator("[data-problem]")).to_have_count(2)

    # Rectify the evidence problem.
    evidence = page.locator("[data-problem]").filter(has_text="执法记录仪视频未及时调取。")
    evidence.get_by_label("What was done").fill("已调取并固定视频。")
    evidence.get_by_label("Rectified on").fill(str(timezone.localdate()))
    evidence.get_by_role("button", name="Record rectification").click()
    expect(page.locator(".alert-success")).to_have_text("Rectification recorded.")
    evidence = page.locator("[data-problem]").filter(has_text="执法记录仪视频未及时调取。")
    expect(evidence).to_contain_text("Rectified")
    expect(evidence).to_contain_text("已调取并固定视频。")

    page.get_by_role("link", name=campaign.name).click()
    shown[world.county.display_name] = figures(len(in_west), 1, 2, 1, 0, 0, 0)
    shown["Total"] = figures(3, 1, 2, 1, 0, 0, 0)
    assert progress(page) == shown

    # Make the case up: recalled and reopened through the case workflow; the case page says it is handled again.
    page.locator("#campaign-cases").get_by_role("link", name=item.case.reference).click()
    page.get_by_label("Because of the problem").select_option(label="Downgraded handling: 袭警致伤仅予警告，降格处理。")
    page.get_by_role("button", name="Make up the case").click()
    expect(page.locator(".alert-success")).to_have_text("The case is sent back to be handled again.")
    expect(page.locator("main .badge", has_text="Made up")).to_be_visible()
    expect(page.get_by_role("button", name="Make up the case")).to_have_count(0)
    page.get_by_role("link", name="Open the case").click()
    expect(page).to_have_url(re.compile(rf"/cases/{item.case_id}/$"))
    expect(page.locator("h1 .badge")).to_have_text("Supervision")
    expect(page.locator("main")).to_contain_text("袭警致伤仅予警告，降格处理。")  # the finding it was reopened with
    shoot(page, "campaign-02-case-made-up")
    item.case.refresh_from_db()
    assert item.case.status == CaseStatus.SUPERVISION
    page.go_back()

    # Accountability for the downgrading.
    page.locator("summary", has_text="Record accountability").click()
    acc = page.locator("#accountability-form")
    acc.get_by_label("Officer", exact=True).fill("李建国")
    acc.get_by_label("Badge number").fill("016935")
    acc.get_by_label("Unit", exact=True).select_option(world.county.code)
    acc.get_by_label("Measure").select_option(Measure.ADMONISHMENT.value)
    acc.get_by_label("Document reference").fill("杭公督〔2026〕7号")
    acc.get_by_label("Decided on").fill(str(timezone.localdate()))
    acc.get_by_label("For the problem").select_option(label="Downgraded handling: 袭警致伤仅予警告，降格处理。")
    acc.get_by_role("button", name="Record accountability").click()
    expect(page.locator(".alert-success")).to_have_text("Accountability recorded.")
    expect(page.locator("section[aria-labelledby=accountability-heading] tbody tr")).to_have_text(
        re.compile(
            r"李建国 \(016935\)\s*" + re.escape(world.county.display_name) + r"\s*Admonishment\s*杭公督〔2026〕7号"
        )
    )

    page.get_by_role("link", name=campaign.name).click()
    shown[world.county.display_name] = figures(len(in_west), 1, 2, 1, 0, 1, 1)
    shown["Total"] = figures(3, 1, 2, 1, 0, 1, 1)
    assert progress(page) == shown
    made_up_row = page.locator("#campaign-cases tbody tr").filter(has_text=item.case.reference)
    expect(made_up_row).to_contain_text("Supervision")
    expect(made_up_row.locator("td").last).to_have_text(str(timezone.localdate()))

    # Close: the figures stay, nothing more can be assigned.
    page.get_by_role("button", name="Close campaign").click()
    expect(page.locator(".alert-success")).to_have_text("Campaign closed.")
    expect(page.locator("[data-campaign-state]")).to_have_text("Closed")
    assert progress(page) == shown
    expect(page.locator("form[action$='/reviewers/']")).to_have_count(0)
    expect(page.get_by_role("button", name="Close campaign")).to_have_count(0)
    shoot(page, "campaign-03-closed")

    export_the_report(page, campaign, shown, world.county)


# --- fugitive pursuit ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_fugitive_pursuit_to_an_arrest(page: Page, live_server, camp, lang, shoot):
    base, world = live_server.url, camp.world
    case = case_at(camp, CaseStatus.SUPERVISION)
    suspect = case_services.add_suspect(case=case, by=world.supervisor, name="叶某", status=SuspectStatus.AT_LARGE)
    case_services.record_disposition(suspect=suspect, by=world.supervisor, disposition=Disposition.AT_LARGE)
    case_at(camp, CaseStatus.SUPERVISION, east=True)  # nobody at large: not selected
    tr = say(lang)
    (log_in if lang == "en" else log_in_zh)(page, base, "supervisor")

    campaign = create_campaign(page, base, tr, {"name": "妨害公务在逃人员追逃", "selection": "all"}, "fugitive_pursuit")
    page.get_by_role("button", name=tr("Start and select cases")).click()
    expect(page.locator(".alert-success")).to_have_text(tr("Campaign started: %(n)s cases selected.") % {"n": 1})
    at_large = page.locator("#campaign-pursuit [data-pursuit-status=at_large] td")
    arrested = page.locator("#campaign-pursuit [data-pursuit-status=arrested] td")
    expect(at_large).to_have_text("1")
    expect(arrested).to_have_text("0")
    if lang == "zh-hans":
        expect(page.get_by_role("heading", name="各下级单位进度", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="在逃人员", exact=True)).to_be_visible()
        with translation.override(lang):
            expect(page.locator("[data-campaign-state]")).to_have_text(pgettext("campaign state", "Running"))
        expect(page.locator("[data-campaign-state]")).not_to_have_text("生成中")  # an export being written

    page.locator("#campaign-cases").get_by_role("link", name=case.reference).click()
    card = page.locator("[data-pursuit]").filter(has_text="叶某")
    expect(card.locator("[data-pursuit-status]")).to_have_text(tr("At large"))
    today = timezone.localdate()
    for status, on in (("located", today - timedelta(days=2)), ("arrested", today - timedelta(days=1))):
        card.locator("summary").click()
        card.get_by_label(tr("Step"), exact=True).select_option(status)
        card.get_by_label(tr("On"), exact=True).fill(str(on))
        card.get_by_label(tr("Pursuing unit"), exact=True).select_option(world.county.code)
        if status == "arrested":
            card.get_by_label(tr("Custody status"), exact=True).select_option(SuspectStatus.DETAINED.value)
        card.get_by_role("button", name=tr("Record step")).click()
        expect(page.locator(".alert-success")).to_have_text(tr("Pursuit step recorded."))
        card = page.locator("[data-pursuit]").filter(has_text="叶某")
    with translation.override(lang):
        arrested_label = pgettext("fugitive pursuit", "Arrested")
        detained, investigating = str(SuspectStatus.DETAINED.label), str(Disposition.UNDER_INVESTIGATION.label)
    expect(card.locator("[data-pursuit-status]")).to_have_text(arrested_label)
    expect(card.locator("summary")).to_have_count(0)  # an arrest ends the pursuit
    if lang == "zh-hans":
        expect(card.locator("[data-pursuit-status]")).to_have_text("抓获归案")
    shoot(page, f"pursuit-arrested-{lang}")

    # The case page: the suspect is in custody, and no longer "at large" on the disposition ladder.
    page.get_by_role("link", name=tr("Open the case")).click()
    line = page.locator("main li").filter(has_text="叶某").first
    expect(line).to_contain_text(detained)
    expect(line).to_contain_text(investigating)
    if lang == "zh-hans":
        expect(line).to_contain_text("刑事拘留")
    suspect.refresh_from_db()
    assert (suspect.status, suspect.disposition) == (SuspectStatus.DETAINED, Disposition.UNDER_INVESTIGATION)

    page.goto(f"{base}/campaigns/{campaign.pk}/")
    expect(at_large).to_have_text("0")
    expect(arrested).to_have_text("1")
