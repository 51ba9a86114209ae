"""The demo cases (``data/stories.json``), played through the case services.

Each story names its filer, unit, handler and how many days ago the incident happened, the case details as the
filer enters them, the involved officers (a blank name is the filer themself) and suspects, and the steps its
handler (or, for submitting and withdrawing, its filer) takes. A step is an object whose ``step`` names one of the
classes below; its other keys are that class's fields, and a field left out takes the default written here.
``{year}`` in a handling unit's case number becomes the current year.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, get_args

from django.db import transaction
from django.utils import timezone

from accounts.models import OrgUnit, User
from cases import services
from cases.choices import ReferralTarget, SupportStatus
from cases.models import Case, InvolvedOfficer
from demo.datafiles import load
from demo.organisation import DEMO_OFFICERS

YEAR = "{year}"  # replaced by the current year in handling units' case numbers


@dataclass(frozen=True)
class Victim:
    """An involved officer; a blank name means the filer themself."""

    name: str
    badge: str
    officer_type: str
    duty: str
    injury: str
    medical: str


@dataclass(frozen=True)
class Party:
    name: str
    id_number: str
    status: str


@dataclass(frozen=True)
class Submit:
    pass


@dataclass(frozen=True)
class Withdraw:
    reason: str


@dataclass(frozen=True)
class Reject:
    reason: str
    duplicate_of: str = ""  # key of an earlier demo case


@dataclass(frozen=True)
class Assign:
    pass


@dataclass(frozen=True)
class Refer:
    track: str
    unit: str = ""
    target: str = ReferralTarget.INTERNAL_UNIT
    body: str = ""


@dataclass(frozen=True)
class Acknowledge:
    external_reference: str


@dataclass(frozen=True)
class Dispose:
    suspect: int
    disposition: str
    article: str = ""
    months: int | None = None
    probation: bool | None = None
    days_ago: int = 1
    lowered_reason: str = ""
    # Why a lenient outcome was reached (cases.choices.LenientReason), and the reason in words.
    reason: str = ""
    reason_detail: str = ""


@dataclass(frozen=True)
class Transfer:
    """A suspect not prosecuted or exempted, transferred for administrative punishment to a unit or a named body."""

    suspect: int
    unit: str = ""
    body: str = ""


@dataclass(frozen=True)
class Support:
    kind: str
    officer: int | None = 0  # index into the story's victims; null for a measure for the case as a whole
    status: str = SupportStatus.DELIVERED
    amount: int | None = None
    notes: str = ""
    started_days_ago: int = 2
    delivered_days_ago: int | None = 1


@dataclass(frozen=True)
class Finding:
    problem: str
    detail: str
    rectify_in_days: int = 10


@dataclass(frozen=True)
class FaultFinding:
    """The legal-affairs department's finding on police fault, recorded by the handler."""

    finding: str
    department: str
    document: str = ""
    notes: str = ""
    days_ago: int = 1


@dataclass(frozen=True)
class Pause:
    reason: str
    note: str


@dataclass(frozen=True)
class Conclude:
    reason: str = ""
    no_suspect_reason: str = ""  # NoSuspectReason, when no suspect is identified


@dataclass(frozen=True)
class Reopen:
    problem: str
    detail: str


@dataclass(frozen=True)
class Close:
    notes: str = ""
    support_delivered: bool | None = None
    clarification_issued: bool | None = None


@dataclass(frozen=True)
class Recall:
    reason: str


Step = (
    Submit
    | Withdraw
    | Reject
    | Assign
    | Refer
    | Acknowledge
    | Dispose
    | Transfer
    | Support
    | Finding
    | FaultFinding
    | Pause
    | Conclude
    | Reopen
    | Close
    | Recall
)
STEPS: dict[str, type[Step]] = {cls.__name__.lower(): cls for cls in get_args(Step)}


@dataclass(frozen=True)
class DemoCase:
    key: str
    filer: str
    unit: str
    handler: str
    days_ago: float
    details: dict[str, Any]
    victims: tuple[Victim, ...]
    suspects: tuple[Party, ...]
    steps: tuple[Step, ...]


def _story(entry: dict[str, Any]) -> DemoCase:
    def step(fields: dict[str, Any]) -> Step:
        name, rest = fields["step"], {k: v for k, v in fields.items() if k != "step"}
        if name not in STEPS:
            raise ValueError(f"Demo case {entry['key']}: unknown step {name!r}.")
        return STEPS[name](**rest)

    return DemoCase(
        **{k: v for k, v in entry.items() if k not in ("victims", "suspects", "steps")},
        victims=tuple(Victim(**v) for v in entry["victims"]),
        suspects=tuple(Party(**p) for p in entry["suspects"]),
        steps=tuple(step(s) for s in entry["steps"]),
    )


DEMO_CASES: tuple[DemoCase, ...] = tuple(_story(entry) for entry in load("stories.json"))


