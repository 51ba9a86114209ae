"""Evidence in an S3-compatible object store (cases/evidence_store.py, rightsguard/storage.py), against moto's S3
server on loopback (tests/evidence_backends.py): what only an object store has. Large uploads travel in parts
(multipart), every object the application writes asks for server-side encryption (the store records it), keys stay
under the configured prefix, a download streams the object through the permission check, and the setting is read
strictly, never taking keys from the URL. The paths both storages share (every check of an upload, downloads and the
access log, crashes and the sweep, reconcile, backup and restore) run on both in the evidence tests themselves."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import evidence, services
from cases.choices import CaseStatus
from cases.evidence_store import S3EvidenceStorage
from cases.models import AccessLog
from rightsguard.storage import evidence_storage as storage_setting
from tests.api.conftest import token_client
from tests.evidence_backends import BUCKET
from tests.evidence_files import mp4_video
from tests.factories import case_in

S3 = pytest.mark.parametrize("evidence_backend", ["s3"], indirect=True)
MIB = 1024 * 1024
# Over boto3's 8 MiB multipart threshold: sent in two parts, 8 MiB and the rest.
LARGE = mp4_video(media=bytes(9 * MIB))


@S3
def test_a_large_upload_is_sent_in_parts_and_every_object_asks_for_encryption(world, evidence_backend):
    case = case_in(world, CaseStatus.INTAKE)
    stored = evidence.validate_and_store(SimpleUploadedFile("bodycam.mp4", LARGE), case=case)
    waiting = evidence_backend.head(stored.waiting_as)
    # A multipart upload's ETag is the parts' digest followed by their number.
    assert (waiting["ContentLength"], waiting["ETag"].strip('"')[-2:]) == (len(LARGE), "-2")
    assert waiting["ServerSideEncryption"] == "AES256"

    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    # The final name is a server-side copy, which asks for encryption again (a copy does not inherit it).
    final = evidence_backend.head(attachment.stored_name)
    assert (final["ContentLength"], final["ServerSideEncryption"]) == (len(LARGE), "AES256")
    assert evidence_backend.names() == [attachment.stored_name]  # the received object went with the copy
    assert evidence_backend.files() == {attachment.stored_name: LARGE}


@S3
def test_keys_stay_under_the_prefix_and_nothing_else_is_written_to_the_bucket(world, evidence_backend):
    before = {o["Key"] for o in evidence_backend.client.list_objects_v2(Bucket=BUCKET).get("Contents", ())}
    case = case_in(world, CaseStatus.INTAKE)
    attachment = services.add_evidence(case=case, by=world.officer, file=SimpleUploadedFile("v.mp4", mp4_video()))
    after = {o["Key"] for o in evidence_backend.client.list_objects_v2(Bucket=BUCKET).get("Contents", ())}
    assert after - before == {f"{evidence_backend.prefix}/{attachment.stored_name}"}


@S3
def test_a_download_streams_the_object_through_the_permission_check_and_the_access_log(world, evidence_backend):
    case = case_in(world, CaseStatus.INTAKE)
    attachment = services.add_evidence(case=case, by=world.officer, file=SimpleUploadedFile("b.mp4", LARGE))
    url = f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/"

    refused = token_client(world.sibling_supervisor).get(url)
    assert (refused.status_code, AccessLog.objects.filter(action="download").count()) == (404, 0)

    response = token_client(world.supervisor).get(url)
    assert (response.status_code, response["Content-Length"], response["Content-Type"]) == (
        200,
        str(len(LARGE)),
        "video/mp4",
    )
    # Logged before the first byte is sent; the object is read from the store block by block as the answer goes out.
    assert list(AccessLog.objects.filter(action="download").values_list("user", "outcome")) == [
        (world.supervisor.pk, "ok")
    ]
    assert response.streaming
    blocks = list(response.streaming_content)
    assert (len(blocks) > 1, b"".join(blocks) == LARGE) == (True, True)
    # No link into the store is ever handed out: the answer is the file itself.
    assert "Location" not in response
    assert evidence_backend.url.split("?")[0] not in response.serialize_headers().decode()


def test_the_storage_url_is_read_into_the_evidence_storage():
    assert storage_setting("") == {"BACKEND": "cases.evidence_store.DiskEvidenceStorage"}
    assert storage_setting(
        "s3://evidence/rightsguard/prod?endpoint=https://minio.internal:9000&region=cn-east-1&addressing=path"
        "&ca_bundle=/etc/ssl/certs/internal.pem"
    ) == {
        "BACKEND": "cases.evidence_store.S3EvidenceStorage",
        "OPTIONS": {
            "bucket_name": "evidence",
            "location": "rightsguard/prod",
            "endpoint_url": "https://minio.internal:9000",
            "region_name": "cn-east-1",
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "querystring_auth": True,
            "default_acl": None,
            "file_overwrite": True,
            "addressing_style": "path",
            "verify": "/etc/ssl/certs/internal.pem",
        },
    }
    kms = storage_setting("s3://evidence?sse=aws:kms&kms_key=alias/rightsguard")["OPTIONS"]
    assert (kms["location"], kms["endpoint_url"], kms["object_parameters"]) == (
        "",
        None,
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/rightsguard"},
    )
    assert storage_setting("s3://evidence?sse=none")["OPTIONS"]["object_parameters"] == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://AKIAEXAMPLE:secret@evidence/prefix", "access keys belong in AWS_ACCESS_KEY_ID"),
        ("file:///var/lib/evidence", "only s3://bucket/prefix is understood"),
        ("s3:///prefix", "no bucket named"),
        ("s3://evidence?secret_key=x", "unknown parameter(s) secret_key"),
        ("s3://evidence?sse=DES", "sse must be one of AES256, aws:kms, none"),
        ("s3://evidence?kms_key=k", "kms_key needs sse=aws:kms"),
        ("s3://evidence?endpoint=minio:9000", "endpoint must be an http:// or https:// address"),
        ("s3://evidence?addressing=dns", "addressing must be path, virtual or auto"),
    ],
)
def test_a_storage_url_that_cannot_be_used_stops_the_start(url, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        storage_setting(url)
    assert str(refused.value).startswith("RIGHTSGUARD_STORAGE_URL: ")
    assert message in str(refused.value)
    assert "secret" not in str(refused.value).replace("secret_key", "")


@S3
def test_the_keys_come_from_the_environment(evidence_backend):
    storage = evidence.evidence_storage()
    assert isinstance(storage, S3EvidenceStorage)
    assert (storage.access_key, storage.secret_key) == ("rightsguard-test", "rightsguard-test-secret")
    assert storage.get_object_parameters("x") == {"ServerSideEncryption": "AES256"}
