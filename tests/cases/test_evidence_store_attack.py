"""The object-store evidence path attacked from outside (cases/evidence_store.py, against moto's S3 server on loopback,
tests/evidence_backends.py): a store that fails or hangs during a download, a prefix shared with other data, a sweep
racing a retried upload, credentials slipped into the URL, file names aimed at the key, encryption asked for on every
kind of write, restore into a store that holds something. Each test here failed before the fix it guards, or proves a
defence that held (the docstring says which)."""

import io
import json
import re
import socket
import tarfile
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from botocore.config import Config
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from gunicorn.config import Config as GunicornConfig

from cases import backup, evidence, evidence_store, services
from cases.choices import CaseStatus
from cases.evidence import INCOMING
from cases.evidence_store import S3EvidenceStorage, StoreError
from cases.ledger import reconcile, sha256_of
from cases.models import AccessLog, Attachment
from rightsguard.storage import evidence_storage as storage_setting
from tests.cases.test_evidence_storage import KEPT, Killed, api_client, api_upload, dies_at
from tests.evidence_backends import BUCKET, KEYS
from tests.evidence_files import mp4_video, pdf_document
from tests.factories import case_in

S3 = pytest.mark.parametrize("evidence_backend", ["s3"], indirect=True)
HOUR = timedelta(hours=1)
PDF = pdf_document()
ROOT = Path(django_settings.BASE_DIR)


def _attached(world, case, content: bytes = PDF, name: str = "scene.pdf") -> Attachment:
    return services.add_evidence(case=case, by=world.officer, file=SimpleUploadedFile(name, content))


def _point_storage_at(settings, url: str) -> None:
    settings.STORAGES = {**settings.STORAGES, "evidence": storage_setting(url)}


def _secrets(backend) -> list[str]:
    """What no answer and no log line may carry: the key, the bucket, the prefix, the store's address."""
    endpoint = re.search(r"endpoint=([^&]+)", backend.url).group(1)
    return [KEYS["AWS_SECRET_ACCESS_KEY"], BUCKET, backend.prefix, endpoint.removeprefix("http://")]


# --- a store that fails, or hangs, during a download ---------------------------------------------------------------


@S3
def test_a_store_failing_on_a_download_is_a_503_on_the_page_and_the_api_that_gives_nothing_away(
    world, evidence_backend, client, settings, caplog
):
    """Defect: the store's refusal (a bucket gone, a key withdrawn: anything but a missing object) was a 500."""
    case = case_in(world, CaseStatus.INTAKE)
    attachment = _attached(world, case)
    # The bucket the storage names is gone: the store answers NoSuchBucket (a refusal, not a missing object).
    _point_storage_at(settings, evidence_backend.url.replace(f"s3://{BUCKET}/", "s3://rightsguard-gone/"))

    api = api_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    assert (api.status_code, api.json()["code"]) == (503, "storage_unavailable")
    assert api.json()["detail"] == str(evidence.EvidenceUnavailable())

    client.force_login(world.supervisor)
    page = client.get(reverse("cases:evidence-download", args=[case.pk, attachment.pk]))
    assert page.status_code == 503
    assert str(evidence.EvidenceUnavailable()) in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    for answer in (api.content.decode(), page.content.decode()):
        assert [s for s in [*_secrets(evidence_backend), "rightsguard-gone"] if s in answer] == []
    # Each attempt is in the access log with its outcome; the failure is logged for the administrator, without keys.
    assert list(AccessLog.objects.filter(action="download").values_list("user", "outcome")) == [
        (world.supervisor.pk, "storage_unavailable"),
        (world.supervisor.pk, "storage_unavailable"),
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "cases.services.evidence"]
    assert len(logged) == 2
    assert all(m.startswith(f"Evidence storage failed while attachment {attachment.pk}") for m in logged)
    assert all(KEYS["AWS_SECRET_ACCESS_KEY"] not in r.getMessage() for r in caplog.records)


