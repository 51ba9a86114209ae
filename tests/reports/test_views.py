"""The reports page, exports and downloads: who may, for which unit, what is logged, inline and in the background."""

import csv
import io
import json
import re
from contextlib import closing
from unittest import mock

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from cases.choices import AccessAction, IncidentKind
from cases.evidence_store import exports_storage
from cases.models import AccessLog, ExportStatus, ReportExport
from cases.reports import files, tasks
from cases.reports.services import export_file
from tests.conftest import reauthenticated
from tests.evidence_backends import Backend

PAGE = reverse("cases:reports")
EXPORT = reverse("cases:reports-export")

# who -> (status of the reports page, default unit shown)
PAGE_MATRIX = {
    "admin": (200, "330000"),
    "supervisor": (200, "330100"),
    "county_supervisor": (200, "330106"),
    "ministry_supervisor": (200, "000000"),
    "sibling_supervisor": (200, "420000"),
    "officer": (403, None),
    "other_officer": (403, None),
    "sibling_officer": (403, None),
}


def login(client, dataset, who: str):
    """Logged in and recently re-authenticated (exports need it: tests/security/test_reveal.py)."""
    client.force_login(getattr(dataset.world, who))
    return reauthenticated(client)


@pytest.mark.parametrize(("who", "expected"), sorted(PAGE_MATRIX.items()))
def test_page_role_matrix(client, dataset, who, expected):
    status, unit = expected
    response = login(client, dataset, who).get(PAGE, {"year": 2025})
    assert response.status_code == status
    if unit:
        assert response.context["unit"].code == unit
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("admin", "330106", 200),  # below the admin's province
        ("supervisor", "330000", 404),  # above the supervisor's city
        ("sibling_supervisor", "330106", 404),
        ("county_supervisor", "420100001", 404),
        ("admin", "999999", 404),
    ],
)
def test_units_outside_the_memberships_are_not_found(client, dataset, who, code, status):
    assert login(client, dataset, who).get(PAGE, {"unit": code, "year": 2025}).status_code == status


def test_a_bad_year_is_a_bad_request(client, dataset):
    assert login(client, dataset, "admin").get(PAGE, {"year": "1900"}).status_code == 400
    assert login(client, dataset, "admin").get(PAGE, {"year": "soon"}).status_code == 400


def test_page_shows_figures_and_chart_data_without_inline_script(client, dataset):
    response = login(client, dataset, "admin").get(PAGE, {"unit": "330106", "year": 2025})
    html = response.content.decode()
    kpis = {k["label"]: (k["value"], k["previous"], k["pct"]) for k in response.context["kpis"]}
    assert kpis["Cases submitted"] == ("4", "3", 33.3)
    assert kpis["Officers killed"] == ("1", "0", None)
    assert kpis["Median days from submission to closure"] == ("45.5", "30.0", 51.7)
    rows = {
        (table.key, r["label"]): (r["current"], r["previous"], r["change"], r["pct"])
        for table, table_rows in response.context["tables"]
        for r in table_rows
    }
    # Downgrades and review prompts apart (tests/reports/dataset.py).
    assert rows[("overview", "Downgraded flags raised")] == ("1", "0", "+1", "")
    assert rows[("overview", "Review prompts raised")] == ("3", "1", "+2", "+200.0%")
    assert rows[("overview", "Review prompts resolved in the year")] == ("2", "0", "+2", "")
    assert rows[("flags", "Review prompt: still open")] == ("1", "0", "+1", "")
    assert '<th scope="row" class="fw-normal">Review prompts resolved in the year</th>' in html
    data = json.loads(re.search(r'<script id="report-charts" type="application/json">(.*?)</script>', html).group(1))
    by_month = next(c for c in data["charts"] if c["key"] == "by_month")
    assert by_month["series"][0] == {"name": "2025", "values": [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1]}
    assert by_month["series"][1]["values"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert 'id="chart-by_kind"' in html
    assert "vendor/chart.js-4.6.1/chart.umd.min.js" in html
    # Every script is a file or JSON data: a strict CSP without 'unsafe-inline' holds.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag
    # The sub-unit table drills down to each station's own report.
    assert f'href="{PAGE}?unit=330106001&amp;year=2025"' in html
    assert "江岸" not in html


def test_nav_links_to_reports_for_those_who_may(client, dataset):
    assert f'href="{PAGE}"' in login(client, dataset, "admin").get(PAGE).content.decode()
    home = login(client, dataset, "officer").get(reverse("cases:notifications")).content.decode()
    assert f'href="{PAGE}"' not in home


def export_logs() -> list[tuple]:
    return list(AccessLog.objects.filter(action__in=["export", "download"]).values_list("user__username", "action"))


def test_inline_csv_export_is_logged_and_not_cached(client, dataset):
    response = login(client, dataset, "admin").post(
        EXPORT, {"unit": "330106", "year": 2025, "format": "csv"}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="rightsguard-2025-330106.csv"'
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Cases submitted,4,3,+1,+33.3%" in body
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (log.user, log.source_ip, log.case) == (dataset.world.admin, "10.1.2.3", None)
    assert log.object_ref == "yearly-report unit=330106 year=2025 format=csv lang=en via=web"
    assert ReportExport.objects.count() == 0


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ],
)
def test_inline_binary_exports(client, dataset, fmt, content_type, magic):
    response = login(client, dataset, "county_supervisor").post(EXPORT, {"year": 2025, "format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content).startswith(magic)
    assert export_logs() == [("county_supervisor", "export")]


def test_detail_export_streams_the_year_cases(client, dataset):
    response = login(client, dataset, "admin").post(EXPORT, {"unit": "330106", "year": 2025, "format": "detail"})
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="rightsguard-2025-330106-cases.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(dataset.cases[k].reference for k in ("C1", "C2", "C3", "C6"))
    assert export_logs() == [("admin", "export")]


@pytest.mark.parametrize(
    ("who", "unit", "status"),
    [("officer", "330106", 403), ("sibling_officer", "420000", 403), ("sibling_supervisor", "330106", 404)],
)
def test_refused_exports_change_nothing(client, dataset, who, unit, status):
    response = login(client, dataset, who).post(EXPORT, {"unit": unit, "year": 2025, "format": "csv"})
    assert response.status_code == status
    assert export_logs() == []
    assert ReportExport.objects.count() == 0


def test_export_requires_post_and_a_known_format(client, dataset):
    login(client, dataset, "admin")
    assert client.get(EXPORT, {"unit": "330106", "year": 2025, "format": "csv"}).status_code == 405
    assert client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "docx"}).status_code == 400
    assert export_logs() == []


