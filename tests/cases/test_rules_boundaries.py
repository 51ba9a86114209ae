"""Boundary cases of the downgrade rules, read as a legal reviewer would: facts in, findings out, no database.

Two kinds of test live here. Plain tests pin behaviour that was checked against the law on an important boundary
(a change of law, the favourable-law rule in time, mixed victims, unknown facts). Tests marked
``xfail(strict=True)`` each record a defect found in review: the assertion states what the engine should say, the
comment gives the legal reasoning and its confidence (research/domain.md §0: V verified from a primary text,
S a secondary source, R a recollection, I an inference). When a defect is fixed its test starts passing, the strict
marker fails the run, and the marker is removed.

Properties over every combination of facts (``hypothesis``) check that the engine never raises and keeps its own
invariants: a downgrade rests on a verified rule version and a problem about the level of the outcome, a prompt to
establish a fact is never a downgrade, and nothing but the untrue-complaint rule speaks before any outcome is final.
"""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.choices import (
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    Disposition,
    DutyStatus,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    PoliceFault,
    SuspectStatus,
    Track,
    Weapon,
)
from cases.rules import CaseFacts, FaultFindingFacts, OfficerFacts, ReferralFacts, SuspectFacts, evaluate
from cases.rules.base import LEVEL_PROBLEMS, Problem, Severity
from cases.rules.engine import judging_date, rule_version

D = Disposition
K = IncidentKind
INJ = InjuryGrade
RANK = DISPOSITION_RANK
INTERVENING = DutyStatus.OFF_DUTY_INTERVENING
OFF_DUTY = DutyStatus.OFF_DUTY

BELOW = "below_minimum"
WRONG = "wrong_charge"
UNKNOWN = "fact_unknown"
PROBATION = "probation_despite_aggravation"
TRANSFER = "no_administrative_transfer"


def officer(injury: str = INJ.NONE, *, auxiliary: bool = False, duty: str = DutyStatus.ON_DUTY) -> OfficerFacts:
    return OfficerFacts(
        officer_type=OfficerType.AUXILIARY if auxiliary else OfficerType.REGULAR, duty_status=duty, injury=injury
    )


def suspect(disposition: str, sid: int = 1, *, decided: str | None = None, **kwargs) -> SuspectFacts:
    decided_on = date.fromisoformat(decided) if decided else None
    return SuspectFacts(id=sid, disposition=disposition, decided_on=decided_on, **kwargs)


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


def problems(result) -> dict[str, list[str]]:
    return {f.code: list(f.problems) for f in result.findings}


def severities(result) -> dict[str, str]:
    return {f.code: str(f.severity) for f in result.findings}


# --- Properties over every combination of facts -----------------------------------------------------------------

