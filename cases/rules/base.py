"""The shapes every rule shares: source tags, rule versions, suppressions, triggers and findings.

A rule is data plus one small predicate. The predicate only says whether the rule's *preconditions* hold for a
case and which facts made them hold; comparing the case's outcome with what the rule expects is done by the
engine (``cases.rules.engine``) from the rule's declared fields, so every rule is judged the same way.

Confidence tags follow ``research/domain.md`` §0: ``V`` verified from a primary text, ``S`` a secondary source,
``R`` an unverified recollection, ``B`` the project brief, ``I`` an inference or design choice. A rule is
``verified`` only when every part it rests on is ``V``; the interface must never present an unverified rule as
the law.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.rules.facts import CaseFacts


class Tag(StrEnum):
    VERIFIED = "V"
    SECONDARY = "S"
    RECOLLECTION = "R"
    BRIEF = "B"  # from the project's brief (the 2022 "three years" article), not independently found
    INFERENCE = "I"


@dataclass(frozen=True)
class Source:
    """One part of a rule and how well it is sourced."""

    part: Promise | str
    tag: Tag


class Severity(StrEnum):
    """How firmly a finding says the handling fell short.

    ``DOWNGRADE``: the outcome is below the minimum (or the sentence below the bracket) that verified law calls for.
    ``PROMPT``: a review prompt: a practice or guidance expectation, a wrong label on an adequate outcome, a
    procedure step, a fact to establish, or anything resting on unverified material. Prompts are counted apart from
    downgrades everywhere (queue, API, reports).
    """

    DOWNGRADE = "downgrade"
    PROMPT = "prompt"


class Problem(StrEnum):
    """What is wrong with a case's handling, as found by a rule."""

    BELOW_MINIMUM = "below_minimum"
    WRONG_CHARGE = "wrong_charge"
    SENTENCE_BELOW_BRACKET = "sentence_below_bracket"
    PROBATION_DESPITE_AGGRAVATION = "probation_despite_aggravation"
    MEDIATION_OF_ATTACK = "mediation_of_attack"
    NO_ADMINISTRATIVE_TRANSFER = "no_administrative_transfer"
    NO_CLARIFICATION = "no_clarification"
    LOWERED_WITHOUT_REASON = "lowered_without_reason"
    FACT_UNKNOWN = "fact_unknown"
    INTOXICATION_AS_REASON = "intoxication_as_reason"
    FAULT_NOT_FOUND = "fault_not_found"


# Problems about the level of the outcome: only these can make a finding a downgrade.
LEVEL_PROBLEMS = frozenset({Problem.BELOW_MINIMUM, Problem.SENTENCE_BELOW_BRACKET})


PROBLEM_TEXT: dict[str, Promise] = {
    Problem.BELOW_MINIMUM: _("The recorded outcome ranks below the minimum the facts call for."),
    Problem.WRONG_CHARGE: _("The offence applied is lighter than the one the facts call for."),
    Problem.SENTENCE_BELOW_BRACKET: _("The sentence is below the bracket the facts call for."),
    Problem.PROBATION_DESPITE_AGGRAVATION: _("Probation was granted although aggravating circumstances are recorded."),
    Problem.MEDIATION_OF_ATTACK: _("Mediation was used for an attack on or obstruction of an officer on duty."),
    Problem.NO_ADMINISTRATIVE_TRANSFER: _(
        "A suspect was not prosecuted or was exempted, and no transfer for administrative punishment is recorded."
    ),
    Problem.NO_CLARIFICATION: _("The complaint was found untrue, but no clarification notice has been delivered."),
    Problem.LOWERED_WITHOUT_REASON: _("A disposition was lowered during handling without a recorded reason."),
    Problem.FACT_UNKNOWN: _("A fact that decides what the law calls for is not recorded: establish it."),
    Problem.INTOXICATION_AS_REASON: _(
        "A lenient outcome was recorded as reached because the attacker was drunk, which does not lessen an attack "
        "on police."
    ),
    Problem.FAULT_NOT_FOUND: _("Police fault is cited for a lenient outcome, but no fault finding is recorded."),
}


