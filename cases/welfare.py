"""Welfare prompts: an officer attacked three or more times within twelve months is pointed out to the
rights-protection supervisors of their unit, with an offer of psychological support. Called from a task only
(``cases.check_officer_welfare``, enqueued through the outbox by the services: cases/outbox.py).

Who an officer is: the account they are listed with, or else their badge number, matched whole and case-insensitively
as the search finds it (cases/search.py; the b-tree of migration 0026 on its upper case serves both); an officer listed
with an account is found on other cases by the account or by the badge number. An attack is
a case on record (submitted, not rejected or withdrawn: ``selectors.ON_RECORD_STATUSES``) that lists the officer, of
any incident type (a threat or doxxing weighs on an officer as a blow does), at the incident's time (its filing time
where that is not recorded).

Once per officer per twelve months: a prompt is raised when the attacks in the twelve months up to and including a
case's attack reach three, unless the officer had a prompt for an attack less than twelve months before or after it.
The ``WelfarePrompt`` row is that record, written with the notifications in one transaction; a rerun for the same
attack finds it (a unique constraint holds even against two runs at once), and runs for the same officer are
serialised by a transaction-scoped advisory lock on PostgreSQL.

The sentence names the officer, how many attacks and the case whose attack reached the threshold, which the
recipients supervise; not the other cases (they may lie outside the recipients' units). It is told in the
notification list only, never e-mailed (``NotificationKind.WELFARE``): an officer's history of attacks stays in the
application.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from accounts.selectors import supervisors_covering
from cases import messages, selectors
from cases.choices import NotificationDelivery
from cases.models import Case, InvolvedOfficer, Notification, WelfarePrompt
from cases.notifications import build_notification

THRESHOLD = 3


@dataclass(frozen=True)
class Officer:
    key: str  # WelfarePrompt.officer_key
    name: str
    badge: str  # normalised; "" when none is recorded
    user_id: int | None


def normalise_badge(value: str) -> str:
    return (value or "").strip().upper()


def officer_of(listed: InvolvedOfficer) -> Officer | None:
    """Who the listed officer is, across cases; None for one known neither by account nor by badge number."""
    badge = normalise_badge(listed.badge_number or (listed.user.badge_number if listed.user is not None else ""))
    if listed.user_id is not None:
        return Officer(f"user:{listed.user_id}", listed.name, badge, listed.user_id)
    if badge:
        return Officer(f"badge:{badge}"[:40], listed.name, badge, None)
    return None


def twelve_months_before(at: datetime) -> datetime:
    """The same moment a year earlier (28 February for 29 February)."""
    try:
        return at.replace(year=at.year - 1)
    except ValueError:
        return at.replace(year=at.year - 1, day=28)


def twelve_months_after(at: datetime) -> datetime:
    try:
        return at.replace(year=at.year + 1)
    except ValueError:
        return at.replace(year=at.year + 1, day=28)


def _listings_q(officer: Officer) -> Q:
    q = Q(badge_upper=officer.badge) if officer.badge else Q(pk__in=[])
    if officer.user_id is not None:
        q |= Q(user_id=officer.user_id)
    return q


def attacks_within(officer: Officer, *, until: datetime) -> int:
    """The cases on record listing ``officer`` whose incident lies in the twelve months up to ``until``, inclusive."""
    return (
        InvolvedOfficer.objects.annotate(
            badge_upper=Upper("badge_number"), attacked_at=Coalesce("case__occurred_at", "case__created_at")
        )
        .filter(_listings_q(officer))
        .filter(
            case__status__in=selectors.ON_RECORD_STATUSES,
            attacked_at__gt=twelve_months_before(until),
            attacked_at__lte=until,
        )
        .values("case_id")
        .distinct()
        .count()
    )


def _lock(officer: Officer) -> None:
    """Serialise the checks of one officer until the transaction ends (two cases of theirs checked at once)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(officer.key.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _recipients(case: Case, officer: Officer) -> list[int]:
    """The rights-protection supervisors of the officer's unit: those covering the case's unit, nearest first
    (``supervisors_covering``), the officer excepted."""
    ids = supervisors_covering(case.unit_path).values_list("pk", flat=True)
    return sorted(pk for pk in ids if pk != officer.user_id)


def check_case(*, case_id: int) -> int:
    """Raise the welfare prompts the attack of case ``case_id`` calls for; returns how many were raised. Idempotent."""
    case = Case.objects.filter(pk=case_id, status__in=selectors.ON_RECORD_STATUSES).first()
    if case is None:
        return 0
    at = selectors.incident_time(case)
    raised = 0
    for listed in InvolvedOfficer.objects.filter(case=case).select_related("user").order_by("id"):
        officer = officer_of(listed)
        if officer is not None and _raise_for(case, officer, at):
            raised += 1
    return raised


@transaction.atomic
def _raise_for(case: Case, officer: Officer, at: datetime) -> bool:
    _lock(officer)
    recent = WelfarePrompt.objects.filter(
        officer_key=officer.key, attacked_at__gt=twelve_months_before(at), attacked_at__lt=twelve_months_after(at)
    )
    if recent.exists():
        return False
    attacks = attacks_within(officer, until=at)
    if attacks < THRESHOLD:
        return False
    now = timezone.now()
    WelfarePrompt.objects.create(
        officer_key=officer.key,
        officer_name=officer.name,
        case=case,
        attacked_at=at,
        attacks=attacks,
        raised_at=now,
    )
    message, params = messages.for_welfare(case.reference, officer.name, officer.badge, attacks)
    params["v"] = messages.VERSION
    Notification.objects.bulk_create(
        build_notification(
            recipient_id=uid,
            case_id=case.pk,
            message=message,
            params=params,
            delivery=NotificationDelivery.IN_APP,
            now=now,
        )
        for uid in _recipients(case, officer)
    )
    return True
