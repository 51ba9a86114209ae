"""Reads of oversight campaigns. Every user-facing read starts from ``policy.campaigns_visible_to`` and, for the
selected cases, ``policy.campaign_cases_visible_to``."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.authority import Actor
from accounts.models import OrgUnit, Role, User
from accounts.selectors import ancestor_paths
from oversight import policy, report
from oversight.choices import PursuitStatus
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    PursuitRecord,
    Reminder,
    ReviewAnswer,
    ReviewerAssignment,
)
from oversight.reminders import reminder_text

CASE_PAGE = 50


def campaigns_for(actor: Actor) -> QuerySet[Campaign]:
    """With ``selected_seen``: how many of its selected cases the actor sees (``policy.selected_seen``)."""
    return (
        policy.campaigns_visible_to(actor)
        .select_related("owner_unit")
        .annotate(selected_seen=policy.selected_seen(actor))
        .order_by("-created_at", "-id")
    )


@dataclass
class Progress:
    """One row of a campaign's progress: a sub-unit's figures, or the total (``unit`` None)."""

    unit: OrgUnit | None
    selected: int = 0
    reviewed: int = 0
    problems: int = 0
    rectified: int = 0
    overdue: int = 0
    made_up: int = 0
    accountable: int = 0
    reviewers: list[User] = field(default_factory=list)


def progress(actor: Actor, campaign: Campaign) -> list[Progress]:
    """The campaign's progress per sub-unit over the selected cases the actor sees, then the total: the campaign
    report's counts (oversight/report.py, which says what each counts; "accountable" is officers, each once), with the
    reviewers of each sub-unit. Overdue: a problem not rectified by its date."""
    counted, officers = report.grouped_figures(
        policy.campaign_cases_visible_to(actor, campaign), by="sub_unit_id", as_of=timezone.localdate(), pursuit=False
    )
    rows: dict[int, Progress] = {}

    def row(sub_unit_id: int) -> Progress:
        return rows.setdefault(sub_unit_id, Progress(unit=None))

    for sub_unit_id, f in counted.items():
        p = row(sub_unit_id)
        p.selected, p.reviewed, p.problems, p.rectified = f.selected, f.reviewed, f.problems, f.rectified
        p.overdue, p.made_up, p.accountable = f.overdue, f.made_up, f.officers_accountable
    for assignment in ReviewerAssignment.objects.filter(campaign=campaign).select_related("reviewer"):
        if assignment.sub_unit_id in rows or policy.can_manage(actor, campaign):
            row(assignment.sub_unit_id).reviewers.append(assignment.reviewer)
    units = OrgUnit.objects.in_bulk(list(rows))
    result = sorted(rows.items(), key=lambda kv: units[kv[0]].path)
    total = Progress(unit=None)
    out = []
    for pk, p in result:
        p.unit = units[pk]
        out.append(p)
        for name in ("selected", "reviewed", "problems", "rectified", "overdue", "made_up"):
            setattr(total, name, getattr(total, name) + getattr(p, name))
    # Each officer once over the campaign, like the report's total.
    total.accountable = officers
    return [*out, total]


def _problem_count() -> Subquery:
    """The number of problems of each row, counted for the rows read only: a correlated subquery, not a GROUP BY
    over every selected case (which at a look-back's 100,000 cases took most of the page's time)."""
    problems = Problem.objects.filter(campaign_case=OuterRef("pk")).order_by().values("campaign_case")
    return Subquery(problems.annotate(n=Count("pk")).values("n"), output_field=IntegerField())


def campaign_cases_page(actor: Actor, campaign: Campaign, *, after: int = 0) -> list[CampaignCase]:
    """One page of the selected cases the actor sees, in selection order, from the id after ``after``."""
    return list(
        policy.campaign_cases_visible_to(actor, campaign)
        .filter(pk__gt=after)
        .select_related("case", "sub_unit", "review")
        .annotate(problem_count=Coalesce(_problem_count(), 0))
        .order_by("pk")[:CASE_PAGE]
    )


def campaign_log(campaign: Campaign) -> QuerySet[CampaignEvent]:
    return CampaignEvent.objects.filter(campaign=campaign).select_related("actor").order_by("-at", "-id")


def reviewer_choices(campaign: Campaign) -> QuerySet[User]:
    """Who may be assigned as a reviewer somewhere in the campaign: active supervisors of the owner unit's subtree or
    above it (the service checks the sub-unit)."""
    owner = campaign.owner_unit.path
    return (
        User.objects.filter(is_active=True, memberships__role=Role.SUPERVISOR)
        .filter(Q(memberships__unit__path__startswith=owner) | Q(memberships__unit__path__in=ancestor_paths(owner)))
        .distinct()
        .order_by("username")
    )


def problems_of(item: CampaignCase) -> QuerySet[Problem]:
    return Problem.objects.filter(campaign_case=item).select_related("responsible_unit").order_by("raised_at", "id")


def accountability_of(item: CampaignCase) -> QuerySet[Accountability]:
    return Accountability.objects.filter(campaign_case=item).select_related("unit").order_by("recorded_at", "id")


def pursuits_of(item: CampaignCase) -> QuerySet[PursuitRecord]:
    return PursuitRecord.objects.filter(campaign_case=item).select_related("suspect", "unit").order_by("id")


@dataclass(frozen=True)
class PursuitFigures:
    """Where the pursuits of a campaign stand, over the selected cases the actor sees."""

    by_status: dict[str, int]
    cross_border: int
    total: int

    def rows(self) -> list[tuple[str, str, int]]:
        return [(s.value, str(s.label), self.by_status.get(s.value, 0)) for s in PursuitStatus]


def pursuit_figures(actor: Actor, campaign: Campaign) -> PursuitFigures:
    """One grouped query."""
    rows = (
        PursuitRecord.objects.filter(campaign_case__in=policy.campaign_cases_visible_to(actor, campaign).values("pk"))
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), crossed=Count("pk", filter=Q(cross_border=True)))
    )
    by_status = {r["status"]: r["n"] for r in rows}
    return PursuitFigures(
        by_status=by_status, cross_border=sum(r["crossed"] for r in rows), total=sum(by_status.values())
    )


# --- the API's reads --------------------------------------------------------------------------------------------------


def campaign_cases_listed(actor: Actor, campaign: Campaign) -> QuerySet[CampaignCase]:
    """The selected cases the actor sees, with what their rows show (unordered: the API pages them by id)."""
    return (
        policy.campaign_cases_visible_to(actor, campaign)
        .select_related("case", "sub_unit", "review")
        .annotate(problem_count=Coalesce(_problem_count(), 0))
    )


def case_reviews(actor: Actor, campaign: Campaign) -> QuerySet[CampaignCase]:
    """The selected cases the actor sees with everything the campaign recorded about each: four queries per page for
    the rows, the answers, the problems and the accountability records."""
    return (
        policy.campaign_cases_visible_to(actor, campaign)
        .select_related("case", "sub_unit", "review__reviewer")
        .prefetch_related(
            Prefetch("review__answers", queryset=ReviewAnswer.objects.order_by("id")),
            Prefetch(
                "problems", queryset=Problem.objects.select_related("responsible_unit").order_by("raised_at", "id")
            ),
            Prefetch(
                "accountabilities", queryset=Accountability.objects.select_related("unit").order_by("recorded_at", "id")
            ),
        )
    )


def pursuits_listed(actor: Actor, campaign: Campaign) -> QuerySet[PursuitRecord]:
    return PursuitRecord.objects.filter(
        campaign_case__in=policy.campaign_cases_visible_to(actor, campaign).values("pk")
    ).select_related("suspect", "unit", "campaign_case__case")


def reviewers_of(campaign: Campaign) -> QuerySet[ReviewerAssignment]:
    return (
        ReviewerAssignment.objects.filter(campaign=campaign)
        .select_related("sub_unit", "reviewer")
        .order_by("sub_unit__path", "id")
    )


@dataclass(frozen=True)
class ReminderLine:
    campaign_id: int
    text: str
    created_at: datetime


REMINDERS_SHOWN = 10


def reminders_for(actor: Actor) -> list[ReminderLine]:
    """The latest reminders given to the actor, of campaigns they still see, as sentences in the active language."""
    rows = (
        Reminder.objects.filter(recipient_id=actor.user_id, campaign__in=policy.campaigns_visible_to(actor))
        .select_related("campaign", "problem__campaign_case__case")
        .order_by("-created_at", "-id")[:REMINDERS_SHOWN]
    )
    return [ReminderLine(r.campaign_id, reminder_text(r), r.created_at) for r in rows]
