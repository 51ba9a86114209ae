"""The database router: reads inside ``cases.reading.from_replica()`` go to the read replica; every other read, and
every write, to the primary. Migrations run on the primary only (the replica follows it by streaming)."""

from typing import Any

from django.db import DEFAULT_DB_ALIAS

from cases import reading


class ReadReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        # Always an answer: left to Django, a read about an instance goes to the database the instance came from, so
        # an object the report read on the replica would read the replica again wherever it is used afterwards.
        return reading.alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database and its copy: every row is related across them as on the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
