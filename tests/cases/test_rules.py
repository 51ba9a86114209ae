"""The downgrade rules as a table: facts in, findings out, without a database.

Each row names the rule it exercises, the facts (defaults: an incident on 2026-03-01, one regular officer on
duty, no injury) and the exact expected result: which rules flag with which problems, the expected minimum
rank, and which rules a suppression silenced. Date boundaries run the same facts on both sides of a change.
"""

from dataclasses import replace
from datetime import date
from itertools import pairwise

import pytest

from cases.choices import (
    DISPOSITION_RANK,
    LENIENT_DISPOSITIONS,
    PENDING_DISPOSITIONS,
    CaseStatus,
    Disposition,
    DutyStatus,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    OfficerType,
    PoliceFault,
    SupportKind,
    SuspectStatus,
    Track,
    Weapon,
)
from cases.rules import (
    RULES,
    CaseFacts,
    FaultFindingFacts,
    OfficerFacts,
    ReferralFacts,
    SuspectFacts,
    Tag,
    evaluate,
)
from cases.rules.downgrade import SUPPRESSIONS
from cases.rules.facts import counted_disposition, principal_outcome

D = Disposition
K = IncidentKind
INJ = InjuryGrade
LR = LenientReason
RANK = DISPOSITION_RANK


def officer(injury: str = INJ.NONE, *, auxiliary: bool = False, duty: str = DutyStatus.ON_DUTY) -> OfficerFacts:
    return OfficerFacts(
        officer_type=OfficerType.AUXILIARY if auxiliary else OfficerType.REGULAR, duty_status=duty, injury=injury
    )


def suspect(disposition: str, sid: int = 1, **kwargs) -> SuspectFacts:
    return SuspectFacts(id=sid, disposition=disposition, **kwargs)


def facts(
    disposition: str | None = None,
    *,
    on: str = "2026-03-01",
    kind: str = K.VIOLENT_ATTACK,
    officers: tuple[OfficerFacts, ...] = (officer(),),
    suspects: tuple[SuspectFacts, ...] | None = None,
    **kwargs,
) -> CaseFacts:
    if suspects is None:
        suspects = (suspect(disposition),) if disposition else ()
    return CaseFacts(incident_date=date.fromisoformat(on), kind=kind, officers=officers, suspects=suspects, **kwargs)


# Findings of the legal-affairs department as the snapshot reads them (the current one of the case).
SERIOUS_FOUND = FaultFindingFacts(PoliceFault.SERIOUS, found_on=date(2026, 3, 20), documented=True)
LARGE_FOUND = FaultFindingFacts(PoliceFault.LARGE, found_on=date(2026, 3, 20), documented=True)
NO_FAULT_FOUND = FaultFindingFacts(PoliceFault.NONE, found_on=date(2026, 4, 2), documented=True)
# Carried over from the former case field: no date, no document.
CARRIED_SERIOUS = FaultFindingFacts(PoliceFault.SERIOUS, carried_over=True)


def non_prosecuted(reason: str, sid: int = 1) -> SuspectFacts:
    return suspect(D.CRIMINAL_NON_PROSECUTION, sid, lenient_reason=reason, decided_on=date(2025, 6, 1))


def punished_after_transfer(**kwargs) -> SuspectFacts:
    """Criminal case filed, not prosecuted, then administrative detention (a lenient outcome, with its reason)."""
    return suspect(
        D.ADMIN_DETENTION_6_10,
        history=(D.CRIMINAL_FILED, D.CRIMINAL_NON_PROSECUTION),
        lenient_reason=LR.MINOR_CIRCUMSTANCES,
        **kwargs,
    )


# Suspect 1's transfer for administrative punishment after the non-prosecution.
TRANSFER_OF_1 = ReferralFacts(track=Track.ADMINISTRATIVE, referred_on=date(2025, 6, 3), suspect=1)

BELOW = "below_minimum"
WRONG = "wrong_charge"
UNKNOWN = "fact_unknown"
SENTENCE = "sentence_below_bracket"
PROBATION = "probation_despite_aggravation"
MEDIATION = "mediation_of_attack"
TRANSFER = "no_administrative_transfer"
CLARIFY = "no_clarification"
LOWERED = "lowered_without_reason"
INTOXICATION = "intoxication_as_reason"
FAULT = "fault_not_found"

