"""The office's dashboard: what the queue holds for a unit's subtree, at a glance.

Every figure is the count of one queue filter (cases/queue_filters.py): the figure carries the queue parameters that
list exactly its cases, and it is counted with ``filters_q`` of the same filters, so the number on the dashboard is
the number the queue shows behind its link. The counts come from a few grouped queries, one per block (conditional
aggregation, ``COUNT(*) FILTER (WHERE …)``, over the denormalised columns of ``Case``), never one query per figure:

1. the open cases: by stage, by stage clock, unassigned, by open flag;
2. submissions this month and last month;
3. referrals awaiting acknowledgement, per handling unit;
4. the five oldest open cases;
5. the sub-unit table: open, overdue and flagged cases per child unit;
6. the sub-unit table's median days from submission to the first referral, over cases submitted in the last
   365 days (cached for a few minutes: it reads the referrals of a year of cases).

"Due this week" is due within the next seven days; a paused clock is neither overdue nor due (queue_filters.DUE_*).
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import (
    Case as Choose,
)
from django.db.models.functions import StrIndex, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.authority import Actor
from accounts.models import OrgUnit
from cases import policy
from cases.choices import FLAG_FIELDS, OPEN_STATUSES, CaseStatus, FlagKind
from cases.models import Case, Referral
from cases.queue_filters import (
    AWAITING_ACK,
    DUE_OVERDUE,
    DUE_PAUSED,
    DUE_WEEK,
    UNASSIGNED,
    QueueFilters,
    filters_q,
    month_of,
    month_range,
    queue_cases,
)

OLDEST = 5
MEDIAN_PERIOD = timedelta(days=365)
MEDIAN_CACHE_SECONDS = 300
SUBMITTED_STATUSES = tuple(s for s in CaseStatus.values if s != CaseStatus.DRAFT)
ALL_FLAGS = tuple(FLAG_FIELDS)
# The sub-unit table's columns, each sortable (``?sort=open``, ``?sort=-open``).
SUB_UNIT_SORTS = ("name", "open", "overdue", "flagged", "median")


@dataclass(frozen=True)
class Figure:
    """A count and the queue parameters that list exactly those cases; ``label`` is the sentence a screen reader
    reads for the link."""

    count: int
    params: tuple[tuple[str, str], ...]
    label: str = ""

    @property
    def url(self) -> str:
        return f"{reverse('cases:queue')}?{urlencode(self.params)}"


@dataclass(frozen=True)
class Spec:
    """One figure before counting: what it adds to the dashboard's base filters, and the queue parameters for it."""

    filters: QueueFilters
    params: tuple[tuple[str, str], ...]
    sentence: Callable[[int], str]


@dataclass
class StageRow:
    stage: str
    label: str
    open: Figure
    overdue: Figure
    week: Figure
    paused: Figure


@dataclass
class SubUnitRow:
    unit: OrgUnit
    open: Figure
    overdue: Figure
    flagged: Figure
    median_days: float | None = None


@dataclass
class ReferralRow:
    unit: OrgUnit
    awaiting: Figure


@dataclass
class Dashboard:
    unit: OrgUnit | None  # the unit whose subtree is counted; None: all of the actor's subtrees
    stages: list[StageRow]
    figures: dict[str, Figure]
    referrals: list[ReferralRow]
    oldest: list[Case]
    sub_units: list[SubUnitRow]
    sort: str
    median_since: datetime
    this_month: datetime  # the first instant of the month
    last_month: datetime
    at: datetime = field(default_factory=timezone.now)


class Median(Aggregate):
    """PostgreSQL's median (the 50th percentile, interpolated)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochDays(Func):
    """An interval in days (PostgreSQL)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)"
    output_field = FloatField()


def _count(specs: dict[str, Spec], *, actor: Actor, now: datetime) -> dict[str, Any]:
    """The aggregate expressions counting each spec's extra filters within the block's base."""
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        q = filters_q(spec.filters, actor=actor, now=now)
        out[name] = Count("pk", filter=q) if q else Count("pk")
    return out


