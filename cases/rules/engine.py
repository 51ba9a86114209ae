"""Evaluation: ``CaseFacts`` in, findings out. Pure: no database, no clock, no settings.

For each rule in force on the incident date whose preconditions hold and that no suppression silences, the
engine compares the principal outcome with the rule's minimum rank, its too-light offences, its sentence
bracket and its probation stance, then runs the rule's own check if it has one. The expected minimum rank of
the case is the highest minimum among those rules, whether or not the outcome is known yet.

Two refinements: a rule whose preconditions hold except for an unrecorded fact that decides it prompts to
establish the fact (``Trigger.unknown``); and the law of a later period applies where it is more favourable to the
suspect and was in force when the case was disposed (``evaluate``).
"""

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from cases.choices import DISPOSITION_RANK, Disposition
from cases.rules.base import LEVEL_PROBLEMS, Evaluation, Finding, Problem, Rule, Severity, Suppression
from cases.rules.downgrade import RANK_RULES, SUPPRESSIONS
from cases.rules.facts import CaseFacts, Outcome, principal_outcome
from cases.rules.procedure import PROCEDURE_RULES

RULES: tuple[Rule, ...] = RANK_RULES + PROCEDURE_RULES
CONVICTED = DISPOSITION_RANK[Disposition.CONVICTED_277_1]


def rules_in_force(on: date) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.in_force(on))


# The dates at which some rule version starts or stops: between two of them the same versions are in force.
_BOUNDARIES = sorted(
    {r.effective_from for r in (*RULES, *SUPPRESSIONS) if r.effective_from}
    | {r.effective_to + timedelta(days=1) for r in (*RULES, *SUPPRESSIONS) if r.effective_to}
)


@lru_cache(maxsize=1024)
def _rules_in_period(period: int, kind: str) -> tuple[Rule, ...]:
    on = _BOUNDARIES[period - 1] if period else date.min
    return tuple(r for r in rules_in_force(on) if r.kinds is None or kind in r.kinds)


def _rules_for(on: date, kind: str) -> tuple[Rule, ...]:
    """The rule versions that can apply to an incident of ``kind`` on ``on``, from a cache per legal period (a
    scan over years of incidents asks for a handful of periods, not thousands of dates)."""
    return _rules_in_period(_period(on), kind)


def rule_version(code: str, version: str) -> Rule | None:
    return next((r for r in RULES if r.code == code and r.version == version), None)


def suppression_version(code: str, version: str) -> Suppression | None:
    return next((s for s in SUPPRESSIONS if s.code == code and s.version == version), None)


def _outcome_facts(outcome: Outcome | None) -> dict[str, Any]:
    if outcome is None:
        return {}
    facts: dict[str, Any] = {"outcome": outcome.disposition, "outcome_rank": outcome.rank}
    if outcome.suspect.sentence_months is not None:
        facts["sentence_months"] = outcome.suspect.sentence_months
    return facts


def _judge(rule: Rule, min_rank: int | None, outcome: Outcome | None, facts: CaseFacts) -> tuple[list[str], list]:
    problems: list[str] = []
    details: list[dict[str, Any]] = []
    if outcome is not None and min_rank is not None and outcome.rank < min_rank:
        problems.append(Problem.BELOW_MINIMUM)
    elif outcome is not None and outcome.disposition in rule.wrong_charges:
        problems.append(Problem.WRONG_CHARGE)
    elif (
        outcome is not None
        and rule.min_sentence_months is not None
        and outcome.rank >= CONVICTED
        and outcome.suspect.sentence_months is not None
        and outcome.suspect.sentence_months < rule.min_sentence_months
    ):
        problems.append(Problem.SENTENCE_BELOW_BRACKET)
    if rule.discourage_probation:
        on_probation = [s.id for s in facts.suspects if s.is_final and (s.rank or 0) >= CONVICTED and s.probation]
        if on_probation:
            problems.append(Problem.PROBATION_DESPITE_AGGRAVATION)
            details.append({"probation_suspects": on_probation})
    if rule.check is not None:
        for problem, item in rule.check(facts):
            if problem not in problems:
                problems.append(problem)
            if item:
                details.append(item)
    return problems, details


def severity_of(rule: Rule, problems: list[str]) -> Severity:
    """A downgrade needs a rule that is a downgrade rule and a problem about the level of the outcome."""
    if rule.severity == Severity.DOWNGRADE and LEVEL_PROBLEMS.intersection(problems):
        return Severity.DOWNGRADE
    return Severity.PROMPT


def _meets(rule: Rule, min_rank: int | None, outcome: Outcome | None) -> bool:
    """The recorded outcome already reaches what the rule would call for, whatever the unknown fact turns out."""
    if outcome is None or min_rank is None or outcome.rank < min_rank:
        return False
    months = outcome.suspect.sentence_months
    return rule.min_sentence_months is None or (months is not None and months >= rule.min_sentence_months)


def judging_date(facts: CaseFacts) -> date | None:
    """The day the case was disposed (the principal outcome's decision date) or, not yet disposed, the day it is
    evaluated. None when a final outcome has no decision date: the law of the incident date applies."""
    outcome = principal_outcome(facts)
    if outcome is not None:
        return outcome.suspect.decided_on
    # Not yet disposed (some suspects may be decided, another is pending): it will be disposed after today.
    return facts.as_of


