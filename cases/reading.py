"""Where the reading-heavy work reads: the primary database, or a read replica (``DATABASE_REPLICA_URL``: a streaming
standby of the primary, e.g. ``pg_basebackup -R``).

The yearly report (``cases.reports.yearly.yearly_report``: its page, its files, its API) and the analysis
(``analysis.figures.analyse``) read a year of cases; on a busy primary they compete with the officers' and the
office's work. Inside ``from_replica()`` the ORM's reads go to the replica (``rightsguard.routers.ReadReplicaRouter``)
and the raw SQL of the report reads from ``db()``; everything else, and every write anywhere, stays on the primary.
Nothing a user has just written is read there: these reports show figures of the whole area, never the user's own
change, and the pages say how fresh the replica's figures are ("figures as of 10:42:05": the commit time of the last
change the replica applied).

A replica that is not configured, does not answer, is not a standby (promoted, or a plain copy), or cannot be dated
(nothing replayed since it started, and not streaming from the primary) is not used: the
report reads the primary, as without one, and says nothing about freshness. One that fails while the report reads it
(stopped meanwhile, or a query cancelled in a conflict with the standby's replay) has the report read again from the
primary (``read_from_replica``). The report is never refused because the replica is down.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections

REPLICA = "replica"
logger = logging.getLogger(__name__)
T = TypeVar("T")
_alias: ContextVar[str] = ContextVar("rightsguard_read_alias", default=DEFAULT_DB_ALIAS)
_freshness: ContextVar["Freshness | None"] = ContextVar("rightsguard_read_freshness", default=None)


def alias() -> str:
    """The database alias reads go to now: the replica's inside ``from_replica`` (when it is used), else the
    primary's."""
    return _alias.get()


def db() -> Any:
    """The connection raw reading SQL runs on (see ``alias``)."""
    return connections[_alias.get()]


@dataclass(frozen=True)
class Freshness:
    """Where a report's figures were read: ``as_of`` is the commit time of the last change the replica had applied
    (None: read from the primary, current)."""

    as_of: datetime | None = None


def _replica_state() -> Freshness | None:
    """The replica's freshness when it answers as a standby; None when it cannot be used."""
    if REPLICA not in settings.DATABASES:
        return None
    current = False
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp(), now()")
            in_recovery, replayed, now = cursor.fetchone()
            if in_recovery and replayed is None:
                # Whether it is current all the same: its WAL receiver runs and it has replayed all it received.
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) "
                    "AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()"
                )
                (current,) = cursor.fetchone()
    except Exception:
        logger.warning("The read replica does not answer: the report reads the primary.", exc_info=True)
        connections[REPLICA].close()
        return None
    if not in_recovery:
        logger.warning("The read replica is not a standby: the report reads the primary.")
        return None
    if replayed is None and not current:
        # Nothing replayed since it started, and not streaming: as old as whatever it started from (its base backup,
        # or where it stopped before a restart while cut off from the primary), which it cannot date.
        logger.warning("The read replica cannot tell how fresh it is: the report reads the primary.")
        return None
    # Nothing replayed since the standby started but streaming and caught up: current, as of now.
    return Freshness(as_of=replayed or now)


@contextmanager
def from_replica() -> Iterator[Freshness]:
    """Read from the replica inside the block when one is configured and usable (see the module doc); yields where
    the figures come from. Nested: the outer block's choice holds, and its freshness is the inner's."""
    outer = _freshness.get()
    if outer is not None:
        yield outer
        return
    state = _replica_state()
    alias_token = _alias.set(REPLICA if state is not None else DEFAULT_DB_ALIAS)
    state = state or Freshness()
    freshness_token = _freshness.set(state)
    try:
        yield state
    finally:
        _freshness.reset(freshness_token)
        _alias.reset(alias_token)


def read_from_replica(read: Callable[[Freshness], T]) -> T:
    """``read(freshness)`` inside ``from_replica``; when the replica fails while it runs (stopped since the check, or a
    query cancelled in a conflict with the standby's replay), a warning is logged and ``read`` runs again on the
    primary, told nothing about freshness. Reads only: ``read`` runs twice then."""
    outer = _freshness.get()
    if outer is not None:  # inside another report's block: its choice holds, and its fallback
        return read(outer)
    with from_replica() as freshness:
        on_replica = alias() == REPLICA
        try:
            return read(freshness)
        except Error:
            if not on_replica:
                raise
            logger.warning("The read replica failed during the report: the report reads the primary.", exc_info=True)
            connections[REPLICA].close()
    primary = Freshness()
    alias_token, freshness_token = _alias.set(DEFAULT_DB_ALIAS), _freshness.set(primary)
    try:
        return read(primary)
    finally:
        _freshness.reset(freshness_token)
        _alias.reset(alias_token)
