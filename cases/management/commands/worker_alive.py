"""``manage.py worker_alive``: exit 0 while this machine's Celery worker beats, 1 when its heartbeat is stale or
missing (the compose health check; rightsguard/heartbeat.py)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rightsguard import heartbeat


class Command(BaseCommand):
    help = "Exit 0 if the worker on this machine has beaten recently, 1 if its heartbeat is stale or missing."
    # A health check runs every 30 s: it reads one file and needs none of the system checks.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        age = heartbeat.file_age()
        path = settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE
        if age is None:
            raise CommandError(f"No worker heartbeat at {path}.", returncode=1)
        if age > heartbeat.stale_after():
            raise CommandError(
                f"The worker's last heartbeat is {age:.0f} s old (stale after {heartbeat.stale_after():.0f} s).",
                returncode=1,
            )
        self.stdout.write(f"The worker beat {age:.0f} s ago.")
