"""The two evidence storages the tests run against (cases/evidence_store.py): the local disk under a temporary
``MEDIA_ROOT``, and an S3-compatible object store, moto's server mode started by the tests on loopback and reached by
real boto3 calls over HTTP (nothing is mocked). One bucket serves the run; each test gets a prefix of its own. The
exports storage follows the evidence's, as ``RIGHTSGUARD_STORAGE_URL`` sets both (``MEDIA_ROOT/exports``, or
``exports/`` under the test's prefix).

``evidence_backend`` is parametrised over both, so a test that asks for it runs once on each. The object store is
never skipped: if moto cannot start, the test fails.
"""

import functools
import logging
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from cases.evidence import INCOMING
from cases.evidence_store import OWNER_METADATA, EvidenceStorage, evidence_storage
from rightsguard.storage import evidence_storage as storage_setting
from rightsguard.storage import exports_storage as exports_setting

BUCKET = "rightsguard-evidence-test"
REGION = "us-east-1"
# moto takes any key; these only stand where a deployment's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY would.
KEYS = {"AWS_ACCESS_KEY_ID": "rightsguard-test", "AWS_SECRET_ACCESS_KEY": "rightsguard-test-secret"}


@functools.cache
def s3_client(endpoint: str) -> Any:
    """The tests' own boto3 client of the store (one per endpoint: creating one costs a tenth of a second)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 at a free port, with the test bucket, for the whole run."""
    # Imported here, so a run without object-store tests does not pay for it; missing, the tests fail (never skip).
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_client(endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def storage_url(endpoint: str, prefix: str, **extra: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"endpoint": endpoint, "region": REGION, **extra}.items())
    return f"s3://{BUCKET}/{prefix}?{query}"


def stored() -> dict[str, bytes]:
    """What the application sees in the configured evidence storage: the evidence files and the received ones
    (``.incoming/…``), with their content."""
    storage = evidence_storage()
    found = {}
    for folder in ("", INCOMING):
        for entry in storage.entries(folder):
            name = f"{folder}/{entry.name}" if folder else entry.name
            with closing(storage.reader(name)) as handle:
                found[name] = handle.read()
    return dict(sorted(found.items()))


@dataclass
class Backend:
    """The evidence storage a test runs against, and how the test looks inside it."""

    kind: str  # "disk" or "s3"
    media_root: Path
    url: str = ""  # RIGHTSGUARD_STORAGE_URL ("" for the disk)
    client: Any = None  # a boto3 S3 client of the test's own (s3)
    prefix: str = ""

    @property
    def storage(self) -> EvidenceStorage:
        return evidence_storage()

    def env(self) -> dict[str, str]:
        """What a process started by the test needs to reach the same storage (with MEDIA_ROOT set apart)."""
        return {"RIGHTSGUARD_STORAGE_URL": self.url, **(KEYS if self.kind == "s3" else {})}

    def names(self) -> list[str]:
        """Every file in the evidence storage, at any depth (received ones under ``.incoming/`` included)."""
        if self.kind == "disk":
            root = self.media_root / "evidence"
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{self.prefix}/")
        return sorted(
            item["Key"].removeprefix(f"{self.prefix}/") for page in pages for item in page.get("Contents", ())
        )

    def exported(self) -> dict[str, bytes]:
        """Every file in the exports storage, at any depth, with its content, by its name there."""
        if self.kind == "disk":
            root = self.media_root / "exports"
            found = root.rglob("*") if root.exists() else ()
            return {str(p.relative_to(root)): p.read_bytes() for p in sorted(found) if p.is_file()}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{self.prefix}/exports/")
        keys = sorted(item["Key"] for page in pages for item in page.get("Contents", ()))
        return {
            key.removeprefix(f"{self.prefix}/exports/"): self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            for key in keys
        }

    def files(self) -> dict[str, bytes]:
        """Every file in the evidence storage with its content, by its name there."""
        found = {}
        for name in self.names():
            with closing(self.storage.reader(name)) as handle:
                found[name] = handle.read()
        return found

    def put(self, name: str, content: bytes, *, ours: bool = True) -> None:
        """A file put there by the test: what the application left (an orphan, a leftover: ``ours``, in an object
        store with the mark the application writes, ``OWNER_METADATA``), or a stranger's object (not ``ours``)."""
        if self.kind == "disk":
            path = self.media_root / "evidence" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            mark = {"Metadata": OWNER_METADATA} if ours else {}
            self.client.put_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}", Body=content, **mark)

    def head(self, name: str) -> dict[str, Any]:
        """The object store's own record of an object (s3 only)."""
        return self.client.head_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")


def s3_backend(endpoint: str, media_root: Path) -> Backend:
    """A prefix of its own in the test bucket, not configured here (for a process the test starts)."""
    prefix = f"evidence-{uuid.uuid4().hex[:12]}"
    return Backend("s3", media_root, url=storage_url(endpoint, prefix), client=s3_client(endpoint), prefix=prefix)


def use_backend(kind: str, *, settings: Any, monkeypatch: Any, media_root: Path, endpoint: str = "") -> Backend:
    """Configure the evidence storage ``kind`` for the rest of the test, as ``RIGHTSGUARD_STORAGE_URL`` would."""
    settings.MEDIA_ROOT = media_root
    backend = Backend(kind, media_root) if kind == "disk" else s3_backend(endpoint, media_root)
    for key, value in backend.env().items():
        if key != "RIGHTSGUARD_STORAGE_URL":
            monkeypatch.setenv(key, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": storage_setting(backend.url),
        "exports": exports_setting(backend.url),
    }
    return backend


@pytest.fixture(params=["disk", "s3"])
def evidence_backend(request, settings, monkeypatch, tmp_path) -> Backend:
    """The test runs once with evidence on the local disk and once in the object store."""
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else ""
    return use_backend(
        request.param, settings=settings, monkeypatch=monkeypatch, media_root=tmp_path / "media", endpoint=endpoint
    )
