"""Welfare prompts: an officer attacked three or more times within twelve months is pointed out to the
rights-protection supervisors of their unit (the nearest office over both their unit and the case, so that the
prompt concerns a case they supervise), with an offer of psychological support. Called from a task only
(``cases.check_officer_welfare``, enqueued through the outbox by the services: cases/outbox.py).

Who an officer is: the account they are listed with, or else their badge number, matched whole and case-insensitively
as the search finds it (cases/search.py; the b-tree of migration 0026 on its upper case serves both), within the
case's province (each province issues its own badge numbers); an officer listed with an account is found on other
cases by the account or by the badge number, and one listed by the badge number of exactly one account of the province
is that account's officer. An attack is
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
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Trim, Upper
from django.utils import timezone

from accounts.models import Membership, Role, User
from accounts.selectors import ancestor_paths
from cases import messages, policy, selectors
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
    # The province whose cases are counted: the case's. Badge numbers are issued by each province, and an account is
    # listed on cases of its own province only (``policy.can_be_listed_on``).
    province: str
    # The units the officer serves in (their officer and supervisor memberships); empty for one without an account.
    unit_paths: tuple[str, ...] = ()


def normalise_badge(value: str) -> str:
    return (value or "").strip().upper()


def _listable_accounts(province: str) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        memberships__role__in=policy.LISTABLE_ROLES,
        memberships__unit__path__startswith=province,
    )


def officer_of(listed: InvolvedOfficer) -> Officer | None:
    """Who the listed officer is, across the cases of their province; None for one known neither by account nor by
    badge number. An officer listed by badge number alone whose number is the badge number of exactly one account
    of the province is that account's officer: one officer, one count and one prompt, however they were listed."""
    province = policy.province_path(listed.case.unit_path)
    user = listed.user
    badge = normalise_badge(listed.badge_number or (user.badge_number if user is not None else ""))
    if user is None and badge:
        holders = list(
            _listable_accounts(province)
            .annotate(badge_upper=Upper(Trim("badge_number")))
            .filter(badge_upper=badge)
            .distinct()[:2]
        )
        user = holders[0] if len(holders) == 1 else None
    if user is not None:
        units = tuple(
            sorted(
                set(
                    user.memberships.filter(
                        role__in=policy.LISTABLE_ROLES, unit__path__startswith=province
                    ).values_list("unit__path", flat=True)
                )
            )
        )
        return Officer(f"user:{user.pk}", listed.name, badge, user.pk, province, units)
    if badge:
        code = province.strip("/").split("/")[-1]
        return Officer(f"badge:{code}:{badge}"[:40], listed.name, badge, None, province)
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
    q = Q(badge_upper=officer.badge, case__unit_path__startswith=officer.province) if officer.badge else Q(pk__in=[])
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
            # A merged record's victims are listed on the case it was merged into: one attack, counted there.
            case__merged_into__isnull=True,
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


def _common_path(a: str, b: str) -> str:
    """The path of the lowest unit above (or at) both units."""
    shared = [path for path in ancestor_paths(a) if b.startswith(path)]
    return shared[-1] if shared else "/"


def _recipients(case: Case, officer: Officer) -> list[int]:
    """The rights-protection supervisors of the officer's unit: the nearest office over both the officer's unit and
    the case (so the prompt is about a case they supervise, and their notification list shows it), the officer
    excepted. The case's unit stands for the officer's where no account tells it (badge number only)."""
    ids: set[int] = set()
    for unit_path in officer.unit_paths or (case.unit_path,):
        ancestors = ancestor_paths(_common_path(unit_path, case.unit_path))
        held: dict[str, set[int]] = {path: set() for path in ancestors}
        for path, uid in Membership.objects.filter(
            role=Role.SUPERVISOR, unit__path__in=ancestors, user__is_active=True
        ).values_list("unit__path", "user_id"):
            if uid != officer.user_id:
                held[path].add(uid)
        ids.update(next((uids for path in reversed(ancestors) if (uids := held[path])), set()))
    return sorted(ids)


def check_case(*, case_id: int) -> int:
    """Raise the welfare prompts the attack of case ``case_id`` calls for; returns how many were raised. Idempotent."""
    case = Case.objects.filter(pk=case_id, status__in=selectors.ON_RECORD_STATUSES).first()
    if case is None:
        return 0
    at = selectors.incident_time(case)
    raised = 0
    for listed in InvolvedOfficer.objects.filter(case=case).select_related("user", "case").order_by("id"):
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
