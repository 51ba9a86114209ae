"""Backups: the database and the media files (evidence, exports) into one directory, and restore into a fresh one.

A backup directory holds ``database.dump`` (``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite's online
backup), ``media.tar`` and ``manifest.json`` (row counts of every table, each archived file's SHA-256, the tools'
versions). Restore refuses a database that already has tables and a media directory that is not empty, checks the
files against the manifest before it touches anything, and afterwards compares the restored row counts with it.
The ledger check (``manage.py reconcile --no-notifications``) then proves the evidence files match their records.

A backup is one moment of the database and of the files its rows refer to, also while the application writes.
PostgreSQL: a connection of the backup's own opens a REPEATABLE READ, read-only transaction, exports its snapshot
(``pg_export_snapshot()``), counts the tables and reads the attachment and export rows in it, and runs
``pg_dump --snapshot`` on that snapshot while the transaction stays open. SQLite: the online backup API makes a
consistent copy, and the counts and rows are read from the copy. The media archive then holds exactly the files
those rows refer to: every evidence file, verified against its attachment's recorded size and SHA-256 as it is
archived (a missing or altered file fails the backup), and the files of finished exports (report exports and queue
workbooks; one that has gone is left out, as it can be prepared again). A file whose row committed after the snapshot
(or never) is neither archived nor expected.

Evidence is read from, and restored into, the configured evidence storage (cases/evidence_store.py: the local disk
or an S3-compatible object store), streamed; exports likewise from and into the exports storage beside it. In the
archive evidence is ``evidence/<stored name>`` and exports ``exports/<name>`` whichever storage held them, so a backup
restores into either: restoring a backup of a disk-based installation into one configured with
``RIGHTSGUARD_STORAGE_URL`` is how evidence and exports move to object storage. Restore refuses an evidence or exports
storage that already holds anything.

PostgreSQL needs ``pg_dump``/``pg_restore`` of the server's major version or newer on the PATH (Debian:
``postgresql-client``).
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.models import Field, Model
from django.utils import timezone

from cases.evidence import STORED_NAME, stored_key
from cases.evidence_store import EvidenceStorage, Reader, evidence_storage, exports_storage
from cases.ledger import sha256_of, sha256_of_stream
from cases.models import Attachment, ExportStatus, QueueExport, ReportExport
from cases.reports.files import FILE_NAME

MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
PG_DUMP = "database.dump"
SQLITE_FILE = "database.sqlite3"
# 2: counts and files from the dump's own snapshot; the archive holds the files the backed-up rows refer to.
MANIFEST_FORMAT = 2
# Where evidence and exports sit in the media archive (and sat under MEDIA_ROOT before their storage was
# configurable).
EVIDENCE = "evidence/"
EXPORTS = "exports/"


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
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on the PATH (install the PostgreSQL client tools)")
    return found


def _run(command: Sequence[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client tool; its own error message becomes the BackupError's."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")
    return done.stdout


def _tables() -> list[tuple[str, str]]:
    """(model label, table) for every table the models own, the many-to-many tables included."""
    return sorted(
        (model._meta.label, model._meta.db_table)
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count_rows(cursor: Any) -> dict[str, int]:
    """Row counts of every table, read through ``cursor`` (a DB-API cursor: Django's, or sqlite3's on a copy)."""
    counts = {}
    for label, table in _tables():
        cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")  # noqa: S608 - our own table names, quoted
        counts[label] = cursor.fetchone()[0]
    return counts


def row_counts(using: str = "default") -> dict[str, int]:
    with connections[using].cursor() as cursor:
        return _count_rows(cursor)


def _media_files(media_root: Path, storage: EvidenceStorage, exports: EvidenceStorage) -> dict[str, str]:
    """Every regular file under ``media_root`` (the evidence and exports directories aside), every evidence file in
    ``storage`` and every export in ``exports``, by its name in the archive, with its SHA-256 (what a restore left
    there)."""
    found = {}
    if media_root.exists():
        found = {
            str(path.relative_to(media_root)): sha256_of(path)
            for path in sorted(media_root.rglob("*"))
            if path.is_file()
            and not path.is_symlink()
            and path.relative_to(media_root).parts[0] not in (EVIDENCE[:-1], EXPORTS[:-1])
        }
    for folder, where in ((EVIDENCE, storage), (EXPORTS, exports)):
        for entry in where.entries():
            with closing(where.reader(entry.name)) as handle:
                found[folder + entry.name] = sha256_of_stream(handle)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class _MediaFile:
    name: str  # as archived: evidence/<stored name>, exports/<name>
    sha256: str | None  # what its row records (evidence); None: taken as archived (exports)
    size: int | None
    required: bool
    stored_name: str | None = None  # evidence: read from the evidence storage; else an export from its storage

    def open(self) -> Reader:
        """The file for reading, with its size (``FileNotFoundError`` if it is not there)."""
        if self.stored_name is not None:
            return evidence_storage().reader(stored_key(self.stored_name))
        return exports_storage().reader(self.name.removeprefix(EXPORTS))


def _column(model: type[Model], name: str) -> str:
    return cast(Field, model._meta.get_field(name)).column


def _referenced_files(cursor: Any) -> list[_MediaFile]:
    """The evidence and export files that the rows seen through ``cursor`` refer to."""
    stored, sha256, size, attachment_id = (
        _quoted(_column(Attachment, name)) for name in ("stored_name", "sha256", "size", "id")
    )
    cursor.execute(
        f"SELECT {stored}, {sha256}, {size} FROM {_quoted(Attachment._meta.db_table)} "  # noqa: S608
        f"ORDER BY {attachment_id}"
    )
    files = [
        _MediaFile(EVIDENCE + stored_key(name), checksum, length, required=True, stored_name=name)
        for name, checksum, length in cursor.fetchall()
    ]
    # A finished export's file can be produced again, so one that has gone is left out rather than failing.
    for model in (ReportExport, QueueExport):
        export_id, file_name, status = (_quoted(_column(model, name)) for name in ("id", "file_name", "status"))
        cursor.execute(
            f"SELECT {file_name}, {status} FROM {_quoted(model._meta.db_table)} ORDER BY {export_id}"  # noqa: S608
        )
        files += [
            _MediaFile(EXPORTS + name, None, None, False)
            for name, state in cursor.fetchall()
            if state == ExportStatus.DONE and FILE_NAME.fullmatch(name)
        ]
    return files


class _Digesting:
    """A file being read into the archive, hashed on the way: the checksum is of exactly the bytes archived."""

    def __init__(self, handle: Reader) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        return block


def _archive(files: list[_MediaFile], tar_path: Path) -> dict[str, str]:
    """Write ``files`` into the media archive; return each archived file's SHA-256. A missing evidence file, or one
    whose size or checksum is not what its row records, fails the backup."""
    archived: dict[str, str] = {}
    problems: list[str] = []
    with tarfile.open(tar_path, "w") as tar:
        for file in files:
            try:
                handle = file.open()
            except FileNotFoundError:
                if file.required:
                    problems.append(f"{file.name}: missing")
                continue
            with closing(handle):
                if file.size is not None and handle.size != file.size:
                    problems.append(f"{file.name}: {handle.size} bytes, its row records {file.size}")
                    continue
                info = tarfile.TarInfo(file.name)
                info.size, info.mode, info.mtime = handle.size, 0o640, int(time.time())
                reader = _Digesting(handle)
                tar.addfile(info, reader)  # addfile only calls read()
            archived[file.name] = reader.digest.hexdigest()
            if file.sha256 is not None and archived[file.name] != file.sha256:
                problems.append(f"{file.name}: SHA-256 {archived[file.name]}, its row records {file.sha256}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise BackupError(f"{len(problems)} evidence file(s) missing or not as recorded: {shown}")
    return archived


def _dump_postgresql(target: Path) -> tuple[Path, dict[str, int], list[_MediaFile], dict[str, str]]:
    dump = target / PG_DUMP
    db = connection.settings_dict
    pg_dump = _tool("pg_dump")
    # A connection of its own, whose transaction starts with its first statement (the isolation level must be set
    # there) and stays open while pg_dump runs: an exported snapshot lives as long as its transaction.
    snapshot = connection.copy()
    try:
        snapshot.set_autocommit(False)
        with snapshot.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # Idle while pg_dump works, maybe for long: a configured timeout must not end the transaction early.
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone()
            counts = _count_rows(cursor)
            files = _referenced_files(cursor)
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-acl",
                    f"--snapshot={snapshot_id}",
                    "--file",
                    str(dump),
                    _pg_url(db),
                ],
                _pg_env(db),
            )
        snapshot.rollback()
    finally:
        snapshot.close()
    tools = {"pg_dump": _run([pg_dump, "--version"], _pg_env(db)).strip()}
    return dump, counts, files, tools


def _copy_sqlite(target: Path) -> tuple[Path, dict[str, int], list[_MediaFile], dict[str, str]]:
    dump = target / SQLITE_FILE
    connection.ensure_connection()
    with closing(sqlite3.connect(dump)) as copy:
        # The online backup copies one consistent state (it starts over if another connection writes meanwhile);
        # the counts and the rows that name the files are read from that copy.
        connection.connection.backup(copy)
        cursor = copy.cursor()
        counts = _count_rows(cursor)
        files = _referenced_files(cursor)
    return dump, counts, files, {"sqlite": sqlite3.sqlite_version}


def backup(target: Path) -> dict[str, Any]:
    """Write a backup of the default database, the evidence storage and MEDIA_ROOT into ``target`` (created; must be
    empty)."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    started = timezone.now()
    if connection.vendor == "postgresql":
        dump, counts, files, tools = _dump_postgresql(target)
    elif connection.vendor == "sqlite":
        dump, counts, files, tools = _copy_sqlite(target)
    else:
        raise BackupError(f"unsupported database: {connection.vendor}")
    media = _archive(files, target / MEDIA_TAR)
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": started.isoformat(),
        "vendor": connection.vendor,
        "evidence_storage": evidence_storage().describe(),
        "exports_storage": exports_storage().describe(),
        "tools": tools,
        "database_file": dump.name,
        "database_sha256": sha256_of(dump),
        "media_tar_sha256": sha256_of(target / MEDIA_TAR),
        "media": dict(sorted(media.items())),
        "row_counts": dict(sorted(counts.items())),
    }
    # Written last: a directory without a manifest is not a backup (restore refuses it).
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
    """Restore a backup into the database ``using`` (empty), the evidence and exports storages (empty) and MEDIA_ROOT
    (empty or absent)."""
    manifest = read_manifest(source)
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"{media_root} is not empty")
    storage, exports = evidence_storage(), exports_storage()
    if not storage.is_empty():
        raise BackupError(f"the evidence storage ({storage.describe()}) is not empty")
    if not exports.is_empty():
        raise BackupError(f"the exports storage ({exports.describe()}) is not empty")
    target = connections[using]
    if target.introspection.table_names():
        raise BackupError("the target database already has tables: restore into a fresh database")
    if manifest["vendor"] != target.vendor:
        raise BackupError(f"a {manifest['vendor']} backup cannot be restored into {target.vendor}")
    if target.vendor == "postgresql":
        db = target.settings_dict
        _run(
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
            _pg_env(db),
        )
    else:
        target.close()
        with (
            sqlite3.connect(source / SQLITE_FILE) as backup_db,
            sqlite3.connect(target.settings_dict["NAME"]) as restored_db,
        ):
            backup_db.backup(restored_db)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA_TAR) as tar:
        for member in tar:
            if member.name.startswith(EVIDENCE):
                # Streamed into the evidence storage under the name its row records, and nothing else.
                content = tar.extractfile(member) if member.isfile() else None
                name = member.name.removeprefix(EVIDENCE)
                if content is None or not STORED_NAME.fullmatch(name):
                    raise BackupError(f"the media archive's {member.name} is not an evidence file")
                with content:
                    storage.put(name, content)  # type: ignore[arg-type]
            elif member.name.startswith(EXPORTS):
                content = tar.extractfile(member) if member.isfile() else None
                name = member.name.removeprefix(EXPORTS)
                if content is None or not FILE_NAME.fullmatch(name):
                    raise BackupError(f"the media archive's {member.name} is not an export")
                with content:
                    exports.put(name, content)  # type: ignore[arg-type]
            else:
                # The "data" filter refuses absolute paths, "..", links out of the tree and device files.
                tar.extract(member, media_root, filter="data")
    mismatches = []
    restored = row_counts(using)
    for label, count in manifest["row_counts"].items():
        if restored.get(label) != count:
            mismatches.append(f"{label}: {restored.get(label)} rows restored, {count} backed up")
    media = _media_files(media_root, storage, exports)
    if media != manifest["media"]:
        mismatches.append(f"media: {len(media)} files restored, {len(manifest['media'])} backed up or checksums differ")
    return RestoreResult(row_counts=restored, media_files=len(media), mismatches=mismatches)
