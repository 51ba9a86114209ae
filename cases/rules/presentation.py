"""How a flag reads to a supervisor: which severity it is and why, the rule's title, its basis, how well the basis is
sourced, what is wrong and the facts that triggered it, all in the user's language.

A rule not verified against a primary text is never shown as the law: ``basis_is_law`` is False and
``caveat`` says so. A downgrade says the outcome is below the minimum verified law calls for; a review prompt says
why it is only a prompt (guidance or practice, a wrong label, a procedure step, a fact to establish, unverified
material). Pages, the API and e-mails build on ``describe_flag`` so they say the same thing.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import (
    DISPOSITION_RANK,
    RULE_FLAG_KINDS,
    CaseStatus,
    Disposition,
    FlagKind,
    IncidentKind,
    InjuryGrade,
    NoSuspectReason,
    Weapon,
)
from cases.rules.base import LEVEL_PROBLEMS, PROBLEM_TEXT, Problem, Rule, Severity, Source, Tag
from cases.rules.engine import rule_version
from cases.rules.facts import FACTS
from cases.rules.operational import OPERATIONAL_RULES, OperationalRule
from rightsguard.text import parse_when, when

if TYPE_CHECKING:
    from cases.models import Flag

TAG_TEXT = {
    Tag.VERIFIED: gettext_lazy("verified from the official text"),
    Tag.SECONDARY: gettext_lazy("from a secondary source"),
    Tag.RECOLLECTION: gettext_lazy("unverified recollection"),
    Tag.BRIEF: gettext_lazy("from the project brief"),
    Tag.INFERENCE: gettext_lazy("the office's inference"),
}
FACT_LABELS = {
    "incident_date": gettext_lazy("Incident date"),
    "kind": gettext_lazy("Incident type"),
    "victims": gettext_lazy("Officers attacked"),
    "worst_injury": gettext_lazy("Worst injury"),
    "endangered_safety": gettext_lazy("Enough to endanger personal safety"),
    "could_cause_serious_harm": gettext_lazy("Enough to cause serious injury or death"),
    "weapon": gettext_lazy("Weapon"),
    "vehicle_used": gettext_lazy("Vehicle used"),
    "aggravating": gettext_lazy("Aggravating circumstances"),
    "below_violent_attack_threshold": gettext_lazy("Below the violent-attack threshold"),
    "off_duty_intervening": gettext_lazy("Off duty, intervening"),
    "auxiliary_only": gettext_lazy("Only auxiliary officers attacked"),
    "intoxicated": gettext_lazy("Attacker intoxicated"),
    "intoxication_cited": gettext_lazy("Suspects whose lenient outcome cites drunkenness"),
    "police_fault_cited": gettext_lazy("Suspects whose lenient outcome cites police fault"),
    "track": gettext_lazy("Track"),
    "status": gettext_lazy("Status"),
    "non_prosecuted_suspects": gettext_lazy("Suspects not prosecuted"),
    "outcome": gettext_lazy("Outcome recorded"),
    "outcome_rank": gettext_lazy("Outcome it counts as"),
    "sentence_months": gettext_lazy("Sentence (months)"),
    "stage": gettext_lazy("Stage"),
    "stage_started_at": gettext_lazy("Stage started"),
    "due_at": gettext_lazy("Due"),
    "last_activity_at": gettext_lazy("Last activity"),
    "days": gettext_lazy("Idle threshold (days)"),
    "referrals": gettext_lazy("Overdue referrals"),
    "details": gettext_lazy("Details"),
    "no_suspect_reason": gettext_lazy("Why no suspect is identified"),
    "unknown": gettext_lazy("Facts to establish"),
    "favourable_law_from": gettext_lazy("Judged under the later, more favourable law in force from"),
    "auxiliaries_hurt": gettext_lazy("Auxiliary officers hurt"),
    "serious_police_fault": gettext_lazy("Police conduct found seriously at fault"),
    "injury_appraised": gettext_lazy("Injury appraised"),
    "probation_suspects": gettext_lazy("Suspects on probation"),
    "suspect": gettext_lazy("Suspect"),
    "decided_on": gettext_lazy("Decided on"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
}
FACT_ORDER = {name: i for i, name in enumerate(FACT_LABELS)}
AGGRAVATING_LABELS = {
    "minor_injury": gettext_lazy("an officer suffered a minor injury"),
    "suspect_escaped": gettext_lazy("a suspect escaped"),
    "evidence_lost": gettext_lazy("key evidence was lost"),
    "others_hurt": gettext_lazy("other people were hurt"),
    "major_property_loss": gettext_lazy("major property loss"),
    "organised_or_incited": gettext_lazy("organised or incited"),
    "two_or_more_officers": gettext_lazy("two or more officers attacked"),
    "auxiliaries_also_attacked": gettext_lazy("auxiliary officers attacked together with officers"),
    "weapon_or_vehicle": gettext_lazy("a weapon or a vehicle was used"),
    "prior_attack_on_police": gettext_lazy("previously punished for attacking police"),
}
CHOICE_LABELS: dict[str, Any] = {
    "kind": IncidentKind,
    "worst_injury": InjuryGrade,
    "weapon": Weapon,
    "outcome": Disposition,
    "stage": CaseStatus,
    "no_suspect_reason": NoSuspectReason,
}
FACT_QUESTION_LABELS = {f.name: f.label for f in FACTS}
RANK_LABEL = {rank: Disposition(code).label for code, rank in DISPOSITION_RANK.items()}
SEVERITY_LABEL = {
    Severity.DOWNGRADE: gettext_lazy("Downgrade"),
    Severity.PROMPT: gettext_lazy("Review prompt"),
}
DOWNGRADE_HEADLINE = gettext_lazy("Downgraded: below the minimum verified law calls for")
# Why a rule finding is a review prompt and not a downgrade.
GUIDANCE, WRONG_LABEL, PROCEDURE, UNVERIFIED, FACT_TO_ESTABLISH = (
    "guidance",
    "wrong_label",
    "procedure",
    "unverified",
    "fact_to_establish",
)
PROMPT_REASONS = {
    GUIDANCE: gettext_lazy("guidance or practice, not a minimum set by law"),
    WRONG_LABEL: gettext_lazy("the outcome is high enough, but under a lighter offence than the facts call for"),
    PROCEDURE: gettext_lazy("a step in how the case was handled, not the level of its outcome"),
    UNVERIFIED: gettext_lazy("the rule rests on material not verified from the official text"),
    FACT_TO_ESTABLISH: gettext_lazy("a fact that decides what the law calls for is not recorded"),
}


def shown_code(code: str) -> str:
    """A rule's code as readers know it (R7, S2); "" for the rules known only by their title (the operational
    flags, the procedure checks), whose codes are the program's."""
    return code if re.fullmatch(r"[RS]\d+[a-z]?", code) else ""