DATES = st.dates(date(2019, 1, 1), date(2027, 12, 31))
MAYBE = st.sampled_from([None, True, False])
OFFICERS = st.builds(
    OfficerFacts,
    officer_type=st.sampled_from(OfficerType.values),
    duty_status=st.sampled_from(DutyStatus.values),
    injury=st.sampled_from(InjuryGrade.values),
)
SUSPECTS = st.builds(
    SuspectFacts,
    id=st.integers(1, 4),
    status=st.sampled_from(SuspectStatus.values),
    disposition=st.sampled_from(Disposition.values),
    lowered_reason=st.sampled_from(["", "Acquitted on appeal"]),
    probation=MAYBE,
    sentence_months=st.one_of(st.none(), st.integers(0, 180)),
    decided_on=st.one_of(st.none(), DATES),
    history=st.lists(st.sampled_from(Disposition.values), max_size=3).map(tuple),
)
CASE_FACTS = st.builds(
    CaseFacts,
    incident_date=st.one_of(st.none(), DATES),
    kind=st.sampled_from(IncidentKind.values),
    track=st.sampled_from(["", *Track.values]),
    weapon=st.sampled_from(Weapon.values),
    vehicle_used=MAYBE,
    endangered_safety=MAYBE,
    could_cause_serious_harm=MAYBE,
    officers_attacked=st.one_of(st.none(), st.integers(0, 5)),
    attackers=st.one_of(st.none(), st.integers(0, 5)),
    organised_or_incited=MAYBE,
    intoxicated=MAYBE,
    suspect_escaped=MAYBE,
    evidence_lost=MAYBE,
    others_hurt=MAYBE,
    major_property_loss=MAYBE,
    prior_attack_on_police=MAYBE,
    fault_finding=st.one_of(
        st.none(),
        st.builds(
            FaultFindingFacts,
            finding=st.sampled_from([v for v in PoliceFault.values if v != PoliceFault.UNKNOWN]),
            found_on=st.one_of(st.none(), DATES),
            documented=st.booleans(),
            carried_over=st.booleans(),
        ),
    ),
    officers=st.lists(OFFICERS, max_size=3).map(tuple),
    suspects=st.lists(SUSPECTS, max_size=3).map(tuple),
    referrals=st.lists(
        st.builds(ReferralFacts, track=st.sampled_from(Track.values), referred_on=DATES), max_size=2
    ).map(tuple),
    as_of=st.one_of(st.none(), DATES),
)
# A recorded finding of serious police fault, with its document (what R14 needs).
SERIOUS_FOUND = FaultFindingFacts(PoliceFault.SERIOUS, found_on=date(2026, 3, 20), documented=True)
FINALS = sorted(FINAL_DISPOSITIONS, key=RANK.__getitem__)
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@PROPERTY
@given(CASE_FACTS)
def test_evaluate_never_raises_and_keeps_its_invariants(case_facts):
    result = evaluate(case_facts)
    assert result == evaluate(case_facts)  # pure
    for finding in result.findings:
        rule = rule_version(finding.code, finding.version)
        assert rule is not None
        if finding.severity == Severity.DOWNGRADE:
            # A downgrade rests on a rule version whose every part is verified, and on the level of the outcome.
            assert rule.verified, finding
            assert LEVEL_PROBLEMS & set(finding.problems), finding
            assert Problem.FACT_UNKNOWN not in finding.problems, finding
            assert result.expected_min_rank is not None
            assert finding.min_rank is not None
            assert finding.min_rank <= result.expected_min_rank
    # The law applied is the incident's or the later, lighter law of the day the case was (or will be) disposed.
    if case_facts.incident_date is None:
        assert result.law_date is None
        assert result.findings == ()
    else:
        assert result.law_date in {case_facts.incident_date, judging_date(case_facts)}


@PROPERTY
@given(CASE_FACTS)
def test_nothing_but_the_clarification_rule_speaks_before_an_outcome_is_final(case_facts):
    pending = replace(
        case_facts, suspects=tuple(replace(s, disposition=D.UNDER_INVESTIGATION) for s in case_facts.suspects)
    )
    assert {f.code for f in evaluate(pending).findings} <= {"R19"}


@PROPERTY
@given(CASE_FACTS, st.sampled_from(FINALS), st.sampled_from(FINALS))
def test_a_higher_outcome_never_adds_a_below_minimum_finding(case_facts, low, high):
    if RANK[low] > RANK[high]:
        low, high = high, low

    def outcome(disposition: str) -> CaseFacts:
        return replace(case_facts, suspects=(SuspectFacts(id=1, disposition=disposition, decided_on=case_facts.as_of),))

    below_low = {f.code for f in evaluate(outcome(low)).findings if BELOW in f.problems}
    below_high = {f.code for f in evaluate(outcome(high)).findings if BELOW in f.problems}
    assert below_high <= below_low


@PROPERTY
@given(CASE_FACTS, st.sampled_from(FINALS), DATES)
def test_a_case_disposed_on_a_day_expects_what_it_expected_pending_on_that_day(case_facts, disposition, day):
    disposed = replace(case_facts, suspects=(SuspectFacts(id=1, disposition=disposition, decided_on=day),), as_of=None)
    pending = replace(case_facts, suspects=(SuspectFacts(id=1, disposition=D.UNDER_INVESTIGATION),), as_of=day)
    assert evaluate(disposed).expected_min_rank == evaluate(pending).expected_min_rank


