"""What other systems of the intranet brought in, and what is sent out to them: applications started from 110
incidents; webhook subscriptions, their deliveries and the delivery log.

``IncidentImport`` is the 110 import's own record, one per (incident number, unit): which application the incident
started (or was matched to) for that unit. Its unique constraint is what makes the import idempotent whatever the
door or the timing: a replay finds the row and answers the same application; two replays at once cannot both add one
(integrations/services/incidents.py also locks the units first, so the second waits and finds the first's row).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.fields import EncryptedCharField
from cases.models import Case, CaseEvent
from integrations.choices import DeliveryStatus, WebhookEvent

USER = settings.AUTH_USER_MODEL
# As long as ``Case.dispatch_ref``, which holds the same number.
INCIDENT_NUMBER_MAX = 40


class IncidentImport(models.Model):
    incident_number = models.CharField(_("110 incident number"), max_length=INCIDENT_NUMBER_MAX)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, verbose_name=_("application"), on_delete=models.PROTECT, related_name="+")
    # Whether an application recorded for the incident already was matched rather than a draft started.
    attached = models.BooleanField(_("matched an existing application"), default=False)
    imported_by = models.ForeignKey(USER, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("110 incident import")
        verbose_name_plural = _("110 incident imports")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident_number", "unit"], name="incident_import_once_per_unit"),
            models.CheckConstraint(condition=~Q(incident_number=""), name="incident_import_number_given"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_number} · {self.unit.code}"


# --- webhooks out ------------------------------------------------------------------------------------------------


class WebhookSubscription(models.Model):
    """Another system that hears of the moves of the cases of a unit's subtree (integrations/services/webhooks.py).
    Managed by the administrators of the unit (integrations/policy.py); disabled by the delivery after
    ``RIGHTSGUARD_WEBHOOK_DISABLE_AFTER`` failures in a row, when its owner is told."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("address"), max_length=500)
    # Signs every delivery (HMAC-SHA-256); kept encrypted with the field keys (cases/fields.py), never shown again.
    secret = EncryptedCharField(_("signing secret"), max_length=200)
    event_kinds = models.JSONField(_("events"), default=list)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active=True, disabled_at__isnull=True) | Q(active=False),
                name="webhook_active_not_disabled",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="webhook_name_given"),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One case move sent to one subscription: at most once per (subscription, event), whatever the number of task
    runs (the unique constraint, and the row lock the delivery holds while it sends)."""

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.PROTECT, related_name="deliveries"
    )
    # No database constraint: the timeline is partitioned by month on PostgreSQL (cases/partitions.py), and a foreign
    # key cannot point at its id alone; an event is never deleted (its append-only trigger refuses it).
    event = models.ForeignKey(
        CaseEvent, verbose_name=_("case event"), on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    event_kind = models.CharField(_("event"), max_length=30, choices=WebhookEvent.choices)
    # What is sent, fixed when the move happened (integrations/services/webhooks.py ``payload``): no personal data.
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once_per_event"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status"),
            models.CheckConstraint(condition=Q(event_kind__in=WebhookEvent.values), name="webhook_delivery_event"),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.DELIVERED, delivered_at__isnull=False)
                | (~Q(status=DeliveryStatus.DELIVERED) & Q(delivered_at__isnull=True)),
                name="webhook_delivered_when_delivered",
            ),
        ]
        # The retry sweep: pending deliveries by when they are due.
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_kind} → {self.subscription}"


class WebhookAttempt(models.Model):
    """The delivery log: one row per attempt to send, with the receiver's answer or what went wrong."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("webhook delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} · {self.status_code or self.error}"
