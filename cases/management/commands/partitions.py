"""``manage.py partitions``: the timeline's and the access log's monthly partitions (cases/partitions.py), what beat's
``cases.maintain_partitions`` does once a day. ``--plan`` lists the changes, ``--apply`` makes them."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases import partitions


class Command(BaseCommand):
    help = (
        "Monthly partitions of the timeline and the access log (PostgreSQL): create the next "
        f"{partitions.AHEAD_MONTHS} months' partitions, move rows out of the DEFAULT partitions, drop the access log's "
        "months older than RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS. The timeline's partitions are never dropped."
    )

    def add_arguments(self, parser: Any) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--plan", action="store_true", help="List what --apply would change; change nothing.")
        mode.add_argument(
            "--apply",
            action="store_true",
            help="Make the changes. Moves any number of DEFAULT rows (beat moves at most "
            f"{partitions.MOVE_LIMIT_ROWS:,} at a time); the table is locked while they are copied.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions.partitioning_available():
            raise CommandError("Partitions are a PostgreSQL feature: this database is not partitioned.")
        if options["plan"]:
            steps = partitions.plan()
            for step in steps:
                self.stdout.write(step.describe())
            if not steps:
                self.stdout.write("Nothing to do.")
        else:
            outcome = partitions.apply(move_limit=None)
            self.stdout.write(json.dumps(outcome.as_dict(), indent=2))
            if outcome.postponed:
                raise CommandError(f"left for later (their lock was not free): {', '.join(outcome.postponed)}")
        for table, (rows, ahead) in partitions.status().items():
            self.stdout.write(f"{table}: {rows} row(s) in DEFAULT, partitions {ahead} month(s) ahead")
