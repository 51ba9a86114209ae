"""Writing a case's flag changes: flags raised and resolved, their timeline events, notifications, the read model.

A case whose flags change gets its own transaction, which locks the case with ``SKIP LOCKED`` (a supervisor in the
middle of an action is left alone and the case is picked up by the next run) and re-reads what could have changed
under it. Cases whose flags do not change are marked evaluated by one UPDATE per batch, each row guarded by the
snapshot it was evaluated at.

A snapshot is current while its ``stamp`` is: the version, which every service write bumps, and the stage warning
on record, which the flag writers themselves set without a new version (the case's own check, run by a worker
after a change, can warn a case between a scan's read and its lock; the scan must neither warn it again nor put
back the "not warned" it read).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import FilteredRelation, Q

from accounts.authority import Actor
from accounts.models import User
from accounts.selectors import actor_for
from cases import messages, policy
from cases.choices import EventKind, FlagKind, FlagResolution
from cases.flagging.plan import READ_MODEL_FIELDS, Diff, Plan, Snapshot, diff_for, plan_for
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, CaseEvent, Flag, Notification
from cases.notifications import build_notification
from cases.selectors import notification_deliveries

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    candidates: int = 0
    evaluated: int = 0
    raised: int = 0
    resolved: int = 0
    warnings: int = 0
    notifications: int = 0
    skipped_locked: int = 0
    skipped: list[int] = field(default_factory=list, repr=False)  # the cases skipped_locked counts
    failed: int = 0
    seconds: float = 0.0
    ran: bool = True


class Recipients:
    """Per run: whether supervisors are notified, and a cache of who receives the office's notices about a case
    (``policy.office_recipients``) by its unit and assignee."""

    def __init__(self, *, notify: bool = True) -> None:
        self.notify = notify
        self._office: dict[tuple[str, int | None], list[int]] = {}
        self._assignees: dict[int, Actor | None] = {}
        self._deliveries: dict[tuple[int, str], str] = {}

    def delivery(self, uid: int, kind: str) -> str:
        """How the recipient chose to hear about notifications of ``kind`` (read once per run)."""
        if (uid, kind) not in self._deliveries:
            self._deliveries[(uid, kind)] = notification_deliveries([uid], kind)[uid]
        return self._deliveries[(uid, kind)]

    def _assignee(self, uid: int) -> Actor | None:
        if uid not in self._assignees:
            user = User.objects.filter(pk=uid).first()
            self._assignees[uid] = actor_for(user) if user is not None else None
        return self._assignees[uid]

    def recipients(self, row: dict[str, Any]) -> list[int]:
        """Who hears of the case's new flags and its stage warning: its assignee while they still supervise its unit,
        otherwise the unit's supervisors (``policy.office_recipients``)."""
        if not self.notify:
            return []
        key = (row["unit_path"], row["assigned_to_id"])
        if key not in self._office:
            assignee = self._assignee(row["assigned_to_id"]) if row["assigned_to_id"] else None
            self._office[key] = policy.office_recipients(unit_path=row["unit_path"], assignee=assignee)
        return self._office[key]


def _notification(
    uid: int,
    case_id: int,
    message: tuple[str, dict[str, Any]],
    now: datetime,
    ctx: "Recipients",
    event: CaseEvent | None = None,
) -> Notification:
    key, params = message
    params = {**params, "v": messages.VERSION, "to": messages.OFFICE}
    kind = messages.kind_of(key, params)
    return build_notification(
        recipient_id=uid,
        case_id=case_id,
        event=event,
        message=key,
        params=params,
        delivery=ctx.delivery(uid, kind),
        now=now,
    )


