"""``RIGHTSGUARD_STORAGE_URL``: where evidence is kept, as Django's ``STORAGES["evidence"]`` (cases/evidence_store.py),
and beside it the files prepared for download (report exports, queue workbooks), ``STORAGES["exports"]``.

Unset or empty: the local disk under ``MEDIA_ROOT/evidence``, the embedded default. Otherwise an S3-compatible
object store (AWS S3, MinIO, Ceph RGW)::

    s3://BUCKET[/PREFIX][?endpoint=https://minio.internal:9000][&region=eu-central-1][&addressing=path]
        [&sse=AES256|aws:kms|none][&kms_key=KEY-ID][&ca_bundle=/etc/ssl/certs/internal-ca.pem]

``endpoint`` is the store's address (none: AWS); ``addressing=path`` for stores reached by address rather than by
bucket host name; ``ca_bundle`` verifies a store whose certificate an internal authority issued. Every write asks
for server-side encryption: ``sse=AES256`` (the store's own keys, the default) or ``aws:kms`` with ``kms_key``;
``sse=none`` only for a store that encrypts at rest by other means and refuses the request (a MinIO without a KMS).
The access keys come from ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (or an instance role): a URL carrying
credentials is refused, so they never end up in a settings dump or a log line.

Prepared files follow the evidence, so a worker on one machine and a web node on another see the same ones: under
``MEDIA_ROOT/exports`` on the disk, under ``PREFIX/exports/`` in the same bucket (one prefix for the access key's
policy; the evidence code never lists deeper than the prefix's own files and ``.incoming/``).
"""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ImproperlyConfigured

EXPORTS = "exports"
_PARAMETERS = frozenset({"endpoint", "region", "addressing", "sse", "kms_key", "ca_bundle"})
_ENCRYPTION = ("AES256", "aws:kms", "none")


def _refuse(why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"RIGHTSGUARD_STORAGE_URL: {why}")


def evidence_storage(url: str) -> dict[str, Any]:
    """The ``STORAGES["evidence"]`` entry ``url`` describes; ``ImproperlyConfigured`` when it cannot be used."""
    if not url:
        return {"BACKEND": "cases.evidence_store.DiskEvidenceStorage"}
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise _refuse("only s3://bucket/prefix is understood (unset: evidence on the local disk)")
    if "@" in parts.netloc:
        raise _refuse("access keys belong in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never in the URL")
    if not parts.netloc:
        raise _refuse("no bucket named (s3://bucket/prefix)")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if unknown := sorted(set(query) - _PARAMETERS):
        raise _refuse(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(_PARAMETERS))}")
    encryption = query.get("sse", "AES256")
    if encryption not in _ENCRYPTION:
        raise _refuse(f"sse must be one of {', '.join(_ENCRYPTION)}")
    if "kms_key" in query and encryption != "aws:kms":
        raise _refuse("kms_key needs sse=aws:kms")
    if query.get("addressing", "path") not in ("path", "virtual", "auto"):
        raise _refuse("addressing must be path, virtual or auto")
    endpoint = query.get("endpoint") or None
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise _refuse("endpoint must be an http:// or https:// address")
    if endpoint and "@" in urlsplit(endpoint).netloc:
        # boto3 repeats the endpoint in its errors, which the evidence log lines carry.
        raise _refuse("access keys belong in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never in the endpoint")
    object_parameters = {} if encryption == "none" else {"ServerSideEncryption": encryption}
    if "kms_key" in query:
        object_parameters["SSEKMSKeyId"] = query["kms_key"]
    options: dict[str, Any] = {
        "bucket_name": parts.netloc,
        "location": parts.path.strip("/"),
        "endpoint_url": endpoint,
        "region_name": query.get("region") or None,
        "object_parameters": object_parameters,
        # Evidence is never linked to: downloads stream through the permission check.
        "querystring_auth": True,
        "default_acl": None,
        "file_overwrite": True,
    }
    if "addressing" in query:
        options["addressing_style"] = query["addressing"]
    if query.get("ca_bundle"):
        options["verify"] = query["ca_bundle"]
    return {"BACKEND": "cases.evidence_store.S3EvidenceStorage", "OPTIONS": options}


def exports_storage(url: str) -> dict[str, Any]:
    """The ``STORAGES["exports"]`` entry for the same ``url``: the disk's ``MEDIA_ROOT/exports``, or the folder
    ``exports/`` under the evidence prefix in the object store."""
    evidence = evidence_storage(url)
    if "OPTIONS" not in evidence:
        return {"BACKEND": "cases.evidence_store.DiskExportStorage"}
    options = evidence["OPTIONS"]
    location = "/".join(part for part in (options["location"], EXPORTS) if part)
    return {"BACKEND": "cases.evidence_store.S3ExportStorage", "OPTIONS": {**options, "location": location}}
