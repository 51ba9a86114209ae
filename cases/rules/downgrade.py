"""Downgrade rules: from the facts of an infringement to the lowest outcome the law calls for.

Each rule is ``research/domain.md`` §7 turned into data: its preconditions (a predicate over ``CaseFacts``),
the minimum rank on the disposition ladder, offences that are too light even at a high enough rank, the
suppressions that make a prompt inappropriate, and its legal basis with a confidence tag per part. Where
the law changed, a rule has one version per period and the incident date picks the version (``periods``).

Policy choices made here, each tagged [I] in the rule it affects:

- A rule compares the case's *principal* outcome (the highest final disposition among its suspects) and waits
  while any identified suspect's disposition is pending.
- Appraisal pending or not appraised is not an injury: a rule that needs an injury does not apply until an
  appraisal shows one.
- Before 2025-01-18 the 2020 joint guidance needed no injury for a violent attack [S]; from that date the
  2025 Interpretation needs at least a slight injury or danger to safety [V]. The same facts can therefore
  expect a criminal case on 2025-01-17 and an administrative punishment on 2025-01-18.
- Suppressions: only auxiliary officers attacked means obstructing official duty (277(1)) is expected, not
  assaulting police (R12 replaces R1–R4, R6, R13).
- Serious police fault (R14) rests on a finding of the legal-affairs department recorded on the case
  (``FaultFinding``: who recorded it, the department, the date and the finding document's number); the latest
  finding counts, and one without a document reference (a value carried over from the case record's former
  police-fault field) silences nothing. The 2025 Interpretation's Art. 4 says that where police conduct was
  seriously at fault the act is generally not treated as *assaulting police* [V]. R14 therefore silences only the
  rules that expect 277(5) to be made out — R1, R2, R3, R4, R6 (aggravated attack), R11 (an off-duty officer
  intervening, treated as on duty) and R13 (intoxication) — and never R5 (serious injury or death: intentional
  injury or homicide, Art. 9; Art. 4 itself keeps criminal liability where the consequences are serious), R10
  (retaliation against an off-duty officer, not assaulting police) or R12 (auxiliary officers, obstructing duty
  under 277(1)). That scope is the office's reading of Art. 4's wording [I]. Before 2025-01-18 the same
  suppression applies by analogy [I].
- Victims are judged one by one: only regular officers' injuries make out assaulting police; auxiliaries hurt
  beside unharmed officers are judged as obstructing official duty (R12); officers and auxiliaries attacked
  together aggravate an assault on police (Interp. Art. 8) [V].
- Rules read the facts, not the incident type: a vehicle driven at officers or their car that endangered safety
  is R2 whatever the type says [V: Interp. Art. 1(2), 2(2)].
- A fact that decides a rule and is not recorded (could a knife have killed, did a ramming endanger anyone) is
  a prompt to establish it once a final outcome is recorded below what the rule would call for [I].
- An off-duty officer intervening in an emergency is protected as on duty: from 2025-01-18 by Interp. Art. 7(2)
  [V]; before, through the People's Police Law Art. 19 duty to act [S] read with 277 [I].
- From 2021-03-01 a conviction for obstructing official duty (277(1)) where assaulting police (277(5)) is made
  out is a wrong-charge prompt (R1, R2, R11), said once by the most specific rule.
"""

from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.choices import (
    DISPOSITION_RANK,
    Disposition,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    PoliceFault,
    Track,
    Weapon,
)
from cases.rules.base import Problem, Rule, Source, Suppression, Tag, Trigger, made_out
from cases.rules.facts import (
    ATTACK_KINDS,
    EQUIPMENT_KINDS,
    CaseFacts,
    OfficerFacts,
    assault_victims,
    auxiliaries,
    injury_at_least,
    injury_name,
    intervening,
    off_duty,
    on_duty,
    only_auxiliaries,
    regulars,
    worst_injury,
)
from cases.rules.periods import AMENDMENT_XI, GUIDANCE_2020, INTERPRETATION_2025, PSAPL_2026, day_before

K = IncidentKind
D = Disposition
V, S, R, INFER = Tag.VERIFIED, Tag.SECONDARY, Tag.RECOLLECTION, Tag.INFERENCE

ANY_DECISION = DISPOSITION_RANK[D.NON_LEGAL_HANDLING]
NO_PUNISHMENT = DISPOSITION_RANK[D.NO_PUNISHMENT]
ADMIN_PUNISHMENT = DISPOSITION_RANK[D.ADMIN_WARNING]
ADMIN_DETENTION = DISPOSITION_RANK[D.ADMIN_DETENTION_1_5]
CRIMINAL = DISPOSITION_RANK[D.CRIMINAL_FILED]
ASSAULT_AGGRAVATED = DISPOSITION_RANK[D.CONVICTED_277_5_AGGRAVATED]
SERIOUS_OFFENCE = DISPOSITION_RANK[D.CONVICTED_SERIOUS]

