"""All reads of cases. Every user-facing read starts from ``cases_visible_to(user)``."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.authority import Actor
from accounts.models import Role, User
from accounts.selectors import actor_for, path_prefix_q
from cases.choices import OPEN_STATUSES, CaseStatus
from cases.models import Case, CaseEvent, InvolvedOfficer


def visibility_q(actor: Actor) -> Q:
    """Officers: cases they filed, or submitted cases listing them as a victim. Supervisors and admins: the
    submitted cases of their subtrees. Drafts stay private to their filer."""
    if not actor.is_active:
        return Q(pk__in=[])
    submitted = ~Q(status=CaseStatus.DRAFT)
    q = Q(filed_by_id=actor.user_id)
    q |= submitted & Q(Exists(InvolvedOfficer.objects.filter(case=OuterRef("pk"), user_id=actor.user_id)))
    paths = actor.paths_for(Role.SUPERVISOR, Role.ADMIN)
    if paths:
        q |= submitted & path_prefix_q("unit_path", paths)
    return q


def cases_visible_to(user: User) -> QuerySet[Case]:
    return Case.objects.filter(visibility_q(actor_for(user)))


def queue_for(user: User, *, open_only: bool = True) -> QuerySet[Case]:
    """A supervisor's working queue: cases of their subtrees, most recent activity first."""
    actor = actor_for(user)
    paths = actor.paths_for(Role.SUPERVISOR)
    if not actor.is_active or not paths:
        return Case.objects.none()
    qs = Case.objects.filter(path_prefix_q("unit_path", paths))
    qs = qs.filter(status__in=OPEN_STATUSES) if open_only else qs.exclude(status=CaseStatus.DRAFT)
    return qs.select_related("unit", "assigned_to").order_by("-last_activity_at", "-id")


def cases_filed_by(user: User) -> QuerySet[Case]:
    return Case.objects.filter(filed_by=user).select_related("unit").order_by("-created_at", "-id")


def timeline_for(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
