"""Rules that turn a case's facts into prompts for a supervisor: downgraded handling and time limits.

A flag raised from these rules is a prompt to look at a case, never a legal verdict. Every rule carries its
legal basis as data together with a confidence tag per part (``research/domain.md`` §0): only a rule whose
every part is verified from a primary text may be presented as the law; anything resting on a secondary
source, a recollection or an inference is shown as such.

Modules, one concern each:

- ``facts``: the frozen input (``CaseFacts`` and its officers, suspects, referrals, findings).
- ``periods``: the dates at which the law changed; rules are versioned by incident date.
- ``downgrade``: facts → the minimum expected outcome (R1–R8, R10–R13, R17, R18) and the suppressions
  (R12 auxiliary officers only, R14 serious police fault).
- ``procedure``: prompts about how the case was handled (R9, R19, R23, lowered without a reason, police fault cited
  for a lenient outcome without a fault finding).
- ``engine``: ``evaluate(facts)``, the pure function the scan and the tests call.
- ``clock`` and ``operational``: stage clocks, warnings at 75 % and at breach, stalled, idle, overdue referrals.
"""

from cases.rules.base import Evaluation, Finding, Problem, Rule, Severity, Source, Suppression, Tag, Trigger
from cases.rules.clock import WARNING_FRACTION, StageClock
from cases.rules.engine import RULES, evaluate, rule_version, rules_in_force, suppression_version
from cases.rules.facts import CaseFacts, FaultFindingFacts, OfficerFacts, ReferralFacts, SuspectFacts
from cases.rules.operational import IDLE, OPERATIONAL_RULES, REFERRAL_OVERDUE, STALLED, OperationalRule, idle_days

__all__ = [
    "IDLE",
    "OPERATIONAL_RULES",
    "REFERRAL_OVERDUE",
    "RULES",
    "STALLED",
    "WARNING_FRACTION",
    "CaseFacts",
    "Evaluation",
    "FaultFindingFacts",
    "Finding",
    "OfficerFacts",
    "OperationalRule",
    "Problem",
    "ReferralFacts",
    "Rule",
    "Severity",
    "Source",
    "StageClock",
    "Suppression",
    "SuspectFacts",
    "Tag",
    "Trigger",
    "evaluate",
    "idle_days",
    "rule_version",
    "rules_in_force",
    "suppression_version",
]