# --- Verified behaviour on the boundaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [("2021-02-28", {}), ("2021-03-01", {"R2": [WRONG]})],
)
def test_277_1_for_smashing_a_police_car_is_a_wrong_charge_only_from_amendment_xi(on, expected):
    # Before 2021-03-01 assaulting police was punished under 277(1) [S]: the conviction was the right offence.
    result = evaluate(facts(D.CONVICTED_277_1, on=on, kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT))
    assert problems(result) == expected
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]


@pytest.mark.parametrize(
    ("decided", "expected", "law_date", "rank"),
    [
        # Disposed the day before the Interpretation took effect: the 2020 guidance of its time applies [V: temporal
        # effect provisions Art. 4, a case concluded correctly by the rules of its time].
        ("2025-01-17", {"R1": [BELOW]}, date(2025, 1, 17), RANK[D.CRIMINAL_FILED]),
        # Disposed on the day it took effect: the lighter Interpretation applies (Art. 3) and a fine satisfies R7.
        ("2025-01-18", {}, date(2025, 1, 18), RANK[D.ADMIN_WARNING]),
        # A decision date before the incident is a typing error: the incident's law, never a guess.
        ("2025-01-01", {"R1": [BELOW]}, date(2025, 1, 17), RANK[D.CRIMINAL_FILED]),
    ],
)
def test_the_favourable_law_turns_on_the_day_of_the_decision(decided, expected, law_date, rank):
    result = evaluate(facts(suspects=(suspect(D.ADMIN_FINE, decided=decided),), on="2025-01-17"))
    assert problems(result) == expected
    assert result.law_date == law_date
    assert result.expected_min_rank == rank


def test_an_evaluation_day_before_the_incident_keeps_the_incident_law():
    pending = facts(D.UNDER_INVESTIGATION, on="2025-01-17", as_of=date(2025, 1, 1))
    result = evaluate(pending)
    assert (result.law_date, result.expected_min_rank) == (date(2025, 1, 17), RANK[D.CRIMINAL_FILED])


@pytest.mark.parametrize(
    ("best_decided", "other_decided", "expected", "rank"),
    [
        # The best outcome (detention) was decided under the old law: judged by it, and it fell short.
        ("2025-01-10", "2025-02-10", {"R1": [BELOW]}, RANK[D.CRIMINAL_FILED]),
        # The best outcome was decided after the change: the lighter law, which a detention satisfies.
        ("2025-02-10", "2025-01-10", {}, RANK[D.ADMIN_WARNING]),
    ],
)
def test_with_several_suspects_the_principal_outcome_s_decision_day_picks_the_law(
    best_decided, other_decided, expected, rank
):
    accomplices = (
        suspect(D.ADMIN_DETENTION_6_10, 1, decided=best_decided),
        suspect(D.ADMIN_FINE, 2, decided=other_decided),
    )
    result = evaluate(facts(suspects=accomplices, on="2025-01-05"))
    assert problems(result) == expected
    assert result.expected_min_rank == rank