def _figures(specs: dict[str, Spec], counts: dict[str, int], base: tuple[tuple[str, str], ...]) -> dict[str, Figure]:
    return {
        name: Figure(counts[name] or 0, base + spec.params, spec.sentence(counts[name] or 0))
        for name, spec in specs.items()
    }


def _stage_label(stage: str) -> str:
    return str(CaseStatus(stage).label)


def _open_specs() -> dict[str, Spec]:
    none = QueueFilters()
    specs: dict[str, Spec] = {
        "open": Spec(none, (), lambda n: ngettext("%(n)d open case.", "%(n)d open cases.", n) % {"n": n}),
        "overdue": Spec(
            QueueFilters(due=DUE_OVERDUE),
            (("due", DUE_OVERDUE),),
            lambda n: ngettext("%(n)d open case is overdue.", "%(n)d open cases are overdue.", n) % {"n": n},
        ),
        "week": Spec(
            QueueFilters(due=DUE_WEEK),
            (("due", DUE_WEEK),),
            lambda n: (
                ngettext("%(n)d open case is due within seven days.", "%(n)d open cases are due within seven days.", n)
                % {"n": n}
            ),
        ),
        "paused": Spec(
            QueueFilters(due=DUE_PAUSED),
            (("due", DUE_PAUSED),),
            lambda n: (
                ngettext("%(n)d open case has its clock paused.", "%(n)d open cases have their clock paused.", n)
                % {"n": n}
            ),
        ),
        "unassigned": Spec(
            QueueFilters(assigned=UNASSIGNED),
            (("view", "unassigned"),),
            lambda n: (
                ngettext("%(n)d open case has nobody in charge.", "%(n)d open cases have nobody in charge.", n)
                % {"n": n}
            ),
        ),
        "flagged": Spec(
            QueueFilters(flags=ALL_FLAGS),
            tuple(("flag", k) for k in ALL_FLAGS),
            lambda n: (
                ngettext("%(n)d open case has an open flag.", "%(n)d open cases have an open flag.", n) % {"n": n}
            ),
        ),
    }
    flag_sentences: dict[str, Callable[[int], str]] = {
        FlagKind.DOWNGRADED: lambda n: (
            ngettext("%(n)d open case has an open downgrade flag.", "%(n)d open cases have an open downgrade flag.", n)
            % {"n": n}
        ),
        FlagKind.REVIEW_PROMPT: lambda n: (
            ngettext("%(n)d open case has an open review prompt.", "%(n)d open cases have an open review prompt.", n)
            % {"n": n}
        ),
        FlagKind.STALLED: lambda n: (
            ngettext("%(n)d open case is stalled.", "%(n)d open cases are stalled.", n) % {"n": n}
        ),
        FlagKind.IDLE: lambda n: ngettext("%(n)d open case is idle.", "%(n)d open cases are idle.", n) % {"n": n},
        FlagKind.OVERDUE_REFERRAL: lambda n: (
            ngettext("%(n)d open case has an overdue referral.", "%(n)d open cases have an overdue referral.", n)
            % {"n": n}
        ),
    }
    for kind, sentence in flag_sentences.items():
        specs[f"flag_{kind}"] = Spec(QueueFilters(flags=(kind,)), (("flag", kind),), sentence)
    for stage in OPEN_STATUSES:
        label = _stage_label(stage)

        def sentences(label: str) -> dict[str, Callable[[int], str]]:
            return {
                "open": lambda n: (
                    ngettext("%(n)d open case at the stage %(stage)s.", "%(n)d open cases at the stage %(stage)s.", n)
                    % {"n": n, "stage": label}
                ),
                DUE_OVERDUE: lambda n: (
                    ngettext(
                        "%(n)d case at the stage %(stage)s is overdue.",
                        "%(n)d cases at the stage %(stage)s are overdue.",
                        n,
                    )
                    % {"n": n, "stage": label}
                ),
                DUE_WEEK: lambda n: (
                    ngettext(
                        "%(n)d case at the stage %(stage)s is due within seven days.",
                        "%(n)d cases at the stage %(stage)s are due within seven days.",
                        n,
                    )
                    % {"n": n, "stage": label}
                ),
                DUE_PAUSED: lambda n: (
                    ngettext(
                        "%(n)d case at the stage %(stage)s has its clock paused.",
                        "%(n)d cases at the stage %(stage)s have their clock paused.",
                        n,
                    )
                    % {"n": n, "stage": label}
                ),
            }

        said = sentences(label)
        specs[f"{stage}:open"] = Spec(QueueFilters(statuses=(stage,)), (("status", stage),), said["open"])
        for due in (DUE_OVERDUE, DUE_WEEK, DUE_PAUSED):
            specs[f"{stage}:{due}"] = Spec(
                QueueFilters(statuses=(stage,), due=due), (("status", stage), ("due", due)), said[due]
            )
    return specs


