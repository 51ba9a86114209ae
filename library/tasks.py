"""The library's Celery tasks: thin, taking ids, re-reading everything, safe to run twice."""

from celery import shared_task

from cases import outbox
from library import notices


@shared_task(name=notices.PUSH_TASK, acks_late=True, max_retries=5, default_retry_delay=30)
def push_tip(push_id: int, outbox_key: str | None = None) -> int:
    """Tell the officers of a published tip's subtree (enqueued through the outbox when it is published); a retried or
    repeated run carries on where the last one stopped and tells no one twice. Returns how many this run told."""
    told = notices.deliver_push(push_id)
    outbox.done(outbox_key)
    return told
