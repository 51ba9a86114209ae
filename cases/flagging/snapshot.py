"""Reading cases for the flag scan: everything evaluation needs for a batch of cases, in a fixed number of queries.

Candidates are read in batches (facts, officers, suspects, referrals, fault findings, open flags: a handful of queries
per batch) and evaluated in memory by ``cases.flagging.plan``.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.choices import DISPOSITION_RANK, OPEN_STATUSES, EventKind, FlagResolution, SupportKind, SupportStatus
from cases.flagging.plan import FlagKey, Snapshot
from cases.models import (
    FAULT_FINDING_ORDER,
    Case,
    CaseEvent,
    FaultFinding,
    Flag,
    InvolvedOfficer,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.rules import CaseFacts, FaultFindingFacts, OfficerFacts, ReferralFacts, StageClock, SuspectFacts
from cases.rules.facts import FACT_NAMES

# What CaseFacts takes from the case row: its type and track, why it concluded without a suspect, and the facts of
# the table.
FACT_FIELDS = ("kind", "track", "no_suspect_reason", *FACT_NAMES)
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
    "has_review_prompt",
    "expected_min_rank",
    "flags_checked_version",
    "sla_warn_at",
    "sla_warned_at",
    *FACT_FIELDS,
)
# Read only for open cases: parsing date-times is a large part of reading a closed case otherwise.
# Read only for open cases: parsing date-times is a large part of reading a closed case otherwise.
CLOCK_FIELDS = ("stage_started_at", "stage_due_at", "paused_at", "last_activity_at")
# Support measures the rules read: delivered (R19 looks for a clarification notice), and under way (R29 for a
# fugitive pursuit).
RULE_SUPPORT_KINDS = (SupportKind.CLARIFICATION_NOTICE,)
RULE_UNDER_WAY_KINDS = (SupportKind.FUGITIVE_PURSUIT,)
UNDER_WAY = (SupportStatus.APPROVED, SupportStatus.OFFERED, SupportStatus.IN_PROGRESS, SupportStatus.DELIVERED)


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
            "case_id",
            "id",
            "status",
            "disposition",
            "lowered_reason",
            "lenient_reason",
            "probation",
            "sentence_months",
            "decided_at",
        )
    ):
        suspect_rows[row[0]].append(row)
    # Only a suspect with a ranked disposition can have been lowered to it; skip the timeline otherwise.
    with_ranked = {cid for cid, ss in suspect_rows.items() if cid in ids and any(s[3] in DISPOSITION_RANK for s in ss)}
    history = _history(batch, with_ranked) if with_ranked else {}
    referrals: dict[int, list[ReferralFacts]] = defaultdict(list)
    for case_id, track, referred_on, suspect_id in (
        Referral.objects.filter(batch.q())
        .annotate(referred_on=TruncDate("referred_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values_list("case_id", "track", "referred_on", "suspect_id")
    ):
        referrals[case_id].append(ReferralFacts(track=track, referred_on=referred_on, suspect=suspect_id))
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
    under_way: dict[int, set[str]] = defaultdict(set)
    for case_id, kind, status in (
        SupportMeasure.objects.filter(
            batch.q(), kind__in=RULE_SUPPORT_KINDS + RULE_UNDER_WAY_KINDS, status__in=UNDER_WAY
        )
        .order_by()
        .values_list("case_id", "kind", "status")
    ):
        if kind in RULE_SUPPORT_KINDS and status == SupportStatus.DELIVERED:
            delivered[case_id].add(kind)
        if kind in RULE_UNDER_WAY_KINDS:
            under_way[case_id].add(kind)
    rectified: dict[int, set[str]] = defaultdict(set)
    for case_id, problem in (
        SupervisionFinding.objects.filter(batch.q(), rectified_at__isnull=False)
        .order_by()
        .values_list("case_id", "problem")
    ):
        rectified[case_id].add(problem)
    fault = _current_fault_findings(batch)
    flags = _open_flags(batch)
    overridden = _overridden_findings(batch)
    paused = _paused_before(open_ids) if open_ids else {}

    snapshots: dict[int, Snapshot] = {}
    for case_row in rows:
        cid = case_row["id"]
        extra = clocks.get(cid)
        if extra is not None:
            case_row.update(extra)
        facts = CaseFacts(
            incident_date=case_row["incident_date"],
            status=case_row["status"],
            **{f: case_row[f] for f in FACT_FIELDS},
            officers=tuple(officers.get(cid, ())),
            suspects=tuple(
                SuspectFacts(
                    id=sid,
                    status=status,
                    disposition=disposition,
                    lowered_reason=lowered_reason,
                    lenient_reason=lenient_reason,
                    probation=probation,
                    sentence_months=months,
                    decided_on=decided_on,
                    history=tuple(history.get(sid, ())),
                )
                for (
                    _cid,
                    sid,
                    status,
                    disposition,
                    lowered_reason,
                    lenient_reason,
                    probation,
                    months,
                    decided_on,
                ) in suspect_rows.get(cid, ())
            ),
            referrals=tuple(referrals.get(cid, ())),
            support_delivered=frozenset(delivered.get(cid, ())),
            support_under_way=frozenset(under_way.get(cid, ())),
            rectified_findings=frozenset(rectified.get(cid, ())),
            fault_finding=fault.get(cid),
            as_of=timezone.localdate(now),
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
            row=case_row,
            facts=facts,
            clock=clock,
            overdue_referrals=overdue.get(cid, []),
            open_flags=flags.get(cid, {}),
            overridden=overridden.get(cid, {}),
        )
    return snapshots


def _current_fault_findings(batch: _Batch) -> dict[int, FaultFindingFacts]:
    """Each case's current police-fault finding: one query for the batch, in the order that decides which counts
    (findings are few: a case has none or a handful), the last one of each case kept."""
    current: dict[int, FaultFindingFacts] = {}
    for case_id, finding, found_on, document, carried_over in (
        FaultFinding.objects.filter(batch.q())
        .order_by("case_id", *FAULT_FINDING_ORDER)
        .values_list("case_id", "finding", "found_on", "document_reference", "carried_over")
    ):
        if case_id in batch.wanted:
            current[case_id] = FaultFindingFacts(
                finding=finding, found_on=found_on, documented=bool(document), carried_over=carried_over
            )
    return current


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


def _overridden_findings(batch: "_Batch") -> dict[int, dict[FlagKey, list[dict[str, Any]]]]:
    found: dict[int, dict[FlagKey, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for case_id, kind, code, detail in (
        Flag.objects.filter(batch.q(), resolution=FlagResolution.OVERRIDDEN)
        .order_by()
        .values_list("case_id", "kind", "rule_code", "detail")
    ):
        if case_id in batch.wanted:
            found[case_id][(kind, code)].append(detail)
    return found
