"""The campaigns' Celery tasks: thin, re-reading everything, safe to run twice."""

from celery import shared_task

from cases import periodic
from oversight import reminders


@shared_task(name="oversight.send_campaign_reminders", acks_late=True)
def send_campaign_reminders(period: float | None = None) -> dict[str, int]:
    """Remind reviewers of cases still to review near a deadline and flag overdue rectifications (beat, hourly).
    The period is claimed first, so a second beat's tick does nothing; the reminders' constraints do the rest."""
    if period and not periodic.claim("send_campaign_reminders", period):
        return {"skipped": 1}
    return reminders.send_reminders()
