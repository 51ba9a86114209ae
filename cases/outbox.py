"""Transactional outbox: background jobs recorded with the change that starts them, published after commit.

A service calls ``enqueue("cases.deliver_event_notifications", [event.pk], key=f"notify:{event.pk}")`` inside its
transaction, usually through the helpers named for the job (``notify_event_on_commit``, ``check_flags_on_commit``,
``send_flag_digests_on_commit``): jobs are named by their Celery task name, so the services and the flag scan never
import the task module.

The row commits or rolls back with the change, so a job is never lost to a crash between the commit and the
publish, and never published for a change that did not happen. Once the transaction commits the row is published
to the broker; if the broker is down the publish fails fast, the user's request succeeds, and the periodic relay
(``relay``, every minute on beat, also ``manage.py relay_outbox``) publishes it when the broker is back. Delivery
is at least once — a relay may publish a message whose first publish succeeded a moment before its
row was marked — so every task is idempotent by its business key.

Without a broker (the embedded default) tasks run eagerly: the publish runs the task in-process right after the
commit, as before, and a failure propagates.

The publish runs after the commit, inside the user's request, and queries (it marks the row; an eager task does its
work). If the database fails there (rightsguard/errors.py ``database_failure``: unreachable, busy, refusing
writes), the change and its outbox row are already committed: the error is logged and the request answers its
success, and the relay publishes the row later. Any other error still propagates.
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.choices import CaseStatus
from cases.models import Case, OutboxMessage
from rightsguard.celery import app as celery_app
from rightsguard.errors import database_failure, sqlstate_of

logger = logging.getLogger(__name__)

RELAY_BATCH = 500
KEEP_PUBLISHED = timedelta(days=7)


def enqueue(task: str, args: Sequence[Any] = (), *, key: str) -> None:
    """Record a job in the current transaction; publish it once the transaction commits.

    ``key`` identifies the job (e.g. ``notify:<event id>``): a second enqueue with the same key is ignored.
    """
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=task, args=list(args), key=key, created_at=timezone.now())], ignore_conflicts=True
    )
    # ``bulk_create(ignore_conflicts=True)`` returns no primary key; the key finds the row after the commit.
    transaction.on_commit(lambda: _publish_after_commit([key]))


def check_flags_on_commit(case: Case) -> None:
    """Services call this after changing a case's facts, officers, suspects or dispositions."""
    if case.status != CaseStatus.DRAFT:
        check_case_flags_on_commit(case.pk)


def check_case_flags_on_commit(case_id: int) -> None:
    """The case's own flag check (``flagging.check_case_flags``, which waits for the case's row lock), once the
    transaction commits."""
    enqueue("cases.check_case_flags", [case_id], key=f"flags:{case_id}:{uuid.uuid4().hex}")


def check_welfare_on_commit(case: Case) -> None:
    """The welfare check of the officers of a case on record (``welfare.check_case``), once the transaction commits:
    after the case is submitted, an officer is listed or identified anew, or the incident's time changes. Keyed anew
    each time, as the flag check is: the check itself is idempotent (one prompt per officer per twelve months)."""
    if case.status != CaseStatus.DRAFT:
        enqueue("cases.check_officer_welfare", [case.pk], key=f"welfare:{case.pk}:{uuid.uuid4().hex}")


def rederive_repeats_on_commit(indexes: Iterable[str], *, changed_case: int) -> None:
    """The "previously punished for attacking police" fact of the open cases whose suspects have one of these ID
    numbers (blind indexes), matched again once the transaction commits (``repeats.rederive_later_cases``): a
    punishment of one of them in case ``changed_case`` was recorded, changed or moved to another number."""
    for index in sorted({i for i in indexes if i}):
        enqueue(
            "cases.rederive_repeat_suspects", [index, changed_case], key=f"repeats:{changed_case}:{uuid.uuid4().hex}"
        )


def notify_event_on_commit(event_id: int) -> None:
    """Deliver a case event's notifications once the transaction that wrote the event commits."""
    enqueue("cases.deliver_event_notifications", [event_id], key=f"notify:{event_id}")


