"""The case queue: one set of filters for the supervisor's queue page and the API's case list.

Each interface only parses its request into :class:`QueueFilters` (the page's form, the API's filter set);
:func:`filter_cases` is the one place that turns them into SQL, on denormalised case columns (``unit_path``, the
flag booleans, ``max_injury_rank``) so no filter joins another table; the text is the one search of
cases/search.py, which reads the parties' and units' matching case ids first, so the case query joins nothing
either. Pages come from the one keyset paginator (cases/keyset.py), so page 1 and page 10,000 cost the same.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from cases import policy
from cases.choices import FLAG_FIELDS, OPEN_STATUSES, CaseStatus
from cases.keyset import keyset_page
from cases.models import Case
from cases.search import describe_matches, search_q

PAGE_SIZE = 25
COUNT_CAP = 1000
ASSIGNED_TO_ME, UNASSIGNED = "me", "nobody"
DEFAULT_ORDER = "-last_activity_at"
# The page's sort choices. The paginator breaks ties on the id in the same direction.
SORTS = {"activity": DEFAULT_ORDER, "due": "stage_due_at", "occurred": "-occurred_at", "created": "-created_at"}
ASCENDING, DESCENDING = "asc", "desc"


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


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_cursor: str | None
    count: int
    count_capped: bool
    previous_cursor: str | None = None


def filter_cases(cases: QuerySet[Case], filters: QueueFilters, *, user_id: int | None) -> QuerySet[Case]:
    """``cases`` narrowed by ``filters``; ``user_id`` is the caller, for "assigned to me"."""
    f = filters
    if f.statuses:
        cases = cases.filter(status__in=f.statuses)
    if f.kinds:
        cases = cases.filter(kind__in=f.kinds)
    if f.unit_path:
        cases = cases.filter(unit_path__startswith=f.unit_path)
    if f.flags:
        flagged = Q(pk__in=[])
        for kind in f.flags:
            flagged |= Q(**{FLAG_FIELDS[kind]: True})
        cases = cases.filter(flagged)
    if f.min_injury_rank is not None:
        cases = cases.filter(max_injury_rank__gte=f.min_injury_rank)
    if f.occurred_after:
        cases = cases.filter(occurred_at__gte=f.occurred_after)
    if f.occurred_before:
        cases = cases.filter(occurred_at__lt=f.occurred_before)
    if f.created_after:
        cases = cases.filter(created_at__gte=f.created_after)
    if f.created_before:
        cases = cases.filter(created_at__lt=f.created_before)
    if text := f.text.strip():
        cases = cases.filter(search_q(text))  # the one search (cases/search.py)
    if f.assigned == ASSIGNED_TO_ME:
        cases = cases.filter(assigned_to_id=user_id)
    elif f.assigned == UNASSIGNED:
        cases = cases.filter(assigned_to__isnull=True)
    return cases


def queue_cases(actor: Actor, filters: QueueFilters) -> QuerySet[Case]:
    """The supervisor's queue: cases of the subtrees they supervise, open ones unless statuses are chosen, never
    drafts, matching the filters (unordered). The sort never filters: the paginator puts cases without a value to
    sort on (a closed case has no stage deadline) last."""
    statuses = tuple(s for s in filters.statuses or OPEN_STATUSES if s != CaseStatus.DRAFT)
    if not statuses:
        return Case.objects.none()
    cases = policy.supervised_cases(actor)
    return filter_cases(cases, replace(filters, statuses=statuses), user_id=actor.user_id)


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
    cases = queue_cases(actor, filters)
    # Any COUNT_CAP + 1 matching rows will do: unordered, the count stops reading the index there instead of
    # reading and sorting every match (tens of thousands for the ministry).
    count = cases.order_by().values("pk")[: COUNT_CAP + 1].count()
    page = keyset_page(cases.select_related("unit", "assigned_to"), [order], cursor=cursor, size=size)
    if filters.text.strip():
        describe_matches(page.rows, filters.text)  # each row says which field matched
    return QueuePage(
        cases=page.rows,
        next_cursor=page.next_cursor,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
        previous_cursor=page.previous_cursor,
    )
