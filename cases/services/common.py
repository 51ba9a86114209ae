"""Building blocks shared by the case services: locking, version checks, events, the stage clock, the read model,
and the steps every change to a case takes, in order (``change_case`` then ``CaseChange.save``): lock, permission,
version, [the service's own change and checks], save with a new version, read model, event, flag check."""

import dataclasses
import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import User
from accounts.selectors import actor_for
from cases import case_feed, outbox, summaries
from cases.choices import DISPOSITION_RANK, INJURY_RANK, OPEN_STATUSES
from cases.exceptions import StaleVersion
from cases.models import Case, CaseEvent, InvolvedOfficer, Suspect
from cases.search import party_names
from cases.sla import stage_deadline


def require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def lock_case(case: Case | int) -> Case:
    """Re-read the case under a row lock; every read-then-write on a case starts here."""
    pk = case if isinstance(case, int) else case.pk
    return Case.objects.select_for_update().get(pk=pk)


def check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion(
            _(
                "This case was changed by someone else after you opened it, so nothing was saved. Look at what "
                "changed, then try again."
            ),
            code="stale_version",
        )


def record_event(
    *,
    case: Case,
    kind: str,
    by: User | None,
    now: datetime,
    data: dict[str, Any] | None = None,
    action: str = "",
    from_status: str = "",
    to_status: str = "",
    notify: bool = True,
) -> CaseEvent:
    """Append to the timeline and, once the transaction commits, deliver its notifications."""
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=by,
        at=now,
        data=data or {},
    )
    if notify:
        outbox.notify_event_on_commit(event.pk)
    if kind in case_feed.FED_KINDS:
        # Passed on to other systems by the apps that do (the webhooks), in this transaction.
        case_feed.case_moved(event)
    return event


def save_case(case: Case, now: datetime, fields: list[str]) -> None:
    """Persist changed fields, bump the version and the activity time."""
    case.version += 1
    case.updated_at = now
    case.last_activity_at = now
    case.save(update_fields=[*fields, "version", "updated_at", "last_activity_at"])


def start_stage(case: Case, status: str, now: datetime) -> list[str]:
    """Enter ``status``: restart the stage clock (running). Returns the fields changed."""
    case.status = status
    case.stage_started_at = now
    case.paused_at = None
    case.pause_reason = ""
    case.stage_extended_at = None
    case.stage_due_at = (
        stage_deadline(stage=status, track=case.track, major_security_period=case.major_security_period, start=now)
        if status in OPEN_STATUSES
        else None
    )
    return ["status", "stage_started_at", "stage_due_at", "paused_at", "pause_reason", "stage_extended_at"]


def refresh_read_model(case: Case) -> list[str]:
    """Recompute the denormalised worst injury, disposition rank and parties' names from the case's officers and
    suspects."""
    injuries = InvolvedOfficer.objects.filter(case=case).values_list("injury", flat=True)
    ranks = [INJURY_RANK[i] for i in injuries if i in INJURY_RANK]
    case.max_injury_rank = max(ranks) if ranks else None
    dispositions = Suspect.objects.filter(case=case).values_list("disposition", flat=True)
    drank = [DISPOSITION_RANK[d] for d in dispositions if d in DISPOSITION_RANK]
    case.disposition_rank = max(drank) if drank else None
    officer_names = InvolvedOfficer.objects.filter(case=case).order_by("id").values_list("name", flat=True)
    suspect_names = Suspect.objects.filter(case=case).order_by("id").values_list("name", flat=True)
    case.party_names = party_names([*officer_names, *suspect_names])
    return ["max_injury_rank", "disposition_rank", "party_names"]


def now() -> datetime:
    return timezone.now()


@dataclass
class CaseChange:
    """A change to one case under way: the case re-read under its row lock, who changes it and when."""

    case: Case
    by: User
    at: datetime
    # What the case added to the report summaries when it was locked, before the change (cases/summaries.py).
    summarised: Counter[summaries.Key] = dataclasses.field(default_factory=Counter)

    def save(
        self,
        kind: str,
        *,
        data: dict[str, Any],
        fields: list[str] | None = None,
        read_model: bool = False,
        notify: bool = True,
        check_flags: bool = True,
        action: str = "",
        from_status: str = "",
        to_status: str = "",
    ) -> CaseEvent:
        """Save the case's changed ``fields`` (and the read model, when officers or suspects changed) with a new
        version, append the event to the timeline and, once the transaction commits, check the case's flags."""
        changed = list(fields or [])
        if read_model:
            changed += refresh_read_model(self.case)
        save_case(self.case, self.at, changed)
        summaries.apply(summaries.difference(self.summarised, summaries.contribution(self.case)))
        event = record_event(
            case=self.case,
            kind=kind,
            by=self.by,
            now=self.at,
            data=data,
            action=action,
            from_status=from_status,
            to_status=to_status,
            notify=notify,
        )
        if check_flags:
            outbox.check_flags_on_commit(self.case)
        return event


def change_case(
    case: Case | int,
    *,
    by: User,
    allowed: Callable[[Actor, Case], bool],
    refusal: str,
    expected_version: int | None = None,
) -> CaseChange:
    """Start a change to a case: lock it, refuse (403) a user ``allowed`` says no to, then a stale version (412).

    The permission is checked on the locked row, so it holds for what is written. The service then makes and checks
    its own change (a refusal raised there rolls its transaction back) and ends with ``CaseChange.save``.
    """
    locked = lock_case(case)
    require(allowed(actor_for(by), locked), refusal)
    check_version(locked, expected_version)
    return CaseChange(case=locked, by=by, at=now(), summarised=summaries.contribution(locked))


class Unset(enum.Enum):
    """A keyword a caller did not give: the field keeps its value (on a new record, the model's default)."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given, i.e. not left ``UNSET``."""
    return {field: value for field, value in values.items() if value is not UNSET}


# Not copied into the timeline: medical details and ID numbers are shown only to roles that need them.
SENSITIVE_FIELDS = frozenset({"medical_notes", "id_number"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def apply_changes(obj: Any, fields: tuple[str, ...], changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set allowed fields; return ``{field: [old, new]}`` for what actually changed (sensitive values elided)."""
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    diff: dict[str, list[Any]] = {}
    for field, value in changes.items():
        old = getattr(obj, field)
        if old != value:
            setattr(obj, field, value)
            diff[field] = ["***", "***"] if field in SENSITIVE_FIELDS else [_jsonable(old), _jsonable(value)]
    return diff
