"""Celery tasks of the accounts app: thin, take ids, safe to run twice."""

from celery import shared_task

from accounts import mfa
from cases import outbox


@shared_task(name="accounts.mail_second_factor_change", acks_late=True, max_retries=5, default_retry_delay=30)
def mail_second_factor_change(entry_id: int, user_id: int, outbox_key: str | None = None) -> bool:
    """Tell the account's owner that its second factor changed (the access log entry ``entry_id``)."""
    sent = mfa.mail_change_notice(entry_id=entry_id, user_id=user_id)
    outbox.done(outbox_key)
    return sent
