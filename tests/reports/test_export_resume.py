"""Issue 17: an export asked for before the password is confirmed goes ahead after it; the page says beforehand that
the password will be asked; a PDF is prepared in the background with progress and downloads by itself when ready."""

import pytest
from django.urls import reverse

from cases.models import ExportStatus, ReportExport
from cases.views.reports import AUTO_DOWNLOAD, PENDING_EXPORT
from tests.conftest import reauthenticated
from tests.factories import PASSWORD

PAGE = reverse("cases:reports")
EXPORT = reverse("cases:reports-export")
REAUTH = reverse("reauth")
BACK = f"{PAGE}?unit=330106&year=2025#exports"


@pytest.fixture(autouse=True)
def admin_password(dataset):
    """The shared data set's accounts have no usable password; this test's admin types one."""
    dataset.world.admin.set_password(PASSWORD)
    dataset.world.admin.save(update_fields=["password"])


WARNING = "You will be asked for your password first: exports need it confirmed within the last 5 minutes."


def test_the_page_says_beforehand_when_a_password_will_be_asked(client, dataset):
    client.force_login(dataset.world.admin)
    assert WARNING in client.get(PAGE, {"unit": "330106", "year": 2025}).content.decode()
    reauthenticated(client)
    assert WARNING not in client.get(PAGE, {"unit": "330106", "year": 2025}).content.decode()


def test_after_the_password_the_page_resumes_the_export_once(client, dataset):
    client.force_login(dataset.world.admin)
    response = client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "csv"})
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next=%2Freports%2F%3Funit%3D330106%26year%3D2025%23exports"
    assert client.session[PENDING_EXPORT] == {"unit": "330106", "year": 2025, "format": "csv"}
    # Not yet confirmed: the page does not resume anything.
    assert client.get(PAGE, {"unit": "330106", "year": 2025}).context["resume_format"] == ""

    confirmed = client.post(REAUTH, {"password": PASSWORD, "next": BACK})
    assert (confirmed.status_code, confirmed["Location"]) == (302, BACK)
    page = client.get(PAGE, {"unit": "330106", "year": 2025})
    body = page.content.decode()
    assert page.context["resume_format"] == "csv"
    assert '<button class="btn btn-outline-primary" type="submit" name="format" value="csv" data-resume>' in body
    assert "Password confirmed. Your CSV export starts now" in body
    assert PENDING_EXPORT not in client.session
    assert client.get(PAGE, {"unit": "330106", "year": 2025}).context["resume_format"] == ""


def test_a_pending_export_of_another_page_is_not_resumed_here(client, dataset):
    client.force_login(dataset.world.admin)
    client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "xlsx"})
    reauthenticated(client)
    assert client.get(PAGE, {"unit": "330000", "year": 2025}).context["resume_format"] == ""
    assert client.session[PENDING_EXPORT]["unit"] == "330106"


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_the_password_page_returns_only_to_this_site(client, dataset, target):
    client.force_login(dataset.world.admin)
    response = client.post(REAUTH, {"password": PASSWORD, "next": target})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_pdf_is_prepared_in_the_background_and_downloads_when_ready(
    client, dataset, media, django_capture_on_commit_callbacks
):
    client.force_login(dataset.world.admin)
    reauthenticated(client)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "pdf"})
    assert (response.status_code, response["Location"]) == (302, BACK)
    job = ReportExport.objects.get()
    assert (job.format, job.status) == ("pdf", ExportStatus.PENDING)
    assert client.session[AUTO_DOWNLOAD] == job.pk
    status_url = reverse("cases:reports-export-status", args=[job.pk])
    waiting = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert f'<progress id="export-progress-{job.pk}" max="100" value="0">' in waiting
    for callback in callbacks:
        callback()
    ready = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    download = reverse("cases:reports-export-download", args=[job.pk])
    assert f'href="{download}" data-autodownload>' in ready
    assert AUTO_DOWNLOAD not in client.session
    # Downloaded once by itself: a later look at the row does not start it again.
    assert "data-autodownload" not in client.get(status_url, HTTP_HX_REQUEST="true").content.decode()


def test_a_download_after_the_password_returns_to_the_report_page(
    client, dataset, media, django_capture_on_commit_callbacks
):
    client.force_login(dataset.world.admin)
    reauthenticated(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EXPORT, {"unit": "330106", "year": 2025, "format": "pdf"})
    client.get(PAGE, {"unit": "330106", "year": 2025})  # shown ready: the automatic download is spent
    job = ReportExport.objects.get()
    assert job.status == ExportStatus.DONE
    reauthenticated(client, at=0)
    response = client.get(reverse("cases:reports-export-download", args=[job.pk]))
    assert response["Location"] == f"{REAUTH}?next=%2Freports%2F%3Funit%3D330106%26year%3D2025%23exports"
    assert client.session[AUTO_DOWNLOAD] == job.pk
    client.post(REAUTH, {"password": PASSWORD, "next": BACK})
    page = client.get(PAGE, {"unit": "330106", "year": 2025}).content.decode()
    assert f'href="{reverse("cases:reports-export-download", args=[job.pk])}" data-autodownload>' in page
