"""Celery tasks: thin, take ids, safe to run twice."""

from celery import shared_task

from cases import notifications


@shared_task(name="cases.deliver_event_notifications", acks_late=True, max_retries=5, default_retry_delay=30)
def deliver_event_notifications(event_id: int) -> int:
    """Create the in-app notifications for a case event and e-mail them; returns how many were new."""
    return notifications.deliver_for_event(event_id)
