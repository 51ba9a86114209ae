"""``manage.py sweep_evidence``: remove what crashed uploads left in evidence storage (what beat does every 15
minutes; cases/evidence.py)."""

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from cases import evidence


class Command(BaseCommand):
    help = (
        "Remove received evidence files never recorded and evidence files without an attachment row, once older "
        "than RIGHTSGUARD_EVIDENCE_STALE_SECONDS (an hour by default). Prints the counts as JSON."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=float,
            help="Remove only files older than this (default: RIGHTSGUARD_EVIDENCE_STALE_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than_minutes"]
        result = evidence.sweep(older_than=None if minutes is None else timedelta(minutes=minutes))
        self.stdout.write(json.dumps(result))
