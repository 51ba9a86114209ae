"""The rule catalogue: every rule the flags come from, as users read it, built from the rules themselves.

Nothing here is a second copy of the law: each entry is read from ``RULES`` and ``SUPPRESSIONS``
(``cases.rules.engine``) and ``OPERATIONAL_RULES``, so the page, the API and the flags cannot disagree. For each rule
code, every version with the incident dates it covers, its severity (downgrade or review prompt), title, basis and
each source part with its confidence tag in words; for each suppression, the rules it silences. A version not
verified from the official text in every part carries a caveat: it is a prompt to check, never the law.

Pure: no database, no clock. Texts are resolved in the active language when ``rule_catalogue()`` is called.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from cases.choices import Disposition, FlagKind
from cases.rules.base import Dated, Rule, Severity, Source, Suppression
from cases.rules.engine import RULES, SUPPRESSIONS
from cases.rules.operational import OPERATIONAL_RULES, OperationalRule
from cases.rules.presentation import RANK_LABEL, SEVERITY_LABEL, TAG_TEXT, caveat_for, rule_anchor, shown_code
from rightsguard.text import when


@dataclass(frozen=True)
class SourceLine:
    part: str
    tag: str  # V, S, R, B or I (cases.rules.base.Tag)
    tag_text: str  # the tag in words


@dataclass(frozen=True)
class RuleVersionEntry:
    code: str
    version: str  # the first incident date covered, or "-" for a version without a start
    anchor: str
    effective_from: date | None
    effective_to: date | None  # inclusive
    covers: str  # the incident dates covered, in words
    severity: str  # cases.rules.base.Severity
    severity_label: str
    # A downgrade rule whose other findings (a wrong label, probation, a procedure check) are review prompts.
    other_findings_are_prompts: bool
    title: str
    basis: str
    verified: bool
    caveat: str
    sources: tuple[SourceLine, ...]
    expected: str | None  # the lowest acceptable outcome, when the rule sets one regardless of the facts
    too_light: tuple[str, ...]  # outcomes too light even where their rank is high enough
    min_sentence_months: int | None
    discourages_probation: bool
    silenced_by: tuple[str, ...]  # suppression codes


@dataclass(frozen=True)
class RuleEntry:
    code: str
    anchor: str
    title: str  # of the latest version
    versions: tuple[RuleVersionEntry, ...]

    @property
    def shown_code(self) -> str:
        return shown_code(self.code)


@dataclass(frozen=True)
class SuppressionVersionEntry:
    code: str
    version: str
    anchor: str
    effective_from: date | None
    effective_to: date | None
    covers: str
    title: str
    basis: str
    verified: bool
    caveat: str
    sources: tuple[SourceLine, ...]
    silences: tuple[str, ...]  # codes of the rules it silences for incidents in its dates


@dataclass(frozen=True)
class SuppressionEntry:
    code: str
    anchor: str
    title: str
    versions: tuple[SuppressionVersionEntry, ...]


@dataclass(frozen=True)
class OperationalEntry:
    code: str
    anchor: str
    kind: str  # the flag kind it raises
    kind_label: str
    title: str
    basis: str
    verified: bool
    caveat: str
    sources: tuple[SourceLine, ...]

    @property
    def shown_code(self) -> str:
        return shown_code(self.code)


@dataclass(frozen=True)
class Catalogue:
    rules: tuple[RuleEntry, ...]
    suppressions: tuple[SuppressionEntry, ...]
    operational: tuple[OperationalEntry, ...]


def _code_order(code: str) -> tuple[int, int, str]:
    """R1, R2, …, R23, then the rules without a number."""
    match = re.fullmatch(r"R(\d+)", code)
    return (0, int(match.group(1)), "") if match else (1, 0, code)


def _version_order(item: Dated) -> date:
    return item.effective_from or date.min


def covers(item: Dated) -> str:
    start, end = item.effective_from, item.effective_to
    if start and end:
        return _("Incidents from %(start)s to %(end)s") % {"start": when(start), "end": when(end)}
    if start:
        return _("Incidents from %(start)s") % {"start": when(start)}
    if end:
        return _("Incidents up to %(end)s") % {"end": when(end)}
    return _("Incidents of any date")


def _sources(sources: tuple[Source, ...]) -> tuple[SourceLine, ...]:
    return tuple(SourceLine(str(s.part), str(s.tag), str(TAG_TEXT[s.tag])) for s in sources)


def _overlap(a: Dated, b: Dated) -> bool:
    a_start, a_end = a.effective_from or date.min, a.effective_to or date.max
    b_start, b_end = b.effective_from or date.min, b.effective_to or date.max
    return a_start <= b_end and b_start <= a_end


def _rule_version(rule: Rule) -> RuleVersionEntry:
    labels = dict(Disposition.choices)
    severity = rule.severity
    return RuleVersionEntry(
        code=rule.code,
        version=rule.version,
        anchor=rule_anchor(rule.code, rule.version),
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        covers=covers(rule),
        severity=str(severity),
        severity_label=str(SEVERITY_LABEL[severity]),
        other_findings_are_prompts=severity == Severity.DOWNGRADE
        and bool(rule.wrong_charges or rule.discourage_probation or rule.check),
        title=str(rule.title),
        basis=str(rule.basis),
        verified=rule.verified,
        caveat=caveat_for(rule.verified),
        sources=_sources(rule.sources),
        expected=str(RANK_LABEL[rule.min_rank]) if rule.sets_expected_rank and rule.min_rank in RANK_LABEL else None,
        too_light=tuple(str(labels.get(d, d)) for d in sorted(rule.wrong_charges)),
        min_sentence_months=rule.min_sentence_months,
        discourages_probation=rule.discourage_probation,
        silenced_by=rule.suppressed_by,
    )


def _suppression_version(suppression: Suppression) -> SuppressionVersionEntry:
    silences = sorted(
        {r.code for r in RULES if suppression.code in r.suppressed_by and _overlap(r, suppression)},
        key=_code_order,
    )
    return SuppressionVersionEntry(
        code=suppression.code,
        version=suppression.version,
        anchor=f"suppression-{suppression.code}-{suppression.version if suppression.version != '-' else 'start'}",
        effective_from=suppression.effective_from,
        effective_to=suppression.effective_to,
        covers=covers(suppression),
        title=str(suppression.title),
        basis=str(suppression.basis),
        verified=suppression.verified,
        caveat=caveat_for(suppression.verified),
        sources=_sources(suppression.sources),
        silences=tuple(silences),
    )


def _operational(rule: OperationalRule) -> OperationalEntry:
    return OperationalEntry(
        code=rule.code,
        anchor=rule_anchor(rule.code),
        kind=str(rule.kind),
        kind_label=str(FlagKind(rule.kind).label),
        title=str(rule.title),
        basis=str(rule.basis),
        verified=rule.verified,
        caveat=caveat_for(rule.verified),
        sources=_sources(rule.sources),
    )


def rule_catalogue() -> Catalogue:
    """Every rule, suppression and time-limit rule, in the active language."""
    rules = []
    for code in sorted({r.code for r in RULES}, key=_code_order):
        versions = sorted((r for r in RULES if r.code == code), key=_version_order)
        rules.append(
            RuleEntry(
                code=code,
                anchor=rule_anchor(code),
                title=str(versions[-1].title),
                versions=tuple(_rule_version(r) for r in versions),
            )
        )
    suppressions = []
    for code in sorted({s.code for s in SUPPRESSIONS}, key=_code_order):
        dated = sorted((s for s in SUPPRESSIONS if s.code == code), key=_version_order)
        suppressions.append(
            SuppressionEntry(
                code=code,
                anchor=f"suppression-{code}",
                title=str(dated[-1].title),
                versions=tuple(_suppression_version(s) for s in dated),
            )
        )
    return Catalogue(
        rules=tuple(rules),
        suppressions=tuple(suppressions),
        operational=tuple(_operational(r) for r in OPERATIONAL_RULES.values()),
    )
