"""``manage.py reconcile``: the ledger check (cases/ledger.py), the report summaries included (cases/summaries.py).
Prints the counts as JSON; exit status 1 on any problem. ``--repair-summaries`` writes what the summaries lack."""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.ledger import read_accepted, reconcile


class Command(BaseCommand):
    help = (
        "Check that every case has its events, attachments (checksums), notifications and notification e-mails; "
        "exit 1 on a problem."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--since",
            help="Only cases created at or after this ISO time, and evidence uploaded or files stored since then.",
        )
        parser.add_argument("--accepted", type=Path, help="JSON lines of accepted submissions to look for.")
        parser.add_argument(
            "--no-notifications", action="store_true", help="Skip the recipients and e-mail checks (for old history)."
        )
        parser.add_argument(
            "--email-after-minutes",
            type=int,
            default=30,
            help="Report notification e-mails due and not sent after this many minutes (default 30).",
        )
        parser.add_argument(
            "--no-summaries", action="store_true", help="Skip rebuilding and comparing the report summaries."
        )
        parser.add_argument(
            "--repair-summaries",
            action="store_true",
            help="Rebuild the report summaries and write the difference (after a bulk load or a data fix).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = datetime.fromisoformat(options["since"]) if options["since"] else None
        accepted = read_accepted(options["accepted"]) if options["accepted"] else []
        ledger = reconcile(
            since=since,
            accepted=accepted,
            notifications=not options["no_notifications"],
            email_after=timedelta(minutes=options["email_after_minutes"]),
            summaries=not options["no_summaries"],
            repair_summaries=options["repair_summaries"],
        )
        self.stdout.write(json.dumps(ledger.as_dict(), ensure_ascii=False, indent=2))
        if ledger.problems:
            raise CommandError(f"{len(ledger.problems)} problem(s) found")
