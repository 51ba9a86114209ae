"""Reads of the typical-case library. Every reader's read starts from ``policy.readable_writeups``, every editor's from
``policy.managed_writeups``; what the source case holds is read through the case selectors only."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import get_language

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.selectors import path_prefix_q
from cases import selectors as case_selectors
from library import anonymise, policy
from library.choices import ARTICLES, COLUMNS, LANGUAGES, TEXT_FIELDS, WriteUpState, column
from library.models import (
    LibraryFeedback,
    LibraryRead,
    VersionArticle,
    WriteUp,
    WriteUpEvent,
    WriteUpText,
    WriteUpVersion,
)

PAGE = 50


@dataclass(frozen=True)
class ReaderFilters:
    """The readers' list's search and filters, for the page and the API alike."""

    q: str = ""
    kind: str = ""
    duty_scenario: str = ""
    place_category: str = ""
    article: str = ""


def _search_q(q: str) -> Q:
    """The words of ``q``, each in the title or a text of the published version, in either language. A plain
    substring match: the library holds hundreds of write-ups, not the million cases the case search is built for."""
    match = Q()
    for word in q.split()[:10]:
        any_text = Q(pk__in=[])
        for name in COLUMNS:
            any_text |= Q(**{f"published_version__{name}__icontains": word})
        match &= any_text
    return match


def library_for(actor: Actor, filters: ReaderFilters = ReaderFilters()) -> QuerySet[WriteUp]:
    """The published write-ups the actor reads, with their versions, newest publication first."""
    found = policy.readable_writeups(actor).select_related("published_version")
    version = "published_version__"
    if filters.q.strip():
        found = found.filter(_search_q(filters.q))
    if filters.kind:
        found = found.filter(**{f"{version}kind": filters.kind})
    if filters.duty_scenario:
        found = found.filter(**{f"{version}duty_scenario": filters.duty_scenario})
    if filters.place_category:
        found = found.filter(**{f"{version}place_category": filters.place_category})
    if filters.article:
        rows = VersionArticle.objects.filter(version=OuterRef("published_version"), article=filters.article)
        found = found.filter(Exists(rows))
    return found.order_by("-published_at", "-id")


def article_choices(actor: Actor) -> list[str]:
    """The articles the published write-ups the actor reads link to, for the filter."""
    versions = policy.readable_writeups(actor).values("published_version")
    rows = VersionArticle.objects.filter(version__in=versions).order_by("article").values_list("article", flat=True)
    return list(dict.fromkeys(rows))


def managed_for(actor: Actor, state: str = "") -> QuerySet[WriteUp]:
    """The write-ups the actor edits or approves, in ``state`` (any when empty), the latest changed first."""
    found = policy.managed_writeups(actor).select_related("unit", "case", "published_version", "last_editor")
    if state:
        found = found.filter(state=state)
    return found.order_by("-updated_at", "-id")


def counts_by_state(found: QuerySet[Any], states: Iterable[str]) -> dict[str, int]:
    """How many of ``found`` are in each of ``states`` (0 for a state none is in), in one query: the editors' lists'
    tabs, of typical cases and of guidance tips."""
    counts = dict(found.order_by().values_list("state").annotate(n=Count("pk")))
    return {state: counts.get(state, 0) for state in states}


def managed_counts(actor: Actor) -> dict[str, int]:
    return counts_by_state(policy.managed_writeups(actor), WriteUpState.values)


def versions_of(writeup: WriteUp) -> QuerySet[WriteUpVersion]:
    return (
        WriteUpVersion.objects.filter(writeup=writeup)
        .select_related("scope_unit", "edited_by", "approved_by")
        .order_by("-number")
    )


def log_of(writeup: WriteUp) -> QuerySet[WriteUpEvent]:
    return WriteUpEvent.objects.filter(writeup=writeup).select_related("actor").order_by("-at", "-id")


# --- reading one ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A version's texts in one language: the reader's, or the other one when it has none."""

    language: str
    fallback: bool  # not the reader's language
    title: str
    happened: str
    handling: str
    legal_basis: str
    outcome: str
    lessons: str


def has_language(text: WriteUpText, language: str) -> bool:
    return any(getattr(text, column(field, language)).strip() for field in TEXT_FIELDS)


