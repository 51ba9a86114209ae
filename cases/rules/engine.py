"""Evaluation: ``CaseFacts`` in, findings out. Pure: no database, no clock, no settings.

For each rule in force on the incident date whose preconditions hold and that no suppression silences, the
engine compares the principal outcome with the rule's minimum rank, its too-light offences, its sentence
bracket and its probation stance, then runs the rule's own check if it has one. The expected minimum rank of
the case is the highest minimum among those rules, whether or not the outcome is known yet.
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
    return _rules_in_period(bisect_right(_BOUNDARIES, on), kind)


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


def evaluate(facts: CaseFacts) -> Evaluation:
    """Findings for one case. Without an incident date no rule can be versioned, so nothing applies."""
    if facts.incident_date is None:
        return Evaluation(findings=(), expected_min_rank=None, applied=(), suppressed=())
    on = facts.incident_date
    active: dict[str, Suppression] | None = None  # worked out when a rule first asks
    outcome = principal_outcome(facts)
    findings: list[Finding] = []
    applied: list[str] = []
    suppressed: list[tuple[str, str]] = []
    ranks: list[int] = []
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
        if rule.sets_expected_rank and min_rank is not None:
            ranks.append(min_rank)
        problems, details = _judge(rule, min_rank, outcome, facts)
        if not problems:
            continue
        detail = {"incident_date": on.isoformat(), **trigger.facts, **_outcome_facts(outcome)}
        if details:
            detail["details"] = details
        findings.append(
            Finding(
                code=rule.code,
                version=rule.version,
                problems=tuple(problems),
                min_rank=min_rank,
                facts=detail,
                severity=severity_of(rule, problems),
            )
        )
    return Evaluation(
        findings=tuple(findings),
        expected_min_rank=max(ranks) if ranks else None,
        applied=tuple(applied),
        suppressed=tuple(suppressed),
    )
