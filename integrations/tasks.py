"""Celery tasks of the integrations: thin, take ids, safe to run twice."""

from celery import shared_task

from cases import outbox, periodic
from integrations.services import webhooks


@shared_task(name="integrations.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int, outbox_key: str | None = None) -> str:
    """One attempt at a delivery; its retries are the sweep's. Idempotent: a delivered one is not sent again."""
    outcome = webhooks.deliver(delivery_id)
    outbox.done(outbox_key)
    return outcome


@shared_task(name="integrations.retry_webhooks", acks_late=True)
def retry_webhooks(period: float | None = None) -> dict[str, int]:
    """The deliveries whose backoff is over, and any whose own job was lost (beat, every minute)."""
    if period and not periodic.claim("retry_webhooks", period):
        return {}
    return webhooks.retry_due()


@shared_task(name="integrations.tell_webhook_owner", acks_late=True)
def tell_webhook_owner(subscription_id: int, outbox_key: str | None = None) -> bool:
    told = webhooks.tell_owner(subscription_id)
    outbox.done(outbox_key)
    return told