# (id, facts, {rule: problems}, expected minimum rank, suppressed (rule, by))
TABLE = [
    # R1: violent attack on an officer on duty.
    ("R1 slight injury, fine", facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),)), {"R1": [BELOW]}, 9, []),
    ("R1 slight injury, convicted", facts(D.CONVICTED_277_5_BASIC, officers=(officer(INJ.SLIGHT),)), {}, 9, []),
    ("R1 no injury 2025-01-17", facts(D.ADMIN_FINE, on="2025-01-17"), {"R1": [BELOW]}, 9, []),
    ("R1 no injury 2025-01-18: R7 instead", facts(D.ADMIN_FINE, on="2025-01-18"), {}, 4, []),
    ("R1 no injury 2025-01-18, education only", facts(D.NON_LEGAL_HANDLING, on="2025-01-18"), {"R7": [BELOW]}, 4, []),
    ("R1 before Amendment XI", facts(D.ADMIN_DETENTION_11_15, on="2021-02-28"), {"R1": [BELOW]}, 9, []),
    (
        "R1 appraisal pending: nothing yet, an administrative punishment at least expected",
        facts(D.ADMIN_FINE, officers=(officer(INJ.PENDING_APPRAISAL),)),
        {},
        4,
        [],
    ),
    # R2: police vehicle or equipment.
    (
        "R2 endangered safety, detention",
        facts(D.ADMIN_DETENTION_6_10, kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT, endangered_safety=True),
        {"R2": [BELOW]},
        9,
        [],
    ),
    (
        "R2 danger unknown 2026: R7, and a prompt to establish the danger",
        facts(D.ADMIN_DETENTION_6_10, kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT),
        {"R2": [UNKNOWN]},
        4,
        [],
    ),
    (
        "R2 danger unknown 2024: guidance needs none",
        facts(D.ADMIN_DETENTION_6_10, on="2024-06-01", kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT),
        {"R2": [BELOW]},
        9,
        [],
    ),
    # R3: lethal means, 3-7 years from Amendment XI.
    (
        "R3 knife, basic assault conviction",
        facts(
            D.CONVICTED_277_5_BASIC,
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R3": [BELOW]},
        13,
        [],
    ),
    (
        "R3 aggravated but 30 months",
        facts(
            suspects=(suspect(D.CONVICTED_277_5_AGGRAVATED, sentence_months=30),),
            kind=K.ARMED_ATTACK,
            weapon=Weapon.GUN,
            could_cause_serious_harm=True,
        ),
        {"R3": [SENTENCE]},
        13,
        [],
    ),
    (
        "R3 aggravated, 48 months",
        facts(
            suspects=(suspect(D.CONVICTED_277_5_AGGRAVATED, sentence_months=48),),
            kind=K.VEHICLE_RAMMING,
            vehicle_used=True,
            could_cause_serious_harm=True,
        ),
        {},
        13,
        [],
    ),
    (
        "R3 2021-02-28: a criminal case suffices",
        facts(
            D.CONVICTED_277_1,
            on="2021-02-28",
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
        ),
        {},
        9,
        [],
    ),
    (
        "R3 2021-03-01: the 3-7 year bracket",
        facts(
            D.CONVICTED_277_1,
            on="2021-03-01",
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
        ),
        {"R3": [BELOW]},
        13,
        [],
    ),
    # R4: minor injury; 277(1) is too light from Amendment XI.
    ("R4 minor injury, 277(1)", facts(D.CONVICTED_277_1, officers=(officer(INJ.MINOR_2),)), {"R4": [WRONG]}, 9, []),
    (
        "R4 2021-02-28: 277(1) was the charge",
        facts(D.CONVICTED_277_1, on="2021-02-28", officers=(officer(INJ.MINOR_1),)),
        {},
        9,
        [],
    ),
    (
        "R4 2021-03-01: 277(1) too light",
        facts(D.CONVICTED_277_1, on="2021-03-01", officers=(officer(INJ.MINOR_1),)),
        {"R4": [WRONG]},
        9,
        [],
    ),
    # R5: serious injury or death.
    (
        "R5 serious injury, assault conviction",
        facts(D.CONVICTED_277_5_BASIC, officers=(officer(INJ.SERIOUS_2),)),
        {"R5": [BELOW]},
        15,
        [],
    ),
    ("R5 death, homicide conviction", facts(D.CONVICTED_SERIOUS, officers=(officer(INJ.DEATH),)), {}, 15, []),
    # R6: aggravating circumstances; probation is a soft prompt.
    (
        "R6 two officers, probation",
        facts(
            suspects=(suspect(D.CONVICTED_277_5_BASIC, probation=True),),
            officers=(officer(INJ.SLIGHT), officer()),
            officers_attacked=2,
        ),
        {"R6": [PROBATION]},
        9,
        [],
    ),
    (
        "R6 two officers, no probation",
        facts(suspects=(suspect(D.CONVICTED_277_5_BASIC, probation=False),), officers=(officer(INJ.SLIGHT), officer())),
        {},
        9,
        [],
    ),
    # R7: obstruction below a violent attack.
    ("R7 obstruction, education only", facts(D.NON_LEGAL_HANDLING, kind=K.OBSTRUCTION), {"R7": [BELOW]}, 4, []),
    ("R7 threat, warning", facts(D.ADMIN_WARNING, kind=K.THREAT), {}, 4, []),
    # R8: minor resistance or verbal abuse.
    ("R8 minor resistance, no action", facts(D.NO_ACTION, kind=K.MINOR_RESISTANCE), {"R8": [BELOW]}, 3, []),
    ("R8 insult, no punishment decision", facts(D.NO_PUNISHMENT, kind=K.INSULT_ON_SCENE), {}, 3, []),
    # R9: non-prosecution needs an administrative transfer.
    (
        "R9 no transfer",
        facts(
            suspects=(suspect(D.CRIMINAL_NON_PROSECUTION, decided_on=date(2026, 5, 1)),),
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R9": [TRANSFER]},
        9,
        [],
    ),
    (
        "R9 transferred after the decision",
        facts(
            suspects=(suspect(D.CRIMINAL_NON_PROSECUTION, decided_on=date(2026, 5, 1)),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(ReferralFacts(track=Track.ADMINISTRATIVE, referred_on=date(2026, 5, 3)),),
        ),
        {},
        9,
        [],
    ),
    (
        "R9 administrative referral before the decision does not count",
        facts(
            suspects=(suspect(D.CRIMINAL_NON_PROSECUTION, decided_on=date(2026, 5, 1)),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(ReferralFacts(track=Track.ADMINISTRATIVE, referred_on=date(2026, 4, 1)),),
        ),
        {"R9": [TRANSFER]},
        9,
        [],
    ),
    (
        "R9 rectified finding",
        facts(
            suspects=(suspect(D.CRIMINAL_NON_PROSECUTION),),
            officers=(officer(INJ.SLIGHT),),
            rectified_findings=frozenset({FindingProblem.NO_TRANSFER_AFTER_NON_PROSECUTION}),
        ),
        {},
        9,
        [],
    ),
    (
        "R9 the suspect's own transfer",
        facts(
            suspects=(suspect(D.CRIMINAL_NON_PROSECUTION, decided_on=date(2026, 5, 1)),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {},
        9,
        [],
    ),
    (
        "R9 another suspect's transfer does not count",
        facts(
            suspects=(
                suspect(D.CRIMINAL_NON_PROSECUTION, decided_on=date(2026, 5, 1)),
                suspect(D.CRIMINAL_NON_PROSECUTION, sid=2, decided_on=date(2026, 5, 1)),
            ),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {"R9": [TRANSFER]},
        9,
        [],
    ),
    # Non-prosecution, transfer, administrative punishment: counted at the non-prosecution.
    (
        "non-prosecution, transfer, detention: lawful",
        facts(suspects=(punished_after_transfer(),), officers=(officer(INJ.SLIGHT),), referrals=(TRANSFER_OF_1,)),
        {},
        9,
        [],
    ),
    (
        "non-prosecution, detention without a transfer",
        facts(
            suspects=(punished_after_transfer(lowered_reason="转治安处罚"),),
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R1": [BELOW], "R9": [TRANSFER]},
        9,
        [],
    ),
    (
        "non-prosecution, detention without a transfer or a reason",
        facts(suspects=(punished_after_transfer(),), officers=(officer(INJ.SLIGHT),)),
        {"R1": [BELOW], "R9": [TRANSFER], "LOWERED": [LOWERED]},
        9,
        [],
    ),
    (
        "detention without a non-prosecution, though another suspect was transferred",
        facts(
            suspects=(suspect(D.ADMIN_DETENTION_6_10, history=(D.CRIMINAL_FILED,), lowered_reason="证据不足"),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "non-prosecution, transfer, then no punishment: not an administrative punishment",
        facts(
            suspects=(
                suspect(
                    D.NO_PUNISHMENT, history=(D.CRIMINAL_FILED, D.CRIMINAL_NON_PROSECUTION), lowered_reason="不予处罚"
                ),
            ),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "non-prosecution, transfer, detention: still below R3's bracket",
        facts(
            suspects=(punished_after_transfer(),),
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {"R3": [BELOW]},
        13,
        [],
    ),
    # FAULT_CITED: police fault cited for a lenient outcome, with no fault finding recorded.
    (
        "FAULT_CITED fine because of police fault",
        facts(suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.POLICE_FAULT),), kind=K.OBSTRUCTION),
        {"FAULT_CITED": [FAULT]},
        4,
        [],
    ),
    (
        "FAULT_CITED another reason",
        facts(suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.FORGIVENESS),), kind=K.OBSTRUCTION),
        {},
        4,
        [],
    ),
    # R10: retaliation against an off-duty officer.
    (
        "R10 minor injury, detention only",
        facts(
            D.ADMIN_DETENTION_11_15,
            kind=K.RETALIATION_OFF_DUTY,
            officers=(officer(INJ.MINOR_2, duty=DutyStatus.OFF_DUTY),),
        ),
        {"R10": [BELOW]},
        9,
        [],
    ),
    (
        "R10 slight injury, fine",
        facts(D.ADMIN_FINE, kind=K.RETALIATION_OFF_DUTY, officers=(officer(INJ.SLIGHT, duty=DutyStatus.OFF_DUTY),)),
        {"R10": [BELOW]},
        6,
        [],
    ),
    (
        "R10 slight injury, detention",
        facts(
            D.ADMIN_DETENTION_1_5,
            kind=K.RETALIATION_OFF_DUTY,
            officers=(officer(INJ.SLIGHT, duty=DutyStatus.OFF_DUTY),),
        ),
        {},
        6,
        [],
    ),
    (
        "R10 no injury",
        facts(D.ADMIN_FINE, kind=K.RETALIATION_OFF_DUTY, officers=(officer(duty=DutyStatus.OFF_DUTY),)),
        {},
        None,
        [],
    ),
    # R11: off duty, intervening: treated as on duty.
    (
        "R11 intervening officer, detention",
        facts(D.ADMIN_DETENTION_11_15, officers=(officer(INJ.SLIGHT, duty=DutyStatus.OFF_DUTY_INTERVENING),)),
        {"R11": [BELOW]},
        9,
        [],
    ),
    # R12 and its suppression of R1-R4, R6, R13: only auxiliary officers attacked.
    (
        "R12 auxiliary only, fine",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT, auxiliary=True),)),
        {"R12": [BELOW]},
        9,
        [("R1", "R12")],
    ),
    (
        "R12 auxiliary only, knife: 277(1) suffices",
        facts(
            D.CONVICTED_277_1,
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
            officers=(officer(INJ.SLIGHT, auxiliary=True),),
        ),
        {},
        9,
        [("R1", "R12"), ("R3", "R12")],
    ),
    (
        "R12 regular and auxiliary: assaulting police",
        facts(
            D.CONVICTED_277_1,
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
            officers=(officer(INJ.SLIGHT, auxiliary=True), officer()),
        ),
        {"R3": [BELOW]},
        13,
        [],
    ),
    (
        "R12 auxiliary only 2024, no injury",
        facts(D.ADMIN_FINE, on="2024-06-01", officers=(officer(auxiliary=True),)),
        {"R12": [BELOW]},
        9,
        [("R1", "R12")],
    ),
    # R13: intoxication is no excuse. It reads the reason recorded for a lenient outcome, not the intoxication fact.
    (
        "R13 drunk-cited non-prosecution of a kick",
        facts(
            on="2025-03-01",
            suspects=(non_prosecuted(LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {"R13": [INTOXICATION]},
        9,
        [],
    ),
    (
        "R13 non-prosecution for minor circumstances",
        facts(
            on="2025-03-01",
            suspects=(non_prosecuted(LR.MINOR_CIRCUMSTANCES),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        ),
        {},
        9,
        [],
    ),
    (
        "R13 non-prosecution, reason not recorded",
        facts(
            on="2025-03-01",
            suspects=(non_prosecuted(""),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
            intoxicated=True,
        ),
        {},
        9,
        [],
    ),
    (
        "R13 intoxicated attacker, fine for another reason: R1 alone",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),), intoxicated=True),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "R13 fine because drunk",
        facts(
            suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R1": [BELOW], "R13": [INTOXICATION]},
        9,
        [],
    ),
    (
        "R13 drunk-cited equipment attack endangering safety",
        facts(
            suspects=(suspect(D.ADMIN_DETENTION_11_15, lenient_reason=LR.INTOXICATION),),
            kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
            endangered_safety=True,
        ),
        {"R2": [BELOW], "R13": [INTOXICATION]},
        9,
        [],
    ),
    (
        "R13 drunk-cited, the danger to safety unknown: R2 asks to establish it first",
        facts(suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),), kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT),
        {"R2": ["fact_unknown"]},
        4,
        [],
    ),
    (
        "R13 drunk-cited, below the attack threshold: not R13's question",
        facts(suspects=(suspect(D.ADMIN_WARNING, lenient_reason=LR.INTOXICATION),), officers=(officer(),)),
        {},
        4,
        [],
    ),
    (
        "R13 drunk-cited before the Interpretation",
        facts(
            on="2024-06-01",
            suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "R13 a reason kept on a pending disposition does not count",
        facts(
            suspects=(suspect(D.AWAITING_TRIAL, lenient_reason=LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
        ),
        {},
        9,
        [],
    ),
    (
        "R13 drunk-cited, auxiliary only: suppressed",
        facts(
            suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT, auxiliary=True),),
        ),
        {"R12": [BELOW]},
        9,
        [("R1", "R12"), ("R13", "R12")],
    ),
    # R14: a recorded finding of serious police fault, with its document, silences the rules that expect assaulting
    # police (277(5)): R1-R4, R6, R11, R13. Never R5 (serious injury or death), R10 (off-duty retaliation), R12
    # (auxiliary officers, 277(1)) or the procedure rules (R23 mediation).
    (
        "R14 serious fault, fine",
        facts(
            suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
            fault_finding=SERIOUS_FOUND,
            intoxicated=True,
        ),
        {},
        4,
        [("R1", "R14"), ("R13", "R14")],
    ),
    (
        "R14 serious fault, serious injury: R5 still expects intentional injury",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SERIOUS_1),), fault_finding=SERIOUS_FOUND),
        {"R5": [BELOW]},
        15,
        [("R1", "R14"), ("R4", "R14"), ("R6", "R14")],
    ),
    (
        "R14 serious fault, serious injury grade 2 dropped: R5",
        facts(D.NO_ACTION, officers=(officer(INJ.SERIOUS_2),), fault_finding=SERIOUS_FOUND),
        {"R5": [BELOW]},
        15,
        [("R1", "R14"), ("R4", "R14"), ("R6", "R14")],
    ),
    (
        "R14 serious fault, slight injury kick: no R1, but R7's administrative punishment",
        facts(D.NO_ACTION, officers=(officer(INJ.SLIGHT),), fault_finding=SERIOUS_FOUND),
        {"R7": [BELOW]},
        4,
        [("R1", "R14")],
    ),
    (
        "R14 carried-over serious fault without a document silences nothing",
        facts(D.NO_ACTION, officers=(officer(INJ.SLIGHT),), fault_finding=CARRIED_SERIOUS),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "R14 later finding of no fault",
        facts(D.NO_ACTION, officers=(officer(INJ.SLIGHT),), fault_finding=NO_FAULT_FOUND),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "R14 large fault does not suppress",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),), fault_finding=LARGE_FOUND),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "R14 serious fault 2024 (analogy)",
        facts(D.ADMIN_FINE, on="2024-06-01", fault_finding=SERIOUS_FOUND),
        {},
        4,
        [("R1", "R14")],
    ),
    (
        "R14 serious fault, mediation still flagged",
        facts(D.MEDIATION, officers=(officer(INJ.SLIGHT),), fault_finding=SERIOUS_FOUND),
        {"R23": [MEDIATION], "R7": [BELOW]},
        4,
        [("R1", "R14")],
    ),
    (
        "R14 serious fault, police car smashed",
        facts(
            D.ADMIN_DETENTION_6_10,
            kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
            endangered_safety=True,
            fault_finding=SERIOUS_FOUND,
        ),
        {},
        4,
        [("R2", "R14")],
    ),
    (
        "R14 serious fault, knife",
        facts(
            D.CONVICTED_277_5_BASIC,
            kind=K.ARMED_ATTACK,
            weapon=Weapon.CONTROLLED_KNIFE,
            could_cause_serious_harm=True,
            officers=(officer(INJ.SLIGHT),),
            fault_finding=SERIOUS_FOUND,
        ),
        {},
        4,
        [("R1", "R14"), ("R3", "R14")],
    ),
    (
        "R14 serious fault, intervening off-duty officer",
        facts(
            D.ADMIN_DETENTION_11_15,
            officers=(officer(INJ.SLIGHT, duty=DutyStatus.OFF_DUTY_INTERVENING),),
            fault_finding=SERIOUS_FOUND,
        ),
        {},
        4,
        [("R11", "R14")],
    ),
    (
        "R14 serious fault, auxiliary only: R12 still expects obstructing duty",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT, auxiliary=True),), fault_finding=SERIOUS_FOUND),
        {"R12": [BELOW]},
        9,
        [("R1", "R12"), ("R1", "R14")],
    ),
    (
        "R14 serious fault, off-duty retaliation: R10 still applies",
        facts(
            D.ADMIN_DETENTION_1_5,
            kind=K.RETALIATION_OFF_DUTY,
            officers=(officer(INJ.MINOR_2, duty=DutyStatus.OFF_DUTY),),
            fault_finding=SERIOUS_FOUND,
        ),
        {"R10": [BELOW]},
        9,
        [],
    ),
    # R17 and R18: false accusation.
    (
        "R17 criminal track, detention",
        facts(D.ADMIN_DETENTION_1_5, kind=K.FALSE_ACCUSATION, track=Track.CRIMINAL),
        {"R17": [BELOW]},
        9,
        [],
    ),
    (
        "R17 administrative track",
        facts(D.ADMIN_DETENTION_1_5, kind=K.FALSE_ACCUSATION, track=Track.ADMINISTRATIVE),
        {},
        1,
        [],
    ),
    ("R18 no action", facts(D.NO_ACTION, kind=K.FALSE_ACCUSATION), {"R18": [BELOW]}, 1, []),
    ("R18 education", facts(D.NON_LEGAL_HANDLING, kind=K.FALSE_ACCUSATION), {}, 1, []),
    # R19: untrue complaint, clarification expected once concluded.
    ("R19 closed, no notice", facts(kind=K.UNTRUE_COMPLAINT, status=CaseStatus.CLOSED), {"R19": [CLARIFY]}, None, []),
    (
        "R19 closed, notice delivered",
        facts(
            kind=K.UNTRUE_COMPLAINT,
            status=CaseStatus.CLOSED,
            support_delivered=frozenset({SupportKind.CLARIFICATION_NOTICE}),
        ),
        {},
        None,
        [],
    ),
    ("R19 still in supervision", facts(kind=K.UNTRUE_COMPLAINT, status=CaseStatus.SUPERVISION), {}, None, []),
    # R23: mediation of an attack on duty.
    (
        "R23 obstruction mediated",
        facts(D.MEDIATION, kind=K.OBSTRUCTION),
        {"R7": [BELOW], "R23": [MEDIATION]},
        4,
        [],
    ),
    (
        "R23 attack mediated",
        facts(D.MEDIATION, officers=(officer(INJ.SLIGHT),)),
        {"R1": [BELOW], "R23": [MEDIATION]},
        9,
        [],
    ),
    ("R23 private dispute mediated", facts(D.MEDIATION, kind=K.OTHER), {}, None, []),
    # Lowered during handling without a recorded reason.
    (
        "LOWERED via a pending state",
        facts(
            kind=K.OTHER,
            suspects=(suspect(D.ADMIN_FINE, history=(D.UNDER_INVESTIGATION, D.CONVICTED_277_1, D.APPEAL_PENDING)),),
        ),
        {"LOWERED": [LOWERED]},
        None,
        [],
    ),
    (
        "LOWERED with a reason",
        facts(
            kind=K.OTHER,
            suspects=(suspect(D.ADMIN_FINE, history=(D.CONVICTED_277_1,), lowered_reason="Acquitted on appeal"),),
        ),
        {},
        None,
        [],
    ),
    (
        "LOWERED raised, not lowered",
        facts(kind=K.OTHER, suspects=(suspect(D.CONVICTED_277_1, history=(D.UNDER_INVESTIGATION, D.ADMIN_FINE)),)),
        {},
        None,
        [],
    ),
    # Pending dispositions never flag.
    ("pending: awaiting trial", facts(D.AWAITING_TRIAL, officers=(officer(INJ.SLIGHT),)), {}, 9, []),
    (
        "pending: a second suspect at large defers the comparison",
        facts(
            suspects=(suspect(D.ADMIN_FINE), suspect(D.AT_LARGE, sid=2, status=SuspectStatus.AT_LARGE)),
            officers=(officer(INJ.SLIGHT),),
        ),
        {},
        9,
        [],
    ),
    (
        "an unidentified suspect does not defer it",
        facts(
            suspects=(suspect(D.ADMIN_FINE), suspect(D.UNDER_INVESTIGATION, sid=2, status=SuspectStatus.UNIDENTIFIED)),
            officers=(officer(INJ.SLIGHT),),
        ),
        {"R1": [BELOW]},
        9,
        [],
    ),
    (
        "the best outcome among suspects counts",
        facts(
            suspects=(suspect(D.ADMIN_FINE), suspect(D.CONVICTED_277_5_BASIC, sid=2)), officers=(officer(INJ.SLIGHT),)
        ),
        {},
        9,
        [],
    ),
]