@dataclass(frozen=True)
class Trigger:
    """The facts that made a rule's preconditions hold; ``min_rank`` overrides the rule's when it depends on them.

    ``unknown`` names facts that decide the rule but are not recorded: every other precondition holds, so the
    engine prompts to establish them (Problem.FACT_UNKNOWN) instead of staying silent, and the rule's minimum is
    not expected until they are known.
    """

    facts: dict[str, Any]
    min_rank: int | None = None
    unknown: tuple[str, ...] = ()
    # Facts still to be established (an injury appraisal) that could raise what is expected; the minimum holds
    # whatever they turn out to be, but a later law cannot be shown to be lighter until they are known.
    pending: tuple[str, ...] = ()

    @property
    def made_out(self) -> bool:
        return not self.unknown


def made_out(trigger: "Trigger | None") -> bool:
    """The rule's preconditions are shown, not merely possible."""
    return trigger is not None and trigger.made_out


Predicate = Callable[[CaseFacts], Trigger | None]
Check = Callable[[CaseFacts], list[tuple[Problem, dict[str, Any]]]]


@dataclass(frozen=True)
class Dated:
    effective_from: date | None
    effective_to: date | None  # inclusive: the last incident date the version covers

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    @property
    def version(self) -> str:
        """Stable label of this version: the first incident date it covers."""
        return self.effective_from.isoformat() if self.effective_from else "-"


@dataclass(frozen=True)
class Suppression(Dated):
    """Facts that make a rule's flag inappropriate (auxiliary-only victims, serious police fault)."""

    code: str
    title: Promise
    basis: Promise
    sources: tuple[Source, ...]
    applies: Predicate

    @property
    def verified(self) -> bool:
        return all(s.tag == Tag.VERIFIED for s in self.sources)


@dataclass(frozen=True)
class Rule(Dated):
    """One version of a rule, in force for incidents between ``effective_from`` and ``effective_to``.

    ``min_rank`` is the lowest acceptable rank on the disposition ladder (``cases.choices.DISPOSITION_RANK``);
    ``wrong_charges`` are final dispositions that are too light even where their rank is high enough (277(1)
    recorded where 277(5) applies); ``check`` is for rules that do not compare ranks at all.
    """

    code: str
    title: Promise
    basis: Promise
    sources: tuple[Source, ...]
    applies: Predicate
    min_rank: int | None = None
    wrong_charges: frozenset[str] = frozenset()
    min_sentence_months: int | None = None
    discourage_probation: bool = False
    check: Check | None = None
    suppressed_by: tuple[str, ...] = ()
    # Rules that are prompts about procedure rather than the level of the outcome do not set the expected rank.
    sets_expected_rank: bool = True
    # Incident kinds the predicate can hold for (None: any). Only an index for speed: the engine skips the rule
    # for other kinds, and a test checks the predicate never holds outside them.
    kinds: frozenset[str] | None = None
    # A rule that only ever prompts, even on verified law (a practice expectation, a procedure step).
    prompt_only: bool = False

    @property
    def verified(self) -> bool:
        return all(s.tag == Tag.VERIFIED for s in self.sources)

    @property
    def severity(self) -> Severity:
        """Downgrade only where every part is verified and the rule sets a minimum outcome; else a prompt."""
        if self.verified and self.sets_expected_rank and not self.prompt_only:
            return Severity.DOWNGRADE
        return Severity.PROMPT

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted({str(s.tag) for s in self.sources}))


@dataclass(frozen=True)
class Finding:
    """A rule's prompt for one case: the rule (and version), what is wrong, and the facts behind it."""

    code: str
    version: str
    problems: tuple[str, ...]
    min_rank: int | None
    facts: dict[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.PROMPT

    def as_detail(self) -> dict[str, Any]:
        """JSON for ``Flag.detail``: codes and facts only; titles and basis are looked up when shown."""
        return {
            "rule": self.code,
            "version": self.version,
            "severity": str(self.severity),
            "problems": list(self.problems),
            "min_rank": self.min_rank,
            "facts": self.facts,
        }


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...]
    expected_min_rank: int | None
    applied: tuple[str, ...]  # rules whose preconditions hold and are not suppressed
    suppressed: tuple[tuple[str, str], ...]  # (rule code, suppression code)
    # The date whose rule versions were applied: the incident date, or a later date whose law is more
    # favourable to the suspect and was in force when the case was (or will be) disposed.
    law_date: date | None = None
    # Some rule could not yet decide what it calls for (a deciding fact unknown, an appraisal pending).
    undetermined: bool = False

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    @property
    def downgrades(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.DOWNGRADE)

    @property
    def prompts(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.PROMPT)
