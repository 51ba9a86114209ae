"""Selectors for the supervisor queue: filtering on denormalised case columns and keyset pagination.

The queue never joins the unit table to find the subtree (``unit_path`` is on the case) and pages by keyset
(the last row's sort value and id), so a page costs the same on page 1 and page 10,000.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.authority import Actor
from accounts.models import Role
from accounts.selectors import path_prefix_q
from cases.choices import OPEN_STATUSES, CaseStatus, FlagKind
from cases.models import Case

PAGE_SIZE = 25
COUNT_CAP = 1000

# sort key -> (field, descending). Every sort breaks ties on id in the same direction.
SORTS: dict[str, tuple[str, bool]] = {
    "activity": ("last_activity_at", True),
    "due": ("stage_due_at", False),
    "occurred": ("occurred_at", True),
    "created": ("created_at", True),
}
FLAG_FIELDS = {
    FlagKind.STALLED: "is_stalled",
    FlagKind.IDLE: "is_idle",
    FlagKind.OVERDUE_REFERRAL: "has_overdue_referral",
    FlagKind.DOWNGRADED: "is_downgraded",
}


@dataclass(frozen=True)
class QueueFilters:
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    unit_path: str = ""
    flags: tuple[str, ...] = ()
    min_injury_rank: int | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    text: str = ""
    view: str = "all"  # all | mine | unassigned
    sort: str = "activity"


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_cursor: str | None
    count: int
    count_capped: bool
    filters: QueueFilters = field(default_factory=QueueFilters)


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def queue_queryset(actor: Actor, filters: QueueFilters) -> QuerySet[Case]:
    """Cases in the supervisor's subtrees matching the filters (unordered)."""
    paths = actor.paths_for(Role.SUPERVISOR)
    if not actor.is_active or not paths:
        return Case.objects.none()
    qs = Case.objects.filter(path_prefix_q("unit_path", paths))
    statuses = filters.statuses or OPEN_STATUSES
    qs = qs.filter(status__in=[s for s in statuses if s != CaseStatus.DRAFT])
    if filters.kinds:
        qs = qs.filter(kind__in=filters.kinds)
    if filters.unit_path:
        qs = qs.filter(unit_path__startswith=filters.unit_path)
    if filters.flags:
        flag_q = Q(pk__in=[])
        for kind in filters.flags:
            flag_q |= Q(**{FLAG_FIELDS[kind]: True})
        qs = qs.filter(flag_q)
    if filters.min_injury_rank is not None:
        qs = qs.filter(max_injury_rank__gte=filters.min_injury_rank)
    if filters.occurred_from:
        qs = qs.filter(occurred_at__gte=_day_start(filters.occurred_from))
    if filters.occurred_to:
        qs = qs.filter(occurred_at__lt=_day_start(filters.occurred_to) + timezone.timedelta(days=1))
    if filters.text:
        text = filters.text.strip()
        # References are stored upper-case (the format constraint), so an exact match on the upper-cased text is the
        # case-insensitive match, served by the unique index; the substrings by trigram indexes (migration 0009).
        qs = qs.filter(Q(reference=text.upper()) | Q(summary__icontains=text) | Q(narrative__icontains=text))
    if filters.view == "mine":
        qs = qs.filter(assigned_to_id=actor.user_id)
    elif filters.view == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    sort_field, _desc = SORTS.get(filters.sort, SORTS["activity"])
    return qs.exclude(**{f"{sort_field}__isnull": True})


def encode_cursor(value: Any, pk: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, pk = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if not isinstance(pk, int):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return (parsed, pk) if parsed is not None else None


def queue_page(actor: Actor, filters: QueueFilters, cursor: str | None = None, size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue, plus a capped count (exact up to ``COUNT_CAP``)."""
    sort_field, desc = SORTS.get(filters.sort, SORTS["activity"])
    qs = queue_queryset(actor, filters)
    # Any COUNT_CAP + 1 matching rows will do: unordered, the count stops reading the index there instead of
    # reading and sorting every match (tens of thousands for the ministry).
    count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        value, pk = position
        op = "lt" if desc else "gt"
        qs = qs.filter(Q(**{f"{sort_field}__{op}": value}) | Q(**{sort_field: value, f"pk__{op}": pk}))
    order = [f"-{sort_field}", "-id"] if desc else [sort_field, "id"]
    rows = list(qs.select_related("unit", "assigned_to").order_by(*order)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, sort_field), last.pk)
    return QueuePage(
        cases=rows,
        next_cursor=next_cursor,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        filters=filters,
    )
