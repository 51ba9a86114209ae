"""Webhooks out: other systems hear when a case of their unit's subtree moves.

- **Subscriptions** (URL, signing secret, events, unit) are made and changed by the administrators of the unit
  (integrations/policy.py) through ``create_subscription`` and ``update_subscription``; the address is checked
  against the allow-list then (integrations/outbound.py), and again on every attempt.
- **Events**: each workflow move is handed over by the cases (``cases.case_feed``) inside the transaction that
  records it; ``queue_case_move`` writes one ``WebhookDelivery`` per subscription that wants it, with its payload
  fixed then, and an outbox job per delivery (``cases.outbox``: published once the move commits, relayed if the broker
  was down). A draft withdrawn before it was ever submitted is news to nobody outside.
- **Delivery** (``deliver``, the task ``integrations.deliver_webhook``) locks the delivery's row and sends while it
  holds it: a second run of the task at the same time skips the row, a later one finds it delivered. At least once:
  a worker killed after the receiver answered and before the commit sends it again, with the same
  ``X-RightsGuard-Delivery`` id, by which receivers recognise a repeat.
- **Retries**: a failed attempt (no answer in time, not 2xx, an address refused) is retried after
  ``RIGHTSGUARD_WEBHOOK_RETRY_SECONDS``, doubled after each failure, by the beat's sweep (``retry_due``), up to
  ``RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS`` attempts; then it is given up. Every attempt is logged (``WebhookAttempt``).
- **Disabling**: ``RIGHTSGUARD_WEBHOOK_DISABLE_AFTER`` failed attempts in a row (of any of its deliveries) disable
  the subscription; its owner is told by e-mail, and its waiting deliveries are cancelled when their turn comes.
  Enabling it again (``update_subscription(active=True)``) starts the count afresh.
"""

import json
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import ancestor_paths
from cases import outbox
from cases.choices import CaseStatus
from cases.models import CaseEvent
from integrations import outbound, policy
from integrations.choices import EVENT_OF_ACTION, DeliveryStatus, WebhookEvent
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from rightsguard.text import language_of

logger = logging.getLogger(__name__)

SECRET_MIN = 32
# A delivery's own job has this long to send it before the sweep may take it over (a job lost with the broker).
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 50
# The sweep stops starting new attempts after this long, so a run ends well before the next one is due.
SWEEP_BUDGET_SECONDS = 45.0


# --- subscriptions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionInput:
    name: str
    url: str
    event_kinds: tuple[str, ...]
    unit: OrgUnit
    secret: str = ""  # blank on a change: the secret stays


def subscription_errors(data: SubscriptionInput, *, new: bool) -> dict[str, str]:
    """What is wrong with a subscription's input, by field: the one check of the admin's form and the services."""
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("Give the subscription a name.")
    elif any(unicodedata.category(char) == "Cc" for char in data.name):
        # The name is the subject of the e-mail telling the owner it was disabled: a line break cannot be sent there.
        errors["name"] = _("The name may not hold line breaks or other control characters.")
    try:
        outbound.check_url(data.url)
    except outbound.Refused as refused:
        errors["url"] = str(refused)
    unknown = [kind for kind in data.event_kinds if kind not in WebhookEvent.values]
    if not data.event_kinds:
        errors["event_kinds"] = _("Choose at least one event.")
    elif unknown:
        errors["event_kinds"] = _("Unknown events: %(kinds)s.") % {"kinds": ", ".join(unknown)}
    if (new or data.secret) and len(data.secret) < SECRET_MIN:
        errors["secret"] = _("The signing secret must be at least %(min)d characters long.") % {"min": SECRET_MIN}
    return errors


