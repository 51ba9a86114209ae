"""Who may see and do what with oversight campaigns. Builds on the case policy (cases/policy.py), never around it.

- Running a campaign (create, set its scope, start, assign reviewers, close): the administrators and supervisors
  covering its owner unit.
- Reviewing a selected case (checklist, problems, rectifications, making up, accountability): a supervisor assigned
  as reviewer for the case's sub-unit, while the campaign runs, who still supervises the case's unit and is not a
  party to it (``cases.policy.is_involved``). The campaign's runners record rectifications and accountability too,
  on the cases they are no party to.
- Seeing: the runners see the campaign and every case of it; a reviewer sees the campaign and the cases of the
  sub-units they review. Officers never see campaigns or reviews.

A "no" to seeing is a 404 for the caller to give; a "no" to doing, on something seen, a 403.
"""

from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.authority import Actor
from accounts.models import OrgUnit, Role, User
from accounts.selectors import path_prefix_q, supervisors_of_unit_and_above
from cases import policy as case_policy
from oversight.choices import CampaignState
from oversight.models import Campaign, CampaignCase, ReviewerAssignment

RUNNER_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def runs_at(actor: Actor, unit_path: str) -> bool:
    """Whether the actor may run campaigns owned by the unit at ``unit_path``. Pure."""
    return actor.is_active and any(actor.covers(role, unit_path) for role in RUNNER_ROLES)


def can_create_in(actor: Actor, unit: OrgUnit) -> bool:
    return runs_at(actor, unit.path)


def can_create_any(actor: Actor) -> bool:
    """Whether the campaign list offers a new campaign."""
    return actor.is_active and bool(actor.paths_for(*RUNNER_ROLES))


def owner_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units a campaign of the actor's may be owned by (the create form's choices)."""
    paths = actor.paths_for(*RUNNER_ROLES) if actor.is_active else ()
    if not paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path_prefix_q("path", paths)).order_by("path")


def can_manage(actor: Actor, campaign: Campaign) -> bool:
    """Set the scope, start, assign reviewers, close: whoever may create a campaign in its owner unit."""
    return runs_at(actor, campaign.owner_unit.path)


def sees_seed(actor: Actor, campaign: Campaign) -> bool:
    """The seed of a draft decides which cases its sample will draw: its runners' until the sample is drawn. A
    reviewer (a supervisor of a sub-unit under review) who read it could tidy those very cases first. Pure."""
    return campaign.state != CampaignState.DRAFT or can_manage(actor, campaign)


def has_campaigns(actor: Actor) -> bool:
    """The navigation offers campaigns to those who may run one or review for one: supervisors and administrators."""
    return can_create_any(actor)


def _assigned(actor: Actor) -> QuerySet[ReviewerAssignment]:
    return ReviewerAssignment.objects.filter(reviewer_id=actor.user_id)


def campaigns_visible_to(actor: Actor) -> QuerySet[Campaign]:
    """Campaigns the actor runs, and those they are assigned to review for while they still supervise the sub-unit
    (``can_be_reviewer``): a reviewer moved elsewhere no longer sees the campaign."""
    if not actor.is_active:
        return Campaign.objects.none()
    q = Q(pk__in=[])
    paths = actor.paths_for(*RUNNER_ROLES)
    if paths:
        q |= path_prefix_q("owner_unit__path", paths)
    supervised = actor.paths_for(Role.SUPERVISOR)
    if supervised:
        still = _assigned(actor).filter(path_prefix_q("sub_unit__path", supervised))
        q |= Q(Exists(still.filter(campaign=OuterRef("pk"))))
    return Campaign.objects.filter(q)


def can_see(actor: Actor, campaign: Campaign) -> bool:
    return campaigns_visible_to(actor).filter(pk=campaign.pk).exists()


def reviews_sub_unit(actor: Actor, campaign: Campaign, sub_unit_id: int) -> bool:
    """Whether the actor is assigned to review the campaign's cases of this sub-unit (asks the database)."""
    return actor.is_active and _assigned(actor).filter(campaign_id=campaign.pk, sub_unit_id=sub_unit_id).exists()