def _period(on: date) -> int:
    return bisect_right(_BOUNDARIES, on)


def _demands(evaluation: Evaluation) -> int:
    return -1 if evaluation.expected_min_rank is None else evaluation.expected_min_rank


def evaluate(facts: CaseFacts) -> Evaluation:
    """Findings for one case. Without an incident date no rule can be versioned, so nothing applies.

    The rule versions are those in force on the incident date, unless the law in force when the case was (or will
    be) disposed is more favourable to the suspect — it calls for a lower minimum outcome — in which case that
    law applies. A case disposed before a change is judged by the law of its time. Basis: the SPC/SPP provisions
    on the temporal effect of criminal judicial interpretations (2001) Art. 3 and 4 [V]; Criminal Law Art. 12 and
    Administrative Punishment Law (2021) Art. 37 state the same for laws [S]; comparing the two laws by the
    minimum outcome they call for is the office's reading [I].
    """
    if facts.incident_date is None:
        return Evaluation(findings=(), expected_min_rank=None, applied=(), suppressed=())
    base = _evaluate_on(facts, facts.incident_date)
    later = judging_date(facts)
    if later is None or later <= facts.incident_date or _period(later) == _period(facts.incident_date):
        return base
    candidate = _evaluate_on(facts, later)
    # A later law is lighter only where that is shown: not while a fact it turns on is still unknown.
    if candidate.undetermined:
        return base
    return candidate if _demands(candidate) < _demands(base) else base


def _evaluate_on(facts: CaseFacts, on: date) -> Evaluation:
    """Findings under the rule versions in force on ``on``, for the facts of the incident."""
    active: dict[str, Suppression] | None = None  # worked out when a rule first asks
    outcome = principal_outcome(facts)
    findings: list[Finding] = []
    applied: list[str] = []
    suppressed: list[tuple[str, str]] = []
    ranks: list[int] = []
    undetermined = False
    to_establish: list[tuple[Finding, Rule]] = []
    favourable = on != facts.incident_date
    for rule in _rules_for(on, facts.kind):
        trigger = rule.applies(facts)
        if trigger is None:
            continue
        if rule.suppressed_by and active is None:
            active = {s.code: s for s in SUPPRESSIONS if s.in_force(on) and s.applies(facts) is not None}
        silencing = [code for code in rule.suppressed_by if active and code in active]
        if silencing:
            suppressed.extend((rule.code, code) for code in silencing)
            continue
        applied.append(rule.code)
        min_rank = trigger.min_rank if trigger.min_rank is not None else rule.min_rank
        undetermined = undetermined or bool(trigger.unknown or trigger.pending)
        if not trigger.made_out:
            # Like every other finding it waits for a final outcome, and is moot once the outcome is high enough.
            if outcome is None or _meets(rule, min_rank, outcome):
                continue
            problems: list[str] = [Problem.FACT_UNKNOWN]
            details: list = [{"unknown": list(trigger.unknown)}]
            severity = Severity.PROMPT
        else:
            if rule.sets_expected_rank and min_rank is not None:
                ranks.append(min_rank)
            problems, details = _judge(rule, min_rank, outcome, facts)
            severity = severity_of(rule, problems)
        if not problems:
            continue
        detail = {"incident_date": str(facts.incident_date), **trigger.facts, **_outcome_facts(outcome)}
        if favourable:
            detail["favourable_law_from"] = rule.version
        if details:
            detail["details"] = details
        finding = Finding(
            code=rule.code,
            version=rule.version,
            problems=tuple(problems),
            min_rank=min_rank,
            facts=detail,
            severity=severity,
        )
        if trigger.made_out:
            findings.append(finding)
        else:
            to_establish.append((finding, rule))
    expected = max(ranks) if ranks else None
    # A fact is worth establishing only if its answer could raise what is already expected.
    findings.extend(
        finding
        for finding, rule in to_establish
        if expected is None or (finding.min_rank or 0) > expected or rule.min_sentence_months is not None
    )
    return Evaluation(
        findings=_without_repeated_charges(findings),
        expected_min_rank=expected,
        applied=tuple(applied),
        suppressed=tuple(suppressed),
        law_date=on,
        undetermined=undetermined,
    )


def _without_repeated_charges(findings: list[Finding]) -> tuple[Finding, ...]:
    """A wrong charge is said once: by the rule that expects the most. R1 ("277(5), not 277(1)") stays silent
    where R3 or R4 already says the same charge is too light, or that the outcome is below a higher minimum."""
    kept = []
    for i, finding in enumerate(findings):
        own = finding.min_rank or 0
        if set(finding.problems) == {Problem.WRONG_CHARGE} and any(
            j != i
            and {Problem.WRONG_CHARGE, Problem.BELOW_MINIMUM} & set(other.problems)
            # A higher minimum, or the same one from a later, more specific rule (R4 after R1).
            and ((other.min_rank or 0) > own or ((other.min_rank or 0) == own and j > i))
            for j, other in enumerate(findings)
        ):
            continue
        kept.append(finding)
    return tuple(kept)
