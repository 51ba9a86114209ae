"""The flag scans: find cases left unhandled, downgraded or dragged out, and keep their flags in step with the facts.

``flag_cases(now=…)`` runs every 15 minutes (Celery beat), from ``manage.py flag_cases``, and
``check_case_flags(case_id=…)`` runs for one case right after a disposition or a fact changes. Both end in
the same place: the set of open flags of a case equals what its facts call for at ``now``; newly raised and
resolved flags are on the timeline (FLAG_RAISED, FLAG_RESOLVED); the read model on the case (``is_stalled``,
``is_idle``, ``has_overdue_referral``, ``is_downgraded``, ``has_review_prompt``, ``expected_min_rank``) agrees with
the open flags (a rule finding is a DOWNGRADED or a REVIEW_PROMPT flag by its severity, ``plan.SEVERITY_KIND``);
and the responsible supervisors get one digest per run.

How the scan stays cheap:

- Candidates come from SQL only, each query served by a partial index holding just the rows that need
  attention: cases changed since they were last evaluated (``flags_checked_version`` differs from ``version``,
  which every service write bumps), open cases newly past their stage deadline, newly idle, with a 75 % warning
  due, or with a referral newly overdue. A run with nothing to do reads a few index pages.
- Candidates are read in batches (facts, officers, suspects, referrals, open flags: a handful of queries per
  batch) and evaluated in memory by the planner (``plan``, the Python rule engine). Cases whose flags do not change
  are marked evaluated by one UPDATE per batch, each row guarded by the version it was evaluated at; the cases
  whose flags change are written together in one transaction per batch (``apply.apply_batch``), which locks them
  with ``SKIP LOCKED`` (a supervisor in the middle of an action is left alone and the case is picked up by the
  next run) and re-reads what could have changed under it; a conflicting write sends the batch back one case at a
  time.
- A full scan (``full=True``, after a rule or setting change) evaluates in SQL on PostgreSQL (``setwise``), and so
  can a first scan after a bulk load (``set_wise=True``): one facts relation for all the cases and each rule
  version as a SQL predicate over it give every case's findings, their flags' details and its expected minimum
  rank (proven equal to the engine's by tests/cases/test_rules_sql.py), and the findings are diffed against the
  open flags in SQL. Only the cases whose flags change, whose clocks run (open cases) or that carry an overridden
  finding go through the planner, which writes the changes and keeps overrides, warnings and the clocks' flags as
  in any scan; every other case keeps its flags and is recorded as evaluated by a few UPDATEs (version-guarded,
  ``SKIP LOCKED``). The periodic scan uses the planner alone: its candidates are few; so does the first scan by
  default (its cost is writing the flags and the evaluated versions, the same both ways, and the SQL was not
  measured faster there). On another database every scan uses the planner.

Idempotency: evaluation is a function of the stored facts and ``now``; flags are raised only where none is open
(the partial unique constraint is the last line of defence) and resolved only where one is open, and warnings
are recorded on the case, so a second run finds nothing to do and sends nothing. A finding a supervisor overrode
(cases/overrides.py) is not raised again while it is the same finding, detail for detail; a finding whose rule
version, problems or facts changed is a new one.

The work is split by what it touches: ``snapshot`` reads, ``plan`` decides (no database), ``apply`` writes,
``setwise`` evaluates the whole population in SQL; this module picks the candidates and runs the batches.
"""

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cases import outbox
from cases.choices import OPEN_STATUSES, CaseStatus
from cases.flagging import setwise
from cases.flagging.apply import Recipients, ScanResult, Stamp, apply_batch, apply_plan, mark_evaluated, stamp
from cases.flagging.plan import Plan, Snapshot, diff_for, plan_for, read_model_changed
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, Flag, Referral
from cases.rules import idle_days

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 2000
# One run at a time: overlapping runs would be correct (row locks, constraints) but would do the work twice.
SCAN_LOCK_KEY = 7_240_519