def test_a_psapl_renumbering_alone_is_not_a_lighter_law():
    # 2025-12-31 obstruction disposed with no action in 2026: both laws expect an administrative punishment, so the
    # law of the incident applies and the finding carries no favourable-law marker.
    result = evaluate(
        facts(suspects=(suspect(D.NO_ACTION, decided="2026-02-01"),), on="2025-12-31", kind=K.OBSTRUCTION)
    )
    assert {f.code: (list(f.problems), f.version) for f in result.findings} == {"R7": ([BELOW], "2025-01-18")}
    assert "favourable_law_from" not in result.finding("R7").facts
    assert result.law_date == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("on", "expected", "rank"),
    [
        # Before 2025 an officer intervening off duty is protected without an injury (PPL Art. 19 [S] + 277 [I]).
        ("2025-01-17", {"R11": [BELOW]}, RANK[D.CRIMINAL_FILED]),
        # From 2025-01-18 a violent attack needs a slight injury (Interp. Art. 1, 7(2) [V]): an administrative
        # punishment is the minimum, and no action is below it.
        ("2025-01-18", {"R7": [BELOW]}, RANK[D.ADMIN_WARNING]),
    ],
)
def test_an_unhurt_intervening_officer_on_both_sides_of_the_interpretation(on, expected, rank):
    result = evaluate(facts(D.NO_ACTION, on=on, officers=(officer(duty=INTERVENING),)))
    assert problems(result) == expected
    assert result.expected_min_rank == rank


@pytest.mark.parametrize("on", ["2025-01-17", "2025-01-18"])
def test_a_slightly_hurt_off_duty_officer_expects_detention_on_both_sides_of_the_interpretation(on):
    # Retaliation for duty against an officer off duty: not assaulting police (Interp. Art. 7(3) [V]); a slight
    # injury is beating under PSAPL Art. 43 [V]: detention. Resting partly on [R] parts, always a prompt.
    hurt = officer(INJ.SLIGHT, duty=OFF_DUTY)
    result = evaluate(facts(D.ADMIN_FINE, on=on, kind=K.RETALIATION_OFF_DUTY, officers=(hurt,)))
    assert problems(result) == {"R10": [BELOW]}
    assert severities(result) == {"R10": "prompt"}
    assert result.expected_min_rank == RANK[D.ADMIN_DETENTION_1_5]


def test_a_277_1_conviction_for_an_injuring_vehicle_attack_is_one_wrong_charge_prompt():
    # R1 (slight injury) and R2 (vehicle, danger) both say "277(5), not 277(1)"; it is said once, as a prompt:
    # both offences carry up to three years [V: CL 277], so the level of the outcome is not below the law.
    result = evaluate(
        facts(
            D.CONVICTED_277_1,
            officers=(officer(INJ.SLIGHT),),
            vehicle_used=True,
            endangered_safety=True,
            could_cause_serious_harm=False,
            intoxicated=True,
        )
    )
    assert problems(result) == {"R2": [WRONG]}
    assert severities(result) == {"R2": "prompt"}
    assert set(result.applied) >= {"R1", "R2"}
    # Drunkenness is not cited as the reason for a lenient outcome: R13 has nothing to say.
    assert "R13" not in result.applied


def test_an_officer_and_an_auxiliary_both_hurt_is_assaulting_police_not_obstruction():
    # Interp. Art. 8 [V]: attacking officers and auxiliaries together is assaulting police, punished more heavily.
    result = evaluate(facts(D.ADMIN_FINE, officers=(officer(INJ.SLIGHT), officer(INJ.SLIGHT, auxiliary=True))))
    assert problems(result) == {"R1": [BELOW], "R6": [BELOW]}
    assert severities(result) == {"R1": "downgrade", "R6": "prompt"}
    assert "auxiliaries_also_attacked" in result.finding("R6").facts["aggravating"]
    assert "R12" not in result.applied


@pytest.mark.parametrize("disposition", [None, D.AWAITING_TRIAL])
def test_an_unknown_deciding_fact_says_nothing_until_an_outcome_is_final(disposition):
    knife = facts(disposition, kind=K.ARMED_ATTACK, weapon=Weapon.CONTROLLED_KNIFE, officers=(officer(INJ.SLIGHT),))
    result = evaluate(knife)
    assert result.findings == ()
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]  # R1, made out; R3's unknown sets nothing