OBSTRUCTION_KINDS = frozenset({K.OBSTRUCTION, K.THREAT, K.SCENE_DISRUPTION})
MINOR_KINDS = frozenset({K.MINOR_RESISTANCE, K.INSULT_ON_SCENE})
LETHAL_WEAPONS = frozenset({Weapon.GUN, Weapon.CONTROLLED_KNIFE, Weapon.OTHER_LETHAL})

AUXILIARY_ONLY = "R12"
SERIOUS_FAULT = "R14"
ASSAULT_SUPPRESSIONS = (AUXILIARY_ONLY, SERIOUS_FAULT)


def _victim_facts(facts: CaseFacts, victims: tuple[OfficerFacts, ...]) -> dict:
    return {"kind": facts.kind, "victims": len(victims), "worst_injury": injury_name(victims)}


def _duty_victims(facts: CaseFacts) -> tuple[OfficerFacts, ...]:
    """On duty, or off duty and intervening in an emergency, which counts as on duty (R11, Interp Art. 7(2))."""
    return on_duty(facts) + intervening(facts)


# --- Predicates -----------------------------------------------------------------------------------------------


def violent_attack_2025(facts: CaseFacts) -> Trigger | None:
    # Officers on duty and officers intervening off duty alike (Interp. Art. 7(2)); R11 names the case where only
    # intervening officers were attacked.
    victims = assault_victims(_duty_victims(facts))
    if not on_duty(facts):
        return None
    if facts.kind in ATTACK_KINDS and victims and injury_at_least(victims, InjuryGrade.SLIGHT):
        return Trigger(_victim_facts(facts, victims))
    return None


def violent_attack_before_2025(facts: CaseFacts) -> Trigger | None:
    victims = on_duty(facts)
    if facts.kind in ATTACK_KINDS and victims:
        return Trigger(_victim_facts(facts, victims))
    return None


def _rammed(facts: CaseFacts) -> bool:
    """A vehicle was driven at officers or their car: recorded so, or typed so and not recorded otherwise."""
    return facts.vehicle_used is True or (facts.kind == K.VEHICLE_RAMMING and facts.vehicle_used is not False)


def _vehicle_attack(facts: CaseFacts) -> bool:
    """The facts show an attack on a police vehicle or equipment, whatever the incident type says: the type is
    "attack on vehicle or equipment", or a vehicle was driven at the officers or their car."""
    return facts.kind in EQUIPMENT_KINDS or _rammed(facts)


def equipment_attack_2025(facts: CaseFacts) -> Trigger | None:
    victims = _duty_victims(facts)
    if not victims or facts.kind not in ATTACK_KINDS | EQUIPMENT_KINDS or not _vehicle_attack(facts):
        return None
    if facts.endangered_safety is True:
        return Trigger({**_victim_facts(facts, victims), "endangered_safety": True})
    if facts.endangered_safety is None:
        # Whether it endangered anyone's safety decides between assaulting police and an administrative case.
        return Trigger(_victim_facts(facts, victims), unknown=("endangered_safety",))
    return None


def equipment_attack_before_2025(facts: CaseFacts) -> Trigger | None:
    victims = on_duty(facts)
    if facts.kind in EQUIPMENT_KINDS and victims:
        return Trigger(_victim_facts(facts, victims))
    return None


def lethal_attack(facts: CaseFacts) -> Trigger | None:
    victims = _duty_victims(facts)
    lethal = facts.weapon in LETHAL_WEAPONS
    ramming = _rammed(facts)
    if facts.kind not in ATTACK_KINDS | EQUIPMENT_KINDS or not victims or not (lethal or ramming):
        return None
    means = {**_victim_facts(facts, victims), "weapon": facts.weapon, "vehicle_used": ramming}
    if facts.could_cause_serious_harm is True:
        return Trigger({**means, "could_cause_serious_harm": True})
    # No danger to anyone's safety settles that it could not have caused serious injury or death.
    if facts.could_cause_serious_harm is None and facts.endangered_safety is not False:
        # A knife or a car was used and nobody has said whether it could have killed: establish it.
        return Trigger(means, unknown=("could_cause_serious_harm",))
    return None


def minor_injury_attack(facts: CaseFacts) -> Trigger | None:
    victims = assault_victims(_duty_victims(facts))
    if facts.kind in ATTACK_KINDS and victims and injury_at_least(victims, InjuryGrade.MINOR_2):
        return Trigger(_victim_facts(facts, victims))
    return None


def grave_injury(facts: CaseFacts) -> Trigger | None:
    # Intentional injury or homicide whoever the victim and whatever the duty status.
    if facts.kind in ATTACK_KINDS | {K.RETALIATION_OFF_DUTY} and injury_at_least(facts.officers, InjuryGrade.SERIOUS_2):
        return Trigger(_victim_facts(facts, facts.officers))
    return None


