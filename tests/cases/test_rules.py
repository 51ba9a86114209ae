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
    PENDING_DISPOSITIONS,
    CaseStatus,
    Disposition,
    DutyStatus,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
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

D = Disposition
K = IncidentKind
INJ = InjuryGrade
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
CARRIED_SERIOUS = FaultFindingFacts(PoliceFault.SERIOUS)

BELOW = "below_minimum"
WRONG = "wrong_charge"
SENTENCE = "sentence_below_bracket"
PROBATION = "probation_despite_aggravation"
MEDIATION = "mediation_of_attack"
TRANSFER = "no_administrative_transfer"
CLARIFY = "no_clarification"
LOWERED = "lowered_without_reason"

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
        "R1 appraisal pending: nothing yet",
        facts(D.ADMIN_FINE, officers=(officer(INJ.PENDING_APPRAISAL),)),
        {},
        None,
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
        "R2 danger unknown 2026: R7 only",
        facts(D.ADMIN_DETENTION_6_10, kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT),
        {},
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
    # R13: intoxication is no excuse.
    (
        "R13 intoxicated attacker, fine",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),), intoxicated=True),
        {"R1": [BELOW], "R13": [BELOW]},
        9,
        [],
    ),
    # R14: a recorded finding of serious police fault, with its document, silences the rules that expect assaulting
    # police (277(5)): R1-R4, R6, R11, R13. Never R5 (serious injury or death), R10 (off-duty retaliation), R12
    # (auxiliary officers, 277(1)) or the procedure rules (R23 mediation).
    (
        "R14 serious fault, fine",
        facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT),), fault_finding=SERIOUS_FOUND, intoxicated=True),
        {},
        None,
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
        "R14 serious fault, slight injury kick: no R1",
        facts(D.NO_ACTION, officers=(officer(INJ.SLIGHT),), fault_finding=SERIOUS_FOUND),
        {},
        None,
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
        None,
        [("R1", "R14")],
    ),
    (
        "R14 serious fault, mediation still flagged",
        facts(D.MEDIATION, officers=(officer(INJ.SLIGHT),), fault_finding=SERIOUS_FOUND),
        {"R23": [MEDIATION]},
        None,
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
        None,
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
        None,
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
        None,
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
        ("R11", "2025-01-18"),
        ("R13", "2025-01-18"),
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
