"""The case queue: one set of filters for the supervisor's queue page and the API's case list.

Each interface only parses its request into :class:`QueueFilters` (the page's form, the API's filter set);
:func:`filter_cases` is the one place that turns them into SQL, on denormalised case columns (``unit_path``, the
flag booleans, ``max_injury_rank``) so no filter joins another table; the text is the one search of
cases/search.py (``text_match``), which reads each field's matches through its own index first: the page then reads
a few by their ids, or walks its order testing each row when there are many, so the case query joins nothing
either. Pages come from the one keyset paginator (cases/keyset.py), so page 1 and page 10,000 cost the same.

The analysis's dimensions (cases/dimensions.py) are filters too, one parameter each, so that every figure of the
analysis links to the cases it counts: each value is a dimension's code, read by ``dimension_q`` alone (never
restated here), with ``NOT_RECORDED`` for the empty code.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.functional import Promise, lazy

from accounts.authority import ANONYMOUS, Actor
from cases import dimensions, policy
from cases.choices import FLAG_FIELDS, OPEN_STATUSES, CaseStatus
from cases.dimensions import NOT_RECORDED, UnknownCode, dimension_q, filter_code
from cases.keyset import keyset_page
from cases.models import Case, Referral
from cases.search import capped_count, describe_matches, search_q, text_match

PAGE_SIZE = 25
COUNT_CAP = 1000
ASSIGNED_TO_ME, UNASSIGNED = "me", "nobody"
DEFAULT_ORDER = "-last_activity_at"
# The page's sort choices. The paginator breaks ties on the id in the same direction.
SORTS = {"activity": DEFAULT_ORDER, "due": "stage_due_at", "occurred": "-occurred_at", "created": "-created_at"}
# The stage clock: overdue (the stage deadline has passed), due within the coming seven days, or paused. A paused
# clock does not run (resuming it moves the deadline on by the time it was paused), so a paused case is neither
# overdue nor due this week: it is counted under "paused" only.
DUE_OVERDUE, DUE_WEEK, DUE_PAUSED = "overdue", "week", "paused"
DUE_VALUES = (DUE_OVERDUE, DUE_WEEK, DUE_PAUSED)
DUE_WINDOW = timedelta(days=7)
# A month of submissions, as the queue's and the API's ``submitted`` parameter writes it.
MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")
# A referral the handling unit has not acknowledged yet (a transfer after non-prosecution is recorded closed).
AWAITING_ACK = Q(acknowledged_at__isnull=True, closed_at__isnull=True)
ASCENDING, DESCENDING = "asc", "desc"


# The analysis's dimensions as queue parameters, each with the values it takes: a code of the dimension or
# NOT_RECORDED, named as the analysis names them (cases/dimensions.py ``label``). The incident type of the type ×
# scenario table is the ``kind`` filter; the weekday and the hour are one dimension (``weekhour_code``). A weapon is
# always recorded (``unknown`` where it was not asked).
_label = lazy(dimensions.label, str)


def _codes(dimension: str, *, not_recorded: bool = True) -> list[tuple[str, str | Promise]]:
    choices: list[tuple[str, str | Promise]] = [
        (code, _label(dimension, code)) for code in dimensions.ordered_codes(dimension)
    ]
    return [*choices, (NOT_RECORDED, _label(dimension, ""))] if not_recorded else choices


DIMENSION_CHOICES: dict[str, list[tuple[str, str | Promise]]] = {
    "scenario": _codes(dimensions.SCENARIO),
    "place": _codes(dimensions.PLACE),
    "weapon": _codes(dimensions.WEAPON, not_recorded=False),
    "intox": _codes(dimensions.INTOX),
    "crowd": _codes(dimensions.CROWD),
    "weekday": [
        *((str(day), WEEKDAY_NAMES[day - 1]) for day in dimensions.WEEKDAYS),
        (NOT_RECORDED, _label(dimensions.WEEKHOUR, "")),
    ],
    "hour": [(str(hour), f"{hour:02d}:00–{hour:02d}:59") for hour in dimensions.HOURS],
}
DIMENSION_PARAMS: tuple[str, ...] = tuple(DIMENSION_CHOICES)


def sort_order(sort: str, direction: str = "") -> str:
    """The order of a sort (its usual direction unless ``direction`` names one): the paginator's field spec."""
    field = SORTS.get(sort, DEFAULT_ORDER).lstrip("-")
    if direction not in (ASCENDING, DESCENDING):
        return SORTS.get(sort, DEFAULT_ORDER)
    return f"-{field}" if direction == DESCENDING else field