@pytest.mark.parametrize(
    ("case_facts", "expected", "expected_rank", "suppressed"),
    [pytest.param(f, e, r, s, id=name) for name, f, e, r, s in TABLE],
)
def test_rule_table(case_facts, expected, expected_rank, suppressed):
    result = evaluate(case_facts)
    assert {f.code: list(f.problems) for f in result.findings} == expected
    assert result.expected_min_rank == expected_rank
    assert sorted(set(result.suppressed)) == sorted(suppressed)


def test_every_implemented_rule_has_a_row_that_flags_it():
    flagged = {code for _name, _f, expected, _r, _s in TABLE for code in expected}
    suppressing = {by for *_rest, suppressed in TABLE for _code, by in suppressed}
    assert {r.code for r in RULES} <= flagged
    assert {s.code for s in SUPPRESSIONS} <= suppressing
    required = {f"R{n}" for n in (*range(1, 15), 17, 18, 19, 23)} - {"R14"}
    assert required <= {r.code for r in RULES}
    assert "R14" in {s.code for s in SUPPRESSIONS}


def test_finding_carries_rule_version_minimum_and_triggering_facts():
    result = evaluate(facts(D.ADMIN_FINE, on="2025-01-17"))
    (finding,) = result.findings
    assert finding.as_detail() == {
        "rule": "R1",
        "version": "2021-03-01",
        "severity": "prompt",
        "problems": [BELOW],
        "min_rank": 9,
        "facts": {
            "incident_date": "2025-01-17",
            "kind": K.VIOLENT_ATTACK,
            "victims": 1,
            "worst_injury": INJ.NONE,
            "outcome": D.ADMIN_FINE,
            "outcome_rank": 5,
        },
    }


