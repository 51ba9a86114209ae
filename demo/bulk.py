"""Writing synthetic cases fast: plain value lists (COPY on PostgreSQL, multi-row INSERTs on SQLite), not the ORM.

The ORM's bulk_create spends about ten microseconds per value compiling SQL (measured: under 300 cases/s), which
alone is several minutes for 100,000 cases. Rows are therefore written as plain value lists with ids reserved
beforehand, so children point at parents without a round trip.
"""

import json
import operator
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from cases.fields import EncryptedCharField, blind_index, encrypt
from cases.models import (
    Case,
    CaseEvent,
    FaultFinding,
    InvolvedOfficer,
    LookBackReview,
    ReferenceCounter,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)

Row = dict[str, Any]  # a row to insert, keyed by attribute name


class LinkedRow(Row):
    """A row that event data refers to; the reference becomes the row's id once it has one."""

    __slots__ = ()


@dataclass
class Bundle:
    """One synthetic case and the rows that hang off it."""

    case: Row
    year: int
    officers: list[LinkedRow] = field(default_factory=list)
    suspects: list[LinkedRow] = field(default_factory=list)
    referrals: list[LinkedRow] = field(default_factory=list)
    findings: list[LinkedRow] = field(default_factory=list)
    fault_findings: list[LinkedRow] = field(default_factory=list)
    reviews: list[LinkedRow] = field(default_factory=list)
    measures: list[LinkedRow] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    # Service writes whose events are not stored (see demo.generator); they still count in the case version.
    unrecorded: int = 0