@pytest.fixture
def silent_store() -> Iterator[str]:
    """An address on loopback that accepts connections and never answers (a store hung under load)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_one_call_to_a_store_that_never_answers_ends_inside_the_web_workers_timeout():
    """Defect: 3 attempts of 5 s to connect and 30 s to answer (about 108 s with the back-off) outlived gunicorn's
    30 s worker timeout, so a hung store got the worker killed and the user a dropped connection, never the 503."""
    config = S3EvidenceStorage(**storage_setting("s3://evidence/rightsguard")["OPTIONS"]).client_config
    attempts = config.retries["max_attempts"]
    # botocore's standard retries wait at most 2**(n-1) s (random jitter below that) before the n-th retry.
    worst = attempts * (config.connect_timeout + config.read_timeout) + sum(2**n for n in range(attempts - 1))
    web_timeout = GunicornConfig().timeout  # deploy/ sets none, so gunicorn's own default holds
    assert "timeout" not in (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert "--timeout" not in (ROOT / "deploy" / "systemd" / "rightsguard-web.service").read_text()
    assert worst < web_timeout, (worst, web_timeout)
    assert attempts >= 2  # a passing glitch is still retried


def test_a_download_from_a_store_that_hangs_is_a_503_not_a_hang(world, settings, monkeypatch, silent_store):
    """The hang is cut by the client's timeouts (shortened here from the configured ones, whose bound the test above
    proves) and answered like any other failure of the store."""
    short = Config(connect_timeout=0.2, read_timeout=0.2, retries={"mode": "standard", "max_attempts": 2})
    monkeypatch.setattr(evidence_store, "_CLIENT_CONFIG", evidence_store._CLIENT_CONFIG.merge(short))
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    _point_storage_at(settings, f"s3://{BUCKET}/hung?endpoint={silent_store}&region=us-east-1")
    case = case_in(world, CaseStatus.INTAKE)
    attachment = Attachment.objects.create(
        case=case,
        original_name="scene.pdf",
        stored_name=uuid.uuid4().hex,
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=world.officer,
        uploaded_at=timezone.now(),
    )
    with pytest.raises(StoreError):
        evidence.open_stored(attachment.stored_name)
    answer = api_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/")
    assert (answer.status_code, answer.json()["code"]) == (503, "storage_unavailable")


# --- credentials and names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "s3://evidence/rg?endpoint=http://AKIAEXAMPLE:s3cr3t@minio.internal:9000",
        "s3://evidence/rg?endpoint=https://AKIAEXAMPLE@minio.internal:9000",
    ],
)
def test_keys_slipped_into_the_endpoint_stop_the_start_without_being_repeated(url):
    """Defect: the endpoint's user part was accepted, and boto3 repeats the endpoint in its errors ("Could not connect
    to the endpoint URL: http://AKIA…:secret@…"), which the evidence log lines carry."""
    with pytest.raises(ImproperlyConfigured) as refused:
        storage_setting(url)
    assert "access keys belong in AWS_ACCESS_KEY_ID" in str(refused.value)
    assert ("s3cr3t" in str(refused.value), "AKIAEXAMPLE" in str(refused.value)) == (False, False)


@S3
def test_a_hostile_file_name_never_reaches_the_key(world, evidence_backend):
    """Held: keys are generated hex; the client's name is only the download's display name, cleaned."""
    case = case_in(world, CaseStatus.INTAKE)
    hostile = "../../" + BUCKET + "/现场\u202egpj.\r\n" + "长" * 300 + ".mp4"
    attachment = services.add_evidence(case=case, by=world.officer, file=SimpleUploadedFile(hostile, mp4_video()))
    assert evidence_backend.names() == [attachment.stored_name]
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    # Django's upload keeps the last 255 characters' worth (the base name, the extension kept); the control and
    # bidirectional-override characters then go.
    assert attachment.original_name == "现场gpj." + "长" * 242 + ".mp4"


# --- a prefix shared with other data -------------------------------------------------------------------------------


@S3
def test_a_prefix_shared_with_other_data_keeps_that_data_and_calls_none_of_it_an_orphan(world, evidence_backend):
    """Defect: reconcile called every object under the prefix that no attachment names an orphan (a problem, exit 1,
    for ever), and the sweep deleted, after an hour, any object named like evidence (32 hex digits: another
    application's uuid4().hex or MD5-named files) that the application had not written."""
    case = case_in(world, CaseStatus.INTAKE)
    attachment = _attached(world, case)
    foreign = {
        "README.txt": b"another team's notes",
        uuid.uuid4().hex: b"another application's upload, named as evidence is",
        f"{INCOMING}/{uuid.uuid4().hex}.part": b"and one named as a received file",
        "archive/2025.tar": b"a deeper folder",
    }
    for name, content in foreign.items():
        evidence_backend.put(name, content, ours=False)
    # An orphan the application left (killed between the final name and the commit) is still its own to take.
    orphan = evidence.validate_and_store(SimpleUploadedFile("o.pdf", PDF))
    evidence_store.evidence_storage().install(orphan.waiting_as, orphan.stored_name)

    ledger = reconcile(notifications=False, summaries=False)
    assert [p for p in ledger.problems if "evidence" in p] == [
        f"evidence file {orphan.stored_name}: no attachment row (orphan)"
    ]
    assert (ledger.attachments, ledger.foreign) == (1, 2)  # directly under the prefix, not the application's
    assert evidence.sweep(now=timezone.now() + HOUR) == {
        "incoming_removed": 0,
        "orphans_removed": 1,
        "bytes_removed": len(PDF),
    }
    assert evidence_backend.files() == {**foreign, attachment.stored_name: PDF}
    assert [p for p in reconcile(notifications=False, summaries=False).problems if "evidence" in p] == []


