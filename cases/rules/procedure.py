"""Procedure rules: prompts about *how* a case was handled rather than the level of its outcome.

- R9: a suspect not prosecuted or exempted from punishment must be transferred for administrative punishment
  where needed; the transfer shows as the suspect's transfer (a referral on the administrative track recorded
  during supervision), or, as recorded before, an administrative-track referral on or after the decision, or a
  rectified supervision finding says the office dealt with it. A suspect administratively punished after the
  non-prosecution is still asked for the transfer.
- R19: an untrue complaint (no intent to frame) calls for no sanction but for clearing the officer's name:
  once the case is concluded, a delivered clarification notice is expected.
- R23: police mediation is for private disputes; an attack on or obstruction of an officer on duty is not one,
  so mediating it is always a prompt.
- LOWERED: a disposition lower than one recorded before for the same suspect needs a recorded reason. The
  service refuses a direct lowering without one, but a detour through a pending state (convicted → appeal
  pending → fine) would otherwise pass unexplained. An administrative punishment after a non-prosecution and a
  recorded transfer counts at the non-prosecution (``facts.counted_disposition``): not a lowering.
- FAULT_CITED: a lenient outcome recorded as reached because of police fault needs the fault finding on record.

None of them sets the expected rank, and pending dispositions never count.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.choices import (
    DISPOSITION_RANK,
    CaseStatus,
    Disposition,
    FindingProblem,
    IncidentKind,
    LenientReason,
    PoliceFault,
    SupportKind,
    Track,
)
from cases.rules.base import Problem, Rule, Source, Tag, Trigger
from cases.rules.downgrade import ATTACK_KINDS, EQUIPMENT_KINDS, MINOR_KINDS, OBSTRUCTION_KINDS
from cases.rules.facts import (
    CaseFacts,
    SuspectFacts,
    after_non_prosecution,
    counted_rank,
    intervening,
    on_duty,
    transferred,
)

V, S, B, INFER = Tag.VERIFIED, Tag.SECONDARY, Tag.BRIEF, Tag.INFERENCE
D = Disposition
ON_SCENE_KINDS = ATTACK_KINDS | EQUIPMENT_KINDS | OBSTRUCTION_KINDS | MINOR_KINDS
CONCLUDED = frozenset({CaseStatus.LOOK_BACK, CaseStatus.CLOSED})
LOWERED_CHARGE = "LOWERED"
FAULT_CITED = "FAULT_CITED"

Items = list[tuple[Problem, dict[str, Any]]]


def _non_prosecuted(facts: CaseFacts) -> list[SuspectFacts]:
    """Suspects not prosecuted or exempted: still so, or administratively punished since."""
    return [s for s in facts.suspects if s.disposition == D.CRIMINAL_NON_PROSECUTION or after_non_prosecution(s)]


def non_prosecuted(facts: CaseFacts) -> Trigger | None:
    ids = [s.id for s in _non_prosecuted(facts)]
    return Trigger({"non_prosecuted_suspects": ids}) if ids else None


def missing_transfer(facts: CaseFacts) -> Items:
    if FindingProblem.NO_TRANSFER_AFTER_NON_PROSECUTION in facts.rectified_findings:
        return []
    items: Items = []
    for s in _non_prosecuted(facts):
        # The suspect's own transfer; or, as recorded before transfers named a suspect, an administrative-track
        # referral of the case on or after the decision.
        done = transferred(facts, s) or any(
            r.suspect is None
            and r.track == Track.ADMINISTRATIVE
            and (s.decided_on is None or r.referred_on >= s.decided_on)
            for r in facts.referrals
        )
        if not done:
            decided = s.decided_on.isoformat() if s.decided_on else None
            items.append((Problem.NO_ADMINISTRATIVE_TRANSFER, {"suspect": s.id, "decided_on": decided}))
    return items


def concluded_untrue_complaint(facts: CaseFacts) -> Trigger | None:
    if facts.kind == IncidentKind.UNTRUE_COMPLAINT and facts.status in CONCLUDED:
        return Trigger({"kind": facts.kind, "status": facts.status})
    return None


def missing_clarification(facts: CaseFacts) -> Items:
    done = SupportKind.CLARIFICATION_NOTICE in facts.support_delivered
    if done or FindingProblem.NO_CLARIFICATION in facts.rectified_findings:
        return []
    return [(Problem.NO_CLARIFICATION, {})]


def attack_on_duty(facts: CaseFacts) -> Trigger | None:
    victims = on_duty(facts) + intervening(facts)
    if facts.kind in ON_SCENE_KINDS and victims:
        return Trigger({"kind": facts.kind, "victims": len(victims)})
    return None


def mediated(facts: CaseFacts) -> Items:
    return [(Problem.MEDIATION_OF_ATTACK, {"suspect": s.id}) for s in facts.suspects if s.disposition == D.MEDIATION]


def has_final_disposition(facts: CaseFacts) -> Trigger | None:
    return Trigger({}) if any(s.is_final for s in facts.suspects) else None


def lowered_without_reason(facts: CaseFacts) -> Items:
    items: Items = []
    for s in facts.suspects:
        # Compared at the rank the suspect counts at: an administrative punishment after a non-prosecution and a
        # recorded transfer is its lawful follow-on, not a lowering.
        rank = counted_rank(facts, s)
        if not s.is_final or s.lowered_reason.strip() or rank is None:
            continue
        earlier = [d for d in s.history if d in DISPOSITION_RANK]
        if not earlier:
            continue
        peak = max(earlier, key=DISPOSITION_RANK.__getitem__)
        if DISPOSITION_RANK[peak] > rank:
            items.append((Problem.LOWERED_WITHOUT_REASON, {"suspect": s.id, "from": peak, "to": s.disposition}))
    return items


def police_fault_cited(facts: CaseFacts) -> Trigger | None:
    ids = [s.id for s in facts.suspects if s.cites(LenientReason.POLICE_FAULT)]
    return Trigger({"police_fault_cited": ids}) if ids else None


def fault_finding_recorded(facts: CaseFacts) -> bool:
    """Whether the legal-affairs department's finding of police fault is on the record: the current finding
    (cases.models.FaultFinding) finds some fault and was recorded from the department's finding, not carried over
    from the case record's former field. A finding of no fault leaves the cited reason without support."""
    found = facts.fault_finding
    return found is not None and not found.carried_over and found.finding != PoliceFault.NONE