@pytest.mark.parametrize(
    ("code", "before", "after", "boundary"),
    [
        ("R1", "2021-03-01", "2025-01-18", "2025-01-18"),
        ("R7", "2025-01-18", "2026-01-01", "2026-01-01"),
        ("R8", "-", "2026-01-01", "2026-01-01"),
        ("R18", "-", "2026-01-01", "2026-01-01"),
    ],
)
def test_versions_change_on_the_boundary(code, before, after, boundary):
    day = date.fromisoformat(boundary)
    versions = {r.code: r.version for r in RULES if r.in_force(day)}
    previous = {r.code: r.version for r in RULES if r.in_force(date.fromordinal(day.toordinal() - 1))}
    assert previous[code] == before
    assert versions[code] == after


def test_psapl_renumbering_changes_the_basis_not_the_outcome():
    old = evaluate(facts(D.NO_ACTION, on="2025-12-31", kind=K.MINOR_RESISTANCE))
    new = evaluate(facts(D.NO_ACTION, on="2026-01-01", kind=K.MINOR_RESISTANCE))
    assert [(f.code, f.problems, f.min_rank) for f in old.findings] == [
        (f.code, f.problems, f.min_rank) for f in new.findings
    ]
    assert [f.version for f in old.findings] == ["-"]
    assert [f.version for f in new.findings] == ["2026-01-01"]


