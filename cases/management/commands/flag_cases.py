"""``manage.py flag_cases``: run the flag scan once, the same code Celery beat runs every 15 minutes."""

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases import flagging


class Command(BaseCommand):
    help = (
        "Raise and resolve flags (stalled, idle, overdue referral, downgraded, review prompt) for the cases that need "
        "it, and "
        "send the supervisors' digests. --full re-evaluates every case, e.g. after a rule or setting changed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--full", action="store_true", help="Re-evaluate every case, not only candidates.")
        parser.add_argument(
            "--no-notify",
            action="store_true",
            help="Raise and resolve flags without notifying supervisors (the first run over existing cases).",
        )
        parser.add_argument("--case", type=int, help="Check a single case by id.")
        parser.add_argument("--now", help="Evaluate as of this ISO date-time (default: the current time).")
        parser.add_argument("--batch-size", type=int, default=flagging.DEFAULT_BATCH, help="Cases read per batch.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = self._now(options["now"])
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["case"] is not None:
            result = flagging.check_case_flags(case_id=options["case"], now=now)
        else:
            try:
                result = flagging.flag_cases(
                    now=now, full=options["full"], notify=not options["no_notify"], batch_size=options["batch_size"]
                )
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
        if not result.ran:
            self.stdout.write(self.style.WARNING("Another flag scan is running; nothing done."))
            return
        self.stdout.write(
            f"candidates={result.candidates} evaluated={result.evaluated} raised={result.raised} "
            f"resolved={result.resolved} warnings={result.warnings} notifications={result.notifications} "
            f"skipped_locked={result.skipped_locked} failed={result.failed} seconds={result.seconds:.2f}"
        )

    @staticmethod
    def _now(value: str | None) -> datetime:
        if not value:
            return timezone.now()
        parsed = parse_datetime(value)
        if parsed is None:
            raise CommandError("--now must be an ISO date-time, e.g. 2026-03-01T09:00:00+08:00.")
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
