"""A campaign's scope: the queue's filter values, stored on the campaign as JSON and applied when it starts."""

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from cases import selectors


@dataclass(frozen=True)
class Scope:
    statuses: tuple[str, ...] = ()  # none: every status but a draft
    kinds: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    unit_path: str = ""  # a unit of the owner's subtree; empty: the whole subtree
    occurred_from: date | None = None  # inclusive days, in the office's time zone
    occurred_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
            for k, v in data.items()
            if v not in ((), "", None)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Scope":
        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            statuses=tuple(data.get("statuses", ())),
            kinds=tuple(data.get("kinds", ())),
            flags=tuple(data.get("flags", ())),
            unit_path=data.get("unit_path", ""),
            occurred_from=day("occurred_from"),
            occurred_to=day("occurred_to"),
            closed_from=day("closed_from"),
            closed_to=day("closed_to"),
        )

    def filters(self) -> selectors.QueueFilters:
        """The queue's filters for this scope (a last day counts whole)."""
        return selectors.QueueFilters(
            statuses=self.statuses,
            kinds=self.kinds,
            flags=self.flags,
            unit_path=self.unit_path,
            occurred_after=_start(self.occurred_from),
            occurred_before=_start(self.occurred_to + timedelta(days=1)) if self.occurred_to else None,
            closed_after=_start(self.closed_from),
            closed_before=_start(self.closed_to + timedelta(days=1)) if self.closed_to else None,
        )


def _start(day: date | None) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None