def send_flag_digests_on_commit() -> None:
    enqueue("cases.send_flag_digests", [], key=f"digests:{uuid.uuid4().hex}")


def _publish_after_commit(keys: list[str]) -> None:
    try:
        publish_keys(keys)
    except DatabaseError as exc:
        failure = database_failure(exc)
        if failure is None:
            raise
        # The change is saved: the answer must say so. The unpublished row waits for the relay.
        logger.error(
            "Outbox: the database failed (%s, SQLSTATE %s) while publishing %s after the commit; the relay will "
            "publish it: %s",
            failure,
            sqlstate_of(exc) or "none",
            ", ".join(keys),
            exc,
        )


def _eager() -> bool:
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def _send(message: OutboxMessage) -> None:
    # The project's app, not ``current_app``: any other Celery() instance (a client, a test) becomes current.
    if message.task not in celery_app.tasks:
        # Task modules listed in CELERY_IMPORTS are loaded by workers at start; a web process loads them here.
        celery_app.loader.import_default_modules()
    task = celery_app.tasks[message.task]
    # No retries inside the request: a broker that does not answer within the connect timeout leaves the message
    # to the relay instead of holding the user's request. The task marks the message done when it has run.
    task.apply_async(args=message.args, kwargs={"outbox_key": message.key}, retry=False)


def done(key: str | None) -> None:
    """Called by a task at the end of a successful run: the job needs no further delivery."""
    if key:
        OutboxMessage.objects.filter(key=key, done_at__isnull=True).update(done_at=timezone.now())


def publish_keys(keys: Iterable[str]) -> int:
    """Publish the unpublished messages with these keys; returns how many were published."""
    return _publish(OutboxMessage.objects.filter(key__in=list(keys), published_at__isnull=True))


def _publish(messages: Iterable[OutboxMessage]) -> int:
    published = 0
    for message in messages:
        if _eager():
            # In-process: mark first, so a task that enqueues more work sees its own message as done.
            OutboxMessage.objects.filter(pk=message.pk).update(published_at=timezone.now(), attempts=F("attempts") + 1)
            _send(message)
            published += 1
            continue
        try:
            _send(message)
        except Exception as exc:  # any broker failure leaves the message for the relay
            logger.warning("Outbox: could not publish %s (%s); the relay will retry", message.key, exc)
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]
            )
            # The broker is unreachable: the rest would fail the same way, each after its own timeout.
            break
        OutboxMessage.objects.filter(pk=message.pk).update(
            published_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        published += 1
    return published


def relay_after() -> timedelta:
    """A message younger than this is left to its own on-commit publish; the relay only picks up older ones."""
    return timedelta(seconds=getattr(settings, "RIGHTSGUARD_OUTBOX_RELAY_AFTER_SECONDS", 60))


def redeliver_after() -> timedelta:
    """A published message whose task has not finished after this long is published again (the broker lost it:
    Redis killed within its one-second AOF window, or a queue flushed)."""
    return timedelta(seconds=getattr(settings, "RIGHTSGUARD_OUTBOX_REDELIVER_SECONDS", 900))


def relay(*, now: Any = None, older_than: timedelta | None = None, batch: int = RELAY_BATCH) -> dict[str, int]:
    """Publish messages left unpublished for longer than ``older_than``, publish again those published long ago
    whose task never finished, and drop finished ones after a week."""
    now = now or timezone.now()
    older_than = relay_after() if older_than is None else older_than
    stale = Q(published_at__isnull=True, created_at__lte=now - older_than) | Q(
        published_at__lte=now - redeliver_after(), done_at__isnull=True
    )
    published = 0
    while True:
        with transaction.atomic():
            # SKIP LOCKED: two relays (or a relay and a slow on-commit publish) never take the same rows.
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(stale)
                .order_by("created_at", "id")[:batch]
            )
            done = _publish(rows)
        published += done
        if done < len(rows) or len(rows) < batch:
            break
    pending = OutboxMessage.objects.filter(done_at__isnull=True).count()
    purged, _ = OutboxMessage.objects.filter(done_at__lt=now - KEEP_PUBLISHED).delete()
    return {"published": published, "pending": pending, "purged": purged}
