"""Who manages which webhook subscriptions, and what leaves in a webhook.

A subscription belongs to a unit: the administrators of the unit's subtree manage it (``accounts/scope.py``: the
units they administer), as they manage its accounts; superusers manage every one. Supervisors and officers manage
none.

What a delivery carries is fixed here (``PAYLOAD_CASE_FIELDS``): the case's reference, incident type, status and unit
code, with the event's kind and time. No personal data leaves — no names, police or ID numbers, places, accounts of
what happened — and no setting adds any: the systems that subscribe (a procuratorate's, a legal-aid office's, a
provincial dashboard) learn that a case moved and open it through their own channels, where their own access rules
apply.
"""

from django.db.models import QuerySet

from accounts import scope
from accounts.models import OrgUnit, User
from integrations.models import WebhookSubscription

PAYLOAD_CASE_FIELDS = ("reference", "kind", "status", "unit")


def managed_subscriptions(user: User) -> QuerySet[WebhookSubscription]:
    """The subscriptions ``user`` manages: those of the units they administer."""
    return WebhookSubscription.objects.filter(unit__in=scope.administered_units(user).values("pk"))


def may_manage_at(user: User, unit: OrgUnit) -> bool:
    """Whether ``user`` may create a subscription for ``unit``'s subtree (or move one there)."""
    return scope.may_administer_unit(user, unit)


def may_manage(user: User, subscription: WebhookSubscription) -> bool:
    return managed_subscriptions(user).filter(pk=subscription.pk).exists()
