"""Stage time limits (DESIGN §4, research/domain.md §8). Admin-edited ``StageLimit`` rows override the defaults."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cases.choices import CaseStatus, Track
from cases.models import StageLimit


@dataclass(frozen=True)
class DefaultLimit:
    stage: str
    track: str
    days: int
    halved_in_major_period: bool
    basis: str


# The national regulation sets no limit for handling an application; these are the office's defaults.
DEFAULT_LIMITS: tuple[DefaultLimit, ...] = (
    DefaultLimit(CaseStatus.INTAKE, "", 10, True, "Office default; Hubei 2008 rules answer within 10 days [S]"),
    DefaultLimit(CaseStatus.REFERRED, "", 7, True, "Office default for the handling unit to acknowledge [I]"),
    DefaultLimit(
        CaseStatus.SUPERVISION,
        Track.ADMINISTRATIVE,
        30,
        False,
        "PSAPL (2012) Art. 99: 30 days from acceptance, +30 with approval; appraisal time excluded",
    ),
    DefaultLimit(CaseStatus.SUPERVISION, Track.CRIMINAL, 60, False, "Office checkpoint every 60 days [I]"),
    DefaultLimit(CaseStatus.LOOK_BACK, "", 15, False, "Office default [I]"),
)


@dataclass(frozen=True)
class Extension:
    days: int
    basis: str


# Extensions the law provides for, once per stage, with the approval recorded by the office.
EXTENSIONS: dict[tuple[str, str], Extension] = {
    (CaseStatus.SUPERVISION, Track.ADMINISTRATIVE): Extension(
        30, "PSAPL (2012) Art. 99; ACPR Art. 165: +30 days with the approval of the public security organ above [V]"
    ),
}


def extension_for(*, stage: str, track: str) -> Extension | None:
    # A supervision stage without a track is handled as administrative, as ``limit_days`` does.
    if stage == CaseStatus.SUPERVISION and not track:
        track = Track.ADMINISTRATIVE
    return EXTENSIONS.get((stage, track))


def extendable(case: Any) -> bool:
    """The case's current stage has a running deadline, the law allows extending it, and it was not extended yet."""
    return (
        case.stage_due_at is not None
        and case.stage_extended_at is None
        and extension_for(stage=case.status, track=case.track) is not None
    )


def limit_days(*, stage: str, track: str) -> tuple[float, bool] | None:
    """Days allowed for a stage (and track), and whether a major security period halves it."""
    rows = {(r.stage, r.track): (r.days, r.halved_in_major_period) for r in StageLimit.objects.filter(stage=stage)}
    defaults = {(d.stage, d.track): (d.days, d.halved_in_major_period) for d in DEFAULT_LIMITS if d.stage == stage}
    for key in ((stage, track), (stage, "")):
        if key in rows:
            return rows[key]
        if key in defaults:
            return defaults[key]
    if stage == CaseStatus.SUPERVISION:
        return limit_days(stage=stage, track=Track.ADMINISTRATIVE)
    return None


def stage_deadline(*, stage: str, track: str, major_security_period: bool, start: datetime) -> datetime | None:
    limit = limit_days(stage=stage, track=track)
    if limit is None:
        return None
    days, halved = limit
    allowed = timedelta(days=days)
    if major_security_period and halved:
        allowed /= 2
    return start + allowed