@dataclass(frozen=True)
class QueueFilters:
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    unit_path: str = ""  # the unit's subtree
    flags: tuple[str, ...] = ()  # any of these open flags
    min_injury_rank: int | None = None
    occurred_after: datetime | None = None  # inclusive
    occurred_before: datetime | None = None  # exclusive
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str = ""
    assigned: str = ""  # ASSIGNED_TO_ME | UNASSIGNED
    due: str = ""  # DUE_OVERDUE | DUE_WEEK | DUE_PAUSED
    submitted_after: datetime | None = None  # inclusive
    submitted_before: datetime | None = None  # exclusive
    awaiting_ack: bool = False  # a referral the handling unit has not acknowledged
    awaiting_unit_id: int | None = None  # ... by this handling unit (implies awaiting_ack)
    closed_after: datetime | None = None  # inclusive
    closed_before: datetime | None = None  # exclusive
    # The analysis's dimensions (DIMENSION_CHOICES): a code, or NOT_RECORDED; empty: no filter.
    scenario: str = ""  # the duty scenario, whatever the incident type (the type is ``kinds``)
    place: str = ""
    weapon: str = ""
    intox: str = ""
    crowd: str = ""
    weekday: str = ""  # ISO weekday of the local time it occurred; NOT_RECORDED: the time is unknown
    hour: str = ""  # 0-23, local


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_cursor: str | None
    count: int
    count_capped: bool
    previous_cursor: str | None = None


def month_range(value: str) -> tuple[datetime, datetime] | None:
    """The month written ``YYYY-MM`` as [its first instant, the next month's) in the current time zone; None for
    anything else."""
    match = MONTH.fullmatch(value)
    if not match:
        return None
    year, month = int(match["year"]), int(match["month"])
    if not 1900 <= year <= 2999:
        return None
    zone = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=zone)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, following


YEAR = re.compile(r"[0-9]{4}")


def period_range(value: str) -> tuple[datetime, datetime] | None:
    """A month written ``YYYY-MM`` (``month_range``) or a whole year written ``YYYY``, as [its first instant, the next
    period's) in the current time zone; None for anything else."""
    if not YEAR.fullmatch(value):
        return month_range(value)
    year = int(value)
    if not 1900 <= year <= 2998:
        return None
    zone = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def month_of(moment: datetime) -> str:
    """The ``YYYY-MM`` of ``moment`` in the current time zone."""
    return timezone.localtime(moment).strftime("%Y-%m")


def due_q(due: str, now: datetime) -> Q:
    """The stage-clock condition (see DUE_VALUES); closed cases have no stage deadline and match none."""
    if due == DUE_PAUSED:
        return Q(paused_at__isnull=False)
    if due == DUE_OVERDUE:
        return Q(paused_at__isnull=True, stage_due_at__lt=now)
    if due == DUE_WEEK:
        return Q(paused_at__isnull=True, stage_due_at__gte=now, stage_due_at__lt=now + DUE_WINDOW)
    raise ValueError(due)


def flags_q(flags: tuple[str, ...]) -> Q:
    """Any of these open flags, on the case's flag booleans."""
    flagged = Q(pk__in=[])
    for kind in flags:
        flagged |= Q(**{FLAG_FIELDS[kind]: True})
    return flagged


def weekhour_code(weekday: str, hour: str) -> str:
    """The weekday and hour filters as the one WEEKHOUR code: ``"d:h"``, ``"d:"`` or ``":h"``; a weekday
    NOT_RECORDED is the empty code (the time is unknown), which has no hour: asking for one raises UnknownCode."""
    if weekday == NOT_RECORDED:
        if hour:
            raise UnknownCode(hour)
        return ""
    return f"{weekday}:{hour}"


def dimensions_q(filters: QueueFilters) -> Q:
    """The dimension filters that are set, each as its code's condition (cases/dimensions.py ``dimension_q``). A value
    no case can have raises UnknownCode: the page's form and the API's filter set refuse it first."""
    f = filters
    q = Q()
    if f.scenario:
        q &= dimension_q(dimensions.SCENARIO, ":" + filter_code(f.scenario))
    for dimension, value in (
        (dimensions.PLACE, f.place),
        (dimensions.WEAPON, f.weapon),
        (dimensions.INTOX, f.intox),
        (dimensions.CROWD, f.crowd),
    ):
        if value:
            q &= dimension_q(dimension, filter_code(value))
    if f.weekday or f.hour:
        q &= dimension_q(dimensions.WEEKHOUR, weekhour_code(f.weekday, f.hour))
    return q