def _reviewed_cases_q(actor: Actor, campaign_id: int | OuterRef) -> Q:
    """A reviewer's selected cases of a campaign: those of the sub-units they review whose cases' internal material
    they read."""
    reviewed = _assigned(actor).filter(Q(campaign_id=campaign_id)).values("sub_unit_id")
    return Q(sub_unit_id__in=reviewed) & case_policy.internal_scope_q(actor, through="case__")


def campaign_cases_visible_to(actor: Actor, campaign: Campaign) -> QuerySet[CampaignCase]:
    """The selected cases of a campaign the actor sees: all of them for its runners; for a reviewer, those of the
    sub-units they review whose cases' internal material they read (``cases.policy.internal_scope_q``)."""
    cases = CampaignCase.objects.filter(campaign=campaign)
    if can_manage(actor, campaign):
        return cases
    if not actor.is_active:
        return cases.none()
    return cases.filter(_reviewed_cases_q(actor, campaign.pk))


def selected_seen(actor: Actor) -> Expression:
    """How many of each campaign's selected cases the actor sees — ``campaign_cases_visible_to`` counted — as an
    expression over campaigns: the campaign's own count for its runners, a reviewer's sub-units' for a reviewer. The
    number of cases selected shown with a campaign anywhere (list, API) is this one: a reviewer of one sub-unit does
    not learn how many cases the others have, as the campaign page and the report count theirs only."""
    if not actor.is_active:
        return Value(0, output_field=IntegerField())
    reviewed = (
        CampaignCase.objects.filter(campaign_id=OuterRef("pk"))
        .filter(_reviewed_cases_q(actor, OuterRef("campaign_id")))
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    seen = Coalesce(Subquery(reviewed, output_field=IntegerField()), 0)
    paths = actor.paths_for(*RUNNER_ROLES)
    if not paths:
        return seen
    runs = path_prefix_q("owner_unit__path", paths)
    return Case(When(runs, then=F("selected_count")), default=seen, output_field=IntegerField())


def has_report(campaign: Campaign) -> bool:
    """A campaign reports once it has selected its cases: a draft has no report (no page, file or API answer). Pure."""
    return campaign.state != CampaignState.DRAFT


def can_review(actor: Actor, item: CampaignCase) -> bool:
    """Record the review, raise problems, make the case up: an assigned reviewer of its sub-unit while the campaign
    runs, still supervising the case's unit, and not a party to the case."""
    campaign = item.campaign
    return (
        campaign.state == CampaignState.RUNNING
        and actor.covers(Role.SUPERVISOR, item.case.unit_path)
        and reviews_sub_unit(actor, campaign, item.sub_unit_id)
        and not case_policy.is_involved(actor, item.case)
    )


def can_follow_up(actor: Actor, item: CampaignCase) -> bool:
    """Record a rectification, an accountability decision or a pursuit step: the case's reviewer, or a runner of the
    campaign, while it runs — never a party to the case, as for the review."""
    return (
        item.campaign.state == CampaignState.RUNNING
        and (can_manage(actor, item.campaign) or can_review(actor, item))
        and not case_policy.is_involved(actor, item.case)
    )


def can_be_reviewer(reviewer: Actor, sub_unit: OrgUnit) -> bool:
    """A reviewer supervises the sub-unit (a supervisor of the subtree: of the sub-unit or above it). Pure."""
    return reviewer.is_active and reviewer.covers(Role.SUPERVISOR, sub_unit.path)


def possible_reviewers(sub_unit: OrgUnit) -> QuerySet[User]:
    """The active supervisors who may review a sub-unit's cases (``can_be_reviewer``)."""
    return supervisors_of_unit_and_above(sub_unit.path)
