"""The campaigns' periodic job (Celery beat, oversight/tasks.py): reminds reviewers of the cases they have still to
review as a campaign's deadline nears, and flags the problems whose rectification is overdue to the case's reviewers
and the campaign's organiser. Like the case notifications, a reminder is a row first (an outbox) and an e-mail after:

- Idempotent: a reminder is unique per person and thing (``Reminder``'s constraints), written with ON CONFLICT DO
  NOTHING, so the job may run any number of times and nobody is reminded twice of the same thing.
- The right people, as they are now: a reviewer who no longer supervises the sub-unit, an organiser who no longer
  runs the campaign, an inactive account are left out (the policy decides, oversight/policy.py).
- Each e-mail in its own transaction, the row locked and skipped if another run holds it; a send that fails leaves
  the row to the next run (at least once). A person without an address keeps the reminder in the campaigns list.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import User
from accounts.selectors import actor_for
from oversight import policy
from oversight.choices import CampaignState, ReminderReason
from oversight.models import Campaign, CampaignCase, Problem, Reminder, ReviewerAssignment
from rightsguard.text import language_of, when

logger = logging.getLogger(__name__)

# A campaign's reviewers are reminded once this many days or fewer are left before its deadline (or after it).
REVIEW_DUE_DAYS = 7


def reminder_text(reminder: Reminder) -> str:
    """The reminder as one sentence in the active language."""
    values = {"name": reminder.campaign.name, "due": when(reminder.due), "count": reminder.count}
    if reminder.reason == ReminderReason.REVIEW_DUE:
        return _("Campaign “%(name)s”: %(count)d of your cases are not reviewed yet — review them by %(due)s.") % values
    problem = reminder.problem
    if problem is None:  # never: the constraint has an overdue reminder name its problem
        return ""
    return _(
        "Campaign “%(name)s”: the problem “%(problem)s” in %(ref)s was to be rectified by %(due)s and is not yet — "
        "have it rectified and record what was done."
    ) % {**values, "problem": problem.get_type_display(), "ref": problem.campaign_case.case.reference}


def send_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """One run: write the reminders due now, then e-mail those not yet e-mailed. Returns the counts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    actors: dict[int, Actor] = {}

    def actor(user: User) -> Actor:
        if user.pk not in actors:
            actors[user.pk] = actor_for(user)
        return actors[user.pk]

    review_due = _write(_review_due(today, now, actor))
    overdue = _write(_overdue(today, now, actor))
    return {"review_due": review_due, "rectification_overdue": overdue, **email_reminders(now=now)}


def _write(reminders: list[Reminder]) -> int:
    """Insert, skipping any the constraints say were given before; returns how many are new."""
    before = Reminder.objects.count()
    Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
    return Reminder.objects.count() - before


def _review_due(today: date, now: datetime, actor: Callable[[User], Actor]) -> list[Reminder]:
    """Each reviewer of a running campaign whose deadline is near, with cases of their sub-units not reviewed: one
    reminder per campaign, with the count over all their sub-units (two grouped queries and the assignments)."""
    campaigns = Campaign.objects.filter(
        state=CampaignState.RUNNING, deadline__lte=today + timedelta(days=REVIEW_DUE_DAYS)
    )
    unreviewed = {
        (r["campaign_id"], r["sub_unit_id"]): r["n"]
        for r in CampaignCase.objects.filter(campaign__in=campaigns, review__isnull=True)
        .order_by()
        .values("campaign_id", "sub_unit_id")
        .annotate(n=Count("pk"))
    }
    counts: dict[tuple[int, int], int] = defaultdict(int)
    deadlines: dict[int, date] = {}
    for a in ReviewerAssignment.objects.filter(campaign__in=campaigns).select_related(
        "reviewer", "sub_unit", "campaign"
    ):
        n = unreviewed.get((a.campaign_id, a.sub_unit_id), 0)
        if n and policy.can_be_reviewer(actor(a.reviewer), a.sub_unit):
            counts[(a.campaign_id, a.reviewer_id)] += n
            deadlines[a.campaign_id] = a.campaign.deadline
    return [
        Reminder(
            campaign_id=campaign_id,
            recipient_id=user_id,
            reason=ReminderReason.REVIEW_DUE,
            count=n,
            due=deadlines[campaign_id],
            created_at=now,
        )
        for (campaign_id, user_id), n in sorted(counts.items())
    ]


def _overdue(today: date, now: datetime, actor: Callable[[User], Actor]) -> list[Reminder]:
    """Each problem of a running campaign not rectified by its date: to the reviewers of its case's sub-unit and to
    the campaign's organiser (who created it), each while the policy still lets them act on it."""
    problems = list(
        Problem.objects.filter(
            rectified_on__isnull=True, rectify_by__lt=today, campaign_case__campaign__state=CampaignState.RUNNING
        ).select_related("campaign_case__campaign__owner_unit", "campaign_case__campaign__created_by")
    )
    reviewers: dict[tuple[int, int], list[ReviewerAssignment]] = defaultdict(list)
    for a in ReviewerAssignment.objects.filter(
        campaign_id__in={p.campaign_case.campaign_id for p in problems}
    ).select_related("reviewer", "sub_unit"):
        reviewers[(a.campaign_id, a.sub_unit_id)].append(a)
    made: list[Reminder] = []
    for problem in problems:
        item = problem.campaign_case
        campaign = item.campaign
        to = {
            a.reviewer_id
            for a in reviewers[(campaign.pk, item.sub_unit_id)]
            if policy.can_be_reviewer(actor(a.reviewer), a.sub_unit)
        }
        if policy.can_manage(actor(campaign.created_by), campaign):
            to.add(campaign.created_by_id)
        made.extend(
            Reminder(
                campaign=campaign,
                recipient_id=user_id,
                reason=ReminderReason.RECTIFICATION_OVERDUE,
                problem=problem,
                due=problem.rectify_by,
                created_at=now,
            )
            for user_id in sorted(to)
        )
    return made


def email_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """E-mail each reminder not yet e-mailed, oldest first, in its reader's language."""
    now = now or timezone.now()
    counts = {"sent": 0, "nowhere": 0, "failed": 0}
    for pk in list(
        Reminder.objects.filter(emailed_at__isnull=True).order_by("created_at", "id").values_list("pk", flat=True)
    ):
        counts[_email_one(pk, now)] += 1
    return counts


def _email_one(pk: int, now: datetime) -> str:
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "campaign", "problem__campaign_case__case")
            .filter(pk=pk, emailed_at__isnull=True)
            .first()
        )
        if reminder is None:
            return "nowhere"
        user = reminder.recipient
        if not (user.email and user.is_active):
            reminder.emailed_at = now
            reminder.save(update_fields=["emailed_at"])
            return "nowhere"
        with translation.override(language_of(user)):
            text = reminder_text(reminder)
            body = "\n\n".join([_("Hello %(name)s,") % {"name": user.full_name or user.username}, text])
        try:
            send_mail(text, body, None, [user.email])
        except Exception as exc:  # the mail server's refusal or silence: the next run tries again
            logger.warning("Campaign reminder %s not e-mailed: %s: %s", pk, type(exc).__name__, exc)
            return "failed"
        reminder.emailed_at = timezone.now()
        reminder.save(update_fields=["emailed_at"])
        return "sent"
