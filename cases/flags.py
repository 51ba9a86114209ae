"""The flag scans: find cases left unhandled, downgraded or dragged out, and keep their flags in step with the facts.

``flag_cases(now=…)`` runs every 15 minutes (Celery beat), from ``manage.py flag_cases``, and
``check_case_flags(case_id=…)`` runs for one case right after a disposition or a fact changes. Both end in
the same place: the set of open flags of a case equals what its facts call for at ``now``; newly raised and
resolved flags are on the timeline (FLAG_RAISED, FLAG_RESOLVED); the read model on the case (``is_stalled``,
``is_idle``, ``has_overdue_referral``, ``is_downgraded``, ``expected_min_rank``) agrees with the open flags;
and the responsible supervisors get one digest per run.

How the scan stays cheap:

- Candidates come from SQL only, each query served by a partial index holding just the rows that need
  attention: cases changed since they were last evaluated (``flags_checked_version`` differs from ``version``,
  which every service write bumps), open cases newly past their stage deadline, newly idle, with a 75 % warning
  due, or with a referral newly overdue. A run with nothing to do reads a few index pages.
- Candidates are read in batches (facts, officers, suspects, referrals, open flags: a handful of queries per
  batch) and evaluated in memory. Cases whose flags do not change are marked evaluated by one UPDATE per batch,
  each row guarded by the version it was evaluated at; only a case that gains or loses a flag, or owes a
  warning, gets its own transaction.
- That transaction locks the case with ``SKIP LOCKED`` (a supervisor in the middle of an action is left alone
  and the case is picked up by the next run) and re-reads what could have changed under it.

Idempotency: evaluation is a function of the stored facts and ``now``; flags are raised only where none is open
(the partial unique constraint is the last line of defence) and resolved only where one is open, and warnings
are recorded on the case, so a second run finds nothing to do and sends nothing.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.selectors import supervisors_covering
from cases import tasks
from cases.choices import (
    DISPOSITION_RANK,
    FLAG_FIELDS,
    OPEN_STATUSES,
    CaseStatus,
    EventKind,
    FlagKind,
    SupportKind,
    SupportStatus,
)
from cases.models import (
    Case,
    CaseEvent,
    Flag,
    InvolvedOfficer,
    Notification,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.rules import (
    IDLE,
    OPERATIONAL_RULES,
    REFERRAL_OVERDUE,
    STALLED,
    WARNING_FRACTION,
    CaseFacts,
    OfficerFacts,
    ReferralFacts,
    StageClock,
    SuspectFacts,
    evaluate,
    idle_days,
    rule_version,
)

logger = logging.getLogger(__name__)

FACT_FIELDS = (
    "kind",
    "track",
    "weapon",
    "vehicle_used",
    "endangered_safety",
    "could_cause_serious_harm",
    "officers_attacked",
    "attackers",
    "organised_or_incited",
    "intoxicated",
    "suspect_escaped",
    "evidence_lost",
    "others_hurt",
    "major_property_loss",
    "prior_attack_on_police",
    "police_fault",
    "online_views",
    "online_reposts",
    "personal_info_items",
)
CASE_FIELDS = (
    "id",
    "reference",
    "version",
    "status",
    "unit_path",
    "assigned_to_id",
    "is_stalled",
    "is_idle",
    "has_overdue_referral",
    "is_downgraded",
    "expected_min_rank",
    "flags_checked_version",
    "sla_warn_at",
    "sla_warned_at",
    *FACT_FIELDS,
)
# Read only for open cases: parsing date-times is a large part of reading a closed case otherwise.
CLOCK_FIELDS = ("stage_started_at", "stage_due_at", "paused_at", "last_activity_at")
READ_MODEL_FIELDS = (
    "is_stalled",
    "is_idle",
    "has_overdue_referral",
    "is_downgraded",
    "expected_min_rank",
    "sla_warn_at",
    "sla_warned_at",
)
# Support measures the rules read (R19 looks for a delivered clarification notice).
RULE_SUPPORT_KINDS = (SupportKind.CLARIFICATION_NOTICE,)
DEFAULT_BATCH = 2000
# One run at a time: overlapping runs would be correct (row locks, constraints) but would do the work twice.
SCAN_LOCK_KEY = 7_240_519

FlagKey = tuple[str, str]  # (kind, rule code)


@dataclass
class ScanResult:
    candidates: int = 0
    evaluated: int = 0
    raised: int = 0
    resolved: int = 0
    warnings: int = 0
    notifications: int = 0
    skipped_locked: int = 0
    failed: int = 0
    seconds: float = 0.0
    ran: bool = True


@dataclass
class Snapshot:
    """One case as read for evaluation."""

    row: dict[str, Any]
    facts: CaseFacts
    clock: StageClock | None
    overdue_referrals: list[dict[str, Any]]
    open_flags: dict[FlagKey, tuple[int, dict[str, Any]]]


@dataclass
class Plan:
    """What the case's flags and read model should be at ``now``."""

    desired: dict[FlagKey, dict[str, Any]]
    read_model: dict[str, Any]
    warn: bool = False