def test_versions_of_a_rule_never_overlap():
    by_code: dict[tuple[str, str], list] = {}
    for rule in (*RULES, *SUPPRESSIONS):
        by_code.setdefault((type(rule).__name__, rule.code), []).append(rule)
    for code, versions in by_code.items():
        spans = sorted((r.effective_from or date.min, r.effective_to or date.max) for r in versions)
        for (_start, end), (next_start, _end) in pairwise(spans):
            assert end < next_start, code


def test_every_rule_is_sourced_and_verified_only_when_every_part_is():
    for rule in (*RULES, *SUPPRESSIONS):
        assert str(rule.title), rule.code
        assert str(rule.basis), rule.code
        assert rule.sources, rule.code
        assert rule.verified == all(s.tag == Tag.VERIFIED for s in rule.sources)
    verified = {(r.code, r.version) for r in RULES if r.verified}
    # The rules resting on a primary text alone; everything else must be shown with its caveat.
    assert verified == {
        ("R1", "2025-01-18"),
        ("R2", "2025-01-18"),
        ("R3", "2021-03-01"),
        ("R4", "2025-01-18"),
        ("R5", "2025-01-18"),
        ("R11", "2025-01-18"),
        ("R18", "-"),
    }


def _every_victim_profile() -> list[tuple[OfficerFacts, ...]]:
    grades = [INJ.NONE, INJ.SLIGHT, INJ.MINOR_2, INJ.SERIOUS_1, INJ.PENDING_APPRAISAL]
    return [
        (officer(g, auxiliary=aux, duty=duty),) for g in grades for aux in (False, True) for duty in DutyStatus.values
    ] + [(officer(INJ.SLIGHT), officer(INJ.MINOR_2, auxiliary=True))]