def test_a_lawful_non_prosecution_with_its_administrative_transfer_is_not_flagged():
    # Interp. Art. 10 allows non-prosecution for a minor case; Art. 11 and CPL 177(3) [V] require the transfer.
    decided = suspect(D.CRIMINAL_NON_PROSECUTION, decided="2026-05-01")
    transfer = ReferralFacts(track=Track.ADMINISTRATIVE, referred_on=date(2026, 5, 2))
    lawful = facts(suspects=(decided,), officers=(officer(INJ.SLIGHT),), referrals=(transfer,))
    assert evaluate(lawful).findings == ()
    assert problems(evaluate(replace(lawful, referrals=()))) == {"R9": [TRANSFER]}


def test_a_pending_appraisal_waits_when_the_outcome_could_still_be_enough():
    # A fine is enough if the appraisal finds no injury (R7) and too little if it finds one (R1): wait. Meanwhile
    # an administrative punishment is expected whatever the appraisal shows.
    result = evaluate(facts(D.ADMIN_FINE, officers=(officer(INJ.PENDING_APPRAISAL),)))
    assert (result.findings, result.expected_min_rank) == ((), RANK[D.ADMIN_WARNING])


# --- Defects found in review: fixed ones pin the fix; strict xfails record what is still open ------------------


@pytest.mark.parametrize("injury", [INJ.NOT_APPRAISED, INJ.PENDING_APPRAISAL])
def test_no_action_for_an_attack_with_the_injury_unappraised_is_below_any_minimum(injury):
    # Whatever the appraisal shows, a violent attack on an officer on duty calls at least for an administrative
    # punishment: a criminal case with a slight injury (Interp. Art. 1(1) [V]), otherwise obstruction punished under
    # PSAPL Art. 50 (Interp. Art. 7(1) [V], minimum level [I]). "Wait for the appraisal" is moot for an outcome below
    # the lowest of the possible minimums, and "not appraised" has nothing to wait for. Today: no finding at all.
    # Confidence: I (the R7 minimum is the office's reading; the silence on a final "no action" is the defect).
    result = evaluate(facts(D.NO_ACTION, officers=(officer(injury),)))
    assert result.finding("R7") is not None
    assert result.finding("R7").problems == (BELOW,)
    assert result.finding("R7").min_rank == RANK[D.ADMIN_WARNING]


def test_the_later_law_is_not_lighter_just_because_a_deciding_fact_is_unknown():
    # A 2024 attack, appraisal pending, closed with no action in mid-2025. The 2020 guidance of the incident's time
    # needs no injury (criminal case expected, R1 [S]); the 2025 Interpretation expects the same if the appraisal
    # finds a slight injury. The temporal-effect provisions apply the new interpretation only where it *is* more
    # favourable (Art. 3 [V]); here that is not shown. Today the engine picks the 2025 law because it "expects
    # nothing" while the appraisal is pending, and says nothing; the same facts without a decision date get R1.
    # Confidence: I (comparing by the minimum is the office's reading; an unknown fact must not decide it).
    closed = facts(suspects=(suspect(D.NO_ACTION, decided="2025-06-01"),), on="2024-06-01")
    closed = replace(closed, officers=(officer(INJ.PENDING_APPRAISAL),))
    result = evaluate(closed)
    assert result.law_date == date(2024, 6, 1)
    assert problems(result) == {"R1": [BELOW]}


def test_intoxication_does_not_make_an_unknown_danger_a_downgrade():
    # Attack on a police car, whether it endangered anyone unknown, attacker drunk, closed with detention. Interp.
    # Art. 1(2) [V] needs a danger to personal safety for this to be assaulting police; Art. 5 [V] only says being
    # drunk does not lower the qualification, it does not supply the danger. R2 rightly prompts to establish the
    # danger; R13 borrows R2's unfinished trigger as if made out and reports a verified downgrade (min rank 9).
    # Confidence: V.
    drunk = facts(D.ADMIN_DETENTION_6_10, kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT, intoxicated=True)
    result = evaluate(drunk)
    assert result.downgrades == ()
    assert result.expected_min_rank == RANK[D.ADMIN_WARNING]
    assert problems(result)["R2"] == [UNKNOWN]