def _month_specs(this_month: str, last_month: str) -> dict[str, Spec]:
    statuses = tuple(("status", s) for s in SUBMITTED_STATUSES)

    def month(value: str, sentence: Callable[[int], str]) -> Spec:
        start, end = month_range(value) or (None, None)
        return Spec(
            QueueFilters(submitted_after=start, submitted_before=end), (*statuses, ("submitted", value)), sentence
        )

    return {
        "this_month": month(
            this_month,
            lambda n: (
                ngettext("%(n)d case was submitted this month.", "%(n)d cases were submitted this month.", n) % {"n": n}
            ),
        ),
        "last_month": month(
            last_month,
            lambda n: (
                ngettext("%(n)d case was submitted last month.", "%(n)d cases were submitted last month.", n) % {"n": n}
            ),
        ),
    }


def child_group(parent_path: str) -> Any:
    """The path of the child of ``parent_path`` a case's unit lies under (``parent_path`` itself for the parent's own
    cases): one expression per row instead of one prefix test per child."""
    length = len(parent_path)
    rest = StrIndex(Substr("unit_path", length + 1), Value("/"))
    return Substr("unit_path", 1, rest + length, output_field=CharField())


def roots_group(roots: list[OrgUnit]) -> Any:
    """Which of the actor's top units a case lies under (several subtrees, no unit chosen)."""
    return Choose(*[When(unit_path__startswith=u.path, then=Value(u.path)) for u in roots], output_field=CharField())