def test_rules_never_hold_outside_their_declared_kinds():
    """``Rule.kinds`` is an index the engine trusts; a predicate must not hold for any other kind."""
    for rule in RULES:
        if rule.kinds is None:
            continue
        for kind in set(IncidentKind.values) - set(rule.kinds):
            for victims in _every_victim_profile():
                for disposition in (D.MEDIATION, D.CRIMINAL_NON_PROSECUTION):
                    candidate = facts(
                        disposition,
                        kind=kind,
                        officers=victims,
                        weapon=Weapon.GUN,
                        vehicle_used=True,
                        endangered_safety=True,
                        could_cause_serious_harm=True,
                        intoxicated=True,
                        track=Track.CRIMINAL,
                        status=CaseStatus.CLOSED,
                    )
                    assert rule.applies(candidate) is None, (rule.code, kind)


@pytest.mark.parametrize("pending", sorted(PENDING_DISPOSITIONS | {D.CRIMINAL_FILED}))
def test_pending_dispositions_never_flag(pending):
    for kind in IncidentKind.values:
        for victims in _every_victim_profile():
            case_facts = facts(pending, kind=kind, officers=victims, intoxicated=True, officers_attacked=3)
            assert evaluate(case_facts).findings == (), (kind, victims)


def test_without_an_incident_date_nothing_applies():
    result = evaluate(replace(facts(D.NO_ACTION, officers=(officer(INJ.DEATH),)), incident_date=None))
    assert (result.findings, result.expected_min_rank, result.applied) == ((), None, ())


def test_evaluation_is_pure():
    case_facts = facts(D.MEDIATION, officers=(officer(INJ.SLIGHT),), intoxicated=True)
    assert evaluate(case_facts) == evaluate(case_facts)
    assert RANK[D.MEDIATION] == 2


# --- Severity: a downgrade rests on verified law and a level problem; everything else is a review prompt -------


def severities(result) -> dict[str, str]:
    return {f.code: str(f.severity) for f in result.findings}


def test_a_verified_minimum_missed_is_a_downgrade():
    result = evaluate(facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),)))
    assert severities(result) == {"R1": "downgrade"}
    assert result.finding("R1").as_detail()["severity"] == "downgrade"


def test_a_guidance_expectation_is_a_prompt_not_a_downgrade():
    # R6's "no probation" rests on the 2020 guidance [S] and the office's reading of its survival [I].
    on_probation = suspect(D.CONVICTED_277_5_BASIC, probation=True, sentence_months=12)
    result = evaluate(facts(officers=(officer(INJ.SLIGHT), officer()), suspects=(on_probation,)))
    assert {f.code: list(f.problems) for f in result.findings} == {"R6": ["probation_despite_aggravation"]}
    assert severities(result) == {"R6": "prompt"}


def test_the_2020_guidance_period_only_prompts():
    # 2021-03-01 to 2025-01-17 the "no injury needed" reading rests on the guidance [S]: a prompt.
    result = evaluate(facts(D.ADMIN_FINE, on="2024-06-01"))
    assert severities(result) == {"R1": "prompt"}


# --- The favourable-law rule in time (SPC/SPP provisions on the temporal effect of interpretations, Art. 3-4) ---


def kick(decided: str | None, disposition: str = D.ADMIN_DETENTION_6_10, on: str = "2025-01-17", **kwargs):
    return facts(
        suspects=(suspect(disposition, decided_on=date.fromisoformat(decided) if decided else None),), on=on, **kwargs
    )


def test_a_no_injury_kick_disposed_after_the_2025_interpretation_gets_its_lighter_law():
    result = evaluate(kick("2025-02-10"))
    assert result.findings == ()
    assert result.law_date == date(2025, 2, 10)
    assert result.expected_min_rank == RANK[D.ADMIN_WARNING]  # R7: an administrative punishment