def _aggravators(facts: CaseFacts, *, guidance: bool) -> list[str]:
    victims = _duty_victims(facts)
    found = []
    if injury_at_least(assault_victims(victims), InjuryGrade.MINOR_2):
        found.append("minor_injury")
    for name in ("suspect_escaped", "evidence_lost", "others_hurt", "major_property_loss", "organised_or_incited"):
        if getattr(facts, name) is True:
            found.append(name)
    if guidance and (len(victims) >= 2 or (facts.officers_attacked or 0) >= 2):
        found.append("two_or_more_officers")
    if not guidance:
        # Interp. 2025 Art. 3(4) counts officers; Art. 8 makes attacking auxiliaries together with them heavier.
        officers = regulars(victims)
        if len(officers) >= 2 or (len(victims) == len(officers) and (facts.officers_attacked or 0) >= 2):
            found.append("two_or_more_officers")
        if officers and auxiliaries(victims):
            found.append("auxiliaries_also_attacked")
    if guidance:
        # The 2020 guidance's list adds weapons or a vehicle and an earlier punishment for attacking police.
        if facts.weapon in LETHAL_WEAPONS | {Weapon.BLUNT} or facts.vehicle_used is True:
            found.append("weapon_or_vehicle")
        if facts.prior_attack_on_police is True:
            found.append("prior_attack_on_police")
    return found


def _first_made_out(facts: CaseFacts, *predicates) -> Trigger | None:
    return next((t for t in (p(facts) for p in predicates) if made_out(t)), None)


def aggravated_attack_2025(facts: CaseFacts) -> Trigger | None:
    base = _first_made_out(facts, violent_attack_2025, equipment_attack_2025, intervening_attack)
    found = _aggravators(facts, guidance=False)
    if base is None or not found:
        return None
    return Trigger({**base.facts, "aggravating": found})


def aggravated_attack_before_2025(facts: CaseFacts) -> Trigger | None:
    base = _first_made_out(facts, violent_attack_before_2025, equipment_attack_before_2025)
    found = _aggravators(facts, guidance=True)
    if base is None or not found:
        return None
    return Trigger({**base.facts, "aggravating": found})


def _obstruction(facts: CaseFacts, *, attack_threshold_met: bool) -> Trigger | None:
    victims = _duty_victims(facts)
    if not victims:
        return None
    if facts.kind in OBSTRUCTION_KINDS:
        return Trigger(_victim_facts(facts, victims))
    if facts.kind in ATTACK_KINDS | EQUIPMENT_KINDS and not attack_threshold_met:
        return Trigger({**_victim_facts(facts, victims), "below_violent_attack_threshold": True})
    grave = injury_at_least(facts.officers, InjuryGrade.SERIOUS_2)  # R5 speaks, unsilenced
    if facts.kind in ATTACK_KINDS | EQUIPMENT_KINDS and not grave and serious_police_fault(facts) is not None:
        # Serious police fault takes away the criminal case (R14), not the administrative punishment: more harm may
        # not expect less than an unhurt officer's case [I].
        return Trigger({**_victim_facts(facts, victims), "serious_police_fault": True})
    return None


def obstruction_2025(facts: CaseFacts) -> Trigger | None:
    met = any(
        made_out(p(facts)) for p in (violent_attack_2025, equipment_attack_2025, intervening_attack, lethal_attack)
    )
    if not met and facts.kind in ATTACK_KINDS and worst_injury(_duty_victims(facts)) is None:
        # No appraisal yet: not "below the threshold", but whatever it shows an administrative punishment at least
        # is due (a criminal case if it shows an injury), so that minimum holds while the appraisal is awaited.
        victims = _duty_victims(facts)
        if not victims:
            return None
        return Trigger({**_victim_facts(facts, victims), "injury_appraised": False}, pending=("injury",))
    return _obstruction(facts, attack_threshold_met=met)


def obstruction_before_2025(facts: CaseFacts) -> Trigger | None:
    met = any(
        made_out(p(facts))
        for p in (
            violent_attack_before_2025,
            equipment_attack_before_2025,
            intervening_attack_before_2025,
            lethal_attack,
        )
    )
    return _obstruction(facts, attack_threshold_met=met)


def minor_resistance(facts: CaseFacts) -> Trigger | None:
    victims = _duty_victims(facts)
    if facts.kind in MINOR_KINDS and victims:
        return Trigger(_victim_facts(facts, victims))
    return None


def off_duty_retaliation(facts: CaseFacts) -> Trigger | None:
    victims = off_duty(facts)
    # An off-duty officer hurt in an attack is judged by his injury, whoever else was attacked with him.
    retaliation = facts.kind == K.RETALIATION_OFF_DUTY or facts.kind in ATTACK_KINDS
    if not retaliation or not victims:
        return None
    if injury_at_least(victims, InjuryGrade.MINOR_2):
        return Trigger(_victim_facts(facts, victims), min_rank=CRIMINAL)
    if injury_at_least(victims, InjuryGrade.SLIGHT):
        return Trigger(_victim_facts(facts, victims), min_rank=ADMIN_DETENTION)
    return None


def intervening_attack(facts: CaseFacts) -> Trigger | None:
    victims = intervening(facts)
    if facts.kind in ATTACK_KINDS and victims and not on_duty(facts) and injury_at_least(victims, InjuryGrade.SLIGHT):
        return Trigger({**_victim_facts(facts, victims), "off_duty_intervening": True})
    return None