def fault_not_found(facts: CaseFacts) -> Items:
    if fault_finding_recorded(facts):
        return []
    return [(Problem.FAULT_NOT_FOUND, {"suspect": s.id}) for s in facts.suspects if s.cites(LenientReason.POLICE_FAULT)]


PROCEDURE_RULES: tuple[Rule, ...] = (
    Rule(
        effective_from=None,
        effective_to=None,
        code="R9",
        title=_("Non-prosecution without a transfer for administrative punishment"),
        basis=_(
            "Criminal Procedure Law (2018) Art. 177 para 3; Interpretation 〔2025〕1号 Art. 11 "
            "for incidents from 2025-01-18"
        ),
        sources=(
            Source(_("People not prosecuted or exempted are transferred for administrative punishment"), V),
            Source(
                _(
                    "The transfer shows as the suspect's recorded transfer, or an administrative-track referral after "
                    "the decision"
                ),
                INFER,
            ),
        ),
        applies=non_prosecuted,
        check=missing_transfer,
        sets_expected_rank=False,
    ),
    Rule(
        effective_from=None,
        effective_to=None,
        code="R19",
        title=_("Untrue complaint without a clarification notice"),
        basis=_("Criminal Law Art. 243 para 3 (mistaken accusations are not a crime); clarification practice"),
        sources=(
            Source(_("A mistaken or inaccurate complaint is not false accusation: no sanction"), V),
            Source(_("The officer's name is cleared with a written clarification notice"), S),
        ),
        applies=concluded_untrue_complaint,
        check=missing_clarification,
        sets_expected_rank=False,
        kinds=frozenset({IncidentKind.UNTRUE_COMPLAINT}),
    ),
    Rule(
        effective_from=None,
        effective_to=None,
        code="R23",
        title=_("Mediation of an attack on or obstruction of an officer on duty"),
        basis=_("MPS Provisions on Procedures for Handling Administrative Cases (2019) Art. 178 and Art. 179"),
        sources=(
            Source(_("Police mediation is limited to violations arising from private disputes"), V),
            Source(_("An attack on or obstruction of an officer on duty is not a private dispute"), INFER),
        ),
        applies=attack_on_duty,
        check=mediated,
        sets_expected_rank=False,
        kinds=ON_SCENE_KINDS,
    ),
    Rule(
        effective_from=None,
        effective_to=None,
        code=LOWERED_CHARGE,
        title=_("Disposition lowered during handling without a recorded reason"),
        basis=_("Supervision of downgraded handling (lowered charges); the office's recording rule"),
        sources=(
            Source(_("Supervision looks for handling that was downgraded"), B),
            Source(_("A lowered disposition needs a recorded reason"), INFER),
        ),
        applies=has_final_disposition,
        check=lowered_without_reason,
        sets_expected_rank=False,
    ),
    Rule(
        effective_from=None,
        effective_to=None,
        code=FAULT_CITED,
        title=_("Police fault cited for a lenient outcome without a fault finding"),
        basis=_(
            "Interpretation 〔2025〕1号 Art. 4 (the degree of police fault is weighed) for incidents from 2025-01-18; "
            "the office's recording rule"
        ),
        sources=(
            Source(_("Police fault is weighed in deciding whether and how an attack on police is punished"), V),
            Source(
                _("Fault relied on for a lenient outcome is found by the legal-affairs department and recorded"), INFER
            ),
        ),
        applies=police_fault_cited,
        check=fault_not_found,
        sets_expected_rank=False,
        prompt_only=True,
    ),
)