def test_the_same_kick_disposed_before_the_change_is_judged_by_the_law_of_its_time():
    result = evaluate(kick("2025-01-15", on="2025-01-12"))
    assert {f.code: (list(f.problems), f.version) for f in result.findings} == {"R1": ([BELOW], "2021-03-01")}
    assert result.law_date == date(2025, 1, 12)
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]


def test_a_disposition_without_a_date_keeps_the_law_of_the_incident():
    result = evaluate(kick(None))
    assert [f.code for f in result.findings] == ["R1"]
    assert result.law_date == date(2025, 1, 17)


def test_a_case_not_yet_disposed_expects_what_the_later_lighter_law_expects():
    pending = facts(D.UNDER_INVESTIGATION, on="2025-01-17", as_of=date(2026, 12, 6))
    assert evaluate(pending).expected_min_rank == RANK[D.ADMIN_WARNING]
    # Evaluated on a day before the change, the law of the incident is all there is.
    assert evaluate(replace(pending, as_of=date(2025, 1, 17))).expected_min_rank == RANK[D.CRIMINAL_FILED]


def test_a_later_harsher_law_never_applies():
    # A slight injury in 2024 expects a criminal case under both laws: the incident's law applies.
    result = evaluate(kick("2025-06-01", D.ADMIN_FINE, on="2024-06-01", officers=(officer(INJ.SLIGHT),)))
    assert {f.code: f.version for f in result.findings} == {"R1": "2021-03-01"}
    assert result.law_date == date(2024, 6, 1)


def test_a_finding_under_the_later_law_says_so():
    # Slight injury on 2025-01-17, disposed with a fine after the change: both laws expect a criminal case, and a
    # criminal case is not lighter, so the incident's law (and no favourable marker) applies.
    same = evaluate(kick("2025-03-01", D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),)))
    assert "favourable_law_from" not in same.finding("R1").facts
    # A no-injury kick disposed in 2026 with no action: the 2026 law's R7 is the lighter law and says so.
    lighter = evaluate(kick("2026-02-01", D.NO_ACTION))
    assert {f.code: f.version for f in lighter.findings} == {"R7": "2026-01-01"}
    assert lighter.finding("R7").facts["favourable_law_from"] == "2026-01-01"


# --- Boundary cases ------------------------------------------------------------------------------------------


def test_277_1_for_a_violent_attack_on_an_officer_is_a_wrong_charge_prompt_from_2021():
    result = evaluate(facts(D.CONVICTED_277_1, officers=(officer(INJ.SLIGHT),)))
    assert {f.code: list(f.problems) for f in result.findings} == {"R1": [WRONG]}
    assert severities(result) == {"R1": "prompt"}
    # Before Amendment XI, 277(1) was the offence: nothing to say.
    assert evaluate(facts(D.CONVICTED_277_1, on="2020-06-01")).findings == ()


def test_the_wrong_charge_is_said_once_by_the_most_specific_rule():
    result = evaluate(facts(D.CONVICTED_277_1, officers=(officer(INJ.MINOR_2),)))
    assert {f.code: list(f.problems) for f in result.findings} == {"R4": [WRONG]}


def test_ramming_a_police_car_is_judged_by_the_facts_not_the_incident_type():
    rammed = facts(
        D.ADMIN_DETENTION_6_10, kind=K.VEHICLE_RAMMING, endangered_safety=True, could_cause_serious_harm=False
    )
    result = evaluate(rammed)
    assert {f.code: list(f.problems) for f in result.findings} == {"R2": [BELOW]}
    assert severities(result) == {"R2": "downgrade"}
    # Typed a violent attack but a vehicle was driven at the police car: the same.
    typed = replace(rammed, kind=K.VIOLENT_ATTACK, vehicle_used=True)
    assert [f.code for f in evaluate(typed).findings] == ["R2"]
    # No vehicle, no danger: not R2.
    assert evaluate(replace(rammed, kind=K.VIOLENT_ATTACK)).finding("R2") is None


def test_an_auxiliary_only_attack_before_2025_is_a_prompt_at_most():
    result = evaluate(facts(D.ADMIN_DETENTION_6_10, on="2024-06-01", officers=(officer(auxiliary=True),)))
    assert {f.code: list(f.problems) for f in result.findings} == {"R12": [BELOW]}
    assert severities(result) == {"R12": "prompt"}
    assert {str(s.tag) for s in result_rule("R12", "-").sources} == {"I"}


def result_rule(code: str, version: str):
    return next(r for r in RULES if r.code == code and r.version == version)


def test_mixed_victims_are_judged_per_victim():
    # An uninjured regular officer and an auxiliary with a slight injury: no assault on police (the officer was
    # not hurt), but obstructing official duty against the auxiliary (R12), which a detention is below.
    mixed = facts(D.ADMIN_DETENTION_6_10, officers=(officer(), officer(INJ.SLIGHT, auxiliary=True)))
    result = evaluate(mixed)
    assert {f.code: list(f.problems) for f in result.findings} == {"R12": [BELOW]}
    assert "R1" not in result.applied
    assert "R6" not in result.applied
    assert result.finding("R12").facts["auxiliaries_hurt"] == 1


def test_an_injured_officer_with_an_auxiliary_is_an_aggravated_assault_on_police():
    both = facts(D.CONVICTED_277_5_BASIC, officers=(officer(INJ.SLIGHT), officer(auxiliary=True)))
    result = evaluate(both)
    assert "R12" not in result.applied
    assert set(result.applied) >= {"R1", "R6"}
    assert result.findings == ()  # a 277(5) conviction is what both call for


