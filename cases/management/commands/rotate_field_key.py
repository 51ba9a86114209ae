"""``manage.py rotate_field_key``: after a new key was put first in ``RIGHTSGUARD_FIELD_KEY`` (the old ones after it),
re-encrypt every stored ID number with it, then recompute the blind index (whose key is derived from the first field
key unless ``RIGHTSGUARD_BLIND_INDEX_KEY`` is set). Afterwards the old keys can be removed from the setting.
docs/operations.md gives the whole procedure."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from cases.fields import rebuild_id_number_index, reencrypt_id_numbers


class Command(BaseCommand):
    help = "Re-encrypt suspects' ID numbers with the first field key and recompute their blind index."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            rewritten = reencrypt_id_numbers(connection)
            reindexed = rebuild_id_number_index(connection)
        self.stdout.write(f"{rewritten} ID numbers re-encrypted with the first key; {reindexed} suspects re-indexed.")