def _stalls_notified(items: list[tuple[Snapshot, Plan, Diff]]) -> set[tuple[int, str | None]]:
    """Each stage's breach is announced once, even if pausing and resuming raises the flag again: the (case, stage
    start) of the stalled flags about to be raised that some flag, open or not, already announced."""
    wanted = {
        (snap.row["id"], plan.desired[key]["stage_started_at"])
        for snap, plan, diff in items
        for key in diff.raise_
        if key[0] == FlagKind.STALLED
    }
    if not wanted:
        return set()
    found = Flag.objects.filter(case_id__in={case_id for case_id, _s in wanted}, kind=FlagKind.STALLED).values_list(
        "case_id", "detail__stage_started_at"
    )
    return wanted & set(found)


Stamp = tuple[int, datetime | None]


def stamp(row: dict[str, Any]) -> Stamp:
    """What a snapshot of the case is current by (see the module doc)."""
    return row["version"], row["sla_warned_at"]


def apply_plan(snap: Snapshot, plan: Plan, now: datetime, ctx: Recipients, result: ScanResult) -> None:
    """Write one case's flag changes, events, notifications and read model. Runs inside the case's transaction,
    holding its row lock, with ``snap.open_flags`` read under that lock."""
    apply_plans([(snap, plan)], now, ctx, result)


def apply_plans(pairs: list[tuple[Snapshot, Plan]], now: datetime, ctx: Recipients, result: ScanResult) -> None:
    """Write the flag changes, events, notifications and read model of several cases in a fixed number of
    statements. Runs inside a transaction holding the cases' row locks, with each ``snap.open_flags`` read under
    them."""
    items = [(snap, plan, diff_for(snap.open_flags, plan.desired)) for snap, plan in pairs]
    events: list[CaseEvent] = []
    resolve_ids: list[int] = []
    for snap, _plan, diff in items:
        case_id = snap.row["id"]
        for key in diff.resolve:
            flag_id = snap.open_flags[key][0]
            resolve_ids.append(flag_id)
            events.append(
                CaseEvent(
                    case_id=case_id,
                    kind=EventKind.FLAG_RESOLVED,
                    at=now,
                    data={"flag": flag_id, "kind": key[0], "rule": key[1]},
                )
            )
    if resolve_ids:
        Flag.objects.filter(pk__in=resolve_ids, resolved_at__isnull=True).update(
            resolved_at=now, resolution=FlagResolution.CLEARED
        )
        result.resolved += len(resolve_ids)
    updated = [
        Flag(pk=snap.open_flags[key][0], detail=plan.desired[key]) for snap, plan, diff in items for key in diff.update
    ]
    if updated:
        Flag.objects.bulk_update(updated, ["detail"])
    announced = _stalls_notified(items)
    new_flags = [
        Flag(case_id=snap.row["id"], kind=kind, rule_code=code, detail=plan.desired[(kind, code)], raised_at=now)
        for snap, plan, diff in items
        for kind, code in diff.raise_
    ]
    raised = Flag.objects.bulk_create(new_flags) if new_flags else []
    result.raised += len(raised)
    raised_events = [
        CaseEvent(
            case_id=flag.case_id,
            kind=EventKind.FLAG_RAISED,
            at=now,
            data={
                "flag": flag.pk,
                "kind": flag.kind,
                "rule": flag.rule_code,
                "version": flag.detail.get("version"),
                "problems": flag.detail.get("problems", []),
            },
        )
        for flag in raised
    ]
    if events or raised_events:
        CaseEvent.objects.bulk_create(events + raised_events)

    by_case: dict[int, list[tuple[Flag, CaseEvent]]] = defaultdict(list)
    for flag, event in zip(raised, raised_events, strict=True):
        by_case[flag.case_id].append((flag, event))
    notes: list[Notification] = []
    for snap, plan, _diff in items:
        row = snap.row
        case_id = row["id"]
        loud = [
            (flag, event)
            for flag, event in by_case.get(case_id, [])
            if not (flag.kind == FlagKind.STALLED and (case_id, flag.detail["stage_started_at"]) in announced)
        ]
        recipients = ctx.recipients(row) if (plan.warn or loud) else []
        notes.extend(
            _notification(
                uid,
                case_id,
                messages.for_flag(row["reference"], flag.kind, flag.rule_code, flag.detail.get("version")),
                now,
                ctx,
                event,
            )
            for flag, event in loud
            for uid in recipients
        )
        if plan.warn:
            result.warnings += 1
            warning = messages.for_stage_warning(row["reference"], row["status"], row["stage_due_at"].isoformat())
            notes.extend(_notification(uid, case_id, warning, now, ctx) for uid in recipients)
    if notes:
        Notification.objects.bulk_create(notes, ignore_conflicts=True)
        result.notifications += len(notes)
    if len(items) == 1:
        snap, plan, _diff = items[0]
        Case.objects.filter(pk=snap.row["id"]).update(flags_checked_version=snap.row["version"], **plan.read_model)
    else:
        mark_evaluated([(snap.row["id"], stamp(snap.row), plan.read_model) for snap, plan, _diff in items])