def intervening_attack_before_2025(facts: CaseFacts) -> Trigger | None:
    # As for an officer on duty before 2025-01-18: no injury needed (2020 guidance).
    victims = intervening(facts)
    if facts.kind in ATTACK_KINDS and victims and not on_duty(facts):
        return Trigger({**_victim_facts(facts, victims), "off_duty_intervening": True})
    return None


def _auxiliary_attack(facts: CaseFacts, *, needs_harm: bool) -> Trigger | None:
    victims = _duty_victims(facts)
    if facts.kind not in ATTACK_KINDS | EQUIPMENT_KINDS or not only_auxiliaries(victims):
        return None
    # The elements of obstructing official duty by violence: an injury or a danger to safety is shown.
    harm = injury_at_least(victims, InjuryGrade.SLIGHT) or facts.endangered_safety is True
    if needs_harm and not harm:
        return None
    return Trigger({**_victim_facts(facts, victims), "auxiliary_only": True})


def _injured_auxiliaries_beside_unharmed_officers(facts: CaseFacts) -> Trigger | None:
    """Officers and auxiliaries attacked, only the auxiliaries hurt, and no assault on police made out: the attack
    on the auxiliaries is judged on its own as obstructing official duty (Interp. 2025 Art. 8)."""
    victims = _duty_victims(facts)
    hurt = auxiliaries(victims)
    if facts.kind not in ATTACK_KINDS | EQUIPMENT_KINDS or not regulars(victims) or not hurt:
        return None
    if not injury_at_least(hurt, InjuryGrade.SLIGHT):
        return None
    if any(made_out(p(facts)) for p in (violent_attack_2025, equipment_attack_2025, lethal_attack)):
        return None
    return Trigger({**_victim_facts(facts, hurt), "auxiliaries_hurt": len(hurt)})


def auxiliary_attack_2025(facts: CaseFacts) -> Trigger | None:
    return _auxiliary_attack(facts, needs_harm=True) or _injured_auxiliaries_beside_unharmed_officers(facts)


def auxiliary_attack_before_2025(facts: CaseFacts) -> Trigger | None:
    return _auxiliary_attack(facts, needs_harm=False)


def _citing_intoxication(facts: CaseFacts) -> list[int]:
    # A reason not recorded is unknown: it never counts as citing intoxication.
    return [s.id for s in facts.suspects if s.cites(LenientReason.INTOXICATION)]


def intoxication_cited(facts: CaseFacts) -> Trigger | None:
    """An attack on police (the facts of R1 or R2) where a suspect's lenient outcome was recorded as reached because
    the attacker was drunk."""
    cited = _citing_intoxication(facts)
    if not cited:
        return None
    # Only an attack shown on the facts; one that turns on an unknown fact is R1's or R2's prompt to establish it.
    base = next((t for t in (violent_attack_2025(facts), equipment_attack_2025(facts)) if made_out(t)), None)
    return None if base is None else Trigger({**base.facts, "intoxication_cited": cited})


def intoxication_as_reason(facts: CaseFacts) -> list[tuple[Problem, dict[str, Any]]]:
    return [(Problem.INTOXICATION_AS_REASON, {"suspect": sid}) for sid in _citing_intoxication(facts)]


def false_accusation_criminal(facts: CaseFacts) -> Trigger | None:
    if facts.kind == K.FALSE_ACCUSATION and facts.track == Track.CRIMINAL:
        return Trigger({"kind": facts.kind, "track": facts.track})
    return None


def false_accusation(facts: CaseFacts) -> Trigger | None:
    if facts.kind == K.FALSE_ACCUSATION:
        return Trigger({"kind": facts.kind})
    return None


def auxiliary_only(facts: CaseFacts) -> Trigger | None:
    victims = _duty_victims(facts)
    return Trigger({"auxiliary_only": True, "victims": len(victims)}) if only_auxiliaries(victims) else None


def serious_police_fault(facts: CaseFacts) -> Trigger | None:
    """The current fault finding says "serious" and its finding document is on file."""
    found = facts.fault_finding
    if found is None or found.finding != PoliceFault.SERIOUS or not found.documented:
        return None
    return Trigger({"fault_finding": found.finding, "found_on": found.found_on.isoformat() if found.found_on else None})


# --- Suppressions ---------------------------------------------------------------------------------------------

_AUX = Suppression(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code=AUXILIARY_ONLY,
    title=_("Only auxiliary officers attacked: obstructing official duty, not assaulting police"),
    basis=_("SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) Art. 8"),
    sources=(Source(_("Attacking auxiliary officers is not assaulting police but may be obstructing duty"), V),),
    applies=auxiliary_only,
)
_FAULT_SCOPE = Source(
    _(
        "Only the rules that expect assaulting police (277(5)) are silenced; serious injury or death, retaliation "
        "against an off-duty officer and obstructing duty against auxiliary officers are not"
    ),
    INFER,
)
_FAULT = Suppression(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code=SERIOUS_FAULT,
    title=_("Police conduct found seriously at fault by the legal-affairs department"),
    basis=_("SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) Art. 4"),
    sources=(
        Source(
            _("Where police conduct was seriously at fault, the act is generally not treated as assaulting police"), V
        ),
        _FAULT_SCOPE,
    ),
    applies=serious_police_fault,
)