def test_a_knife_attack_with_harm_unknown_prompts_to_establish_it():
    knife = facts(D.CONVICTED_277_5_BASIC, weapon=Weapon.CONTROLLED_KNIFE, officers=(officer(INJ.SLIGHT),))
    result = evaluate(knife)
    assert {f.code: list(f.problems) for f in result.findings} == {"R3": [UNKNOWN]}
    assert result.finding("R3").facts["details"] == [{"unknown": ["could_cause_serious_harm"]}]
    assert severities(result) == {"R3": "prompt"}
    # The unknown fact does not set the expected minimum: R1's criminal case does.
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]
    # Established either way, the prompt goes: "no" leaves R1 satisfied, "yes" makes it the 3-7 year bracket.
    assert evaluate(replace(knife, could_cause_serious_harm=False)).findings == ()
    assert [f.code for f in evaluate(replace(knife, could_cause_serious_harm=True)).findings] == ["R3"]
    assert evaluate(replace(knife, could_cause_serious_harm=True)).finding("R3").problems == (BELOW,)
    # Already convicted in the 3-7 year bracket with 36 months: nothing to establish.
    done = suspect(D.CONVICTED_277_5_AGGRAVATED, sentence_months=36)
    assert evaluate(replace(knife, suspects=(done,))).findings == ()
    # Still pending: nothing yet.
    assert evaluate(replace(knife, suspects=(suspect(D.AWAITING_TRIAL),))).findings == ()


@pytest.mark.parametrize(
    ("on", "version"), [("2020-06-01", "-"), ("2024-06-01", "2021-03-01"), ("2026-03-01", "2025-01-18")]
)
def test_an_off_duty_officer_intervening_in_an_emergency_is_protected_as_on_duty(on, version):
    intervening = officer(INJ.SLIGHT, duty=DutyStatus.OFF_DUTY_INTERVENING)
    result = evaluate(facts(D.ADMIN_DETENTION_6_10, on=on, officers=(intervening,)))
    assert {f.code: (list(f.problems), f.version) for f in result.findings} == {"R11": ([BELOW], version)}
    assert "R10" not in result.applied


def test_before_2025_an_intervening_officer_needs_no_injury_and_the_basis_is_the_police_law():
    result = evaluate(facts(D.NO_ACTION, on="2024-06-01", officers=(officer(duty=DutyStatus.OFF_DUTY_INTERVENING),)))
    assert [f.code for f in result.findings] == ["R11"]
    rule = result_rule("R11", "-")
    assert "People's Police Law Art. 19" in str(rule.basis)
    assert sorted(str(s.tag) for s in rule.sources) == ["I", "S"]
    assert severities(result) == {"R11": "prompt"}


def test_serious_injury_is_a_verified_downgrade_from_2025_and_a_prompt_before():
    grave = facts(D.CONVICTED_277_5_BASIC, officers=(officer(INJ.SERIOUS_2),))
    assert {f.code: list(f.problems) for f in evaluate(grave).findings} == {"R5": [BELOW]}
    assert severities(evaluate(grave)) == {"R5": "downgrade"}
    assert severities(evaluate(replace(grave, incident_date=date(2024, 6, 1)))) == {"R5": "prompt"}


# --- reasons for lenient outcomes, and the transfer after non-prosecution ----------------------------------------


def test_r13_finding_names_the_suspect_citing_drunkenness_and_is_a_prompt():
    result = evaluate(
        facts(
            on="2025-03-01",
            suspects=(non_prosecuted(LR.INTOXICATION),),
            officers=(officer(INJ.SLIGHT),),
            referrals=(TRANSFER_OF_1,),
        )
    )
    (finding,) = result.findings
    assert finding.as_detail() == {
        "rule": "R13",
        "version": "2025-01-18",
        "severity": "prompt",
        "problems": [INTOXICATION],
        "min_rank": None,
        "facts": {
            "incident_date": "2025-03-01",
            "kind": K.VIOLENT_ATTACK,
            "victims": 1,
            "worst_injury": INJ.SLIGHT,
            "intoxication_cited": [1],
            "outcome": D.CRIMINAL_NON_PROSECUTION,
            "outcome_rank": 10,
            "details": [{"suspect": 1}],
        },
    }
    assert result.applied == ("R1", "R13", "R9", "R23", "LOWERED")


def test_r13_never_fires_unless_a_reason_cites_intoxication():
    """Every lenient outcome, every other reason (and none), every kind and victim profile, the attacker drunk."""
    others = ["", *(r for r in LR.values if r != LR.INTOXICATION)]
    for disposition in sorted(LENIENT_DISPOSITIONS):
        for reason in others:
            for kind in IncidentKind.values:
                for victims in _every_victim_profile():
                    case_facts = facts(
                        suspects=(suspect(disposition, lenient_reason=reason),),
                        kind=kind,
                        officers=victims,
                        intoxicated=True,
                        endangered_safety=True,
                    )
                    assert "R13" not in {f.code for f in evaluate(case_facts).findings}, (disposition, reason, kind)


def test_a_punishment_after_transfer_counts_at_the_non_prosecution():
    transferred = facts(
        suspects=(punished_after_transfer(),), officers=(officer(INJ.SLIGHT),), referrals=(TRANSFER_OF_1,)
    )
    untransferred = replace(transferred, referrals=())
    assert (counted_disposition(transferred, transferred.suspects[0]), principal_outcome(transferred).rank) == (
        D.CRIMINAL_NON_PROSECUTION,
        10,
    )
    assert (counted_disposition(untransferred, untransferred.suspects[0]), principal_outcome(untransferred).rank) == (
        D.ADMIN_DETENTION_6_10,
        7,
    )


def test_the_new_prompts_are_never_downgrades():
    fine_because_drunk = facts(
        suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.INTOXICATION),), officers=(officer(INJ.SLIGHT),)
    )
    fault = facts(suspects=(suspect(D.ADMIN_FINE, lenient_reason=LR.POLICE_FAULT),), kind=K.OBSTRUCTION)
    severities = {f.code: str(f.severity) for f in (*evaluate(fine_because_drunk).findings, *evaluate(fault).findings)}
    assert severities == {"R1": "downgrade", "R13": "prompt", "FAULT_CITED": "prompt"}