def apply_locked(case_id: int, snap: Snapshot, plan: Plan, now: datetime, ctx: Recipients, result: ScanResult) -> None:
    """One case in its own transaction, or nothing if a user holds its row."""
    try:
        with transaction.atomic():
            # The lock, and the open flags as they are under it, in one round trip: another scan may have changed
            # the flags since the batch was read, and it, too, held this lock.
            rows = list(
                Case.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
                .annotate(open_flag=FilteredRelation("flags", condition=Q(flags__resolved_at__isnull=True)))
                .filter(pk=case_id)
                .order_by()
                .values_list(
                    "version",
                    "sla_warned_at",
                    "open_flag__id",
                    "open_flag__kind",
                    "open_flag__rule_code",
                    "open_flag__detail",
                )
            )
            if not rows:
                result.skipped_locked += 1
                result.skipped.append(case_id)
                return
            if rows[0][:2] != stamp(snap.row):
                # Changed since the batch was read: evaluate it again under the lock.
                fresh = load_snapshots([case_id], now).get(case_id)
                if fresh is None:
                    return
                snap, plan = fresh, plan_for(fresh, now)
            else:
                snap.open_flags = {
                    (kind, code): (flag_id, detail)
                    for _v, _w, flag_id, kind, code, detail in rows
                    if flag_id is not None
                }
            apply_plan(snap, plan, now, ctx, result)
    except IntegrityError:
        # Only a writer racing on the same flag without the case lock gets here (the partial unique constraint);
        # the case's transaction is rolled back whole and the next run reconciles it.
        result.failed += 1
        logger.warning("Flag scan: conflicting write on case %s; left for the next run", case_id, exc_info=True)


def apply_batch(changes: list[tuple[Snapshot, Plan]], now: datetime, ctx: Recipients, result: ScanResult) -> None:
    """Many cases' changes in one transaction (a first scan, a full re-evaluation: thousands of cases gain or lose a
    flag). Cases a user holds locked are skipped, as one by one; cases changed since they were read are evaluated
    again under the lock. A conflicting write rolls the batch back and its cases are written one by one."""
    if not changes:
        return
    if connection.vendor != "postgresql" or len(changes) == 1:
        for snap, plan in changes:
            apply_locked(snap.row["id"], snap, plan, now, ctx, result)
        return
    partial = ScanResult()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            ids = [snap.row["id"] for snap, _plan in changes]
            cursor.execute(_LOCK_STAMP_SQL, [ids])
            stamps = {case_id: (version, warned) for case_id, version, warned in cursor.fetchall()}
            partial.skipped = [case_id for case_id in ids if case_id not in stamps]
            partial.skipped_locked = len(partial.skipped)
            current = [(s, p) for s, p in changes if stamps.get(s.row["id"]) == stamp(s.row)]
            stale = [s.row["id"] for s, _p in changes if stamps.get(s.row["id"], stamp(s.row)) != stamp(s.row)]
            if stale:
                current += [(fresh, plan_for(fresh, now)) for fresh in load_snapshots(stale, now).values()]
            open_now: dict[int, dict] = defaultdict(dict)
            for case_id, flag_id, kind, code, detail in (
                Flag.objects.filter(case_id__in=[s.row["id"] for s, _p in current], resolved_at__isnull=True)
                .order_by()
                .values_list("case_id", "id", "kind", "rule_code", "detail")
            ):
                open_now[case_id][(kind, code)] = (flag_id, detail)
            for snap, _plan in current:
                snap.open_flags = open_now.get(snap.row["id"], {})
            apply_plans(current, now, ctx, partial)
    except IntegrityError:
        logger.warning("Flag scan: conflicting write in a batch; writing its cases one by one", exc_info=True)
        for snap, plan in changes:
            apply_locked(snap.row["id"], snap, plan, now, ctx, result)
        return
    for name in ("raised", "resolved", "warnings", "notifications", "skipped_locked", "skipped"):
        setattr(result, name, getattr(result, name) + getattr(partial, name))