def test_a_knife_attack_able_to_kill_is_not_below_the_violent_attack_threshold():
    # Controlled knife, able to cause serious injury or death, nobody hurt, no action. Interp. Art. 2(1) [V] makes it
    # a violent attack in the 3-7 year bracket (no injury is needed for that clause [S: commentary]); R3 says so.
    # R7 adds a finding whose facts say "below_violent_attack_threshold": the two findings contradict each other.
    # Confidence: V (Art. 2) / S (the no-injury reading of the aggravated clause).
    knife = facts(D.NO_ACTION, kind=K.ARMED_ATTACK, weapon=Weapon.CONTROLLED_KNIFE, could_cause_serious_harm=True)
    result = evaluate(knife)
    assert problems(result) == {"R3": [BELOW]}


def test_an_intervening_officer_hurt_beside_an_unhurt_colleague_on_duty_is_assaulted():
    # An off-duty officer intervening in an emergency is treated as on duty (Interp. Art. 7(2) [V]); he suffered a
    # slight injury, which makes out a violent attack (Art. 1(1) [V]): a criminal case is the minimum. Because an
    # unhurt officer on duty was also attacked, R11 (needs nobody on duty) and R1 (reads only the on-duty victims)
    # both miss it and only R7 (administrative) applies, so a fine passes unremarked. Alone, the same officer gets an
    # R11 downgrade. Confidence: V.
    result = evaluate(facts(D.ADMIN_FINE, officers=(officer(), officer(INJ.SLIGHT, duty=INTERVENING))))
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]
    assert any(BELOW in f.problems and f.severity == Severity.DOWNGRADE for f in result.findings)


def test_an_auxiliary_hurt_beside_an_unhurt_intervening_officer_is_obstruction_not_assault():
    # The engine's own per-victim reading (facts.assault_victims, Interp. Art. 8 [V]): only regular officers' harm
    # makes out assaulting police; an auxiliary hurt beside an unhurt officer on duty gives R12 (277(1)), a prompt.
    # With the unhurt officer off duty and intervening (treated as on duty, Art. 7(2)), violent_attack_2025 finds no
    # regular officer on duty, falls back to the auxiliary and reports R1 as a verified downgrade, and R6.
    # Confidence: I (the per-victim reading is the office's; the inconsistency between the two duty states is not).
    mixed = (officer(INJ.SLIGHT, auxiliary=True), officer(duty=INTERVENING))
    result = evaluate(facts(D.ADMIN_FINE, officers=mixed))
    assert problems(result) == {"R12": [BELOW]}
    assert result.downgrades == ()


def test_277_1_for_an_intervening_officer_between_2021_and_2025_is_a_wrong_charge_prompt():
    # From 2021-03-01 assaulting police is its own offence (CL 277(5) [V]). R11's pre-2025 version treats the
    # intervening officer as performing official duty (PPL Art. 19 [S] read with 277 [I]) and its basis cites 277(5)
    # from 2021-03-01, yet only R1 and R2 carry the wrong-charge prompt in that period. The same facts with the officer
    # on duty give R1 [wrong_charge]. Confidence: I (rests on the S+I reading of R11 itself).
    hurt = officer(INJ.SLIGHT, duty=INTERVENING)
    assert problems(evaluate(facts(D.CONVICTED_277_1, on="2023-06-01", officers=(officer(INJ.SLIGHT),)))) == {
        "R1": [WRONG]
    }
    result = evaluate(facts(D.CONVICTED_277_1, on="2023-06-01", officers=(hurt,)))
    assert problems(result) == {"R11": [WRONG]}
    assert severities(result) == {"R11": "prompt"}