def _play(spec: DemoCase, units: dict[str, OrgUnit], users: dict[str, User], played: dict[str, Case]) -> Case:
    """File one demo case as its officer, then take it through its steps as its supervisor, all via the services."""
    filer, handler = users[spec.filer], users[spec.handler]
    now = timezone.now()
    today = timezone.localdate(now)
    details = {**spec.details, "occurred_at": now - timedelta(days=spec.days_ago)}
    files_for_self = any(not v.name for v in spec.victims)
    case = services.create_draft_case(
        by=filer, unit=units[spec.unit], details=details, add_filer_as_officer=files_for_self
    )
    officers: list[InvolvedOfficer] = []
    for v in spec.victims:
        fields = {"officer_type": v.officer_type, "duty_status": v.duty, "injury": v.injury, "medical_notes": v.medical}
        if v.name:
            officers.append(
                services.add_involved_officer(case=case, by=filer, name=v.name, badge_number=v.badge, **fields)
            )
        else:
            own = case.officers.get(user=filer)
            officers.append(services.update_involved_officer(officer=own, by=filer, **fields))
    suspects = [
        services.add_suspect(case=case, by=filer, name=p.name, id_number=p.id_number, status=p.status)
        for p in spec.suspects
    ]
    for step in spec.steps:
        kw: dict[str, Any] = {"case": case, "by": handler, "expected_version": None}
        match step:
            case Submit():
                services.submit_case(**{**kw, "by": filer})
            case Withdraw(reason=reason):
                services.withdraw_case(**{**kw, "by": filer}, reason=reason)
            case Reject(reason=reason, duplicate_of=key):
                services.reject_case(**kw, reason=reason, duplicate_of=played[key].reference if key else "")
            case Assign():
                services.assign_case(**kw, assignee=handler)
            case Refer():
                services.refer_case(
                    **kw,
                    track=step.track,
                    target=step.target,
                    to_unit=units[step.unit] if step.unit else None,
                    body_name=step.body,
                )
            case Acknowledge(external_reference=ref):
                services.acknowledge_referral(**kw, external_reference=ref.replace(YEAR, str(today.year)))
            case Dispose():
                services.record_disposition(
                    suspect=suspects[step.suspect],
                    by=handler,
                    disposition=step.disposition,
                    disposition_article=step.article,
                    sentence_months=step.months,
                    probation=step.probation,
                    decided_at=today - timedelta(days=step.days_ago),
                    lowered_reason=step.lowered_reason,
                    lenient_reason=step.reason,
                    lenient_reason_detail=step.reason_detail,
                )
            case Transfer():
                services.transfer_for_administrative_punishment(
                    suspect=suspects[step.suspect],
                    by=handler,
                    target=ReferralTarget.INTERNAL_UNIT if step.unit else ReferralTarget.OTHER,
                    to_unit=units[step.unit] if step.unit else None,
                    body_name=step.body,
                )
            case Support():
                services.record_support_measure(
                    case=case,
                    by=handler,
                    kind=step.kind,
                    officer=officers[step.officer] if step.officer is not None else None,
                    status=step.status,
                    amount=Decimal(step.amount) if step.amount is not None else None,
                    started_on=today - timedelta(days=step.started_days_ago),
                    delivered_on=(
                        today - timedelta(days=step.delivered_days_ago) if step.delivered_days_ago is not None else None
                    ),
                    notes=step.notes,
                )
            case Finding():
                services.raise_finding(
                    case=case,
                    by=handler,
                    problem=step.problem,
                    detail=step.detail,
                    rectify_by=today + timedelta(days=step.rectify_in_days),
                )
            case FaultFinding():
                services.record_fault_finding(
                    case=case,
                    by=handler,
                    finding=step.finding,
                    department=step.department,
                    found_on=today - timedelta(days=step.days_ago),
                    document_reference=step.document.replace(YEAR, str(today.year)),
                    notes=step.notes,
                )
            case Pause(reason=reason, note=note):
                services.pause_clock(**kw, reason=reason, note=note)
            case Conclude(reason=reason, no_suspect_reason=no_suspect_reason):
                services.conclude_case(**kw, reason=reason, no_suspect_reason=no_suspect_reason)
            case Reopen(problem=problem, detail=detail):
                services.reopen_case(**kw, problem=problem, detail=detail, rectify_by=today + timedelta(days=15))
            case Close():
                services.close_case(
                    **kw,
                    officer_informed=True,
                    disposition_consistent=True,
                    support_delivered=step.support_delivered,
                    clarification_issued=step.clarification_issued,
                    notes=step.notes,
                )
            case Recall(reason=reason):
                services.recall_case(**kw, reason=reason)
    case.refresh_from_db()
    return case


def demo_cases_exist(users: dict[str, User]) -> bool:
    return Case.objects.filter(filed_by__in=[users[name] for name in DEMO_OFFICERS]).exists()


def seed_demo_cases(units: dict[str, OrgUnit], users: dict[str, User]) -> int:
    """Play the demo cases through the services, unless a demo officer has filed anything already."""
    if demo_cases_exist(users):
        return 0
    played: dict[str, Case] = {}
    # One transaction: an interrupted run leaves no half-built demo world that would block the next one.
    with quiet_task_log(), transaction.atomic():
        for spec in DEMO_CASES:
            played[spec.key] = _play(spec, units, users, played)
    return len(played)


@contextmanager
def quiet_task_log() -> Iterator[None]:
    """Notification tasks run in-process without a broker and log a line each; the operator needs the summary."""
    logger = logging.getLogger("celery.app.trace")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)
