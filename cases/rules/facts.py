"""What the rules read: a frozen snapshot of one case's facts, its officers, suspects, referrals and findings.

Built from the database by ``cases.flags`` and by hand in tests, so every rule is a pure function of this
value. ``None`` means the fact is unknown; rules treat an unknown fact as "the precondition is not shown",
never as a guess, so missing data can stop a prompt but never causes one.
"""

from dataclasses import dataclass, field
from datetime import date

from cases.choices import (
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    DutyStatus,
    InjuryGrade,
    OfficerType,
    PoliceFault,
    SuspectStatus,
    Weapon,
)


@dataclass(frozen=True)
class OfficerFacts:
    officer_type: str = OfficerType.REGULAR
    duty_status: str = DutyStatus.ON_DUTY
    injury: str = InjuryGrade.NONE


@dataclass(frozen=True)
class SuspectFacts:
    id: int = 0
    status: str = SuspectStatus.IDENTIFIED
    disposition: str = "under_investigation"
    lowered_reason: str = ""
    probation: bool | None = None
    sentence_months: int | None = None
    decided_on: date | None = None
    # Dispositions recorded for this suspect before the current one, oldest first (from the timeline).
    history: tuple[str, ...] = ()

    @property
    def is_final(self) -> bool:
        return self.disposition in FINAL_DISPOSITIONS

    @property
    def rank(self) -> int | None:
        return DISPOSITION_RANK.get(self.disposition)


@dataclass(frozen=True)
class ReferralFacts:
    track: str
    referred_on: date


@dataclass(frozen=True)
class CaseFacts:
    incident_date: date | None
    kind: str
    status: str = "supervision"
    track: str = ""
    weapon: str = Weapon.UNKNOWN
    vehicle_used: bool | None = None
    endangered_safety: bool | None = None
    could_cause_serious_harm: bool | None = None
    officers_attacked: int | None = None
    attackers: int | None = None
    organised_or_incited: bool | None = None
    intoxicated: bool | None = None
    suspect_escaped: bool | None = None
    evidence_lost: bool | None = None
    others_hurt: bool | None = None
    major_property_loss: bool | None = None
    prior_attack_on_police: bool | None = None
    police_fault: str = PoliceFault.UNKNOWN
    online_views: int | None = None
    online_reposts: int | None = None
    personal_info_items: int | None = None
    officers: tuple[OfficerFacts, ...] = ()
    suspects: tuple[SuspectFacts, ...] = ()
    referrals: tuple[ReferralFacts, ...] = ()
    # Kinds of support measure delivered (a clarification notice, …).
    support_delivered: frozenset[str] = field(default_factory=frozenset)
    # Problems of supervision findings that were rectified: the office dealt with them, outside the record if
    # need be (a transfer to another authority, a clarification issued on paper).
    rectified_findings: frozenset[str] = field(default_factory=frozenset)


# --- Views of the victims -------------------------------------------------------------------------------------


def on_duty(facts: CaseFacts) -> tuple[OfficerFacts, ...]:
    """Victims attacked while on duty, regular or auxiliary (intervening off duty counts separately: R11)."""
    return tuple(o for o in facts.officers if o.duty_status == DutyStatus.ON_DUTY)


def intervening(facts: CaseFacts) -> tuple[OfficerFacts, ...]:
    return tuple(
        o
        for o in facts.officers
        if o.duty_status == DutyStatus.OFF_DUTY_INTERVENING and o.officer_type == OfficerType.REGULAR
    )


def off_duty(facts: CaseFacts) -> tuple[OfficerFacts, ...]:
    return tuple(o for o in facts.officers if o.duty_status == DutyStatus.OFF_DUTY)


def only_auxiliaries(officers: tuple[OfficerFacts, ...]) -> bool:
    return bool(officers) and all(o.officer_type == OfficerType.AUXILIARY for o in officers)


def worst_injury(officers: tuple[OfficerFacts, ...]) -> int | None:
    """Highest appraised injury rank; None when nobody's injury is appraised (pending or not appraised)."""
    ranks = [INJURY_RANK[o.injury] for o in officers if o.injury in INJURY_RANK]
    return max(ranks) if ranks else None


def injury_at_least(officers: tuple[OfficerFacts, ...], grade: str) -> bool:
    """True only when an appraised injury reaches ``grade``; a pending appraisal proves nothing yet."""
    worst = worst_injury(officers)
    return worst is not None and worst >= INJURY_RANK[grade]


def injury_name(officers: tuple[OfficerFacts, ...]) -> str | None:
    worst = worst_injury(officers)
    if worst is None:
        return None
    return next(grade for grade, rank in INJURY_RANK.items() if rank == worst)


# --- Views of the outcome -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The case's principal outcome: the highest final disposition among its suspects."""

    disposition: str
    rank: int
    suspect: SuspectFacts


def principal_outcome(facts: CaseFacts) -> Outcome | None:
    """None while any identified suspect's handling is still pending: a pending disposition never flags.

    Several attackers: the rules ask whether the incident was handled at the expected level at all, so the
    best outcome counts; differences between accomplices are for the supervisor, not for a scan.
    """
    identified = [s for s in facts.suspects if s.status != SuspectStatus.UNIDENTIFIED]
    if any(not s.is_final for s in identified):
        return None
    finals = [s for s in facts.suspects if s.is_final]
    if not finals:
        return None
    best = max(finals, key=lambda s: (DISPOSITION_RANK[s.disposition], s.id))
    return Outcome(disposition=best.disposition, rank=DISPOSITION_RANK[best.disposition], suspect=best)