def languages_of(text: WriteUpText) -> list[str]:
    return [language for language in LANGUAGES if has_language(text, language)]


def reader_language() -> str:
    return "zh" if (get_language() or "").startswith("zh") else "en"


def shown(text: WriteUpText, language: str | None = None) -> Shown:
    """The texts in ``language`` (the active one when None), or in the other language when it has none there."""
    wanted = language or reader_language()
    present = languages_of(text)
    chosen = wanted if wanted in present or not present else present[0]
    return Shown(
        language=chosen,
        fallback=chosen != wanted,
        **{field: getattr(text, column(field, chosen)) for field in TEXT_FIELDS},
    )


@dataclass(frozen=True)
class UnitReads:
    unit: OrgUnit
    this_version: int
    any_version: int  # distinct readers of any version


def read_counts(actor: Actor, writeup: WriteUp) -> list[UnitReads]:
    """How many officers of each unit the actor supervises or administers read the write-up: its published version,
    and any version. Empty for anyone else. Two queries whatever the number of units."""
    paths = policy.read_count_paths(actor)
    if not paths or writeup.published_version_id is None:
        return []
    reads = (
        LibraryRead.objects.filter(version__writeup=writeup, unit__isnull=False)
        .filter(path_prefix_q("unit__path", paths))
        .order_by()
        .values("unit")
        .annotate(
            current=Count("reader", filter=Q(version_id=writeup.published_version_id), distinct=True),
            any=Count("reader", distinct=True),
        )
    )
    counts = {row["unit"]: (row["current"], row["any"]) for row in reads}
    units = OrgUnit.objects.filter(pk__in=list(counts)).order_by("path")
    return [UnitReads(unit, *counts[unit.pk]) for unit in units]


def feedback_of(actor: Actor, version: WriteUpVersion) -> bool | None:
    """The actor's answer to "was this useful" for ``version``: True, False, or None (not answered)."""
    answers = LibraryFeedback.objects.filter(version=version, reader_id=actor.user_id)
    return answers.values_list("useful", flat=True).first()


def feedback_counts(version: WriteUpVersion) -> dict[str, int]:
    answers = LibraryFeedback.objects.filter(version=version).order_by()
    rows = dict(answers.values_list("useful").annotate(n=Count("pk")))
    return {"useful": rows.get(True, 0), "not_useful": rows.get(False, 0)}


def has_read(actor: Actor, version: WriteUpVersion) -> bool:
    return LibraryRead.objects.filter(version=version, reader_id=actor.user_id).exists()


# --- what the source case holds, for the anonymisation -------------------------------------------------------------


def known_parties(writeup: WriteUp) -> anonymise.Known:
    """What of the source case must not remain in the write-up (``cases.selectors.case_parties``). Never shown: it holds
    ID numbers in full; only used to find and replace."""
    return anonymise.known_from(case_selectors.case_parties(writeup.case))


def proposals(writeup: WriteUpText, known: anonymise.Known) -> dict[str, anonymise.Proposal]:
    """The proposed replacements of each text of the working copy that has any, by column."""
    found = {}
    for language in LANGUAGES:
        for field in TEXT_FIELDS:
            name = column(field, language)
            proposal = anonymise.propose(getattr(writeup, name), known, language)
            if proposal.changes:
                found[name] = proposal
    return found


def leftovers(writeup: WriteUpText, known: anonymise.Known) -> dict[str, list[anonymise.Kind]]:
    """What must not remain that each text still holds, by column, then what the articles linked hold (``ARTICLES``);
    only those holding something."""
    found = {}
    for language in LANGUAGES:
        for field in TEXT_FIELDS:
            name = column(field, language)
            kinds = anonymise.leftovers(getattr(writeup, name), known, language)
            if kinds:
                found[name] = kinds
    in_articles = {kind for article in writeup.articles for kind in anonymise.leftovers(article, known, "zh")}
    if in_articles:
        found[ARTICLES] = [kind for kind in anonymise.Kind if kind in in_articles]
    return found


def legal_basis_choices(writeup: WriteUp) -> case_selectors.LegalBasis:
    """The rules and articles the source case applied, which the write-up's legal basis may link to."""
    return case_selectors.legal_basis_of(writeup.case)


def rule_references(codes: list[str]) -> tuple[case_selectors.RuleReference, ...]:
    return case_selectors.rule_references(codes)