def _process_batch(case_ids: list[int], now: datetime, ctx: Recipients, result: ScanResult) -> None:
    snapshots = load_snapshots(case_ids, now)
    marks: list[tuple[int, Stamp, dict[str, Any]]] = []
    changes: list[tuple[Snapshot, Plan]] = []
    for case_id, snap in snapshots.items():
        result.evaluated += 1
        plan = plan_for(snap, now)
        if plan.warn or diff_for(snap.open_flags, plan.desired):
            changes.append((snap, plan))
        elif snap.row["flags_checked_version"] != snap.row["version"] or read_model_changed(snap.row, plan):
            marks.append((case_id, stamp(snap.row), plan.read_model))
    skipped = mark_evaluated(marks)
    result.skipped_locked += len(skipped)
    result.skipped += skipped
    apply_batch(changes, now, ctx, result)


# --- The whole population in SQL ---------------------------------------------------------------------------------


def _set_wise(now: datetime, ctx: Recipients, result: ScanResult, *, only_unchecked: bool, batch_size: int) -> None:
    """Evaluate every case (or every unevaluated one) in SQL (``setwise``); hand the planner the cases whose flags
    change, whose clocks run or with an overridden finding, and record the rest, whose open flags are already what
    their findings call for, as evaluated in a few statements."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        try:
            setwise.build(cursor, now=now, only_unchecked=only_unchecked)
            planner = setwise.diff(cursor)
            cursor.execute(setwise.COUNT_SQL)
            scoped = cursor.fetchone()[0]
            built = time.monotonic()
            result.candidates += scoped
            for ids in _chunks(planner, batch_size):
                _process_batch(ids, now, ctx, result)
            planned = time.monotonic()
            settled, skipped = setwise.settle(cursor, batch_size=batch_size * 10)
            result.evaluated += settled - len(skipped)
            result.skipped_locked += len(skipped)
            result.skipped += skipped
        finally:
            setwise.drop(cursor)
    logger.info(
        "Flag scan in SQL: %d cases, %d through the planner; evaluated in %.1f s, planner %.1f s, settled in %.1f s",
        scoped,
        len(planner),
        built - started,
        planned - built,
        time.monotonic() - planned,
    )


# --- Candidates -------------------------------------------------------------------------------------------------


def _keyset(qs: QuerySet[Case], batch_size: int) -> Iterator[list[int]]:
    """Ids in ascending batches; each batch re-queries past the last id, so processed rows are not re-read."""
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def unchecked_cases() -> QuerySet[Case]:
    """Changed since their last evaluation (matches the ``case_flags_unchecked`` partial index)."""
    return Case.objects.filter(~Q(flags_checked_version=F("version")) & ~Q(status=CaseStatus.DRAFT))


def time_candidates(now: datetime) -> list[int]:
    """Cases whose flags change with the passing of time alone; each query reads its own partial index."""
    open_ = Q(status__in=OPEN_STATUSES)
    ids: set[int] = set()
    cases = Case.objects.order_by()  # no default ordering: the partial indexes answer these without a sort
    ids.update(
        cases.filter(open_, is_stalled=False, paused_at__isnull=True, stage_due_at__lt=now).values_list("pk", flat=True)
    )
    idle_since = now - timedelta(days=idle_days())
    ids.update(cases.filter(open_, is_idle=False, last_activity_at__lt=idle_since).values_list("pk", flat=True))
    ids.update(cases.filter(sla_warn_at__isnull=False, sla_warn_at__lte=now).values_list("pk", flat=True))
    ids.update(
        Referral.objects.filter(
            acknowledged_at__isnull=True,
            closed_at__isnull=True,
            due_at__lt=now,
            case__has_overdue_referral=False,
            case__status__in=OPEN_STATUSES,
        )
        .order_by()
        .values_list("case_id", flat=True)
    )
    return sorted(ids)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class _ScanSession:
    """The scan's database session on PostgreSQL: one run at a time, and commits that do not wait for the disk.

    The advisory lock keeps a slow run and the next beat tick from scanning side by side. Asynchronous commit
    is safe for the scan's own transactions: what they write is derived from the facts, so a crash can only
    lose the last fraction of a second of flags, which the next run raises again; and any later durable commit
    (the digest marking its e-mails sent) flushes the log up to and including them first.
    """

    def __enter__(self) -> bool:
        if getattr(settings, "DB_POOL", "") == "pgbouncer":
            # In transaction mode the session is lent to other clients between the scan's transactions: they would
            # commit without waiting for the disk and could take the lock themselves, and the unlock may reach another
            # server connection, leaving the lock held there so that no later scan runs.
            raise ImproperlyConfigured(
                "The flag scan must connect to PostgreSQL directly, not through PgBouncer in transaction mode: run it "
                "with a DATABASE_URL of the server itself and RIGHTSGUARD_DB_POOL empty or 'psycopg'."
            )
        self.postgres = connection.vendor == "postgresql"
        self.held = True
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCAN_LOCK_KEY])
                self.held = bool(cursor.fetchone()[0])
                if self.held:
                    cursor.execute("SET synchronous_commit TO off")
        return self.held

    def __exit__(self, *exc: object) -> None:
        if self.postgres and self.held:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SCAN_LOCK_KEY])


# --- Entry points -----------------------------------------------------------------------------------------------


def flag_cases(
    *,
    now: datetime | None = None,
    full: bool = False,
    notify: bool = True,
    batch_size: int = DEFAULT_BATCH,
    set_wise: bool | None = None,
) -> ScanResult:
    """Scan for cases whose flags should change and bring them in step; ``full`` re-evaluates every case
    (after a rule or setting change). Returns counts; sends one digest per supervisor after the run.

    ``notify=False`` raises and resolves flags, timeline included, without notifying anyone: for the first run
    over years of existing cases, whose flags belong in the queues rather than in thousands of e-mails.

    ``set_wise``: evaluate the cases in scope in SQL first (PostgreSQL only; ``setwise``), handing the planner only
    those whose flags change, whose clocks run or with an overridden finding. By default (None) for a full scan on
    PostgreSQL; False uses the planner alone (the reference), True the SQL for any scan on PostgreSQL (a first scan
    after a bulk load).
    """
    now = now or timezone.now()
    started = time.monotonic()
    result = ScanResult()
    ctx = Recipients(notify=notify)
    with _ScanSession() as held:
        if not held:
            result.ran = False
            logger.info("Flag scan already running elsewhere; this run does nothing")
            return result
        if set_wise is None:
            set_wise = full
        if set_wise and connection.vendor == "postgresql":
            _set_wise(now, ctx, result, only_unchecked=not full, batch_size=batch_size)
        else:
            base = Case.objects.exclude(status=CaseStatus.DRAFT) if full else unchecked_cases()
            for ids in _keyset(base, batch_size):
                result.candidates += len(ids)
                _process_batch(ids, now, ctx, result)
        later = time_candidates(now)
        result.candidates += len(later)
        for ids in _chunks(later, batch_size):
            _process_batch(ids, now, ctx, result)
    # A case a user held locked was left alone. Nothing may mark it for the next run: a full scan's case whose version
    # and clocks did not move is no candidate of the periodic scans. Its own check waits for the user instead.
    for case_id in result.skipped:
        outbox.check_case_flags_on_commit(case_id)
    if result.notifications:
        outbox.send_flag_digests_on_commit()
    result.seconds = time.monotonic() - started
    logger.info("Flag scan: %s", result)
    return result


def check_case_flags(*, case_id: int, now: datetime | None = None) -> ScanResult:
    """Bring one case's flags in step right away (after a disposition or a fact changed).

    Waits for the case's row lock rather than skipping it: it runs just after the change that asked for it, and
    the user's transaction is short.
    """
    now = now or timezone.now()
    result = ScanResult(candidates=1)
    with transaction.atomic():
        if Case.objects.select_for_update(no_key=True).filter(pk=case_id).values_list("pk", flat=True).first() is None:
            return result
        snap = load_snapshots([case_id], now).get(case_id)
        if snap is not None and snap.row["status"] != CaseStatus.DRAFT:
            result.evaluated = 1
            apply_plan(snap, plan_for(snap, now), now, Recipients(), result)
    if result.notifications:
        outbox.send_flag_digests_on_commit()
    return result


# --- Reads for the interface ------------------------------------------------------------------------------------


def open_flags_of(cases: QuerySet[Case]) -> QuerySet[Flag]:
    """Open flags of the given cases (start from ``cases_visible_to(user)``), newest first."""
    return (
        Flag.objects.filter(case__in=cases, resolved_at__isnull=True)
        .select_related("case", "acknowledged_by")
        .order_by("-raised_at", "-id")
    )
