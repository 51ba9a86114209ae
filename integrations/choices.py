"""The integrations' vocabularies: what a webhook is sent about, and where a delivery stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """A case's move, as other systems hear of it: one per workflow action (cases/workflow.py), and the duplicates'
    merge and link (cases/services/duplicates.py)."""

    SUBMITTED = "case.submitted", _("Case submitted")
    WITHDRAWN = "case.withdrawn", _("Case withdrawn")
    REJECTED = "case.rejected", _("Case rejected")
    REFERRED = "case.referred", _("Case referred")
    ACKNOWLEDGED = "case.acknowledged", _("Referral acknowledged")
    CONCLUDED = "case.concluded", _("Case concluded")
    REOPENED = "case.reopened", _("Case reopened")
    CLOSED = "case.closed", _("Case closed")
    RECALLED = "case.recalled", _("Case recalled")
    MERGED = "case.merged", _("Case merged into another as its duplicate")
    LINKED = "case.linked", _("Case linked to a related case")


# The workflow action each event is the news of.
EVENT_OF_ACTION: dict[str, str] = {
    "submit": WebhookEvent.SUBMITTED,
    "withdraw": WebhookEvent.WITHDRAWN,
    "reject": WebhookEvent.REJECTED,
    "refer": WebhookEvent.REFERRED,
    "acknowledge": WebhookEvent.ACKNOWLEDGED,
    "conclude": WebhookEvent.CONCLUDED,
    "reopen": WebhookEvent.REOPENED,
    "close": WebhookEvent.CLOSED,
    "recall": WebhookEvent.RECALLED,
    "merge": WebhookEvent.MERGED,
    "link": WebhookEvent.LINKED,
}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered to the receiver")
    FAILED = "failed", _("Given up after repeated failures")
    CANCELLED = "cancelled", _("Not sent: the subscription was disabled")