def test_an_administrative_punishment_after_non_prosecution_is_not_a_downgrade():
    # Criminal case filed, not prosecuted as minor (Interp. Art. 10 [V]), transferred and punished with detention
    # (Art. 11, CPL 177(3) [V]); the supervisor records the detention as the suspect's disposition, with the reason.
    # That is exactly the handling the law prescribes, but the engine compares only the current disposition (rank 7)
    # with R1's criminal case (rank 9) and reports a verified downgrade. The record's history shows the criminal case.
    # Confidence: V for the law; I for how the record shows it.
    after_transfer = suspect(
        D.ADMIN_DETENTION_6_10,
        decided="2026-06-01",
        history=(D.UNDER_INVESTIGATION, D.CRIMINAL_FILED, D.CRIMINAL_NON_PROSECUTION),
        lowered_reason="Not prosecuted; transferred for administrative punishment",
    )
    # The transfer is recorded for this suspect (a transfer for administrative punishment, cases.services.handling).
    transfer = ReferralFacts(track=Track.ADMINISTRATIVE, referred_on=date(2026, 5, 20), suspect=1)
    result = evaluate(facts(suspects=(after_transfer,), officers=(officer(INJ.SLIGHT),), referrals=(transfer,)))
    assert result.downgrades == ()


def test_a_case_partly_decided_is_still_judged_by_the_day_it_will_be_disposed():
    # A no-injury kick on 2025-01-17, evaluated in December 2026. With both suspects pending the engine expects what
    # the lighter 2025 law expects (an administrative punishment, rank 4); once one is fined and the other is still
    # at large, judging_date returns None and the expectation jumps back to a criminal case (rank 9), though the case
    # can only be disposed after the change. The case is not yet disposed: as_of should decide, as when all pend.
    # Confidence: I (the engine's own favourable-law reading, applied consistently).
    both_pending = (suspect(D.UNDER_INVESTIGATION, 1), suspect(D.AT_LARGE, 2, status=SuspectStatus.AT_LARGE))
    one_decided = (suspect(D.ADMIN_FINE, 1, decided="2026-03-01"), both_pending[1])
    pending = facts(suspects=both_pending, on="2025-01-17", as_of=date(2026, 12, 6))
    assert evaluate(pending).expected_min_rank == RANK[D.ADMIN_WARNING]
    assert evaluate(replace(pending, suspects=one_decided)).expected_min_rank == RANK[D.ADMIN_WARNING]


def test_serious_police_fault_removes_the_criminal_case_not_the_administrative_punishment():
    # Interp. Art. 4 [V]: serious police fault means the act is generally not treated as a crime. With no injury the
    # engine expects R7's administrative punishment; with a slight injury R1 is suppressed and R7 does not apply
    # (the violent-attack threshold counts as met), so nothing at all is expected. More harm may not expect less.
    # Confidence: I (whether an administrative punishment survives serious fault is the office's reading; the
    # inversion is a defect either way).
    unhurt = facts(D.NO_ACTION, fault_finding=SERIOUS_FOUND)
    assert problems(evaluate(unhurt)) == {"R7": [BELOW]}
    hurt = evaluate(replace(unhurt, officers=(officer(INJ.SLIGHT),)))
    assert hurt.expected_min_rank == RANK[D.ADMIN_WARNING]
    assert problems(hurt) == {"R7": [BELOW]}


def test_serious_police_fault_does_not_excuse_killing_the_officer():
    # Interp. Art. 4 as summarised in research/domain.md §2.3: serious fault means generally not a crime of assaulting
    # police, but where serious consequences follow the attacker is prosecuted, leniently. R14 silences only the rules
    # that expect assaulting police, never R5: an officer's death closed with a fine still expects the heavier
    # offence. Confidence: S (the summary of a V text; the article was not quoted verbatim) and I (R14's scope).
    killed = facts(D.ADMIN_FINE, officers=(officer(INJ.DEATH),), fault_finding=SERIOUS_FOUND)
    result = evaluate(killed)
    assert result.expected_min_rank == RANK[D.CONVICTED_SERIOUS]
    assert problems(result) == {"R5": [BELOW]}


