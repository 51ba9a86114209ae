"""What a case's flags and read model should be at ``now``, from its snapshot alone: no database here.

``plan_for`` is a pure function of a ``Snapshot`` and the time, so the scan and the tests settle the same question
the same way; ``diff_for`` compares the plan with the flags open now.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cases.choices import FLAG_FIELDS, OPEN_STATUSES, CaseStatus, FlagKind
from cases.rules import (
    IDLE,
    REFERRAL_OVERDUE,
    STALLED,
    WARNING_FRACTION,
    CaseFacts,
    Severity,
    StageClock,
    evaluate,
    idle_days,
)

FlagKey = tuple[str, str]  # (kind, rule code)
# Each finding is raised under the flag kind of its severity: a finding whose severity changes resolves the flag of
# the one kind and raises one of the other.
SEVERITY_KIND = {Severity.DOWNGRADE: FlagKind.DOWNGRADED, Severity.PROMPT: FlagKind.REVIEW_PROMPT}
READ_MODEL_FIELDS = (
    "is_stalled",
    "is_idle",
    "has_overdue_referral",
    "is_downgraded",
    "has_review_prompt",
    "expected_min_rank",
    "sla_warn_at",
    "sla_warned_at",
)


@dataclass
class Snapshot:
    """One case as read for evaluation."""

    row: dict[str, Any]
    facts: CaseFacts
    clock: StageClock | None
    overdue_referrals: list[dict[str, Any]]
    open_flags: dict[FlagKey, tuple[int, dict[str, Any]]]
    # The details of the findings a supervisor overrode: a finding the same in every detail (rule version, problems,
    # facts) stays overridden and is not raised again; one whose detail changed is a new finding.
    overridden: dict[FlagKey, list[dict[str, Any]]] = field(default_factory=dict)


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


def _stage_started(row: dict[str, Any]) -> str | None:
    return row["stage_started_at"].isoformat() if row["stage_started_at"] else None


def is_overridden(snap: Snapshot, key: FlagKey, detail: dict[str, Any]) -> bool:
    """Whether a supervisor already overrode this very finding (compared as stored: JSON)."""
    overridden = snap.overridden.get(key) or []
    return bool(overridden) and json.loads(json.dumps(detail)) in overridden


def plan_for(snap: Snapshot, now: datetime) -> Plan:
    """Pure given the snapshot: the flags and read model the case should have at ``now``."""
    row = snap.row
    desired: dict[FlagKey, dict[str, Any]] = {}
    evaluation = evaluate(snap.facts) if row["status"] != CaseStatus.DRAFT else None
    if evaluation is not None:
        for finding in evaluation.findings:
            key, detail = (SEVERITY_KIND[finding.severity], finding.code), finding.as_detail()
            if not is_overridden(snap, key, detail):
                desired[key] = detail

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
    read_model: dict[str, Any] = {FLAG_FIELDS[kind]: any(k == kind for k, _code in desired) for kind in FLAG_FIELDS}
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


def read_model_changed(row: dict[str, Any], plan: Plan) -> bool:
    return any(row[name] != value for name, value in plan.read_model.items())
