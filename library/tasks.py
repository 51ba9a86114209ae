"""The library's Celery tasks: thin, taking ids, re-reading everything, safe to run twice."""

from celery import shared_task

from cases import outbox, periodic
from library import notices


@shared_task(name=notices.PUSH_TASK, acks_late=True, max_retries=5, default_retry_delay=30)
def push_tip(push_id: int, outbox_key: str | None = None) -> int:
    """Tell the officers of a published tip's subtree (enqueued through the outbox when it is published); a retried or
    repeated run carries on where the last one stopped and tells no one twice. Returns how many this run told."""
    told = notices.deliver_push(push_id)
    outbox.done(outbox_key)
    return told


@shared_task(name="library.start_due_pushes", acks_late=True)
def start_due_pushes(period: float | None = None) -> int:
    """Start the pushes of tips whose first day has come (beat, every hour): a tip published ahead of its first day is
    told to its officers on that day, when they can open it. Returns how many pushes were started."""
    if period and not periodic.claim("library.start_due_pushes", period):
        return 0
    return notices.start_due_pushes()