@dataclass
class Diff:
    raise_: list[FlagKey] = field(default_factory=list)
    resolve: list[FlagKey] = field(default_factory=list)
    update: list[FlagKey] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.raise_ or self.resolve or self.update)


# --- Loading ----------------------------------------------------------------------------------------------------


class _Batch:
    """The case ids of a batch and how to select rows of related tables for them.

    A dense batch (most ids between its first and last present, as in a first or a full scan) is selected by id
    range: an ``IN`` list of thousands of ids costs more to build and plan than the few extra rows it avoids.
    """

    def __init__(self, ids: list[int]) -> None:
        self.ids = sorted(ids)
        self.wanted = set(self.ids)
        low, high = self.ids[0], self.ids[-1]
        self.dense = len(self.ids) > 50 and len(self.ids) * 2 > high - low + 1
        self.low, self.high = low, high

    def q(self, field_name: str = "case_id") -> Q:
        if self.dense:
            return Q(**{f"{field_name}__gte": self.low, f"{field_name}__lte": self.high})
        return Q(**{f"{field_name}__in": self.ids})


def _local_date() -> TruncDate:
    return TruncDate("occurred_at", tzinfo=timezone.get_current_timezone())


def _history(batch: _Batch, case_ids: set[int]) -> dict[int, list[str]]:
    """The ranked dispositions each suspect had before a later change, from the timeline.

    Every disposition a suspect held before its current one is the old value of some later change, so the old
    values are the whole history; and only a ranked one can have been lowered, so the database returns just the
    changes away from a ranked disposition, which are few.
    """
    seen: dict[int, list[str]] = defaultdict(list)
    events = (
        CaseEvent.objects.filter(
            batch.q(), kind=EventKind.DISPOSITION, data__changes__disposition__0__in=list(DISPOSITION_RANK)
        )
        .order_by("at", "id")
        .values_list("case_id", "data__suspect", "data__changes__disposition__0")
    )
    for case_id, suspect, old in events:
        if case_id in case_ids and isinstance(suspect, int) and isinstance(old, str):
            seen[suspect].append(old)
    return seen


def _paused_before(open_ids: list[int]) -> dict[int, timedelta]:
    """Resumed pauses of the current stage: CLOCK_RESUMED events after the transition that started it."""
    resumes = list(
        CaseEvent.objects.filter(case_id__in=open_ids, kind=EventKind.CLOCK_RESUMED)
        .order_by()
        .values_list("case_id", "id", "data")
    )
    if not resumes:
        return {}
    starts: dict[int, int] = {}
    for case_id, event_id in (
        CaseEvent.objects.filter(case_id__in={r[0] for r in resumes}, kind=EventKind.TRANSITION)
        .order_by()
        .values_list("case_id", "id")
    ):
        starts[case_id] = max(starts.get(case_id, 0), event_id)
    paused: dict[int, timedelta] = defaultdict(timedelta)
    for case_id, event_id, data in resumes:
        if event_id > starts.get(case_id, 0):
            paused[case_id] += timedelta(seconds=int(data.get("paused_seconds") or 0))
    return paused