def filters_q(filters: QueueFilters, *, actor: Actor, now: datetime | None = None) -> Q:
    """``filters`` as one condition on cases for ``actor`` (their "assigned to me", their search): what
    :func:`filter_cases` applies, and what the dashboard counts with (cases/dashboard.py), so each figure equals the
    queue's count for its link. ``now`` is the instant the stage clocks are read at (the dashboard reads every figure
    at one instant). A text is the search's indexed condition; the queue and the API read a text's matches first
    instead (:func:`filter_cases`)."""
    f = filters
    q = Q()
    if f.statuses:
        q &= Q(status__in=f.statuses)
    if f.kinds:
        q &= Q(kind__in=f.kinds)
    if f.unit_path:
        q &= Q(unit_path__startswith=f.unit_path)
    if f.flags:
        q &= flags_q(f.flags)
    if f.min_injury_rank is not None:
        q &= Q(max_injury_rank__gte=f.min_injury_rank)
    if f.occurred_after:
        q &= Q(occurred_at__gte=f.occurred_after)
    if f.occurred_before:
        q &= Q(occurred_at__lt=f.occurred_before)
    if f.created_after:
        q &= Q(created_at__gte=f.created_after)
    if f.created_before:
        q &= Q(created_at__lt=f.created_before)
    if text := f.text.strip():
        q &= search_q(text, actor=actor)  # the one search (cases/search.py)
    if f.assigned == ASSIGNED_TO_ME:
        q &= Q(assigned_to_id=actor.user_id)
    elif f.assigned == UNASSIGNED:
        q &= Q(assigned_to__isnull=True)
    if f.due:
        q &= due_q(f.due, now or timezone.now())
    if f.submitted_after:
        q &= Q(submitted_at__gte=f.submitted_after)
    if f.submitted_before:
        q &= Q(submitted_at__lt=f.submitted_before)
    if f.closed_after:
        q &= Q(closed_at__gte=f.closed_after)
    if f.closed_before:
        q &= Q(closed_at__lt=f.closed_before)
    if f.awaiting_ack or f.awaiting_unit_id is not None:
        awaiting = Referral.objects.filter(AWAITING_ACK, case=OuterRef("pk"))
        if f.awaiting_unit_id is not None:
            awaiting = awaiting.filter(to_unit_id=f.awaiting_unit_id)
        q &= Q(Exists(awaiting))
    return q & dimensions_q(f)


def standing_q(filters: QueueFilters, *, now: datetime | None = None) -> Q:
    """``filters`` that read nothing of who asks, as one condition: a scope stored now and applied later by whoever
    acts on it (an oversight campaign's). The text and "assigned to me" depend on the asker and are refused."""
    if filters.text.strip() or filters.assigned == ASSIGNED_TO_ME:
        raise ValueError("A standing scope has no text and no “assigned to me”.")
    return filters_q(filters, actor=ANONYMOUS, now=now)


def filter_cases(cases: QuerySet[Case], filters: QueueFilters, *, actor: Actor) -> QuerySet[Case]:
    """``cases`` narrowed by ``filters``; ``actor`` is the caller (``filters_q``). The text is matched among the
    cases the other filters leave (cases/search.py ``text_match``): by their ids when few, row by row when many."""
    return _filtered(cases, filters, actor=actor)[0]


def _filtered(cases: QuerySet[Case], filters: QueueFilters, *, actor: Actor) -> tuple[QuerySet[Case], int | None]:
    """``filter_cases``, and the text's capped count when there is a text (None otherwise)."""
    rest = cases.filter(filters_q(replace(filters, text=""), actor=actor))
    text = filters.text.strip()
    if not text:
        return rest, None
    match = text_match(rest, text, actor)
    return rest.filter(match.q), match.count


def queue_statuses(filters: QueueFilters) -> tuple[str, ...]:
    """The statuses the queue shows: those chosen, open ones when none is, never drafts."""
    return tuple(s for s in filters.statuses or OPEN_STATUSES if s != CaseStatus.DRAFT)


def queue_cases(actor: Actor, filters: QueueFilters) -> QuerySet[Case]:
    """The queue: cases of the subtrees the actor oversees (``policy.queue_scope``), open ones unless statuses are
    chosen, never drafts, matching the filters (unordered). The sort never filters: the paginator puts cases without
    a value to sort on (a closed case has no stage deadline) last."""
    return _queue(actor, filters)[0]


def _queue(actor: Actor, filters: QueueFilters) -> tuple[QuerySet[Case], int | None]:
    statuses = queue_statuses(filters)
    if not statuses:
        return Case.objects.none(), None
    return _filtered(policy.queue_scope(actor), replace(filters, statuses=statuses), actor=actor)


def queue_page(
    actor: Actor,
    filters: QueueFilters,
    *,
    order: str = DEFAULT_ORDER,
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue, plus a capped count (exact up to ``COUNT_CAP``). A cursor that is not one of the
    paginator's raises :class:`~cases.keyset.InvalidCursor`."""
    cases, count = _queue(actor, filters)
    if count is None:
        # Any COUNT_CAP + 1 matching rows will do: unordered, the count stops reading the index there instead of
        # reading and sorting every match (tens of thousands for the ministry). A text was counted as it was
        # matched, rank by rank (cases/search.py ``text_match``).
        count = capped_count(cases, COUNT_CAP)
    page = keyset_page(cases.select_related("unit", "assigned_to"), [order], cursor=cursor, size=size)
    if filters.text.strip():
        describe_matches(page.rows, filters.text, actor)  # each row says which field matched
    return QueuePage(
        cases=page.rows,
        next_cursor=page.next_cursor,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        previous_cursor=page.previous_cursor,
    )
