"""Reads of the guidance tips. Every reader's read starts from ``policy.readable_tips``, every editor's from
``policy.managed_tips``. ``sync_state`` is what a terminal syncs by: a strong ETag over the reader's tips in force and
the time that set last changed."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.authority import Actor
from accounts.models import AccountAudit, AccountChange, Membership
from cases.choices import DutyScenario, IncidentKind
from library.choices import LANGUAGES, column
from library.guidance import policy
from library.guidance.choices import PRIORITY_RANK, TIP_FIELDS, TipState
from library.guidance.models import Tip, TipEvent, TipRead
from library.selectors import counts_by_state, reader_language

# The most a reader's list (and a terminal's sync) holds: the most urgent and the latest first.
IN_FORCE_MAX = 300

RANK = Case(
    *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANK.items()),
    default=Value(len(PRIORITY_RANK)),
    output_field=IntegerField(),
)


def today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class TipFilters:
    scenario: str = ""
    kind: str = ""


def tips_in_force(actor: Actor, on: date | None = None, filters: TipFilters = TipFilters()) -> list[Tip]:
    """The tips in force for the actor today (``on``), the most urgent first, then the latest published; filtered by a
    duty scenario or an incident type among their tags (in Python: a reader has a few dozen tips in force, and the
    tags are lists the embedded SQLite cannot search)."""
    found = (
        policy.readable_tips(actor, on or today())
        .select_related("scope_unit")
        .annotate(rank=RANK)
        .order_by("rank", "-published_at", "-id")[:IN_FORCE_MAX]
    )
    rows: list[Tip] = list(found)
    if filters.scenario:
        rows = [tip for tip in rows if filters.scenario in tip.scenarios]
    if filters.kind:
        rows = [tip for tip in rows if filters.kind in tip.kinds]
    return rows


def managed_for(actor: Actor, state: str = "") -> QuerySet[Tip]:
    """The tips the actor writes or approves, in ``state`` (any when empty), the latest changed first."""
    found = policy.managed_tips(actor).select_related("unit", "scope_unit", "last_editor", "author")
    if state:
        found = found.filter(state=state)
    return found.order_by("-updated_at", "-id")


def managed_counts(actor: Actor) -> dict[str, int]:
    return counts_by_state(policy.managed_tips(actor), TipState.values)


def log_of(tip: Tip) -> QuerySet[TipEvent]:
    return TipEvent.objects.filter(tip=tip).select_related("actor").order_by("-at", "-id")


def reads_of(tip: Tip) -> int:
    return TipRead.objects.filter(tip=tip).count()


def has_read(actor: Actor, tip: Tip) -> bool:
    return TipRead.objects.filter(tip=tip, reader_id=actor.user_id).exists()


# --- one tip as read -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownTip:
    """A tip's title and text in one language: the reader's, or the other one when it has none."""

    language: str
    fallback: bool
    title: str
    body: str


def languages_of(tip: Tip) -> list[str]:
    return [lang for lang in LANGUAGES if any(getattr(tip, column(f, lang)).strip() for f in TIP_FIELDS)]


def shown(tip: Tip, language: str | None = None) -> ShownTip:
    wanted = language or reader_language()
    present = languages_of(tip)
    chosen = wanted if wanted in present or not present else present[0]
    return ShownTip(
        language=chosen,
        fallback=chosen != wanted,
        title=getattr(tip, column("title", chosen)),
        body=getattr(tip, column("body", chosen)),
    )


@dataclass(frozen=True)
class Tag:
    type: str  # "duty_scenario" or "incident_kind"
    code: str
    label: str


def tags_of(tip: Tip) -> list[Tag]:
    """The tip's duty scenarios, then its incident types, labelled in the active language (a code no longer among the
    choices keeps its code as its label)."""
    tags: list[Tag] = []
    for kind, choices, codes in (
        ("duty_scenario", DutyScenario, tip.scenarios),
        ("incident_kind", IncidentKind, tip.kinds),
    ):
        labels = dict(choices.choices)
        tags.extend(Tag(kind, code, str(labels.get(code, code))) for code in codes)
    return tags


# --- the terminals' sync -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncState:
    etag: str  # strong, quoted
    last_modified: datetime | None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sync_state(actor: Actor, tips: list[Tip], language: str, on: date | None = None) -> SyncState:
    """The ETag of the reader's list ``tips`` in ``language``: a digest of each tip's id and version (any write to a tip
    bumps its version; a tip withdrawn, expired or not yet valid is not in the list), so the list a terminal holds is
    current exactly when its ETag is. And when that list last changed: the latest change to any tip ever published to
    the reader's subtrees (a withdrawal is a change), the latest validity boundary passed (a tip starting or ending
    changes the list though no row is written), the reader's latest membership, and the latest one they lost (a unit
    left takes its tips away, and leaves no row whose date says so but the account's audit). One query each."""
    on = on or today()
    listed = "\n".join(f"{tip.pk}:{tip.version}" for tip in tips)
    digest = hashlib.sha256(f"{language}\n{listed}".encode()).hexdigest()[:32]
    dates = policy.ever_published_to(actor).aggregate(
        changed=Max("updated_at"),
        started=Max("valid_from", filter=Q(valid_from__lte=on)),
        ended=Max("valid_until", filter=Q(valid_until__lt=on)),
    )
    joined = Membership.objects.filter(user_id=actor.user_id).aggregate(at=Max("created_at"))["at"]
    left = AccountAudit.objects.filter(subject_id=actor.user_id, action=AccountChange.MEMBERSHIP_REVOKED).aggregate(
        at=Max("at")
    )["at"]
    moments = [dates["changed"], joined, left]
    if dates["started"] is not None:
        moments.append(_start_of(dates["started"]))
    if dates["ended"] is not None:
        moments.append(_start_of(dates["ended"] + timedelta(days=1)))
    known = [moment for moment in moments if moment is not None]
    return SyncState(etag=f'"{digest}"', last_modified=max(known) if known else None)