def caveat_for(verified: bool) -> str:
    """What a rule not verified from the official text in every part says of itself: it is not the law."""
    if verified:
        return ""
    return _("Not every part of this rule is verified against the official text: a prompt to check, not the law.")


def rule_anchor(code: str, version: str | None = None) -> str:
    """The fragment of a rule (or one of its versions) on the rule catalogue page."""
    if version is None:
        return f"rule-{code}"
    return f"rule-{code}-{version if version != '-' else 'start'}"


def prompt_reason(rule: Rule | None, problems: Iterable[str]) -> str:
    """Why a finding of ``rule`` with ``problems`` is a review prompt (a key of ``PROMPT_REASONS``)."""
    found = set(problems)
    if found & LEVEL_PROBLEMS:
        # An outcome below the rule's minimum that is still only a prompt: the rule is not a downgrade rule.
        if rule is None or not rule.verified:
            return UNVERIFIED
        return GUIDANCE if rule.prompt_only else PROCEDURE
    if Problem.WRONG_CHARGE in found:
        return WRONG_LABEL
    if Problem.PROBATION_DESPITE_AGGRAVATION in found:
        return GUIDANCE
    if Problem.FACT_UNKNOWN in found:
        return FACT_TO_ESTABLISH
    return PROCEDURE


@dataclass(frozen=True)
class FlagView:
    flag_id: int
    case_id: int
    kind: str
    kind_label: str
    headline: str  # which severity the flag is and why: "Downgraded: …", "Review prompt: …"
    catalogue_anchor: str  # the rule's entry on the rule catalogue page
    rule_code: str
    rule_version: str
    title: str
    basis: str
    basis_is_law: bool
    caveat: str
    sources: tuple[tuple[str, str, str], ...]  # (part, tag, what the tag means)
    problems: tuple[str, ...]
    expected: str | None
    facts: tuple[tuple[str, str], ...]  # (label, value)
    raised_at: datetime
    resolved_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None

    @property
    def shown_code(self) -> str:
        return shown_code(self.rule_code)