class _Table:
    """Column order, defaults and value adapters of one model, worked out once."""

    def __init__(self, model: type[models.Model], connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        self.name = model._meta.db_table
        self.table = quote(self.name)
        self.pk_column = model._meta.pk.column
        self.max_id = f"SELECT COALESCE(MAX({quote(self.pk_column)}), 0) FROM {self.table}"  # noqa: S608
        self.columns = ", ".join(quote(f.column) for f in fields)
        self.width = len(fields)
        # Defaults are shared between rows; the only mutable one (a JSONField's {}) is serialised, never changed.
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
        self.pick = operator.itemgetter(*(f.attname for f in fields))
        self.adapted = [(i, adapt) for i, f in enumerate(fields) if (adapt := self._adapter(f)) is not None]
        self.insert = f"INSERT INTO {self.table} ({self.columns}) VALUES "  # noqa: S608

    def _adapter(self, f: models.Field) -> Callable[[Any], Any] | None:
        ops, kind = self.connection.ops, f.get_internal_type()
        if isinstance(f, EncryptedCharField):
            return encrypt  # bypassing the ORM bypasses the field's own encryption: the column holds tokens
        if kind == "JSONField":
            # One encoder for every row: what json.dumps(v, cls=f.encoder) writes, without building one per value.
            return (f.encoder or json.JSONEncoder)().encode
        if self.vendor == "postgresql":
            return None  # COPY adapts dates, times and decimals itself
        if kind == "DateTimeField":
            if self.vendor == "sqlite":
                # What ops.adapt_datetimefield_value does, without its per-call checks.
                tz = self.connection.timezone
                return lambda v: str((v if v.tzinfo is tz else v.astimezone(tz)).replace(tzinfo=None))
            return ops.adapt_datetimefield_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "DecimalField":
            return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
        return None

    def reserve_ids(self, rows: list[Row]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.name, self.pk_column, len(rows)],
                )
                ids = [r[0] for r in cursor.fetchall()]
            else:
                # Safe because the batch's transaction holds SQLite's write lock (transaction_mode IMMEDIATE);
                # sqlite_sequence remembers AUTOINCREMENT ids of rows deleted since, which must not come back.
                cursor.execute(self.max_id)
                start = cursor.fetchone()[0]
                if self.vendor == "sqlite":
                    cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [self.name])
                    start = max(start, cursor.fetchone()[0])
                ids = list(range(start + 1, start + 1 + len(rows)))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk

    def _values(self, rows: list[Row]) -> list[list[Any]]:
        defaults, pick, adapted = self.defaults, self.pick, self.adapted
        out = []
        for row in rows:
            values = list(pick({**defaults, **row}))
            for i, adapt in adapted:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            out.append(values)
        return out

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        values = self._values(rows)
        # The DB-API connection, inside the transaction Django opened: no per-statement debug logging.
        raw = self.connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        elif self.vendor == "sqlite":
            # Many rows per statement: SQLite builds the lookup table of each CHECK constraint's IN list once per
            # statement, so one row per statement (executemany) costs about three times as much.
            limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            per = max(1, min(1000, limit // self.width))
            one = "(" + ", ".join(["?"] * self.width) + ")"
            cursor = raw.cursor()
            for begin in range(0, len(values), per):
                chunk = values[begin : begin + per]
                cursor.execute(self.insert + ", ".join([one] * len(chunk)), list(chain.from_iterable(chunk)))
        else:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.insert + "(" + ", ".join(["%s"] * self.width) + ")", values)


class Writer:
    """Writes batches of bundles on the default database, one transaction per batch."""

    def __init__(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        self.vendor = connection.vendor
        self.tables = {
            model: _Table(model, connection)
            for model in (
                Case,
                InvolvedOfficer,
                Suspect,
                Referral,
                SupervisionFinding,
                FaultFinding,
                LookBackReview,
                SupportMeasure,
                CaseEvent,
            )
        }

    def write(self, bundles: list[Bundle]) -> None:
        """One batch in one transaction: cases (their reference numbers given) and everything hanging off them."""
        with transaction.atomic():
            if self.vendor == "postgresql":
                # A crash can lose at most the last batches, never half of one; not waiting for the WAL flush
                # lets the server start on the next batch sooner.
                with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cases = [b.case for b in bundles]
            for b in bundles:
                # What the referring services keep on the case (cases/summaries.py ``note_referral``).
                b.case["first_referred_at"] = min((r["referred_at"] for r in b.referrals), default=None)
            self.tables[Case].reserve_ids(cases)
            children: dict[type[models.Model], list[Row]] = {}
            for model, attr in (
                (InvolvedOfficer, "officers"),
                (Suspect, "suspects"),
                (Referral, "referrals"),
                (SupervisionFinding, "findings"),
                (FaultFinding, "fault_findings"),
                (LookBackReview, "reviews"),
                (SupportMeasure, "measures"),
                (CaseEvent, "events"),
            ):
                rows = children[model] = []
                for b in bundles:
                    case_id = b.case["id"]
                    for row in getattr(b, attr):
                        row["case_id"] = case_id
                        rows.append(row)
                self.tables[model].reserve_ids(rows)
            for measure in children[SupportMeasure]:
                officer = measure.pop("officer")
                measure["officer_id"] = officer["id"] if officer is not None else None
            for suspect in children[Suspect]:
                # What Suspect.save sets: bypassing the ORM bypasses it, as it bypasses the field's encryption.
                suspect["id_number_index"] = blind_index(suspect.get("id_number") or "")
            for e in children[CaseEvent]:
                e["data"] = {k: v["id"] if isinstance(v, LinkedRow) else v for k, v in e["data"].items()}
            self.tables[Case].write(cases)
            for model, rows in children.items():
                self.tables[model].write(rows)


def take_numbers(counts: Counter[int]) -> dict[int, int]:
    """Reserve a block of reference numbers per year under the counter rows' locks; returns each block's first."""
    with transaction.atomic():
        ReferenceCounter.objects.bulk_create(
            [ReferenceCounter(year=y, last_number=0) for y in counts], ignore_conflicts=True
        )
        counters = list(ReferenceCounter.objects.select_for_update().filter(year__in=list(counts)).order_by("year"))
        first = {}
        for counter in counters:
            first[counter.year] = counter.last_number + 1
            counter.last_number += counts[counter.year]
        ReferenceCounter.objects.bulk_update(counters, ["last_number"])
    return first


@contextmanager
def roomy_sqlite_cache() -> Iterator[None]:
    """Give SQLite's page cache 256 MiB while seeding, on this connection only.

    Every case updates a dozen indexes at scattered positions; with the default 2 MiB cache most of those pages
    are evicted and re-read for each batch once the file outgrows it.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
