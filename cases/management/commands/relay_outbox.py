"""``manage.py relay_outbox``: publish background jobs left unpublished (what beat does every minute)."""

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from cases import outbox


class Command(BaseCommand):
    help = "Publish outbox messages whose on-commit publish failed (broker down, process killed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="Also messages younger than a minute.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = outbox.relay(older_than=timedelta(0) if options["all"] else None)
        self.stdout.write(json.dumps(result))