def test_a_vehicle_driven_at_officers_prompts_for_the_danger_whatever_the_incident_type():
    # The rules are to read facts, not the type (downgrade.py docstring; Interp. Art. 1(2), 2(2) [V]). A vehicle driven
    # at officers, danger unknown, could not have killed, fined: typed "vehicle ramming" R2 prompts to establish the
    # danger; typed "violent attack" with vehicle_used=True it says nothing. Confidence: I.
    typed_ramming = facts(D.ADMIN_FINE, kind=K.VEHICLE_RAMMING, vehicle_used=True, could_cause_serious_harm=False)
    assert problems(evaluate(typed_ramming)) == {"R2": [UNKNOWN]}
    assert problems(evaluate(replace(typed_ramming, kind=K.VIOLENT_ATTACK))) == {"R2": [UNKNOWN]}


def test_no_danger_to_safety_settles_that_it_could_not_cause_serious_harm():
    # "Enough to cause serious injury or death" (Interp. Art. 2 [V]) presupposes a danger to personal safety. The
    # record says the ramming did not endanger anyone's safety; R3 still prompts to establish whether it could have
    # killed. Confidence: I.
    rammed = facts(D.ADMIN_DETENTION_6_10, kind=K.VEHICLE_RAMMING, endangered_safety=False)
    assert problems(evaluate(rammed)) == {}


def test_before_amendment_xi_whether_a_ramming_could_kill_changes_nothing():
    # Before 2021-03-01 there was no 3-7 year bracket: R3's minimum is a criminal case [S], the same as R1's, which
    # already applies and already reports the shortfall. The prompt to establish could_cause_serious_harm is moot
    # (the engine drops such prompts "once the outcome is high enough"; here no answer can change what is expected).
    # Confidence: I.
    rammed = facts(D.NO_ACTION, on="2021-02-28", kind=K.VEHICLE_RAMMING)
    assert problems(evaluate(rammed)) == {"R1": [BELOW]}


def test_a_sentence_passed_before_the_2020_guidance_is_not_held_to_it():
    # The "generally no probation" rule comes from the SPC/SPP/MPS guidance issued 2020-01-10 [S]. A 2019 attack on
    # two officers sentenced with probation in October 2019 could not follow a document that did not yet exist; the
    # R6 probation prompt is anachronistic. Confidence: S (date of the guidance from secondary sources).
    sentenced = suspect(D.CONVICTED_277_1, probation=True, decided="2019-10-01")
    result = evaluate(facts(suspects=(sentenced,), on="2019-05-01", officers=(officer(), officer())))
    assert problems(result) == {}


def test_probation_after_an_aggravated_attack_on_a_police_car_is_prompted():
    # Smashing the police car two officers sat in, endangering them, is assaulting police (Interp. Art. 1(2) [V]);
    # attacking two or more officers is an aggravating circumstance (Art. 3(4) [V]); the no-probation rule is the
    # guidance's [S]. R6 only builds on R1 and R11, so the probation prompt is missing. Confidence: V / S.
    on_probation = suspect(D.CONVICTED_277_5_BASIC, probation=True)
    car = facts(
        suspects=(on_probation,),
        kind=K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
        endangered_safety=True,
        officers=(officer(), officer()),
    )
    assert problems(evaluate(car)) == {"R6": [PROBATION]}


def test_a_minor_injury_to_an_off_duty_officer_calls_for_a_criminal_case_beside_an_on_duty_colleague():
    # A minor injury (轻伤) intentionally caused is intentional injury, CL 234(1) [V], whatever the victim's duty; the
    # engine says so alone (R10: criminal case) but, with an unhurt officer on duty also attacked, R10 does not apply
    # and only R7's administrative punishment is expected. Confidence: R (轻伤 as the usual threshold of 234 is
    # standard doctrine not read verbatim, research/domain.md §3).
    victims = (officer(INJ.MINOR_2, duty=OFF_DUTY), officer())
    result = evaluate(facts(D.ADMIN_FINE, officers=victims))
    assert result.expected_min_rank == RANK[D.CRIMINAL_FILED]