# --- the sweep racing an upload ------------------------------------------------------------------------------------


def test_the_sweep_never_takes_the_received_file_of_a_retry_still_under_way(world, evidence_backend):
    """Defect: a retry with the same Idempotency-Key wrote to the very name its killed attempt had left, so a sweep that
    had listed the old leftover as stale deleted the retry's fresh file before it got its final name (a 500, the
    upload lost). Each write now gets a name never used before; a retry removes its earlier attempts' leftovers
    itself."""
    case = case_in(world, CaseStatus.INTAKE)
    client = api_client(world.officer)
    with dies_at("stored", killed=True), pytest.raises(Killed):
        api_upload(client, case)
    storage = evidence_store.evidence_storage()
    # What a sweep an hour later listed, before the retry began.
    listed = list(storage.entries(INCOMING))
    assert len(listed) == 1

    install = evidence.Installation.run

    def swept_first(installation: evidence.Installation) -> None:
        # The sweep, working through what it listed, reaches the leftover's name now: after the retry received its
        # file, before the file gets its final name.
        with mock.patch.object(type(storage), "entries", lambda _self, folder="": iter(listed if folder else [])):
            evidence.sweep(now=timezone.now() + HOUR)
        install(installation)

    with mock.patch.object(evidence.Installation, "run", swept_first):
        retry = api_upload(client, case)
    assert retry.status_code == 201, retry.content
    attachment = Attachment.objects.get()
    assert evidence_backend.files() == {attachment.stored_name: KEPT}


# --- encryption, restore -------------------------------------------------------------------------------------------


@S3
def test_every_write_asks_for_encryption_with_the_configured_key_parts_and_copies_included(
    world, evidence_backend, settings
):
    """Held: the encryption headers go on every request that creates an object (a single PUT, the start of a
    multipart upload, a copy, the start of a multipart copy); parts inherit the upload's encryption in S3."""
    kms = f"{evidence_backend.url}&sse=aws:kms&kms_key=alias/rightsguard"
    _point_storage_at(settings, kms)
    storage = evidence_store.evidence_storage()
    sent: list[tuple[str, str | None, str | None]] = []

    def header(request, name: str) -> str | None:
        value = request.headers.get(name)
        return value.decode() if isinstance(value, bytes) else value

    def record(request, operation_name: str, **_kwargs) -> None:
        sent.append(
            (
                operation_name,
                header(request, "x-amz-server-side-encryption"),
                header(request, "x-amz-server-side-encryption-aws-kms-key-id"),
            )
        )

    storage._client.meta.events.register("request-created.s3", record)
    case = case_in(world, CaseStatus.INTAKE)
    small = _attached(world, case, mp4_video(), "small.mp4")
    large = _attached(world, case, mp4_video(media=bytes(9 * 1024 * 1024)), "large.mp4")
    creating = {"PutObject", "CreateMultipartUpload", "CopyObject"}
    asked = [(op, sse, key) for op, sse, key in sent if op in creating]
    assert sorted({op for op, _sse, _key in asked}) == sorted(creating)
    assert {(sse, key) for _op, sse, key in asked} == {("aws:kms", "alias/rightsguard")}
    assert [op for op, _s, _k in sent if op == "UploadPart"]  # the large file did travel in parts
    for attachment in (small, large):
        head = evidence_backend.head(attachment.stored_name)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"].endswith("alias/rightsguard")) == ("aws:kms", True)


@S3
def test_restore_into_a_store_holding_anything_is_refused_before_anything_is_restored(evidence_backend, tmp_path):
    """Held: a store with any object under the prefix (another installation's evidence, or data not ours) is refused
    before the database or a file is touched."""
    source = tmp_path / "backup"
    source.mkdir()
    (source / backup.PG_DUMP).write_bytes(b"never read")
    with tarfile.open(source / backup.MEDIA_TAR, "w") as tar:
        info = tarfile.TarInfo(f"evidence/{uuid.uuid4().hex}")
        info.size = len(PDF)
        tar.addfile(info, io.BytesIO(PDF))
    manifest = {
        "vendor": "postgresql",
        "database_file": backup.PG_DUMP,
        "database_sha256": sha256_of(source / backup.PG_DUMP),
        "media_tar_sha256": sha256_of(source / backup.MEDIA_TAR),
        "media": {},
        "row_counts": {},
    }
    (source / backup.MANIFEST).write_text(json.dumps(manifest))
    evidence_backend.put("README.txt", b"not ours", ours=False)
    with pytest.raises(backup.BackupError, match=r"the evidence storage \(s3://.*\) is not empty"):
        backup.restore(source)
    assert evidence_backend.files() == {"README.txt": b"not ours"}