DISK_ONLY = pytest.mark.parametrize("evidence_backend", ["disk"], indirect=True)


@pytest.fixture
def background(settings, evidence_backend) -> Backend:
    """Every export is "large": it goes to the Celery task (eager in tests, run on commit), which writes the file into
    the exports storage: the local disk's or the object store's (``evidence_backend``)."""
    settings.RIGHTSGUARD_INLINE_EXPORT_MAX = 1
    return evidence_backend


def stored(name: str) -> bytes:
    with closing(exports_storage().reader(name)) as handle:
        return handle.read()


def test_large_export_runs_as_a_task_with_progress_and_a_download(
    client, dataset, background, django_capture_on_commit_callbacks
):
    login(client, dataset, "admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "xlsx"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?unit=330106&year=2025#exports"
    job = ReportExport.objects.get()
    assert (job.requested_by, job.unit.code, job.year, job.format, job.language, job.status) == (
        dataset.world.admin,
        "330106",
        2025,
        "xlsx",
        "zh-hans",
        ExportStatus.PENDING,
    )
    status_url = reverse("cases:reports-export-status", args=[job.pk])
    waiting = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in waiting
    assert 'value="0"' in waiting
    page = client.get(PAGE, {"unit": "330106", "year": 2025}).content.decode()
    assert f'id="export-{job.pk}"' in page

    for callback in callbacks:  # the commit: the task runs now
        callback()
    job.refresh_from_db()
    assert (job.status, job.progress, job.file_name) == (ExportStatus.DONE, 100, f"yearly-report-{job.pk}.xlsx")
    assert job.finished_at is not None
    assert background.exported() == {export_file(job): stored(export_file(job))}  # where any web node reads it

    ready = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in ready
    download_url = reverse("cases:reports-export-download", args=[job.pk])
    assert f'href="{download_url}"' in ready

    response = client.get(download_url, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == 'attachment; filename="rightsguard-2025-330106.xlsx"'
    assert response["Content-Length"] == str(len(stored(export_file(job))))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    with translation.override("zh-hans"):
        armed = str(IncidentKind.ARMED_ATTACK.label)
    labels = {row[0] for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) if row}
    assert armed in labels  # written in the requester's language, not the worker's
    logs = list(AccessLog.objects.order_by("id").values_list("action", "object_ref", "source_ip"))
    assert logs == [
        ("export", "yearly-report unit=330106 year=2025 format=xlsx lang=zh-hans via=task", "10.9.9.9"),
        ("download", f"yearly-report unit=330106 year=2025 format=xlsx lang=zh-hans via=download:{job.pk}", "10.9.9.9"),
    ]


def test_the_task_is_safe_to_run_twice(client, dataset, background, django_capture_on_commit_callbacks):
    login(client, dataset, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "detail"})
    job = ReportExport.objects.get()
    name = export_file(job)
    first = stored(name)
    with mock.patch.object(files, "write", wraps=files.write) as write:
        assert tasks.export_yearly_report(job.pk, "en") == ExportStatus.DONE
        assert write.call_count == 0  # finished work is left alone
        exports_storage().remove(name)  # the file went missing (a cleaned store): a rerun writes it again
        assert tasks.export_yearly_report(job.pk, "en") == ExportStatus.DONE
        assert write.call_count == 1
    assert stored(name) == first
    assert list(background.exported()) == [name]  # no received part left behind
    assert first.decode("utf-8-sig").count("\n") == 5  # header + C1, C2, C3, C6


@DISK_ONLY
def test_exports_belong_to_their_requester(client, dataset, background, django_capture_on_commit_callbacks):
    login(client, dataset, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "csv"})
    job = ReportExport.objects.get()
    login(client, dataset, "county_supervisor")  # covers the county, but it is not their export
    assert client.get(reverse("cases:reports-export-status", args=[job.pk])).status_code == 404
    assert client.get(reverse("cases:reports-export-download", args=[job.pk])).status_code == 404
    login(client, dataset, "officer")
    assert client.get(reverse("cases:reports-export-download", args=[job.pk])).status_code == 403
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 0


@DISK_ONLY
def test_an_unfinished_export_cannot_be_downloaded(client, dataset, background):
    login(client, dataset, "admin")
    client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "pdf"})  # never committed: still waiting
    job = ReportExport.objects.get()
    assert client.get(reverse("cases:reports-export-download", args=[job.pk])).status_code == 404
    full = client.get(reverse("cases:reports-export-status", args=[job.pk]))
    assert full.status_code == 200
    assert "<html" in full.content.decode()  # without htmx: a whole page with the same row