SUPPRESSIONS: tuple[Suppression, ...] = (
    replace(
        _AUX,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 277(1) and 277(5); no interpretation on auxiliary officers before 2025-01-18"),
        sources=(Source(_("Auxiliary officers treated as under the 2025 Interpretation for earlier cases"), INFER),),
    ),
    _AUX,
    replace(
        _FAULT,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 13 (trivial circumstances); Interpretation 〔2025〕1号 Art. 4 applied by analogy"),
        sources=(
            Source(_("Serious police fault also excuses a dropped charge for earlier incidents"), INFER),
            _FAULT_SCOPE,
        ),
    ),
    _FAULT,
)


# --- Rules ----------------------------------------------------------------------------------------------------

_R1 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R1",
    title=_("Violent attack on an officer on duty"),
    basis=_(
        "SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) Art. 1(1); Criminal Law Art. 277(5)"
    ),
    sources=(
        Source(
            _("Biting, slapping, kicking, throwing down or throwing objects that causes at least a slight injury"), V
        ),
        Source(_("Expected outcome: a criminal case for assaulting police"), V),
    ),
    applies=violent_attack_2025,
    min_rank=CRIMINAL,
    # From 2021-03-01 assaulting police is its own offence: a conviction for obstructing official duty is the
    # wrong charge (a prompt: both carry up to three years).
    wrong_charges=frozenset({D.CONVICTED_277_1}),
    suppressed_by=ASSAULT_SUPPRESSIONS,
    kinds=ATTACK_KINDS,
)
_R2 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R2",
    title=_("Attack on a police vehicle or equipment endangering safety"),
    basis=_(
        "SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) Art. 1(2); Criminal Law Art. 277(5)"
    ),
    sources=(
        Source(_("Smashing, damaging or seizing the police vehicle or equipment in use, enough to endanger safety"), V),
        Source(_("Driving a motor vehicle into officers or their vehicle is a form of violent attack (Art. 2(2))"), V),
        Source(_("Expected outcome: a criminal case for assaulting police"), V),
    ),
    applies=equipment_attack_2025,
    min_rank=CRIMINAL,
    wrong_charges=frozenset({D.CONVICTED_277_1}),
    suppressed_by=ASSAULT_SUPPRESSIONS,
    kinds=ATTACK_KINDS | EQUIPMENT_KINDS,
)
_R3 = Rule(
    effective_from=AMENDMENT_XI,
    effective_to=None,
    code="R3",
    title=_("Armed attack or vehicle ramming able to cause serious injury or death"),
    basis=_(
        "Criminal Law Art. 277(5), second sentence (3 to 7 years); "
        "Interpretation 〔2025〕1号 Art. 2 and Art. 9 (the heavier offence applies)"
    ),
    sources=(
        Source(_("Guns, controlled knives, other lethal tools or ramming with a vehicle: 3 to 7 years"), V),
        Source(_("A heavier offence (intentional injury or homicide) may apply instead"), V),
    ),
    applies=lethal_attack,
    min_rank=ASSAULT_AGGRAVATED,
    min_sentence_months=36,
    suppressed_by=ASSAULT_SUPPRESSIONS,
    kinds=ATTACK_KINDS | EQUIPMENT_KINDS,
)
_R4 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R4",
    title=_("Officer on duty suffered a minor injury"),
    basis=_("Interpretation 〔2025〕1号 Art. 3(1) and Art. 9; Criminal Law Art. 234(1)"),
    sources=(
        Source(_("A minor injury makes assaulting police a heavier case, or intentional injury if heavier"), V),
        Source(_("Obstructing official duty (277(1)) is a lighter charge than the facts call for"), V),
    ),
    applies=minor_injury_attack,
    min_rank=CRIMINAL,
    wrong_charges=frozenset({D.CONVICTED_277_1}),
    suppressed_by=ASSAULT_SUPPRESSIONS,
    kinds=ATTACK_KINDS,
)
_R5 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R5",
    title=_("Officer seriously injured or killed"),
    basis=_("Criminal Law Art. 232 and Art. 234(2); Interpretation 〔2025〕1号 Art. 9 (the heavier offence)"),
    sources=(
        Source(_("Serious injury or death: intentional injury (3 to 10 years or more) or homicide"), V),
        Source(_("An attack on police that is also intentional injury or homicide is punished as the heavier"), V),
    ),
    applies=grave_injury,
    min_rank=SERIOUS_OFFENCE,
    kinds=ATTACK_KINDS | {K.RETALIATION_OFF_DUTY},
)
_R6 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R6",
    title=_("Aggravated attack on police"),
    basis=_(
        "Interpretation 〔2025〕1号 Art. 3 (heavier punishment); "
        "2020 SPC/SPP/MPS guidance on assaults on police: probation should generally not be granted"
    ),
    sources=(
        Source(_("Two or more officers, organised attack, escape, lost evidence or others hurt: heavier"), V),
        Source(_("Attacking officers and auxiliary officers together is punished more heavily (Art. 8)"), V),
        Source(_("Probation should generally not be granted (2020 guidance)"), S),
        Source(_("Whether the probation rule survives the 2025 Interpretation is unclear; a soft prompt"), INFER),
    ),
    applies=aggravated_attack_2025,
    min_rank=CRIMINAL,
    discourage_probation=True,
    suppressed_by=ASSAULT_SUPPRESSIONS,
    kinds=ATTACK_KINDS | EQUIPMENT_KINDS,
)
_R7 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=day_before(PSAPL_2026),
    code="R7",
    title=_("Violence or threats obstructing an officer, below a violent attack"),
    basis=_(
        "Interpretation 〔2025〕1号 Art. 7(1); Criminal Law Art. 277(1); Public Security Administration "
        "Punishments Law (2012) Art. 50: obstructing police is punished more heavily"
    ),
    sources=(
        Source(_("Obstruction without a violent attack is obstructing official duty if 277(1) is met"), V),
        Source(_("Otherwise an administrative punishment under PSAPL Art. 50, heavier for police"), V),
        Source(_("Minimum outcome set at an administrative punishment (a warning or more)"), INFER),
    ),
    applies=obstruction_2025,
    min_rank=ADMIN_PUNISHMENT,
    kinds=OBSTRUCTION_KINDS | ATTACK_KINDS | EQUIPMENT_KINDS,
)
_R8 = Rule(
    effective_from=None,
    effective_to=day_before(PSAPL_2026),
    code="R8",
    title=_("Minor resistance or verbal abuse of an officer on duty"),
    basis=_(
        "People's Police Law Art. 35(1); Public Security Administration Punishments Law (2012) Art. 50 and "
        "Art. 42(2); Interpretation 〔2025〕1号 Art. 1 para 2 (not a violent attack) for incidents from 2025-01-18"
    ),
    sources=(
        Source(_("Publicly insulting or obstructing an officer on duty is punished administratively"), V),
        Source(_("Heavier administrative punishment for insulting or minor attacks (2020 guidance)"), R),
        Source(_("A decision of no punishment is accepted; no action, education only or mediation is not"), INFER),
    ),
    applies=minor_resistance,
    min_rank=NO_PUNISHMENT,
    kinds=MINOR_KINDS,
)
_R10 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=day_before(PSAPL_2026),
    code="R10",
    title=_("Retaliation against an off-duty officer"),
    basis=_(
        "Interpretation 〔2025〕1号 Art. 7(3): intentional injury or homicide, punished more heavily; "
        "Public Security Administration Punishments Law (2012) Art. 43 (5 to 10 days' detention)"
    ),
    sources=(
        Source(_("Retaliatory violence against an officer not on duty is punished more heavily"), V),
        Source(_("A slight injury calls for detention under PSAPL Art. 43"), V),
        Source(_("A minor injury is the usual threshold for the crime of intentional injury"), R),
        Source(_("Detention of up to five days is accepted as the lowest band of Art. 43"), INFER),
    ),
    applies=off_duty_retaliation,
    kinds=ATTACK_KINDS | {K.RETALIATION_OFF_DUTY},
)
_R12 = Rule(
    effective_from=INTERPRETATION_2025,
    effective_to=None,
    code="R12",
    title=_("Only auxiliary officers attacked"),
    basis=_("Interpretation 〔2025〕1号 Art. 8; Criminal Law Art. 277(1)"),
    sources=(
        Source(_("Attacking auxiliary officers is obstructing official duty if 277(1) is met"), V),
        Source(_("An injury or a danger to safety is taken to show the elements of 277(1)"), INFER),
    ),
    applies=auxiliary_attack_2025,
    min_rank=CRIMINAL,
    kinds=ATTACK_KINDS | EQUIPMENT_KINDS,
)
_R18 = Rule(
    effective_from=None,
    effective_to=day_before(PSAPL_2026),
    code="R18",
    title=_("False accusation meant to have the officer punished"),
    basis=_("Public Security Administration Punishments Law (2012) Art. 42(3)"),
    sources=(Source(_("False accusation meant to bring punishment on someone: detention or a fine"), V),),
    applies=false_accusation,
    min_rank=ANY_DECISION,
    kinds=frozenset({K.FALSE_ACCUSATION}),
)