def _medians(cases: QuerySet[Case], group: Any, since: datetime) -> dict[str, float]:
    """The median days from submission to the first referral per group, over cases submitted since ``since``."""
    first = Referral.objects.filter(case=OuterRef("pk"), suspect__isnull=True).order_by("referred_at")
    # A case never referred has no first referral (NULL), which the median leaves out; not filtering it out keeps
    # the subquery to one evaluation per case.
    rows = cases.filter(submitted_at__gte=since).annotate(
        group=group, first_referral_at=Subquery(first.values("referred_at")[:1])
    )
    delay = ExpressionWrapper(F("first_referral_at") - F("submitted_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        medians = rows.values("group").order_by().annotate(median=Median(EpochDays(delay)))
        return {r["group"]: r["median"] for r in medians if r["median"] is not None}
    # SQLite (the embedded demo): the same figure computed here.
    per_group: dict[str, list[float]] = {}
    for g, submitted, referred in rows.values_list("group", "submitted_at", "first_referral_at"):
        if referred is not None:
            per_group.setdefault(g, []).append((referred - submitted).total_seconds() / 86400)
    return {g: statistics.median(days) for g, days in per_group.items()}


def _sort_key(sort: str) -> tuple[Callable[[SubUnitRow], Any], bool]:
    name = sort.lstrip("-")
    descending = sort.startswith("-")
    keys: dict[str, Callable[[SubUnitRow], Any]] = {
        "name": lambda r: r.unit.path,
        "open": lambda r: (r.open.count, r.unit.path),
        "overdue": lambda r: (r.overdue.count, r.unit.path),
        "flagged": lambda r: (r.flagged.count, r.unit.path),
        # Units without a figure sort last either way.
        "median": lambda r: (
            (r.median_days is None) != descending,
            r.median_days if r.median_days is not None else 0,
            r.unit.path,
        ),
    }
    return keys[name], descending


def build(actor: Actor, unit: OrgUnit | None, *, sort: str = "name", now: datetime | None = None) -> Dashboard:
    """The dashboard of ``unit``'s subtree (a unit of ``policy.queue_units(actor)``: the caller checked), or of all
    the actor's subtrees when ``unit`` is None."""
    now = now or timezone.now()
    roots = list(policy.queue_roots(actor))
    if unit is None and len(roots) == 1:
        unit = roots[0]
    base_filters = QueueFilters(unit_path=unit.path if unit else "")
    base_params: tuple[tuple[str, str], ...] = (("unit", unit.code),) if unit else ()

    # The rows of the sub-unit table: the chosen unit's children, or the actor's top units.
    if unit is not None:
        rows_units = list(OrgUnit.objects.filter(parent=unit).order_by("path"))
        group = child_group(unit.path)
    else:
        rows_units = roots
        group = roots_group(roots)

    # 1. Open cases, one grouped query for the figures and the sub-unit table: per stage and sub-unit, each measure
    # counted with the queue filter that lists its cases. A figure is the sum over the groups it covers (the groups
    # partition the cases), so it equals the count of its filter.
    open_cases = queue_cases(actor, base_filters)
    specs = _open_specs()
    measures = {name: spec for name, spec in specs.items() if ":" not in name}
    grouped = list(
        open_cases.annotate(group=group)
        .values("status", "group")
        .order_by()
        .annotate(**_count(measures, actor=actor, now=now))
    )

    def total(measure: str, *, status: str | None = None, of: str | None = None) -> int:
        return sum(
            r[measure]
            for r in grouped
            if (status is None or r["status"] == status) and (of is None or r["group"] == of)
        )

    counts = {}
    for name in specs:
        stage, _, measure = name.rpartition(":")
        counts[name] = total(measure, status=stage) if stage else total(measure)
    figures = _figures(specs, counts, base_params)
    figures["look_back"] = figures[f"{CaseStatus.LOOK_BACK}:open"]
    stages = [
        StageRow(
            stage=s,
            label=_stage_label(s),
            open=figures[f"{s}:open"],
            overdue=figures[f"{s}:{DUE_OVERDUE}"],
            week=figures[f"{s}:{DUE_WEEK}"],
            paused=figures[f"{s}:{DUE_PAUSED}"],
        )
        for s in OPEN_STATUSES
    ]

    # 2. Submissions this month and last month.
    this_month = month_of(now)
    this_start = month_range(this_month)[0]  # type: ignore[index]
    last_month = month_of(this_start - timedelta(days=1))
    last_start = month_range(last_month)[0]  # type: ignore[index]
    month_specs = _month_specs(this_month, last_month)
    submitted = queue_cases(
        actor, replace(base_filters, statuses=SUBMITTED_STATUSES, submitted_after=last_start)
    ).aggregate(**_count(month_specs, actor=actor, now=now))
    figures.update(_figures(month_specs, submitted, base_params))

    # 3. Referrals awaiting acknowledgement, per handling unit (a case has one open referral per unit).
    awaiting = dict(
        Referral.objects.filter(AWAITING_ACK, case__in=open_cases, to_unit__isnull=False)
        .values("to_unit")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("to_unit", "n")
    )
    handling = OrgUnit.objects.in_bulk(list(awaiting))
    referrals = [
        ReferralRow(
            unit=u,
            awaiting=Figure(
                awaiting[u.pk],
                (*base_params, ("awaiting_unit", u.code)),
                ngettext(
                    "%(n)d open case has a referral awaiting acknowledgement by %(unit)s.",
                    "%(n)d open cases have a referral awaiting acknowledgement by %(unit)s.",
                    awaiting[u.pk],
                )
                % {"n": awaiting[u.pk], "unit": u.display_name},
            ),
        )
        for u in sorted(handling.values(), key=lambda u: u.path)
    ]
    awaiting_total = open_cases.filter(filters_q(QueueFilters(awaiting_ack=True), actor=actor)).count()
    figures["awaiting"] = Figure(
        awaiting_total,
        (*base_params, ("awaiting", "on")),
        ngettext(
            "%(n)d open case has a referral awaiting acknowledgement.",
            "%(n)d open cases have a referral awaiting acknowledgement.",
            awaiting_total,
        )
        % {"n": awaiting_total},
    )

    # 4. The oldest open cases, by submission.
    oldest = list(
        open_cases.select_related("unit")
        .only("pk", "reference", "status", "summary", "submitted_at", "stage_due_at", "paused_at", "unit")
        .order_by("submitted_at", "pk")[:OLDEST]
    )

    # 5. The sub-unit table (its counts are block 1's).
    since = now - MEDIAN_PERIOD
    key = f"dashboard:median:{unit.path if unit else ','.join(u.path for u in roots)}:{this_month}"
    medians: dict[str, float] | None = cache.get(key)
    if medians is None:
        scope = policy.queue_scope(actor).filter(status__in=SUBMITTED_STATUSES)
        if unit is not None:
            scope = scope.filter(unit_path__startswith=unit.path)
        medians = _medians(scope, group, since)
        cache.set(key, medians, MEDIAN_CACHE_SECONDS)
    sub_units = []
    for u in rows_units:
        params = (("unit", u.code),)
        n_open, n_overdue, n_flagged = (total(m, of=u.path) for m in ("open", DUE_OVERDUE, "flagged"))
        sub_units.append(
            SubUnitRow(
                unit=u,
                open=Figure(
                    n_open,
                    params,
                    ngettext("%(unit)s has %(n)d open case.", "%(unit)s has %(n)d open cases.", n_open)
                    % {"n": n_open, "unit": u.display_name},
                ),
                overdue=Figure(
                    n_overdue,
                    (*params, ("due", DUE_OVERDUE)),
                    ngettext("%(unit)s has %(n)d overdue case.", "%(unit)s has %(n)d overdue cases.", n_overdue)
                    % {"n": n_overdue, "unit": u.display_name},
                ),
                flagged=Figure(
                    n_flagged,
                    (*params, *(("flag", k) for k in ALL_FLAGS)),
                    ngettext(
                        "%(unit)s has %(n)d open case with an open flag.",
                        "%(unit)s has %(n)d open cases with an open flag.",
                        n_flagged,
                    )
                    % {"n": n_flagged, "unit": u.display_name},
                ),
                median_days=medians.get(u.path),
            )
        )
    if sort.lstrip("-") not in SUB_UNIT_SORTS:
        sort = "name"
    sort_key, descending = _sort_key(sort)
    sub_units.sort(key=sort_key, reverse=descending)
    return Dashboard(
        unit=unit,
        stages=stages,
        figures=figures,
        referrals=referrals,
        oldest=oldest,
        sub_units=sub_units,
        sort=sort,
        median_since=since,
        this_month=this_start,
        last_month=last_start,
        at=now,
    )


# Column headings of the sub-unit table, for the page.
SUB_UNIT_COLUMNS = (
    ("name", _("Unit")),
    ("open", _("Open cases")),
    ("overdue", _("Overdue")),
    ("flagged", _("With an open flag")),
    ("median", _("Median days to first referral")),
)
