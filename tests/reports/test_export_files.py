"""Prepared files (yearly-report exports, queue workbooks) in the exports storage beside the evidence, on the local
disk and in the object store (cases/reports/files.py, tests/evidence_backends.py): a store that fails is a 503 that
logs no download and tells nothing of the store; finished files expire after the keep time, with a page that says
so; what killed jobs left goes, and nothing else; the sweep is a periodic job run once per period."""

import re
from contextlib import closing
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import AccessAction
from cases.evidence_store import exports_storage
from cases.models import AccessLog, ExportStatus, JobRun, QueueExport, ReportExport
from cases.reports import files, tasks
from rightsguard.storage import exports_storage as exports_setting
from tests.conftest import reauthenticated
from tests.evidence_backends import BUCKET, KEYS
from tests.factories import finished_export, finished_queue_export

S3 = pytest.mark.parametrize("evidence_backend", ["s3"], indirect=True)
DISK_ONLY = pytest.mark.parametrize("evidence_backend", ["disk"], indirect=True)
HOUR = timedelta(hours=1)
CSV = b"unit,cases\n330100,1\n"
WORKBOOK = b"PK\x03\x04 a workbook"


def downloads(world, client) -> dict[str, str]:
    """The supervisor's download links of one finished report export and one finished queue workbook."""
    report = finished_export(world.supervisor, world.city, timezone.localdate().year)
    workbook = finished_queue_export(world.supervisor)
    client.force_login(world.supervisor)
    reauthenticated(client)
    return {
        "report": reverse("cases:reports-export-download", args=[report.pk]),
        "workbook": reverse("cases:queue-workbook-download", args=[workbook.pk]),
    }


def test_a_finished_file_is_streamed_from_the_storage_with_its_length(world, client, evidence_backend):
    links = downloads(world, client)
    for link, content in ((links["report"], CSV), (links["workbook"], WORKBOOK)):
        response = client.get(link)
        assert (response.status_code, response["Content-Length"]) == (200, str(len(content)))
        assert (response.streaming, b"".join(response.streaming_content)) == (True, content)
        assert (response["X-Content-Type-Options"], "no-store" in response["Cache-Control"]) == ("nosniff", True)
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 2


@S3
def test_a_store_failing_on_a_download_is_a_503_that_logs_no_download_and_tells_nothing(
    world, client, evidence_backend, settings, caplog
):
    links = downloads(world, client)
    # The bucket is gone: the store answers NoSuchBucket, a refusal rather than a missing object.
    gone = evidence_backend.url.replace(f"s3://{BUCKET}/", "s3://rightsguard-gone/")
    settings.STORAGES = {**settings.STORAGES, "exports": exports_setting(gone)}
    endpoint = re.search(r"endpoint=http://([^&]+)", evidence_backend.url).group(1)
    for link in links.values():
        response = client.get(link)
        assert response.status_code == 503
        page = response.content.decode()
        assert str(files.FilesUnavailable()) in page
        assert [s for s in ("rightsguard-gone", evidence_backend.prefix, endpoint, "NoSuchBucket") if s in page] == []
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 0  # nothing was handed out
    logged = [r.getMessage() for r in caplog.records if r.name == "cases.reports.files"]
    assert [m.split(" was opened")[0] for m in logged] == [
        f"The exports storage failed while yearly-report-{ReportExport.objects.get().pk}.csv",
        f"The exports storage failed while queue-{QueueExport.objects.get().pk}.xlsx",
    ]
    assert all(KEYS["AWS_SECRET_ACCESS_KEY"] not in r.getMessage() for r in caplog.records)


def test_finished_files_expire_after_the_keep_time_and_say_so(world, client, evidence_backend, settings):
    settings.RIGHTSGUARD_EXPORT_KEEP_DAYS = 7
    links = downloads(world, client)
    fresh = finished_export(world.supervisor, world.city, timezone.localdate().year - 1)
    old = timezone.now() - timedelta(days=7, seconds=1)
    ReportExport.objects.exclude(pk=fresh.pk).update(finished_at=old)
    QueueExport.objects.update(finished_at=old)
    expired = [*ReportExport.objects.exclude(pk=fresh.pk), *QueueExport.objects.all()]

    assert files.sweep() == {"expired": 2, "files_removed": 2, "incoming_removed": 0}
    assert evidence_backend.exported() == {fresh.file_name: CSV}
    assert [job.__class__.objects.get(pk=job.pk).status for job in expired] == [ExportStatus.EXPIRED] * 2
    for link in links.values():
        response = client.get(link)
        assert response.status_code == 404
        assert "This file was removed 7 days after it was prepared. Ask for it again." in response.content.decode()
    page = client.get(reverse("cases:reports"), {"unit": world.city.code}).content.decode()
    assert "Expired: its file was removed. Export it again." in page
    workbooks = client.get(reverse("cases:queue-workbooks")).content.decode()
    assert "Its file was removed; ask for it again from the queue." in workbooks
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 0
    # An expired export is not prepared again by a stray rerun of its job.
    assert tasks.export_yearly_report(expired[0].pk, "en") == ExportStatus.EXPIRED
    assert files.sweep() == {"expired": 0, "files_removed": 0, "incoming_removed": 0}


def test_the_sweep_takes_what_killed_jobs_left_once_stale_and_nothing_else(world, evidence_backend):
    kept = finished_export(world.supervisor, world.city, 2025)
    failed = finished_export(world.supervisor, world.city, 2024)  # its file written, the job failed after
    ReportExport.objects.filter(pk=failed.pk).update(status=ExportStatus.FAILED)
    storage = exports_storage()
    part = ".incoming/" + "ab" * 16 + ".part"
    with closing(storage.reader(kept.file_name)) as handle:
        storage.put(part, handle)  # type: ignore[arg-type]
    # Not the application's: on the disk a name it never generates; in a store, an object without its mark.
    stranger = "notes.txt" if evidence_backend.kind == "disk" else f"queue-{failed.pk + 100}.xlsx"
    if evidence_backend.kind == "disk":
        (evidence_backend.media_root / "exports" / stranger).write_bytes(b"not ours")
    else:
        evidence_backend.client.put_object(
            Bucket=BUCKET, Key=f"{evidence_backend.prefix}/exports/{stranger}", Body=b"not ours"
        )
    everything = evidence_backend.exported()
    assert files.sweep() == {"expired": 0, "files_removed": 0, "incoming_removed": 0}  # nothing is stale yet
    assert evidence_backend.exported() == everything
    assert files.sweep(now=timezone.now() + HOUR + timedelta(seconds=1)) == {
        "expired": 0,
        "files_removed": 1,
        "incoming_removed": 1,
    }
    assert evidence_backend.exported() == {kept.file_name: CSV, stranger: b"not ours"}


@DISK_ONLY
def test_the_sweep_is_a_periodic_job_run_once_per_period(world, evidence_backend, settings):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-exports"] == {
        "task": "cases.reports.sweep_exports",
        "schedule": 3600.0,
        "kwargs": {"period": 3600.0},
        "options": {"expires": 3600.0},
    }
    assert tasks.sweep_exports(period=3600) == {"expired": 0, "files_removed": 0, "incoming_removed": 0}
    assert tasks.sweep_exports(period=3600) == {"skipped": 1}
    assert list(JobRun.objects.values_list("job", flat=True)) == ["sweep_exports"]