_LOCK_STAMP_SQL = "SELECT id, version, sla_warned_at FROM cases_case WHERE id = ANY(%s) FOR NO KEY UPDATE SKIP LOCKED"
_LOCK_SQL = "SELECT id FROM cases_case WHERE id = ANY(%s) FOR NO KEY UPDATE SKIP LOCKED"
_MARK_SQL = """
UPDATE cases_case AS c
SET flags_checked_version = v.version, is_stalled = v.is_stalled, is_idle = v.is_idle,
    has_overdue_referral = v.has_overdue_referral, is_downgraded = v.is_downgraded,
    has_review_prompt = v.has_review_prompt,
    expected_min_rank = v.expected_min_rank, sla_warn_at = v.sla_warn_at, sla_warned_at = v.sla_warned_at
FROM (VALUES {rows}) AS v(id, version, seen_warned_at, is_stalled, is_idle, has_overdue_referral, is_downgraded,
                          has_review_prompt, expected_min_rank, sla_warn_at, sla_warned_at)
WHERE c.id = v.id AND c.version = v.version AND c.sla_warned_at IS NOT DISTINCT FROM v.seen_warned_at
"""
_MARK_ROW = (
    "(%s::bigint, %s::integer, %s::timestamptz, %s::boolean, %s::boolean, %s::boolean, %s::boolean, %s::boolean, "
    "%s::smallint, %s::timestamptz, %s::timestamptz)"
)


def mark_evaluated(marks: list[tuple[int, Stamp, dict[str, Any]]]) -> list[int]:
    """Record cases whose flags do not change as evaluated, with their read model; returns the cases skipped.

    Each row is guarded by the ``stamp`` of the snapshot it was evaluated at, so a change committed meanwhile is
    evaluated by the next run rather than lost, and a warning sent meanwhile stays on record; rows a user holds
    locked are skipped. On PostgreSQL one statement per batch; the portable fallback issues one per distinct (stamp,
    read model), and skips none (SQLite's transactions take the whole database in turn).
    """
    if not marks:
        return []
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, [[case_id for case_id, _s, _values in marks]])
            locked = {row[0] for row in cursor.fetchall()}
            params: list[Any] = []
            for case_id, (version, warned), values in marks:
                if case_id in locked:
                    params.extend([case_id, version, warned, *(values[f] for f in READ_MODEL_FIELDS)])
            if params:
                rows = ", ".join([_MARK_ROW] * (len(params) // (3 + len(READ_MODEL_FIELDS))))
                cursor.execute(_MARK_SQL.format(rows=rows), params)
        return [case_id for case_id, _s, _values in marks if case_id not in locked]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for case_id, (version, warned), values in marks:
        groups[(version, warned, *(values[f] for f in READ_MODEL_FIELDS))].append(case_id)
    for (version, warned, *changed), ids in groups.items():
        fields = dict(zip(READ_MODEL_FIELDS, changed, strict=True))
        with transaction.atomic():
            free = Case.objects.filter(pk__in=ids, version=version, sla_warned_at=warned).select_for_update(
                skip_locked=True, no_key=True
            )
            Case.objects.filter(pk__in=free.values("pk")).update(flags_checked_version=version, **fields)
    return []