@transaction.atomic
def create_subscription(*, by: User, data: SubscriptionInput) -> WebhookSubscription:
    if not policy.may_manage_at(by, data.unit):
        raise PermissionDenied(_("You may only add webhooks for units you administer."))
    errors = subscription_errors(data, new=True)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    return WebhookSubscription.objects.create(
        name=data.name.strip(),
        url=data.url.strip(),
        secret=data.secret,
        event_kinds=sorted(set(data.event_kinds)),
        unit=data.unit,
        owner=by,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def update_subscription(
    *, subscription: WebhookSubscription, by: User, data: SubscriptionInput, active: bool
) -> WebhookSubscription:
    """Change a subscription (blank secret: kept). Enabling a disabled one starts its count of failures afresh."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if not policy.may_manage(by, locked) or not policy.may_manage_at(by, data.unit):
        raise PermissionDenied(_("You may only change webhooks of units you administer."))
    errors = subscription_errors(data, new=False)
    if errors:
        raise ValidationError(errors)
    locked.name, locked.url, locked.unit = data.name.strip(), data.url.strip(), data.unit
    locked.event_kinds = sorted(set(data.event_kinds))
    if data.secret:
        locked.secret = data.secret
    if active and not locked.active:
        locked.active, locked.disabled_at, locked.disabled_reason, locked.consecutive_failures = True, None, "", 0
    elif not active and locked.active:
        locked.active, locked.disabled_at = False, timezone.now()
        locked.disabled_reason = _("Disabled by %(name)s.") % {"name": by.full_name or by.username}
    locked.updated_at = timezone.now()
    locked.save()
    return locked


def new_secret() -> str:
    """A signing secret to offer an administrator (they give it to the receiving system's operator)."""
    return secrets.token_urlsafe(32)


# --- events -------------------------------------------------------------------------------------------------


def payload(event: CaseEvent, kind: str, delivery: str) -> dict[str, Any]:
    """What a delivery says (integrations/policy.py: no personal data): the case as the move left it."""
    case = event.case
    return {
        "id": delivery,
        "event": kind,
        "occurred_at": event.at.isoformat(),
        "case": {
            "reference": case.reference,
            "kind": case.kind,
            "status": event.to_status or case.status,
            # The handling unit's code is the last of its path: no query for it.
            "unit": case.unit_path.strip("/").rsplit("/", 1)[-1],
        },
    }


def queue_case_move(event: CaseEvent) -> None:
    """The listener of ``cases.case_feed``: a delivery and its outbox job for each subscription that wants the move.
    Runs in the transaction recording the move."""
    kind = EVENT_OF_ACTION.get(event.action)
    if kind is None or (event.from_status == CaseStatus.DRAFT and event.action != "submit"):
        return
    subscriptions = [
        s
        for s in WebhookSubscription.objects.filter(active=True, unit__path__in=ancestor_paths(event.case.unit_path))
        if kind in s.event_kinds
    ]
    now = timezone.now()
    for subscription in subscriptions:
        delivery = WebhookDelivery(
            subscription=subscription,
            event=event,
            event_kind=kind,
            created_at=now,
            next_attempt_at=now + SWEEP_GRACE,
        )
        delivery.payload = payload(event, kind, str(delivery.uuid))
        delivery.save()
        outbox.enqueue("integrations.deliver_webhook", [delivery.pk], key=f"webhook:{delivery.pk}")


# --- delivery -------------------------------------------------------------------------------------------------


def body_of(delivery: WebhookDelivery) -> bytes:
    """The bytes sent and signed: the payload as compact JSON, keys sorted, Chinese as it is."""
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: the first delay, doubled after each failure."""
    return timedelta(seconds=float(settings.RIGHTSGUARD_WEBHOOK_RETRY_SECONDS) * 2 ** (attempts - 1))


def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """One attempt at one delivery, if it is waiting and due: ``delivered``, ``retry``, ``failed``, ``cancelled``,
    ``not_due`` or ``skipped`` (delivered already, or another run holds it)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"
        subscription = delivery.subscription
        if not subscription.active:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.CANCELLED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return "cancelled"
        if delivery.attempts and delivery.next_attempt_at and delivery.next_attempt_at > now:
            return "not_due"  # a redelivered job after a failed attempt: the sweep sends it when its backoff is over
        body = body_of(delivery)
        headers = outbound.signed_headers(
            secret=subscription.secret, body=body, event=delivery.event_kind, delivery=str(delivery.uuid)
        )
        started = time.monotonic()
        status_code: int | None = None
        try:
            answer = outbound.send(subscription.url, body, headers)
        except outbound.Refused as refused:
            error = _("Refused: %(reason)s") % {"reason": refused}
        except ImproperlyConfigured:
            # A setting of this deployment (the allow-list, the CA file) fails every attempt alike: counted against
            # the receivers, it would disable every subscription and cancel what waits. The task fails loudly, and
            # the delivery waits, untouched, for the sweep after the setting is corrected.
            raise
        except Exception as exc:  # any failure to reach the receiver or read its answer is a failed attempt
            error = f"{type(exc).__name__}: {exc}"
        else:
            status_code = answer.status
            error = "" if answer.ok else _("The receiver answered %(status)d.") % {"status": answer.status}
        duration = int((time.monotonic() - started) * 1000)
        WebhookAttempt.objects.create(
            delivery=delivery, at=now, status_code=status_code, error=error[:500], duration_ms=duration
        )
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = status_code, error[:500]
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
            delivery.save()
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
            return "delivered"
        if delivery.attempts >= int(settings.RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS):
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save()
        _count_failure(subscription.pk, now)
        return "failed" if delivery.status == DeliveryStatus.FAILED else "retry"


def _count_failure(subscription_id: int, now: datetime) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(consecutive_failures=F("consecutive_failures") + 1)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    limit = int(settings.RIGHTSGUARD_WEBHOOK_DISABLE_AFTER)
    if not subscription.active or subscription.consecutive_failures < limit:
        return
    subscription.active, subscription.disabled_at = False, now
    subscription.disabled_reason = _("Disabled after %(count)d failed attempts in a row.") % {
        "count": subscription.consecutive_failures
    }
    subscription.save(update_fields=["active", "disabled_at", "disabled_reason"])
    logger.warning("Webhook subscription %s disabled after %d failures", subscription.pk, limit)
    outbox.enqueue(
        "integrations.tell_webhook_owner",
        [subscription.pk],
        key=f"webhook-disabled:{subscription.pk}:{now.isoformat()}",
    )


def retry_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """The beat's sweep: the waiting deliveries whose time has come, oldest first, within a time budget."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    counts: dict[str, int] = {}
    started = time.monotonic()
    for pk in due:
        if time.monotonic() - started > SWEEP_BUDGET_SECONDS:
            break
        outcome = deliver(pk, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def tell_owner(subscription_id: int) -> bool:
    """E-mail the owner of a disabled subscription, in their language; False when there is nobody to tell."""
    subscription = WebhookSubscription.objects.select_related("owner", "unit").filter(pk=subscription_id).first()
    if subscription is None or subscription.active:
        return False
    owner = subscription.owner
    if not (owner.is_active and owner.email):
        return False
    link = settings.RIGHTSGUARD_SITE_URL.rstrip("/") + reverse(
        "admin:integrations_webhooksubscription_change", args=[subscription.pk]
    )
    with translation.override(language_of(owner)):
        subject = _("Webhook “%(name)s” was disabled") % {"name": subscription.name}
        body = "\n\n".join(
            [
                _("Hello %(name)s,") % {"name": owner.full_name or owner.username},
                _(
                    "The webhook “%(name)s” to %(url)s was disabled: %(reason)s Case moves are no longer sent to it. "
                    "Check the receiver and the delivery log, then enable it again."
                )
                % {"name": subscription.name, "url": subscription.url, "reason": subscription.disabled_reason},
                _("Open it in RightsGuard: %(link)s") % {"link": link},
            ]
        )
    send_mail(subject, body, None, [owner.email])
    return True
