"""Stage clock arithmetic (DESIGN §4): how much of a stage's time limit is used, and when warnings fall due.

``cases.services`` keeps the clock on the case: entering a stage sets ``stage_started_at`` and ``stage_due_at``;
pausing sets ``paused_at``; resuming moves ``stage_due_at`` later by the time spent paused. So the time allowed
for the stage is the span from start to due less the pauses already resumed in it, and paused time is never
counted as used. The functions here are pure so the arithmetic is tested without a database or a clock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

WARNING_FRACTION = 0.75
ZERO = timedelta(0)


@dataclass(frozen=True)
class StageClock:
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None = None
    # Pauses of this stage already resumed; ``due_at`` was moved by exactly this much.
    paused_before: timedelta = ZERO

    @property
    def allowed(self) -> timedelta:
        return max(self.due_at - self.started_at - self.paused_before, ZERO)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def used(self, now: datetime) -> timedelta:
        """Running time spent in the stage; a running pause stops the count where it began."""
        end = self.paused_at if self.paused_at is not None else now
        return max(end - self.started_at - self.paused_before, ZERO)

    def fraction_used(self, now: datetime) -> float:
        allowed = self.allowed
        if allowed <= ZERO:
            return 1.0
        return self.used(now) / allowed

    def warn_at(self, fraction: float = WARNING_FRACTION) -> datetime | None:
        """When the running clock reaches ``fraction`` of the limit; None while paused (the clock stands still)."""
        if self.is_paused:
            return None
        return self.due_at - self.allowed * (1 - fraction)

    def is_breached(self, now: datetime) -> bool:
        """Past due with the clock running: the stalled condition."""
        return not self.is_paused and now > self.due_at
