"""``manage.py backup DIR``: the database, the evidence and the other media files into DIR (cases/backup.py)."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.backup import BackupError, backup
from cases.evidence_store import StoreError


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump or SQLite backup), the evidence storage (disk or object store) and MEDIA_ROOT "
        "into an empty directory."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("target", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup(options["target"])
        except (BackupError, StoreError) as exc:
            raise CommandError(str(exc)) from exc
        summary = {
            "target": str(options["target"]),
            "database_file": manifest["database_file"],
            "media_files": len(manifest["media"]),
            "cases": manifest["row_counts"].get("cases.Case", 0),
        }
        self.stdout.write(json.dumps(summary))
