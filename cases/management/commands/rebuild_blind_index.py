"""``manage.py rebuild_blind_index``: recompute suspects' ID-number blind index (cases/fields.py) under the current
key, after ``RIGHTSGUARD_BLIND_INDEX_KEY`` changed (or the first field key was rotated while it is unset)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from cases.fields import rebuild_id_number_index


class Command(BaseCommand):
    help = "Recompute the blind index of suspects' ID numbers under the current index key."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            changed = rebuild_id_number_index(connection)
        self.stdout.write(f"{changed} suspects re-indexed.")