# Facts that are moments or days, stored as ISO text in a flag's detail: shown in the reader's date format.
DATE_FACTS = frozenset(
    {"incident_date", "stage_started_at", "due_at", "last_activity_at", "favourable_law_from", "decided_on"}
)
# Internal keys a flag's detail carries for the program, not for the reader.
HIDDEN_FACTS = frozenset({"id"})


def fact_label(name: str) -> str:
    """A fact's label; a name without one reads as words, never as an identifier."""
    label = FACT_LABELS.get(name) or FACT_QUESTION_LABELS.get(name)
    return capfirst(str(label)) if label is not None else capfirst(name.replace("_", " "))


def _value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return _("unknown")
    if name == "outcome_rank" and isinstance(value, int):
        # The ladder's rank is the program's; the reader sees the outcome it stands for.
        return str(RANK_LABEL.get(value, value))
    if name in DATE_FACTS and isinstance(value, str) and parse_when(value) is not None:
        return when(value)
    if name in CHOICE_LABELS and isinstance(value, str):
        try:
            return str(CHOICE_LABELS[name](value).label)
        except ValueError:
            return value
    if name == "aggravating" and isinstance(value, str):
        return str(AGGRAVATING_LABELS.get(value, value))
    if name == "unknown" and isinstance(value, str):
        return str(FACT_QUESTION_LABELS.get(value, value))
    if name in ("from", "to") and isinstance(value, str):
        return _value("outcome", value)
    if isinstance(value, list):
        return ", ".join(_value(name, v) if not isinstance(v, dict) else _item(v) for v in value)
    return str(value)


def _item(item: dict[str, Any]) -> str:
    return "; ".join(f"{fact_label(k)}: {_value(k, v)}" for k, v in item.items() if k not in HIDDEN_FACTS)


def _sources(rule: Rule | OperationalRule | None) -> tuple[Source, ...]:
    return rule.sources if rule is not None else ()


def describe_flag(flag: "Flag") -> FlagView:
    detail = flag.detail or {}
    kind_label = str(FlagKind(flag.kind).label)
    if flag.kind in RULE_FLAG_KINDS:
        found = rule_version(flag.rule_code, detail.get("version", ""))
        rule: Rule | OperationalRule | None = found
        facts = detail.get("facts", {})
        anchor = rule_anchor(flag.rule_code, detail.get("version") if found is not None else None)
        if flag.kind == FlagKind.DOWNGRADED:
            headline = str(DOWNGRADE_HEADLINE)
        else:
            reason = PROMPT_REASONS[prompt_reason(found, detail.get("problems", []))]
            headline = _("Review prompt: %(reason)s") % {"reason": reason}
    else:
        rule = OPERATIONAL_RULES.get(flag.rule_code)
        facts = detail
        anchor = rule_anchor(flag.rule_code)
        headline = kind_label
    verified = rule is not None and rule.verified
    min_rank = detail.get("min_rank")
    return FlagView(
        flag_id=flag.pk,
        case_id=flag.case_id,
        kind=flag.kind,
        kind_label=kind_label,
        headline=headline,
        catalogue_anchor=anchor,
        rule_code=flag.rule_code,
        rule_version=detail.get("version", "-"),
        title=str(rule.title) if rule is not None else flag.rule_code,
        basis=str(rule.basis) if rule is not None else "",
        basis_is_law=verified,
        caveat=caveat_for(verified),
        sources=tuple((str(s.part), str(s.tag), str(TAG_TEXT[s.tag])) for s in _sources(rule)),
        problems=tuple(str(PROBLEM_TEXT[p]) for p in detail.get("problems", []) if p in PROBLEM_TEXT),
        expected=str(RANK_LABEL[min_rank]) if min_rank in RANK_LABEL else None,
        facts=tuple(
            (fact_label(k), _value(k, v))
            # In one order on every database (a JSON column need not keep the order the facts were written in).
            for k, v in sorted(facts.items(), key=lambda item: FACT_ORDER.get(item[0], len(FACT_ORDER)))
            # The outcome's rank is the program's; the outcome it stands for is shown already.
            if k not in HIDDEN_FACTS and not (k == "outcome_rank" and "outcome" in facts)
        ),
        raised_at=flag.raised_at,
        resolved_at=flag.resolved_at,
        acknowledged_by=(flag.acknowledged_by.full_name or flag.acknowledged_by.username)
        if flag.acknowledged_by is not None
        else None,
        acknowledged_at=flag.acknowledged_at,
    )
