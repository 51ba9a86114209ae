"""Backups: the database and the media files (evidence, exports) into one directory, and restore into a fresh one.

A backup directory holds ``database.dump`` (``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite's online
backup), ``media.tar`` and ``manifest.json`` (row counts of every table, each file's SHA-256, the tools' versions).
Restore refuses a database that already has tables and a media directory that is not empty, checks the files
against the manifest before it touches anything, and afterwards compares the restored row counts with it. The
ledger check (``manage.py reconcile --no-notifications``) then proves the evidence files match their records.

PostgreSQL needs ``pg_dump``/``pg_restore`` of the server's major version or newer on the PATH (Debian:
``postgresql-client``).
"""

import json
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from cases.ledger import sha256_of

MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
PG_DUMP = "database.dump"
SQLITE_FILE = "database.sqlite3"


class BackupError(Exception):
    pass


def _pg_url(settings_dict: dict[str, Any]) -> str:
    """A libpq connection string for the command-line tools (no password on the command line: PGPASSWORD)."""
    parts = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or "",
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on the PATH (install the PostgreSQL client tools)")
    return found


def row_counts(using: str = "default") -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        counts[model._meta.label] = model._default_manager.using(using).count()
    return dict(sorted(counts.items()))


def _media_files(media_root: Path) -> dict[str, str]:
    if not media_root.exists():
        return {}
    return {
        str(path.relative_to(media_root)): sha256_of(path)
        for path in sorted(media_root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def backup(target: Path) -> dict[str, Any]:
    """Write a backup of the default database and MEDIA_ROOT into ``target`` (created; must be empty)."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    media_root = Path(settings.MEDIA_ROOT)
    db = connection.settings_dict
    started = timezone.now()
    counts = row_counts()
    if connection.vendor == "postgresql":
        dump = target / PG_DUMP
        subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl", "--file", str(dump), _pg_url(db)],
            check=True,
            env=_pg_env(db),
            capture_output=True,
        )
    elif connection.vendor == "sqlite":
        dump = target / SQLITE_FILE
        connection.ensure_connection()
        with sqlite3.connect(dump) as copy:
            connection.connection.backup(copy)
        copy.close()
    else:
        raise BackupError(f"unsupported database: {connection.vendor}")
    media = _media_files(media_root)
    with tarfile.open(target / MEDIA_TAR, "w") as tar:
        for name in media:
            tar.add(media_root / name, arcname=name, recursive=False)
    manifest = {
        "format": 1,
        "created_at": started.isoformat(),
        "vendor": connection.vendor,
        "database_file": dump.name,
        "database_sha256": sha256_of(dump),
        "media_tar_sha256": sha256_of(target / MEDIA_TAR),
        "media": media,
        "row_counts": counts,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


@dataclass
class RestoreResult:
    row_counts: dict[str, int]
    media_files: int
    mismatches: list[str]


def read_manifest(source: Path) -> dict[str, Any]:
    manifest = json.loads((source / MANIFEST).read_text())
    if sha256_of(source / manifest["database_file"]) != manifest["database_sha256"]:
        raise BackupError("the database file does not match the manifest")
    if sha256_of(source / MEDIA_TAR) != manifest["media_tar_sha256"]:
        raise BackupError("the media archive does not match the manifest")
    return manifest


def restore(source: Path, *, using: str = "default") -> RestoreResult:
    """Restore a backup into the database ``using`` (empty) and MEDIA_ROOT (empty or absent)."""
    manifest = read_manifest(source)
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"{media_root} is not empty")
    target = connections[using]
    if target.introspection.table_names():
        raise BackupError("the target database already has tables: restore into a fresh database")
    if manifest["vendor"] != target.vendor:
        raise BackupError(f"a {manifest['vendor']} backup cannot be restored into {target.vendor}")
    if target.vendor == "postgresql":
        db = target.settings_dict
        subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                _pg_url(db),
                str(source / PG_DUMP),
            ],
            check=True,
            env=_pg_env(db),
            capture_output=True,
        )
    else:
        target.close()
        with sqlite3.connect(source / SQLITE_FILE) as backup_db, sqlite3.connect(target.settings_dict["NAME"]) as db:
            backup_db.backup(db)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_TAR) as tar:
        # The "data" filter refuses absolute paths, "..", links out of the tree and device files.
        tar.extractall(media_root, filter="data")
    mismatches = []
    restored = row_counts(using)
    for label, count in manifest["row_counts"].items():
        if restored.get(label) != count:
            mismatches.append(f"{label}: {restored.get(label)} rows restored, {count} backed up")
    media = _media_files(media_root)
    if media != manifest["media"]:
        mismatches.append(f"media: {len(media)} files restored, {len(manifest['media'])} backed up or checksums differ")
    return RestoreResult(row_counts=restored, media_files=len(media), mismatches=mismatches)