_R11_BEFORE_2025 = Rule(
    effective_from=None,
    effective_to=day_before(AMENDMENT_XI),
    code="R11",
    title=_("Attack on an off-duty officer intervening in an emergency"),
    basis=_("People's Police Law Art. 19; Criminal Law Art. 277 (2015 text)"),
    sources=(
        Source(_("An officer off duty who meets an emergency within his duties must act"), S),
        Source(_("Acting under that duty, the officer is performing official duty and 277 applies"), INFER),
    ),
    applies=intervening_attack_before_2025,
    min_rank=CRIMINAL,
    suppressed_by=(SERIOUS_FAULT,),
    kinds=ATTACK_KINDS,
)

_NEW_PSAPL = Source(_("The revised Public Security Administration Punishments Law renumbered its articles"), S)
_NEW_PSAPL_BASIS = _(
    "Public Security Administration Punishments Law (revised 2025, in force 2026-01-01): article number not verified"
)

RANK_RULES: tuple[Rule, ...] = (
    # R1: violent attack on an officer on duty.
    replace(
        _R1,
        effective_from=None,
        effective_to=day_before(AMENDMENT_XI),
        wrong_charges=frozenset(),
        basis=_("Criminal Law Art. 277(5) as added in 2015: attacking police is punished more heavily under 277(1)"),
        sources=(
            Source(_("Before 2021-03-01 assaulting police was a heavier case of obstructing official duty"), S),
            Source(_("Expected outcome: a criminal case"), INFER),
        ),
        applies=violent_attack_before_2025,
    ),
    replace(
        _R1,
        effective_from=AMENDMENT_XI,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 277(5) (Amendment XI); 2020 SPC/SPP/MPS guidance on assaults on police, Sec. 1"),
        sources=(
            Source(_("Under the 2020 guidance a violent attack needed no injury"), S),
            Source(_("Expected outcome: a criminal case for assaulting police"), S),
        ),
        applies=violent_attack_before_2025,
    ),
    _R1,
    # R2: police vehicle or equipment.
    replace(
        _R2,
        effective_from=None,
        effective_to=day_before(AMENDMENT_XI),
        basis=_("Criminal Law Art. 277; 2020 SPC/SPP/MPS guidance on assaults on police, Sec. 1"),
        sources=(
            Source(_("Smashing, damaging or seizing police vehicles or equipment while attacking the officer"), S),
            Source(_("No danger threshold before the 2025 Interpretation"), INFER),
        ),
        applies=equipment_attack_before_2025,
        wrong_charges=frozenset(),
        kinds=EQUIPMENT_KINDS,
    ),
    replace(
        _R2,
        effective_from=AMENDMENT_XI,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 277(5) (Amendment XI); 2020 SPC/SPP/MPS guidance on assaults on police, Sec. 1"),
        sources=(
            Source(_("Smashing, damaging or seizing police vehicles or equipment while attacking the officer"), S),
            Source(_("No danger threshold before the 2025 Interpretation"), INFER),
        ),
        applies=equipment_attack_before_2025,
        kinds=EQUIPMENT_KINDS,
    ),
    _R2,
    # R3: lethal means. Before Amendment XI there was no 3-7 year bracket: a criminal case is the minimum.
    replace(
        _R3,
        effective_from=None,
        effective_to=day_before(AMENDMENT_XI),
        basis=_("Criminal Law Art. 277(1) and (5) (2015 text), Art. 232 and Art. 234"),
        sources=(
            Source(_("Before 2021-03-01 assaulting police was a heavier case of obstructing official duty"), S),
            Source(_("Expected outcome: a criminal case, or a heavier offence"), INFER),
        ),
        min_rank=CRIMINAL,
        min_sentence_months=None,
    ),
    _R3,
    # R4: minor injury. Before 2025 the guidance made even a slight injury an aggravating circumstance.
    replace(
        _R4,
        effective_from=AMENDMENT_XI,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 277(5) and Art. 234(1); 2020 SPC/SPP/MPS guidance on assaults on police"),
        sources=(
            Source(_("A minor injury is intentional injury and an aggravated assault on police"), S),
            Source(_("Obstructing official duty (277(1)) is a lighter charge than the facts call for"), INFER),
        ),
    ),
    replace(
        _R4,
        effective_from=None,
        effective_to=day_before(AMENDMENT_XI),
        basis=_("Criminal Law Art. 234(1) and Art. 277 (2015 text)"),
        sources=(Source(_("A minor injury calls for a criminal case"), INFER),),
        wrong_charges=frozenset(),
    ),
    _R4,
    # R5: serious injury or death: intentional injury (234(2)) or homicide (232) outweighs assaulting police.
    replace(
        _R5,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 232 and Art. 234(2)"),
        sources=(
            Source(_("Serious injury or death: intentional injury (3 to 10 years or more) or homicide"), V),
            Source(_("Where one act meets two offences the heavier applies"), S),
        ),
    ),
    _R5,
    # R6: aggravating circumstances.
    # Before the 2020 guidance was issued there is no list of aggravating circumstances and no probation rule.
    replace(
        _R6,
        effective_from=GUIDANCE_2020,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("2020 SPC/SPP/MPS guidance on assaults on police: seven aggravating circumstances; no probation"),
        sources=(
            Source(_("Aggravating circumstances of the 2020 guidance"), S),
            Source(_("Probation should generally not be granted (2020 guidance)"), S),
        ),
        applies=aggravated_attack_before_2025,
    ),
    _R6,
    # R7: obstruction below the violent-attack threshold.
    replace(
        _R7,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_(
            "Criminal Law Art. 277(1); Public Security Administration Punishments Law (2012) Art. 50: "
            "obstructing police is punished more heavily"
        ),
        sources=(
            Source(_("Obstruction of an officer on duty is punished under PSAPL Art. 50, heavier for police"), V),
            Source(_("Minimum outcome set at an administrative punishment (a warning or more)"), INFER),
        ),
        applies=obstruction_before_2025,
    ),
    _R7,
    replace(
        _R7,
        effective_from=PSAPL_2026,
        effective_to=None,
        basis=_NEW_PSAPL_BASIS,
        sources=(
            Source(_("Obstruction without a violent attack is obstructing official duty if 277(1) is met"), V),
            _NEW_PSAPL,
            Source(_("Minimum outcome set at an administrative punishment (a warning or more)"), INFER),
        ),
    ),
    # R8: minor resistance or verbal abuse.
    _R8,
    replace(
        _R8,
        effective_from=PSAPL_2026,
        effective_to=None,
        basis=_NEW_PSAPL_BASIS,
        sources=(
            Source(_("Publicly insulting or obstructing an officer on duty is punished administratively"), V),
            _NEW_PSAPL,
            Source(_("A decision of no punishment is accepted; no action, education only or mediation is not"), INFER),
        ),
    ),
    # R10: off-duty retaliation.
    replace(
        _R10,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_(
            "Criminal Law Art. 234; Public Security Administration Punishments Law (2012) Art. 43; "
            "2020 guidance: retaliation against off-duty officers is punished more heavily"
        ),
        sources=(
            Source(_("Retaliation against off-duty officers punished more heavily (2020 guidance)"), R),
            Source(_("A slight injury calls for detention under PSAPL Art. 43"), V),
            Source(_("A minor injury is the usual threshold for the crime of intentional injury"), R),
        ),
    ),
    _R10,
    replace(
        _R10,
        effective_from=PSAPL_2026,
        effective_to=None,
        basis=_NEW_PSAPL_BASIS,
        sources=(
            Source(_("Retaliatory violence against an officer not on duty is punished more heavily"), V),
            _NEW_PSAPL,
            Source(_("A minor injury is the usual threshold for the crime of intentional injury"), R),
        ),
    ),
    # R11: off duty, intervening in an emergency: treated as on duty. Before 2025-01-18 the People's Police Law
    # duty to act off duty in an emergency makes the officer one performing official duty.
    _R11_BEFORE_2025,
    replace(
        _R11_BEFORE_2025,
        effective_from=AMENDMENT_XI,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("People's Police Law Art. 19; Criminal Law Art. 277(5) (Amendment XI)"),
        wrong_charges=frozenset({D.CONVICTED_277_1}),
    ),
    Rule(
        effective_from=INTERPRETATION_2025,
        effective_to=None,
        code="R11",
        title=_("Attack on an off-duty officer intervening in an emergency"),
        basis=_("Interpretation 〔2025〕1号 Art. 7(2); People's Police Law Art. 19"),
        sources=(Source(_("An off-duty officer acting in an emergency is treated as on duty"), V),),
        applies=intervening_attack,
        min_rank=CRIMINAL,
        wrong_charges=frozenset({D.CONVICTED_277_1}),
        suppressed_by=(SERIOUS_FAULT,),
        kinds=ATTACK_KINDS,
    ),
    # R12: only auxiliary officers attacked.
    replace(
        _R12,
        effective_from=None,
        effective_to=day_before(INTERPRETATION_2025),
        basis=_("Criminal Law Art. 277(1)"),
        sources=(Source(_("Attacking auxiliary officers on duty treated as obstructing official duty"), INFER),),
        applies=auxiliary_attack_before_2025,
    ),
    _R12,
    # R13: intoxication is no excuse. It reads the recorded reason for a lenient outcome, not the intoxication fact:
    # whether the outcome is high enough is R1's and R2's question; R13 asks whether drunkenness was the ground.
    Rule(
        effective_from=INTERPRETATION_2025,
        effective_to=None,
        code="R13",
        title=_("Attacker intoxicated: no lighter qualification"),
        basis=_("Interpretation 〔2025〕1号 Art. 5 and Art. 10"),
        sources=(
            Source(_("Being drunk does not make an attack on police a lesser case"), V),
            Source(_("Non-prosecution or exemption is for minor circumstances"), V),
            Source(
                _("A lenient outcome recorded as reached because of drunkenness rests on a ground Art. 5 excludes"),
                INFER,
            ),
        ),
        applies=intoxication_cited,
        check=intoxication_as_reason,
        suppressed_by=ASSAULT_SUPPRESSIONS,
        sets_expected_rank=False,
        kinds=ATTACK_KINDS | EQUIPMENT_KINDS,
    ),
    # R17, R18: false accusation.
    Rule(
        effective_from=None,
        effective_to=None,
        code="R17",
        title=_("False accusation meant to have the officer prosecuted"),
        basis=_("Criminal Law Art. 243 (false accusation)"),
        sources=(
            Source(_("Fabricating facts to have someone prosecuted, in serious circumstances, is a crime"), V),
            Source(_("Referral on the criminal track stands for the intent and the seriousness"), INFER),
        ),
        applies=false_accusation_criminal,
        min_rank=CRIMINAL,
        kinds=frozenset({K.FALSE_ACCUSATION}),
    ),
    _R18,
    replace(
        _R18,
        effective_from=PSAPL_2026,
        effective_to=None,
        basis=_NEW_PSAPL_BASIS,
        sources=(_NEW_PSAPL,),
    ),
)
