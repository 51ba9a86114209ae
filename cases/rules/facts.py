"""What the rules read: a frozen snapshot of one case's facts, its officers, suspects, referrals and findings (the
supervision findings rectified, and the current police-fault finding).

Built from the database by ``cases.flagging.snapshot`` and by hand in tests, so every rule is a pure function of
this value. ``None`` means the fact is unknown; rules treat an unknown fact as "the precondition is not shown",
never as a guess, so missing data can stop a prompt but never causes one.

``FACTS`` declares the case facts once: how each is stored, named and asked. The facts forms, the API's case
serializers, the intake service's editable fields and the snapshot reader derive their lists from it; the ``Case``
model's fields and ``CaseFacts`` are checked against it by tests (tests/cases/test_facts.py).
"""

import builtins
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    ADMIN_PUNISHMENTS,
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    LENIENT_DISPOSITIONS,
    Disposition,
    DutyScenario,
    DutyStatus,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    PlaceCategory,
    SuspectStatus,
    Track,
    Weapon,
)

# Incident types the downgrade rules group together (cases/rules/downgrade.py reads them from here).
ATTACK_KINDS = frozenset({IncidentKind.VIOLENT_ATTACK, IncidentKind.ARMED_ATTACK, IncidentKind.VEHICLE_RAMMING})
EQUIPMENT_KINDS = frozenset({IncidentKind.ATTACK_ON_VEHICLE_OR_EQUIPMENT})

# Who is asked a fact: the filing officer (and the supervisor, who may correct it), or the supervisor only.
OFFICER = "officer"
SUPERVISOR = "supervisor"

# The largest count each column holds (PositiveSmallIntegerField, PositiveIntegerField on every supported database).
SMALL_COUNT_MAX = 32767
COUNT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Fact:
    """One fact of a case: its value type, its name on the record, how the forms ask it and who is asked."""

    name: str
    type: builtins.type  # bool, int, or str for a choice
    label: Promise  # the model field's verbose name
    question: Promise | None = None  # how the facts form asks it; None: the label
    help_text: Promise | str = ""
    asked_of: str = OFFICER
    choices: builtins.type[Enum] | None = None  # a TextChoices of cases.choices
    # None: unknown until someone says, and the column is nullable. "" (a choice only): not recorded, a blank column.
    default: object = None
    max_value: int | None = None  # counts only
    # Incident types whose rules read the fact; None where no rule ties it to particular types today.
    kinds: frozenset[str] | None = None
    # Incident types the forms ask it for, where no rule says (``kinds`` None): how many views for online posts, how
    # many attackers for a confrontation. None: every type.
    asked_for: frozenset[str] | None = None

    @property
    def nullable(self) -> bool:
        return self.default is None

    @property
    def blank(self) -> bool:
        """A choice that may be left unrecorded (blank): the forms offer no answer, the API takes and gives null."""
        return self.default == ""

    def asked_about(self, kind: str) -> bool:
        """Whether the forms ask this fact for an incident of type ``kind``: where a rule reads it or it belongs to
        the type; for "other" everything, as the type says nothing. A fact not asked keeps no answer (changing the
        incident type clears it, and the timeline keeps what it was)."""
        types = self.kinds if self.kinds is not None else self.asked_for
        return types is None or kind == IncidentKind.OTHER or kind in types


def _flag(name: str, label: Promise, question: Promise, kinds: frozenset[str] | None) -> Fact:
    return Fact(name, bool, label, question, kinds=kinds)


def _count(
    name: str,
    label: Promise,
    question: Promise,
    max_value: int,
    kinds: frozenset[str] | None = None,
    asked_for: frozenset[str] | None = None,
) -> Fact:
    return Fact(name, int, label, question, max_value=max_value, kinds=kinds, asked_for=asked_for)


