"""``manage.py retention``: what the daily retention job will seal and anonymise in a month (``--plan``, the next
month unless ``--month YYYY-MM``), as CSV; or run the job now (``--apply``), printing its counts as JSON."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cases import retention
from cases.reports.cells import csv_writer
from cases.services import retention as retention_services


class Command(BaseCommand):
    help = (
        "--plan: list, as CSV, the closed cases the retention job will seal or anonymise in the next month (or in "
        "--month YYYY-MM), held cases left out. --apply: run the job now (what beat runs once a day)."
    )

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--plan", action="store_true", help="List what would be done; change nothing.")
        group.add_argument("--apply", action="store_true", help="Seal and anonymise what is due now.")
        parser.add_argument("--month", help="The month the plan covers, as YYYY-MM (default: the next month).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["apply"]:
            if options["month"]:
                raise CommandError("--month goes with --plan only.")
            self.stdout.write(json.dumps(retention_services.apply_retention().as_dict()))
            return
        try:
            month = retention.parse_month(options["month"]) if options["month"] else retention.next_month()
        except ValueError as exc:
            raise CommandError(f"--month must be YYYY-MM, not {options['month']!r}.") from exc
        with translation.override(translation.get_language() or "en"):
            rows = retention.plan_csv_rows(retention.retention_plan(month))
        writer = csv_writer(self.stdout if self.stdout is not None else sys.stdout)
        for row in rows:
            writer.writerow(row)
