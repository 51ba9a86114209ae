"""``manage.py yearly_report`` writes the same files as the page and logs the export."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from cases.models import AccessLog


def run(tmp_path, *args: str) -> bytes:
    out = io.StringIO()
    call_command("yearly_report", *args, "--output", str(tmp_path / "report"), stdout=out)
    assert out.getvalue().startswith("Wrote ")
    return (tmp_path / "report").read_bytes()


def test_csv_for_a_unit(dataset, tmp_path):
    data = run(tmp_path, "--year", "2025", "--unit", "330106", "--format", "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["Cases submitted", "4", "3", "+1", "+33.3%"] in rows
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.source_ip) == (None, "export", None)
    assert log.object_ref == "yearly-report unit=330106 year=2025 format=csv lang=en via=command"


def test_xlsx_defaults_to_the_root_unit(dataset, tmp_path):
    data = run(tmp_path, "--year", "2025", "--format", "xlsx")
    summary = openpyxl.load_workbook(io.BytesIO(data))["Summary"]
    figures = {row[0]: row[1:3] for row in summary.iter_rows(min_row=8, values_only=True)}
    assert figures["Cases submitted"] == (6, 4)  # the ministry: both provinces
    assert summary["B2"].value == "Ministry of Public Security (000000)"


def test_pdf_in_chinese(dataset, tmp_path):
    data = run(
        tmp_path,
        *("--year", "2025", "--unit", "420000", "--format", "pdf", "--language", "zh-hans"),
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "湖北省公安厅 (420000)" in text
    assert "西湖区分局" not in text


def test_detail(dataset, tmp_path):
    data = run(tmp_path, "--year", "2024", "--unit", "330000", "--format", "detail")
    refs = [r[0] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))][1:]
    assert refs == [dataset.cases[k].reference for k in ("P3", "P2", "P1")]


def test_unknown_unit(dataset, tmp_path):
    with pytest.raises(CommandError, match="No unit has the code 123"):
        call_command("yearly_report", "--year", "2025", "--unit", "123", "--format", "csv", "--output", tmp_path / "x")
    assert AccessLog.objects.count() == 0