ATTACK_OR_EQUIPMENT = ATTACK_KINDS | EQUIPMENT_KINDS
K = IncidentKind
# Incidents where someone confronted officers in person: attackers are counted and may have been drunk.
IN_PERSON_KINDS = ATTACK_OR_EQUIPMENT | frozenset(
    {
        K.THREAT,
        K.OBSTRUCTION,
        K.MINOR_RESISTANCE,
        K.INSULT_ON_SCENE,
        K.STALKING_HARASSMENT,
        K.RETALIATION_OFF_DUTY,
        K.RETALIATION_RELATIVES,
        K.SCENE_DISRUPTION,
        K.PROPERTY_DAMAGE,
    }
)
# Incidents that happen (also) online: posts have views and reposts.
ONLINE_KINDS = frozenset({K.ONLINE_DEFAMATION, K.FALSE_ACCUSATION, K.UNTRUE_COMPLAINT, K.DOXXING})
# Incidents in which an officer's or a relative's personal information may be exposed.
PERSONAL_INFO_KINDS = frozenset(
    {K.DOXXING, K.ONLINE_DEFAMATION, K.STALKING_HARASSMENT, K.RETALIATION_OFF_DUTY, K.RETALIATION_RELATIVES}
)
# In the order of the case record and the API.
FACTS: tuple[Fact, ...] = (
    # Shortens the stage time limits (cases/sla.py); no rule reads it.
    Fact(
        "major_security_period",
        bool,
        _("during a major security period"),
        asked_of=SUPERVISOR,
        default=False,
    ),
    # For the analysis of where and how officers are attacked (issue 21); no rule reads them. Asked for every type (an
    # online attack also starts from a duty, or from a post about one). Blank: not recorded, so older cases stay valid.
    Fact(
        "duty_scenario",
        str,
        _("duty scenario"),
        _("What were the officers doing when it happened?"),
        choices=DutyScenario,
        default="",
    ),
    Fact(
        "place_category",
        str,
        _("place category"),
        _("What kind of place did it happen in?"),
        choices=PlaceCategory,
        default="",
    ),
    Fact(
        "weapon",
        str,
        _("weapon"),
        _("Was a weapon used?"),
        choices=Weapon,
        default=Weapon.UNKNOWN,
        kinds=ATTACK_OR_EQUIPMENT,
    ),
    _flag(
        "vehicle_used",
        _("vehicle used against officers"),
        _("Was a vehicle driven at officers or a police car?"),
        ATTACK_OR_EQUIPMENT,
    ),
    _flag(
        "endangered_safety",
        _("enough to endanger personal safety"),
        _("Was it enough to endanger anyone's safety?"),
        ATTACK_OR_EQUIPMENT,
    ),
    _flag(
        "could_cause_serious_harm",
        _("enough to cause serious injury or death"),
        _("Could it have caused serious injury or death?"),
        ATTACK_OR_EQUIPMENT,
    ),
    _count(
        "officers_attacked",
        _("officers attacked"),
        _("How many officers were attacked?"),
        SMALL_COUNT_MAX,
        ATTACK_OR_EQUIPMENT,
    ),
    _count("attackers", _("attackers"), _("How many attackers?"), SMALL_COUNT_MAX, asked_for=IN_PERSON_KINDS),
    _flag(
        "organised_or_incited",
        _("organised or incited"),
        _("Did someone organise or incite others?"),
        ATTACK_OR_EQUIPMENT,
    ),
    # No rule reads it: drunkenness is no defence (Interpretation 〔2025〕1号 Art. 5), so R13 asks whether a lenient
    # outcome was recorded as reached *because* of it (the suspect's lenient reason), not whether the attacker drank.
    Fact("intoxicated", bool, _("attacker intoxicated"), _("Was the attacker drunk?"), asked_for=IN_PERSON_KINDS),
    _flag("suspect_escaped", _("suspect escaped"), _("Did a suspect escape because of it?"), ATTACK_OR_EQUIPMENT),
    _flag("evidence_lost", _("key evidence lost"), _("Was key evidence lost?"), ATTACK_OR_EQUIPMENT),
    _flag("others_hurt", _("others hurt"), _("Were other people hurt?"), ATTACK_OR_EQUIPMENT),
    _flag("major_property_loss", _("major property loss"), _("Was there a major property loss?"), ATTACK_OR_EQUIPMENT),
    _flag(
        "prior_attack_on_police",
        _("attacker previously punished for attacking police"),
        _("Has the attacker been punished for attacking police before?"),
        ATTACK_OR_EQUIPMENT,
    ),
    _count("online_views", _("online views"), _("Online posts: how many views?"), COUNT_MAX, asked_for=ONLINE_KINDS),
    _count(
        "online_reposts", _("online reposts"), _("Online posts: how many reposts?"), COUNT_MAX, asked_for=ONLINE_KINDS
    ),
    _count(
        "personal_info_items",
        _("personal-information items exposed"),
        _("How many items of personal information were exposed?"),
        COUNT_MAX,
        asked_for=PERSONAL_INFO_KINDS,
    ),
)
FACT_NAMES: tuple[str, ...] = tuple(f.name for f in FACTS)


def facts_asked_of(who: str) -> tuple[Fact, ...]:
    return tuple(f for f in FACTS if f.asked_of == who)


def facts_for_kind(kind: str) -> tuple[Fact, ...]:
    """The facts asked about an incident of type ``kind``, in the table's order."""
    return tuple(f for f in FACTS if f.asked_about(kind))


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
    # Why a lenient outcome was reached (cases.choices.LenientReason); "" is not recorded, i.e. unknown.
    lenient_reason: str = ""
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

    @property
    def is_lenient(self) -> bool:
        return self.disposition in LENIENT_DISPOSITIONS

    def cites(self, reason: str) -> bool:
        """Whether the suspect's lenient outcome was recorded as reached for ``reason``."""
        return self.is_lenient and self.lenient_reason == reason


@dataclass(frozen=True)
class ReferralFacts:
    track: str
    referred_on: date
    # The suspect a transfer for administrative punishment after non-prosecution was made for; None for a referral
    # of the case through the workflow.
    suspect: int | None = None