def load_snapshots(case_ids: list[int], now: datetime) -> dict[int, Snapshot]:
    """Everything evaluation needs for these cases, in a fixed number of queries whatever their number."""
    if not case_ids:
        return {}
    batch = _Batch(case_ids)
    rows = [
        r
        for r in Case.objects.filter(batch.q("id"))
        .annotate(incident_date=_local_date())
        .order_by()
        .values(*CASE_FIELDS, "incident_date")
        if r["id"] in batch.wanted
    ]
    if not rows:
        return {}
    ids = {r["id"] for r in rows}
    open_ids = [r["id"] for r in rows if r["status"] in OPEN_STATUSES]
    clocks = {
        r[0]: dict(zip(CLOCK_FIELDS, r[1:], strict=True))
        for r in Case.objects.filter(pk__in=open_ids).order_by().values_list("id", *CLOCK_FIELDS)
    }

    officers: dict[int, list[OfficerFacts]] = defaultdict(list)
    for case_id, officer_type, duty, injury in (
        InvolvedOfficer.objects.filter(batch.q())
        .order_by()
        .values_list("case_id", "officer_type", "duty_status", "injury")
    ):
        officers[case_id].append(OfficerFacts(officer_type=officer_type, duty_status=duty, injury=injury))
    suspect_rows: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        Suspect.objects.filter(batch.q())
        .order_by("id")
        .values_list(
            "case_id", "id", "status", "disposition", "lowered_reason", "probation", "sentence_months", "decided_at"
        )
    ):
        suspect_rows[row[0]].append(row)
    # Only a suspect with a ranked disposition can have been lowered to it; skip the timeline otherwise.
    with_ranked = {cid for cid, ss in suspect_rows.items() if cid in ids and any(s[3] in DISPOSITION_RANK for s in ss)}
    history = _history(batch, with_ranked) if with_ranked else {}
    referrals: dict[int, list[ReferralFacts]] = defaultdict(list)
    for case_id, track, referred_on in (
        Referral.objects.filter(batch.q())
        .annotate(referred_on=TruncDate("referred_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values_list("case_id", "track", "referred_on")
    ):
        referrals[case_id].append(ReferralFacts(track=track, referred_on=referred_on))
    overdue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for case_id, referral_id, due_at in (
        Referral.objects.filter(
            case_id__in=open_ids, acknowledged_at__isnull=True, closed_at__isnull=True, due_at__lt=now
        )
        .order_by("due_at", "id")
        .values_list("case_id", "id", "due_at")
    ):
        overdue[case_id].append({"id": referral_id, "due_at": due_at.isoformat()})
    delivered: dict[int, set[str]] = defaultdict(set)
    for case_id, kind in (
        SupportMeasure.objects.filter(batch.q(), kind__in=RULE_SUPPORT_KINDS, status=SupportStatus.DELIVERED)
        .order_by()
        .values_list("case_id", "kind")
    ):
        delivered[case_id].add(kind)
    rectified: dict[int, set[str]] = defaultdict(set)
    for case_id, problem in (
        SupervisionFinding.objects.filter(batch.q(), rectified_at__isnull=False)
        .order_by()
        .values_list("case_id", "problem")
    ):
        rectified[case_id].add(problem)
    flags = _open_flags(batch)
    paused = _paused_before(open_ids) if open_ids else {}

    snapshots = {}
    for row in rows:
        cid = row["id"]
        extra = clocks.get(cid)
        if extra is not None:
            row.update(extra)
        facts = CaseFacts(
            incident_date=row["incident_date"],
            status=row["status"],
            **{f: row[f] for f in FACT_FIELDS},
            officers=tuple(officers.get(cid, ())),
            suspects=tuple(
                SuspectFacts(
                    id=sid,
                    status=status,
                    disposition=disposition,
                    lowered_reason=lowered_reason,
                    probation=probation,
                    sentence_months=months,
                    decided_on=decided_on,
                    history=tuple(history.get(sid, ())),
                )
                for _cid, sid, status, disposition, lowered_reason, probation, months, decided_on in suspect_rows.get(
                    cid, ()
                )
            ),
            referrals=tuple(referrals.get(cid, ())),
            support_delivered=frozenset(delivered.get(cid, ())),
            rectified_findings=frozenset(rectified.get(cid, ())),
        )
        clock = None
        if extra is not None and extra["stage_started_at"] and extra["stage_due_at"]:
            clock = StageClock(
                started_at=extra["stage_started_at"],
                due_at=extra["stage_due_at"],
                paused_at=extra["paused_at"],
                paused_before=paused.get(cid, timedelta(0)),
            )
        snapshots[cid] = Snapshot(
            row=row, facts=facts, clock=clock, overdue_referrals=overdue.get(cid, []), open_flags=flags.get(cid, {})
        )
    return snapshots


def _open_flags(batch: "_Batch") -> dict[int, dict[FlagKey, tuple[int, dict[str, Any]]]]:
    found: dict[int, dict[FlagKey, tuple[int, dict[str, Any]]]] = defaultdict(dict)
    for case_id, flag_id, kind, code, detail in (
        Flag.objects.filter(batch.q(), resolved_at__isnull=True)
        .order_by()
        .values_list("case_id", "id", "kind", "rule_code", "detail")
    ):
        if case_id in batch.wanted:
            found[case_id][(kind, code)] = (flag_id, detail)
    return found


# --- Planning ---------------------------------------------------------------------------------------------------


def _stage_started(row: dict[str, Any]) -> str | None:
    return row["stage_started_at"].isoformat() if row["stage_started_at"] else None


def plan_for(snap: Snapshot, now: datetime) -> Plan:
    """Pure given the snapshot: the flags and read model the case should have at ``now``."""
    row = snap.row
    desired: dict[FlagKey, dict[str, Any]] = {}
    evaluation = evaluate(snap.facts) if row["status"] != CaseStatus.DRAFT else None
    if evaluation is not None:
        for finding in evaluation.findings:
            desired[(FlagKind.DOWNGRADED, finding.code)] = finding.as_detail()

    clock = snap.clock
    warn = False
    warn_at = None
    warned_at = row["sla_warned_at"]
    if row["status"] in OPEN_STATUSES:
        stage = {"stage": row["status"], "stage_started_at": _stage_started(row)}
        # The same condition as the candidate query, so a case it selects is always settled by this plan.
        due = row["stage_due_at"]
        breached = row["paused_at"] is None and due is not None and due < now
        if breached:
            desired[(FlagKind.STALLED, STALLED.code)] = {**stage, "due_at": due.isoformat()}
        last = row["last_activity_at"]
        days = idle_days()
        if last is not None and last < now - timedelta(days=days):
            desired[(FlagKind.IDLE, IDLE.code)] = {**stage, "last_activity_at": last.isoformat(), "days": days}
        if snap.overdue_referrals:
            desired[(FlagKind.OVERDUE_REFERRAL, REFERRAL_OVERDUE.code)] = {"referrals": snap.overdue_referrals}
        if clock is not None:
            warned_this_stage = warned_at is not None and warned_at >= clock.started_at
            if not warned_this_stage:
                if breached:
                    # The breach itself is the stalled flag's notice; a late 75 % warning would only add noise.
                    warned_at = now
                elif clock.fraction_used(now) >= WARNING_FRACTION:
                    warn, warned_at = True, now
                else:
                    warn_at = clock.warn_at()
    read_model = {FLAG_FIELDS[kind]: any(k == kind for k, _code in desired) for kind in FLAG_FIELDS}
    read_model["expected_min_rank"] = evaluation.expected_min_rank if evaluation else None
    read_model["sla_warn_at"] = warn_at
    read_model["sla_warned_at"] = warned_at
    return Plan(desired=desired, read_model=read_model, warn=warn)


def diff_for(open_flags: dict[FlagKey, tuple[int, dict[str, Any]]], desired: dict[FlagKey, dict[str, Any]]) -> Diff:
    diff = Diff()
    for key, detail in desired.items():
        if key not in open_flags:
            diff.raise_.append(key)
        elif key[0] == FlagKind.STALLED and open_flags[key][1].get("stage_started_at") != detail["stage_started_at"]:
            # A different stage is overdue now: close the old stage's flag and raise one for this stage.
            diff.resolve.append(key)
            diff.raise_.append(key)
        elif open_flags[key][1] != detail:
            diff.update.append(key)
    diff.resolve.extend(key for key in open_flags if key not in desired)
    return diff


def _read_model_changed(row: dict[str, Any], plan: Plan) -> bool:
    return any(row[name] != value for name, value in plan.read_model.items())


# --- Applying ---------------------------------------------------------------------------------------------------


class _Context:
    """Per run: whether supervisors are notified, and a cache of who is responsible for a unit's cases."""

    def __init__(self, *, notify: bool = True) -> None:
        self.notify = notify
        self._supervisors: dict[str, list[int]] = {}

    def recipients(self, row: dict[str, Any]) -> list[int]:
        if not self.notify:
            return []
        if row["assigned_to_id"]:
            return [row["assigned_to_id"]]
        path = row["unit_path"]
        if path not in self._supervisors:
            self._supervisors[path] = list(supervisors_covering(path).values_list("pk", flat=True))
        return self._supervisors[path]


def _rule_title(kind: str, code: str, version: str | None) -> str:
    rule = OPERATIONAL_RULES.get(code) if kind != FlagKind.DOWNGRADED else rule_version(code, version or "")
    return str(rule.title) if rule is not None else code


def _flag_verb(reference: str, kind: str, code: str, detail: dict[str, Any]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = _("%(ref)s: flag raised: %(title)s (%(code)s)") % {
            "ref": reference,
            "title": _rule_title(kind, code, detail.get("version")),
            "code": code,
        }
    return text[:200]


def _warning_verb(row: dict[str, Any]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = _("%(ref)s: %(stage)s has used 75 %% of its time limit; due %(due)s") % {
            "ref": row["reference"],
            "stage": CaseStatus(row["status"]).label,
            "due": timezone.localtime(row["stage_due_at"]).strftime("%Y-%m-%d %H:%M"),
        }
    return text[:200]


def _stall_already_notified(case_id: int, detail: dict[str, Any]) -> bool:
    """Each stage's breach is announced once, even if pausing and resuming raises the flag again."""
    return Flag.objects.filter(
        case_id=case_id, kind=FlagKind.STALLED, detail__stage_started_at=detail["stage_started_at"]
    ).exists()


def _apply(snap: Snapshot, plan: Plan, now: datetime, ctx: _Context, result: ScanResult) -> None:
    """Write one case's flag changes, events, notifications and read model. Runs inside the case's transaction,
    holding its row lock, with ``snap.open_flags`` read under that lock."""
    row = snap.row
    case_id = row["id"]
    diff = diff_for(snap.open_flags, plan.desired)
    events: list[CaseEvent] = []
    if diff.resolve:
        ids = [snap.open_flags[key][0] for key in diff.resolve]
        Flag.objects.filter(pk__in=ids, resolved_at__isnull=True).update(resolved_at=now)
        result.resolved += len(ids)
        events.extend(
            CaseEvent(
                case_id=case_id,
                kind=EventKind.FLAG_RESOLVED,
                at=now,
                data={"flag": snap.open_flags[key][0], "kind": key[0], "rule": key[1]},
            )
            for key in diff.resolve
        )
    for key in diff.update:
        Flag.objects.filter(pk=snap.open_flags[key][0]).update(detail=plan.desired[key])
    quiet = {
        key for key in diff.raise_ if key[0] == FlagKind.STALLED and _stall_already_notified(case_id, plan.desired[key])
    }
    raised = (
        Flag.objects.bulk_create(
            [
                Flag(case_id=case_id, kind=kind, rule_code=code, detail=plan.desired[(kind, code)], raised_at=now)
                for kind, code in diff.raise_
            ]
        )
        if diff.raise_
        else []
    )
    result.raised += len(raised)
    raised_events = [
        CaseEvent(
            case_id=case_id,
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

    recipients = ctx.recipients(row) if (plan.warn or len(quiet) < len(raised)) else []
    notes = [
        Notification(
            recipient_id=uid,
            case_id=case_id,
            event=event,
            verb=_flag_verb(row["reference"], flag.kind, flag.rule_code, flag.detail),
            created_at=now,
        )
        for flag, event in zip(raised, raised_events, strict=True)
        if (flag.kind, flag.rule_code) not in quiet
        for uid in recipients
    ]
    if plan.warn:
        result.warnings += 1
        notes.extend(
            Notification(recipient_id=uid, case_id=case_id, verb=_warning_verb(row), created_at=now)
            for uid in recipients
        )
    if notes:
        Notification.objects.bulk_create(notes, ignore_conflicts=True)
        result.notifications += len(notes)
    Case.objects.filter(pk=case_id).update(flags_checked_version=row["version"], **plan.read_model)


def _process_locked(case_id: int, snap: Snapshot, plan: Plan, now: datetime, ctx: _Context, result: ScanResult) -> None:
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
                .values_list("version", "open_flag__id", "open_flag__kind", "open_flag__rule_code", "open_flag__detail")
            )
            if not rows:
                result.skipped_locked += 1
                return
            if rows[0][0] != snap.row["version"]:
                # Changed since the batch was read: evaluate it again under the lock.
                fresh = load_snapshots([case_id], now).get(case_id)
                if fresh is None:
                    return
                snap, plan = fresh, plan_for(fresh, now)
            else:
                snap.open_flags = {
                    (kind, code): (flag_id, detail) for _v, flag_id, kind, code, detail in rows if flag_id is not None
                }
            _apply(snap, plan, now, ctx, result)
    except IntegrityError:
        # Only a writer racing on the same flag without the case lock gets here (the partial unique constraint);
        # the case's transaction is rolled back whole and the next run reconciles it.
        result.failed += 1
        logger.warning("Flag scan: conflicting write on case %s; left for the next run", case_id, exc_info=True)


_LOCK_SQL = "SELECT id FROM cases_case WHERE id = ANY(%s) FOR NO KEY UPDATE SKIP LOCKED"
_MARK_SQL = """
UPDATE cases_case AS c
SET flags_checked_version = v.version, is_stalled = v.is_stalled, is_idle = v.is_idle,
    has_overdue_referral = v.has_overdue_referral, is_downgraded = v.is_downgraded,
    expected_min_rank = v.expected_min_rank, sla_warn_at = v.sla_warn_at, sla_warned_at = v.sla_warned_at
FROM (VALUES {rows}) AS v(id, version, is_stalled, is_idle, has_overdue_referral, is_downgraded,
                          expected_min_rank, sla_warn_at, sla_warned_at)
WHERE c.id = v.id AND c.version = v.version
"""
_MARK_ROW = (
    "(%s::bigint, %s::integer, %s::boolean, %s::boolean, %s::boolean, %s::boolean, %s::smallint, "
    "%s::timestamptz, %s::timestamptz)"
)


def _mark_evaluated(marks: list[tuple[int, int, dict[str, Any]]]) -> None:
    """Record cases whose flags do not change as evaluated, with their read model.

    Each row is guarded by the version it was evaluated at, so a change committed meanwhile is evaluated by the
    next run rather than lost; rows a user holds locked are skipped. On PostgreSQL one statement per batch; the
    portable fallback issues one per distinct (version, read model).
    """
    if not marks:
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, [[case_id for case_id, _v, _values in marks]])
            locked = {row[0] for row in cursor.fetchall()}
            params: list[Any] = []
            for case_id, version, values in marks:
                if case_id in locked:
                    params.extend([case_id, version, *(values[f] for f in READ_MODEL_FIELDS)])
            if params:
                rows = ", ".join([_MARK_ROW] * (len(params) // (2 + len(READ_MODEL_FIELDS))))
                cursor.execute(_MARK_SQL.format(rows=rows), params)
        return
    groups: dict[tuple, list[int]] = defaultdict(list)
    for case_id, version, values in marks:
        groups[(version, *(values[f] for f in READ_MODEL_FIELDS))].append(case_id)
    for (version, *values), ids in groups.items():
        fields = dict(zip(READ_MODEL_FIELDS, values, strict=True))
        with transaction.atomic():
            free = Case.objects.filter(pk__in=ids, version=version).select_for_update(skip_locked=True, no_key=True)
            Case.objects.filter(pk__in=free.values("pk")).update(flags_checked_version=version, **fields)


def _process_batch(case_ids: list[int], now: datetime, ctx: _Context, result: ScanResult) -> None:
    snapshots = load_snapshots(case_ids, now)
    marks: list[tuple[int, int, dict[str, Any]]] = []
    for case_id, snap in snapshots.items():
        result.evaluated += 1
        plan = plan_for(snap, now)
        if plan.warn or diff_for(snap.open_flags, plan.desired):
            _process_locked(case_id, snap, plan, now, ctx, result)
        elif snap.row["flags_checked_version"] != snap.row["version"] or _read_model_changed(snap.row, plan):
            marks.append((case_id, snap.row["version"], plan.read_model))
    _mark_evaluated(marks)


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
    *, now: datetime | None = None, full: bool = False, notify: bool = True, batch_size: int = DEFAULT_BATCH
) -> ScanResult:
    """Scan for cases whose flags should change and bring them in step; ``full`` re-evaluates every case
    (after a rule or setting change). Returns counts; sends one digest per supervisor after the run.

    ``notify=False`` raises and resolves flags, timeline included, without notifying anyone: for the first run
    over years of existing cases, whose flags belong in the queues rather than in thousands of e-mails.
    """
    now = now or timezone.now()
    started = time.monotonic()
    result = ScanResult()
    ctx = _Context(notify=notify)
    with _ScanSession() as held:
        if not held:
            result.ran = False
            logger.info("Flag scan already running elsewhere; this run does nothing")
            return result
        base = Case.objects.exclude(status=CaseStatus.DRAFT) if full else unchecked_cases()
        for ids in _keyset(base, batch_size):
            result.candidates += len(ids)
            _process_batch(ids, now, ctx, result)
        later = time_candidates(now)
        result.candidates += len(later)
        for ids in _chunks(later, batch_size):
            _process_batch(ids, now, ctx, result)
    if result.notifications:
        tasks.send_flag_digests_on_commit()
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
            _apply(snap, plan_for(snap, now), now, _Context(), result)
    if result.notifications:
        tasks.send_flag_digests_on_commit()
    return result


# --- Reads for the interface ------------------------------------------------------------------------------------


def open_flags_of(cases: QuerySet[Case]) -> QuerySet[Flag]:
    """Open flags of the given cases (start from ``cases_visible_to(user)``), newest first."""
    return (
        Flag.objects.filter(case__in=cases, resolved_at__isnull=True)
        .select_related("case", "acknowledged_by")
        .order_by("-raised_at", "-id")
    )
