"""``manage.py restore DIR``: restore a backup into this configuration's (fresh) database, evidence and exports
storages and MEDIA_ROOT."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.backup import BackupError, restore
from cases.evidence_store import StoreError


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into an empty database (DATABASE_URL), empty evidence and exports "
        "storages (MEDIA_ROOT/evidence and MEDIA_ROOT/exports, or RIGHTSGUARD_STORAGE_URL) and an empty MEDIA_ROOT."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore(options["source"])
        except (BackupError, StoreError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "cases": result.row_counts.get("cases.Case", 0),
                    "media_files": result.media_files,
                    "mismatches": result.mismatches,
                }
            )
        )
        if result.mismatches:
            raise CommandError(f"{len(result.mismatches)} mismatch(es) with the manifest")