@dataclass(frozen=True)
class FaultFindingFacts:
    """The case's current police-fault finding (cases.models.FaultFinding; the latest by date, then record).

    ``documented``: the finding document's reference is on file. A value carried over from the case record's former
    police-fault field has none, and stands for no finding of the legal-affairs department.
    """

    finding: str  # a PoliceFault value other than "unknown"
    found_on: date | None = None
    documented: bool = False
    carried_over: bool = False


@dataclass(frozen=True)
class CaseFacts:
    incident_date: date | None
    kind: str
    status: str = "supervision"
    track: str = ""
    # Why the case concluded without an identified suspect (NoSuspectReason); blank otherwise.
    no_suspect_reason: str = ""
    major_security_period: bool = False
    duty_scenario: str = ""
    place_category: str = ""
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
    online_views: int | None = None
    online_reposts: int | None = None
    personal_info_items: int | None = None
    officers: tuple[OfficerFacts, ...] = ()
    suspects: tuple[SuspectFacts, ...] = ()
    referrals: tuple[ReferralFacts, ...] = ()
    # Kinds of support measure delivered (a clarification notice, …).
    support_delivered: frozenset[str] = field(default_factory=frozenset)
    # Kinds of support measure offered, in progress or delivered: under way, not merely requested or declined
    # (a fugitive pursuit).
    support_under_way: frozenset[str] = field(default_factory=frozenset)
    # Problems of supervision findings that were rectified: the office dealt with them, outside the record if
    # need be (a transfer to another authority, a clarification issued on paper).
    rectified_findings: frozenset[str] = field(default_factory=frozenset)
    # Not a fact of the table: a recorded finding, with its author, department, date and document (R14 reads it).
    fault_finding: FaultFindingFacts | None = None
    # The day the case is evaluated (local date). A case not yet disposed will be disposed after it, so a later,
    # more favourable law in force on that day applies (cases.rules.engine, the favourable-law rule).
    as_of: date | None = None


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


def regulars(officers: tuple[OfficerFacts, ...]) -> tuple[OfficerFacts, ...]:
    return tuple(o for o in officers if o.officer_type == OfficerType.REGULAR)


def auxiliaries(officers: tuple[OfficerFacts, ...]) -> tuple[OfficerFacts, ...]:
    return tuple(o for o in officers if o.officer_type == OfficerType.AUXILIARY)


def assault_victims(officers: tuple[OfficerFacts, ...]) -> tuple[OfficerFacts, ...]:
    """The victims whose harm decides whether police were assaulted: the regular officers among them.

    Attacking an auxiliary officer is not assaulting police (Interp. 2025 Art. 8), so with both attacked only the
    regular officers' injuries count for 277(5); the auxiliaries' are judged as obstructing official duty (R12).
    With auxiliaries only, they are returned so that the auxiliary-only suppression can say why nothing applies.
    """
    found = regulars(officers)
    return found if found else officers


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


def identified_suspects(facts: CaseFacts) -> tuple[SuspectFacts, ...]:
    return tuple(s for s in facts.suspects if s.status != SuspectStatus.UNIDENTIFIED)


def transferred(facts: CaseFacts, suspect: SuspectFacts) -> bool:
    """Whether a transfer for administrative punishment is recorded for this suspect."""
    return any(r.suspect == suspect.id and r.track == Track.ADMINISTRATIVE for r in facts.referrals)


def after_non_prosecution(suspect: SuspectFacts) -> bool:
    """An administrative punishment recorded after the suspect was not prosecuted or was exempted."""
    return suspect.disposition in ADMIN_PUNISHMENTS and Disposition.CRIMINAL_NON_PROSECUTION in suspect.history


def counted_disposition(facts: CaseFacts, suspect: SuspectFacts) -> str:
    """The disposition a suspect counts at on the ladder.

    A criminal case that ended in non-prosecution or exemption, then a recorded transfer and the administrative
    punishment it led to, counts at the non-prosecution: the criminal case was made, and the punishment is its
    lawful follow-on (Criminal Procedure Law Art. 177 para 3; Interpretation 〔2025〕1号 Art. 11). Without a recorded
    transfer the punishment counts as what it is.
    """
    if after_non_prosecution(suspect) and transferred(facts, suspect):
        return Disposition.CRIMINAL_NON_PROSECUTION
    return suspect.disposition


def counted_rank(facts: CaseFacts, suspect: SuspectFacts) -> int | None:
    return DISPOSITION_RANK.get(counted_disposition(facts, suspect))


def principal_outcome(facts: CaseFacts) -> Outcome | None:
    """None while any identified suspect's handling is still pending: a pending disposition never flags.

    Several attackers: the rules ask whether the incident was handled at the expected level at all, so the
    best outcome counts; differences between accomplices are for the supervisor, not for a scan. Each suspect
    counts at ``counted_disposition``.
    """
    if any(not s.is_final for s in identified_suspects(facts)):
        return None
    finals = [(counted_disposition(facts, s), s) for s in facts.suspects if s.is_final]
    if not finals:
        return None
    disposition, best = max(finals, key=lambda pair: (DISPOSITION_RANK[pair[0]], pair[1].id))
    return Outcome(disposition=disposition, rank=DISPOSITION_RANK[disposition], suspect=best)
