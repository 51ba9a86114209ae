"""Selector for the case page: everything a user may see of one case, read in a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.authority import Actor
from cases import policy
from cases.choices import CaseStatus
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    FaultFinding,
    Flag,
    FlagOverride,
    InvolvedOfficer,
    LookBackReview,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.overrides import needs_override
from cases.rules.presentation import FlagView, describe_flag
from cases.selectors import earlier_cases_against_police, fault_findings_of, suspects_awaiting_transfer
from cases.workflow import SIDE_EXITS, STAGES, Stage, Transition, progress

TIMELINE_PAGE = 50


@dataclass(frozen=True)
class Workspace:
    case: Case
    officers: list[InvolvedOfficer]
    suspects: list[Suspect]
    referrals: list[Referral]
    support: list[SupportMeasure]
    findings: list[SupervisionFinding]
    # Police-fault findings, oldest first; the last is the one that counts.
    fault_findings: list[FaultFinding]
    reviews: list[LookBackReview]
    attachments: list[Attachment]
    flags: list[FlagView]
    # Open flags that must be overridden before the case concludes or closes (cases/overrides.py).
    flags_to_override: list[FlagView]
    overrides: list[FlagOverride]
    events: list[CaseEvent]
    events_total: int
    actions: list[Transition]
    can_handle: bool
    can_edit_draft: bool
    # Change and remove involved officers and suspects (``policy.can_edit_parties``/``can_remove_parties``).
    can_edit_parties: bool
    can_remove_parties: bool
    # The case's way through the workflow's stages, with when it entered each (cases/workflow.py ``progress``).
    stages: list[Stage]
    can_add_material: bool
    can_record_fault_finding: bool
    # The office's view (cases/policy.sees_internal): flags, findings, overrides, reviews and internal notes. For
    # the filer and the officers listed on the case those lists are empty and the timeline is the shared one.
    sees_internal: bool
    # Suspects whose transfer for administrative punishment this user may record now.
    awaiting_transfer: list[Suspect]
    # Earlier cases against police of this case's suspects, as this user may know of them (oldest first; empty for
    # anyone who does not read the suspects' ID numbers in full: selectors.earlier_cases_against_police).
    earlier_cases: list[Case]

    @property
    def last_officer_stays(self) -> bool:
        """A submitted case keeps at least one officer: the page offers no removal of its only one."""
        return self.case.status != CaseStatus.DRAFT and len(self.officers) == 1

    @property
    def current_fault_finding(self) -> FaultFinding | None:
        return self.fault_findings[-1] if self.fault_findings else None


def timeline(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("-at", "-id")


def flags_to_override(case: Case) -> list[FlagView]:
    """The case's open flags that must be overridden before it concludes or closes, oldest first."""
    flags = Flag.objects.filter(case=case, resolved_at__isnull=True).order_by("raised_at", "id")
    return [describe_flag(f) for f in flags if needs_override(f.kind, f.detail)]


def stages_of(case: Case) -> list[Stage]:
    """The progress stepper: when the case last entered each stage, read from its timeline."""
    entries = CaseEvent.objects.filter(case=case, to_status__in=[*STAGES, *SIDE_EXITS]).order_by("at", "id")
    entered = dict(entries.values_list("to_status", "at"))
    return progress(case.status, entered)


def workspace_for(actor: Actor, case: Case, *, timeline_limit: int | None = TIMELINE_PAGE) -> Workspace:
    internal = policy.sees_internal(actor, case)
    events = policy.events_visible_to(actor, case).select_related("actor").order_by("-at", "-id")
    open_flags = (
        list(Flag.objects.filter(case=case, resolved_at__isnull=True).select_related("acknowledged_by"))
        if internal
        else []
    )
    total = events.count()
    officers = list(InvolvedOfficer.objects.filter(case=case).select_related("user"))
    suspects = list(Suspect.objects.filter(case=case))
    parties: list[InvolvedOfficer | Suspect] = [*officers, *suspects]
    for item in parties:
        # Whether the page offers to reveal the item's masked value: the rule the reveal itself applies.
        item.may_reveal = policy.can_see_in_full(actor, case, item)  # type: ignore[union-attr]
    awaiting = suspects_awaiting_transfer(case) if policy.can_record_transfer(actor, case) and suspects else set()
    return Workspace(
        case=case,
        officers=officers,
        suspects=suspects,
        referrals=list(Referral.objects.filter(case=case).select_related("to_unit", "suspect")),
        support=list(SupportMeasure.objects.filter(case=case).select_related("officer", "requested_by", "decided_by")),
        findings=list(SupervisionFinding.objects.filter(case=case).select_related("raised_by")) if internal else [],
        fault_findings=list(fault_findings_of(case)) if internal else [],
        reviews=list(LookBackReview.objects.filter(case=case).select_related("reviewer")) if internal else [],
        attachments=list(Attachment.objects.filter(case=case).select_related("uploaded_by")),
        flags=[describe_flag(f) for f in open_flags],
        flags_to_override=[
            describe_flag(f)
            for f in sorted(open_flags, key=lambda f: (f.raised_at, f.pk))
            if needs_override(f.kind, f.detail)
        ],
        overrides=(
            list(FlagOverride.objects.filter(flag__case=case).select_related("flag", "by").order_by("at", "id"))
            if internal
            else []
        ),
        events=list(events[:timeline_limit] if timeline_limit else events),
        events_total=total,
        actions=policy.available_actions(actor, case),
        can_handle=policy.can_handle(actor, case),
        can_edit_draft=policy.can_edit_draft(actor, case),
        can_edit_parties=policy.can_edit_parties(actor, case),
        can_remove_parties=policy.can_remove_parties(actor, case),
        stages=stages_of(case),
        can_add_material=policy.can_add_material(actor, case),
        can_record_fault_finding=policy.can_record_fault_finding(actor, case),
        sees_internal=internal,
        awaiting_transfer=[s for s in suspects if s.pk in awaiting] if awaiting else [],
        earlier_cases=earlier_cases_against_police(actor, case, suspects),
    )
