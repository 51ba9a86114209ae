"""All reads of cases. Every user-facing read starts from ``cases_visible_to(user)``."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.authority import Actor
from accounts.models import Role, User
from accounts.selectors import actor_for, path_prefix_q
from cases.choices import CaseStatus
from cases.models import Case, CaseEvent, Flag, InvolvedOfficer, Notification

# Up to this many cases listing a user are passed to the database as ids; beyond it, a correlated EXISTS.
_LISTED_AS_IDS = 2000


def visibility_q(actor: Actor) -> Q:
    """Officers: cases they filed, or submitted cases listing them as a victim. Supervisors and admins: the
    submitted cases of their subtrees. Drafts stay private to their filer."""
    if not actor.is_active:
        return Q(pk__in=[])
    submitted = ~Q(status=CaseStatus.DRAFT)
    q = Q(filed_by_id=actor.user_id)
    # The cases listing the user as a victim, as ids read first: an EXISTS inside the OR cannot be estimated, so
    # PostgreSQL would walk every case newest-first to find a page (1.7 s at a million cases, 0.6 ms this way).
    listed = list(
        InvolvedOfficer.objects.filter(user_id=actor.user_id).values_list("case_id", flat=True)[: _LISTED_AS_IDS + 1]
    )
    if len(listed) <= _LISTED_AS_IDS:
        q |= submitted & Q(pk__in=listed)
    else:
        q |= submitted & Q(Exists(InvolvedOfficer.objects.filter(case=OuterRef("pk"), user_id=actor.user_id)))
    paths = actor.paths_for(Role.SUPERVISOR, Role.ADMIN)
    if paths:
        q |= submitted & path_prefix_q("unit_path", paths)
    return q


def cases_visible_to(user: User) -> QuerySet[Case]:
    return Case.objects.filter(visibility_q(actor_for(user)))


def cases_filed_by(user: User) -> QuerySet[Case]:
    return Case.objects.filter(filed_by=user).select_related("unit").order_by("-created_at", "-id")


def timeline_for(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")


# --- API reads (cases/api) ---------------------------------------------------------------------------------------


def cases_for_api(user: User) -> QuerySet[Case]:
    """``cases_visible_to`` with everything the API's case representation reads, so a page costs fixed queries."""
    return cases_visible_to(user).select_related("unit", "filed_by", "assigned_to")


def _overseen_cases(actor: Actor) -> QuerySet[Case]:
    """Visible cases in the subtrees the actor supervises or administers."""
    paths = actor.paths_for(Role.SUPERVISOR, Role.ADMIN)
    if not actor.is_active or not paths:
        return Case.objects.none()
    return Case.objects.filter(visibility_q(actor) & path_prefix_q("unit_path", paths))


def flags_visible_to(user: User) -> QuerySet[Flag]:
    """Flags are prompts for the office: those of the cases the user supervises or administers, newest first."""
    cases = _overseen_cases(actor_for(user))
    return (
        Flag.objects.filter(case__in=cases.values("pk"))
        .select_related("case", "acknowledged_by")
        .order_by("-raised_at", "-id")
    )


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case").order_by("-created_at", "-id")
