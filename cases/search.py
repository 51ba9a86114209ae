"""The one case search: the queue's ``q``, the API's ``q`` and the global search in the top bar.

A text is looked for in, by rank: the whole reference or a suspect's ID number (exact), part of the reference
(``000459`` in ``RG-2026-000459``), the involved officers' names and whole badge numbers and the suspects' names,
the summary, the location, the narrative, the 110 incident number and the handling unit's name. :func:`search_q` is
the filter (every field at once: what the queue and the API narrow by); :func:`search_page` the global search's
ranked pages, one tier per rank, newest activity first within a tier; :func:`describe_matches` says on each result
row which field matched ("Matched: suspect name “张某”."), as the case page would show it: an ID number never.

Indexes (PostgreSQL; migrations 0009, 0026 and 0027):

- summary, location and narrative: a GIN index each over the characters and character pairs of the text
  (``rg_grams``, lower case, as pg_bigm indexes), which a one- or two-character text (most Chinese words: 袭警,
  西湖) is looked up in directly with ``@>``, then ``icontains`` decides (case-insensitivity beyond lower case);
  one index per field, so that each rank's query reads only its field's matches; longer texts use the per-field
  trigram indexes of 0009 (``icontains`` is their ``UPPER(...) LIKE``). A trigram index cannot serve fewer than
  three characters: at a million cases such a search read the table (2.2 s).
- parties' names: ``Case.party_names`` (the officers' and suspects' names, one per line, kept by the services;
  migration 0027) has the same kind of index: a name is one more index of the case query, never a read of the
  parties' tables. A badge number is an identifier, found whole (case-insensitively, a b-tree on its upper case):
  the pairs of a part of one, digits, are in every badge number; its few cases are handed over as ids.
- ID numbers: exact match on the keyed blind index (cases/fields.py ``blind_index``), never decrypted, and only on
  the cases whose ID numbers the searcher reads in full (``policy.id_numbers_read_q``): elsewhere a match would
  confirm a guess at the digits the mask hides.
- unit names: the unit table is small; the matching units' ids select cases through the unit's foreign key index.
- references: a part of three characters or more through the trigram index of 0009, and only for text that can be
  part of a reference (``RG-2026-000459``'s shape), so a long number never probes trigrams every reference shares.

How a page is read depends on how common the text is. A few matches (up to ``COUNT_CAP``) are read through the
indexes and sorted. More are found by walking the page's ordered index (newest activity first) and testing each row
with a plain substring test, which finds a page within a few thousand rows where sorting would read every match:
each rank (:class:`Tier`) has both forms, and a capped read of its own index decides (:func:`tier_matches`): a few
matches are then read by their ids.

SQLite (the embedded default) has no such indexes: every field is a plain ``icontains`` there, with the same
results.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import OrgUnit
from cases import policy
from cases.fields import blind_index, normalise_id_number
from cases.keyset import InvalidCursor, keyset_page
from cases.models import Case, InvolvedOfficer, Suspect

PAGE_SIZE = 25
COUNT_CAP = 1000
ORDER = "-last_activity_at"
MAX_LENGTH = 100
# Up to this many matching cases (or units) of a party name are handed to the case query as ids; beyond, a subquery.
IDS_CAP = 2000
# Texts this short are looked up in the character-pair index; longer ones in the trigram indexes.
SHORT = 2
# Text that can be part of a 110 incident number or a badge number: letters, digits and hyphens.
CODE_TEXT = re.compile(r"[A-Za-z0-9-]+")
# Every reference has this shape (the case table's format constraint); ``#`` is a digit.
REFERENCE_SHAPE = "RG-####-######"
# Text that can be an ID number once normalised (cases/fields.py): letters and digits, at least one digit.
ID_NUMBER_TEXT = re.compile(r"(?=.*[0-9])[0-9A-Z]{6,30}")
# A resident ID number's shape: searched for in the blind index alone.
ID_NUMBER_SHAPE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")

# The indexed expressions (migration 0025 indexes exactly these; the planner matches the expression).
GRAMS_FUNCTION = "rg_grams"
CASE_TEXT_COLUMNS = ("summary", "location", "narrative")
PARTY_COLUMN = "party_names"
# Between the names in ``Case.party_names``: a line break, which no name holds, so no match spans two names.
NAME_SEPARATOR = "\n"


def party_names(names: Iterable[str]) -> str:
    """``Case.party_names``: the officers' then the suspects' names (each in id order), one per line, blank ones
    left out. Kept by the services with the rest of the read model (cases/services/common.py)."""
    return NAME_SEPARATOR.join(n.strip() for n in names if n and n.strip())


def grams_expression(columns: Iterable[str], table: str = "") -> str:
    """``rg_grams(a::text || ' ' || b::text ...)``: the columns' texts joined by a space, as indexed."""
    prefix = f'"{table}".' if table else ""
    joined = " || ' ' || ".join(f'{prefix}"{c}"::text' for c in columns)
    return f"{GRAMS_FUNCTION}({joined})"


def grams(text: str) -> list[str]:
    """What the index must hold for ``text`` to occur: the text itself when it is one or two characters long,
    otherwise each of its character pairs (lower case, as ``rg_grams`` stores them)."""
    lowered = text.lower()
    if len(lowered) <= SHORT:
        return [lowered]
    return sorted({lowered[i : i + 2] for i in range(len(lowered) - 1)})


def in_a_reference(text: str) -> bool:
    """Whether ``text`` (any case) can be part of some reference: only then is the reference searched, so that a
    long number (an ID number) never probes the reference's trigrams, which every reference shares."""
    upper = text.upper()

    def fits(at: int) -> bool:
        return all(
            (c.isdigit() and c.isascii()) if shape == "#" else c == shape
            for c, shape in zip(upper, REFERENCE_SHAPE[at:], strict=False)
        )

    return bool(upper) and any(fits(at) for at in range(len(REFERENCE_SHAPE) - len(upper) + 1))


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _grams_q(table: str, columns: Iterable[str], text: str) -> Q:
    """The character-pair index's condition (PostgreSQL; elsewhere no condition: ``icontains`` decides alone)."""
    if not _postgres():
        return Q()
    sql = f"{grams_expression(columns, table)} @> %s::text[]"
    # The SQL is built from the column names above; the text is a parameter.
    return Q(RawSQL(sql, [grams(text)], output_field=BooleanField()))  # noqa: S611


def _ids_q(field: str, queryset: QuerySet, column: str) -> Q:
    """``field`` among the values of ``column`` in ``queryset``: a list when few, a subquery when many."""
    ids = list(queryset.order_by().values_list(column, flat=True).distinct()[: IDS_CAP + 1])
    if len(ids) <= IDS_CAP:
        return Q(**{f"{field}__in": ids})
    # Compiled on its own, so the index conditions keep the table's own name (as a nested queryset, Django would
    # rename the table, which the raw index condition names).
    sql, params = queryset.order_by().values(column).query.sql_with_params()
    return Q(**{f"{field}__in": RawSQL(sql, params)})  # noqa: S611  (Django's own compiled SQL and parameters)


def _holds(column: str, text: str) -> Q:
    """``column`` holds ``text``, case-insensitively, tested row by row (``strpos(lower(column), lower(text))``,
    ``instr`` on SQLite): what a search that walks an ordered index checks on each row it passes. No index serves
    this expression, so the planner never mistakes a short text for a trigram search."""
    return Q(GreaterThan(StrIndex(Lower(F(column)), Lower(Value(text))), 0))


# --- one tier per rank ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """One rank of the search, two ways to ask for the same cases: ``indexed`` reads its indexes (the way when the
    matches are few: every match is read, then sorted), ``scan`` is tested row by row (the way when they are many:
    the cases are walked newest first through an ordered index, and the first page is found within a few thousand
    rows instead of sorting tens of thousands)."""

    name: str
    indexed: Q
    scan: Q


def _icontains_any(columns: Iterable[str], text: str) -> Q:
    return reduce(or_, (Q(**{f"{c}__icontains": text}) for c in columns))


def _case_text_q(column: str, text: str) -> Q:
    if len(text) <= SHORT and _postgres():
        # The index holds every character and pair of the lower-cased text: containing the (lower-cased) text is
        # exactly this, with nothing to check after. An ``icontains`` beside it would tempt the planner into the
        # trigram index, which a text this short makes read in full (1.8 s at a million cases).
        return _grams_q(Case._meta.db_table, (column,), text)
    return Q(**{f"{column}__icontains": text})


def _party_q(text: str) -> Q:
    """A party's name in ``Case.party_names``: its character-pair index (0027), then, for a text longer than a pair,
    the row's names hold the whole text."""
    grams = _grams_q(Case._meta.db_table, (PARTY_COLUMN,), text)
    if len(text) <= SHORT and _postgres():
        return grams
    return grams & _holds(PARTY_COLUMN, text)


def build_tiers(text: str, actor: Actor) -> list[Tier]:
    """The search for ``text`` (stripped) by ``actor``, one condition per rank, best first; the badge-number,
    ID-number and unit conditions are turned into case ids here (a few indexed reads). An ID number matches only on
    the cases whose ID numbers the actor reads in full (``policy.id_numbers_read_q``)."""
    text = text.strip()
    if not text:
        return []
    upper = text.upper()
    code, reference = bool(CODE_TEXT.fullmatch(text)), in_a_reference(text)
    tiers: list[Tier] = []

    exact = Q(reference=upper) if reference else Q(pk__in=[])
    normalised = normalise_id_number(text)
    if ID_NUMBER_TEXT.fullmatch(normalised):
        holders = Suspect.objects.filter(id_number_index=blind_index(normalised))
        exact |= _ids_q("pk", holders, "case_id") & policy.id_numbers_read_q(actor)
    tiers.append(Tier("exact", exact, exact))
    if ID_NUMBER_SHAPE.fullmatch(normalised):
        # A resident ID number (15 digits, or 17 and a check digit or X): it is looked for as one, in the blind
        # index only; every other field's lookup would cost more than the answer (no text field holds one).
        return tiers
    if reference:
        # The trigram index of UPPER(reference) (migration 0009) serves a part of three characters or more.
        tiers.append(Tier("reference", Q(reference__icontains=text), _holds("reference", text)))

    # A party by part of a name (the case's own ``party_names``), or an officer by the whole badge number (an
    # identifier, like the ID number: its digits' pairs are in every badge number, so a part of one would select
    # them all).
    badge = Q(pk__in=[])
    if code:
        badge = _ids_q("pk", InvolvedOfficer.objects.filter(badge_number__iexact=text), "case_id")
    if NAME_SEPARATOR in text:
        # No part of one name holds the separator: in the column, such a text could only span two names.
        tiers.append(Tier("party", badge, badge))
    else:
        tiers.append(Tier("party", _party_q(text) | badge, _holds(PARTY_COLUMN, text) | badge))

    for column in CASE_TEXT_COLUMNS:
        tiers.append(Tier(column, _case_text_q(column, text), _holds(column, text)))
    if code:
        tiers.append(Tier("dispatch_ref", Q(dispatch_ref__icontains=text), _holds("dispatch_ref", text)))
    units = OrgUnit.objects.filter(Q(name__icontains=text) | Q(name_en__icontains=text))
    by_unit = _ids_q("unit_id", units, "pk")
    tiers.append(Tier("unit", by_unit, by_unit))
    return tiers


def search_q(text: str, *, actor: Actor, scan: bool = False) -> Q:
    """Cases matching ``text`` in any searched field, as ``actor`` searches, through the indexes or (``scan``) tested
    row by row (:class:`Tier`). The queue and the API narrow by :func:`text_match` instead, which reads the matches
    first: this one condition is for counting and for a caller that reads every match anyway."""
    tiers = build_tiers(text, actor)
    if not tiers:
        return Q()
    return reduce(or_, (t.scan if scan else t.indexed for t in tiers))


def capped_count(cases: QuerySet, cap: int = COUNT_CAP) -> int:
    """How many of ``cases`` there are, counting no further than ``cap + 1``: unordered, the count stops reading
    there instead of reading (and sorting) every match."""
    return cases.order_by().values("pk")[: cap + 1].count()


def _capped_ids(cases: QuerySet) -> list[int]:
    """Up to ``COUNT_CAP + 1`` ids of ``cases``, in no order: read through the indexes, stopping there."""
    return list(cases.order_by().values_list("pk", flat=True)[: COUNT_CAP + 1])


def tier_matches(cases: QuerySet, tiers: list[Tier]) -> list[list[int] | None]:
    """Each rank's matching ids among ``cases`` (its cases not in an earlier rank, at most ``COUNT_CAP + 1``), best
    rank first, until together they pass the cap; None for the ranks after that. Each rank is read through its own
    index only: a common word's read stops in its first common rank, where one read over every index at once would
    build each index's full bitmap first.

    On PostgreSQL the ranks are asked in one statement, each its own capped branch of a ``UNION ALL`` read in order
    until the cap: the rank where it stops is then read whole (one more statement), the later ones not at all."""
    if _postgres() and len(tiers) > 1:
        found = _tier_matches_at_once(cases, tiers)
        if found is not None:
            return found
    found = []
    total = 0
    for index in range(len(tiers)):
        if total > COUNT_CAP:
            found.append(None)
            continue
        ids = _capped_ids(cases.filter(_tier_filter(tiers, index, scan=False)))
        found.append(ids)
        total += len(ids)
    return found


def _tier_matches_at_once(cases: QuerySet, tiers: list[Tier]) -> list[list[int] | None] | None:
    """:func:`tier_matches` in one statement (two when the cap is passed); None if the rows did not come back rank
    by rank (a parallel plan may interleave the branches), when the ranks are read one by one instead."""
    branches = [
        cases.filter(_tier_filter(tiers, index, scan=False))
        .order_by()
        .annotate(rank=Value(index))
        .values_list("pk", "rank")[: COUNT_CAP + 1]
        for index in range(len(tiers))
    ]
    rows = list(branches[0].union(*branches[1:], all=True)[: COUNT_CAP + 1])
    ranks = [rank for _pk, rank in rows]
    if ranks != sorted(ranks):
        return None
    by_rank: dict[int, list[int]] = defaultdict(list)
    for pk, rank in rows:
        by_rank[rank].append(pk)
    if len(rows) <= COUNT_CAP:
        # Every branch ran to its end: each rank is whole.
        return [by_rank.get(index, []) for index in range(len(tiers))]
    # The cap was passed within the last rank read: that rank is read whole (as far as its own cap), the rest not.
    last = ranks[-1]
    whole = _capped_ids(cases.filter(_tier_filter(tiers, last, scan=False)))
    return [by_rank.get(index, []) for index in range(last)] + [whole] + [None] * (len(tiers) - last - 1)


@dataclass(frozen=True)
class TextMatch:
    """What a text selects among some cases: ``count`` (exact up to ``COUNT_CAP``, beyond it some number over) and
    ``q``, the condition a page of them is read with: their ids when they are few (so no plan can walk an index
    computing the character pairs of every row it passes), the row-by-row test when they are many."""

    count: int
    q: Q


def _found(found: list[list[int] | None]) -> tuple[int, list[int]]:
    """The capped count of ``tier_matches``' ids, and all of them."""
    every = [pk for ids in found if ids for pk in ids]
    return len(every), every


def text_match(cases: QuerySet, text: str, actor: Actor) -> TextMatch:
    """The cases of ``cases`` that match ``text`` as ``actor`` searches: the queue's and the API's ``q``
    (cases/queue_filters.py)."""
    tiers = build_tiers(text, actor)
    if not tiers:
        return TextMatch(count=capped_count(cases), q=Q())
    count, every = _found(tier_matches(cases, tiers))
    if count > COUNT_CAP:
        return TextMatch(count=count, q=reduce(or_, (t.scan for t in tiers)))
    return TextMatch(count=count, q=Q(pk__in=sorted(every)))


def _tier_filter(tiers: list[Tier], index: int, *, scan: bool) -> Q:
    """Tier ``index`` without the cases an earlier tier holds: each case appears once, at its best rank. The
    earlier tiers are excluded row by row (their cheap form): only the rows this tier reads are tested."""
    tier = tiers[index]
    q = tier.scan if scan else tier.indexed
    for earlier in tiers[:index]:
        q &= ~earlier.scan
    return q


# --- the global search's pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPage:
    cases: list[Case]  # each with ``match`` (describe_matches)
    next_cursor: str | None
    count: int
    count_capped: bool


def _encode(tier: int, inner: str | None) -> str:
    return f"{tier}.{inner or ''}"


# A cursor's tier as ``_encode`` writes it: ASCII digits (``str.isdigit`` also takes "²", which ``int`` refuses).
TIER_TEXT = re.compile(r"[0-9]{1,3}")


def _decode(cursor: str, tiers: int) -> tuple[int, str | None]:
    tier_text, dot, inner = cursor.partition(".")
    if not dot or not TIER_TEXT.fullmatch(tier_text) or not 0 <= int(tier_text) < tiers:
        raise InvalidCursor(cursor)
    return int(tier_text), inner or None


def search_page(actor: Actor, text: str, *, cursor: str | None = None, size: int = PAGE_SIZE) -> SearchPage:
    """One page of the global search over the cases ``policy.searchable_cases`` gives the actor, best rank first,
    newest activity first within a rank, with a capped count and each row's matched field. A cursor that is not
    one of these pages' raises :class:`~cases.keyset.InvalidCursor`."""
    tiers = build_tiers(text, actor)
    if not tiers:
        return SearchPage(cases=[], next_cursor=None, count=0, count_capped=False)
    scope = policy.searchable_cases(actor)
    found = tier_matches(scope, tiers)
    count, every_id = _found(found)
    start, inner = _decode(cursor, len(tiers)) if cursor else (0, None)
    if not cursor and count <= min(size, COUNT_CAP):
        # Every match fits on this page (an ID number, a name, a reference): one query reads them all, and the
        # rank each row's matched field gives orders them, as the ranks' queries would.
        every = list(scope.filter(pk__in=every_id).select_related("unit", "assigned_to"))
        describe_matches(every, text, actor)
        every.sort(key=lambda c: (c.match_rank, -c.last_activity_at.timestamp(), -c.pk))  # type: ignore[attr-defined]
        return SearchPage(cases=every, next_cursor=None, count=count, count_capped=False)
    rows: list[Case] = []
    next_cursor = None
    for index in range(start, len(tiers)):
        if not tiers[index].indexed:
            continue
        wanted = size - len(rows)
        # A rank with many matches is walked newest first; one with few is read by its ids: walking it would pass
        # most of the cases to find none. A rank the count did not reach is read now.
        ids = found[index]
        if ids is None:
            ids = _capped_ids(scope.filter(_tier_filter(tiers, index, scan=False)))
        if not ids and not (index == start and inner):
            continue  # nothing of this rank (a cursor into it is still read, to refuse one that is not a cursor)
        rank = _tier_filter(tiers, index, scan=True) if len(ids) > COUNT_CAP else Q(pk__in=ids)
        page = keyset_page(
            scope.filter(rank).select_related("unit", "assigned_to"),
            [ORDER],
            cursor=inner if index == start else None,
            size=wanted,
        )
        rows += page.rows
        if page.next_cursor:
            next_cursor = _encode(index, page.next_cursor)
            break
        if len(rows) >= size:
            next_cursor = _encode(index + 1, None) if index + 1 < len(tiers) else None
            break
    describe_matches(rows, text, actor)
    return SearchPage(cases=rows, next_cursor=next_cursor, count=min(count, COUNT_CAP), count_capped=count > COUNT_CAP)


# --- what matched ----------------------------------------------------------------------------------------------

EXCERPT = 24  # characters shown either side of a match in a long text


def _excerpt(value: str, text: str) -> str:
    at = value.upper().find(text.upper())
    if at < 0 or len(value) <= 2 * EXCERPT + len(text):
        return value
    start, end = max(0, at - EXCERPT), at + len(text) + EXCERPT
    return ("…" if start else "") + value[start:end] + ("…" if end < len(value) else "")


def _contains(value: str, text: str) -> bool:
    return text.upper() in value.upper()


def describe_matches(cases: list[Case], text: str, actor: Actor) -> None:
    """Set ``case.match`` on each case: a sentence naming the best field that matched ``text`` (empty when none
    does), and ``case.match_rank``, that field's rank (``RANKS``). Suspects' names are shown as the case page shows
    them to anyone who sees the case; an ID number never, only that one matched (compared through its blind index,
    not decrypted), and only to an actor who reads it in full (``policy.can_see_in_full``), as ``build_tiers``
    matches it."""
    text = text.strip()
    for case in cases:
        case.match, case.match_rank = "", len(RANKS)  # type: ignore[attr-defined]
    if not text or not cases:
        return
    ids = [c.pk for c in cases]
    officers: dict[int, list[InvolvedOfficer]] = defaultdict(list)
    for o in InvolvedOfficer.objects.filter(case_id__in=ids).only("case_id", "name", "badge_number"):
        officers[o.case_id].append(o)
    suspects: dict[int, list[Suspect]] = defaultdict(list)
    for s in Suspect.objects.filter(case_id__in=ids).only("case_id", "name", "id_number_index").order_by("id"):
        suspects[s.case_id].append(s)
    normalised = normalise_id_number(text)
    digest = blind_index(normalised) if ID_NUMBER_TEXT.fullmatch(normalised) else ""
    for case in cases:
        # Compared only where the actor reads the numbers in full, as ``build_tiers`` matches them.
        by_number = bool(digest) and any(
            s.id_number_index == digest and policy.can_see_in_full(actor, case, s) for s in suspects[case.pk]
        )
        rank, case.match = _describe(case, text, officers[case.pk], suspects[case.pk], by_number)  # type: ignore[attr-defined]
        case.match_rank = RANKS.index(rank) if rank else len(RANKS)  # type: ignore[attr-defined]


# The tiers' names, best first (``build_tiers`` makes them in this order, leaving out those that cannot match).
RANKS = ("exact", "reference", "party", *CASE_TEXT_COLUMNS, "dispatch_ref", "unit")


def _describe(
    case: Case, text: str, officers: list[InvolvedOfficer], suspects: list[Suspect], by_number: bool
) -> tuple[str, str]:
    """The tier and the sentence of the best field of ``case`` that matches ``text``: the tests of ``build_tiers``,
    in Python, in the same order; ``by_number``: a suspect's ID number matched."""
    code, reference = bool(CODE_TEXT.fullmatch(text)), in_a_reference(text)
    if reference and case.reference == text.upper():
        return "exact", _("Matched: the reference.")
    if by_number:
        return "exact", _("Matched: a suspect's ID number (not shown).")
    if reference and _contains(case.reference, text):
        return "reference", _("Matched: part of the reference.")
    for o in officers:
        if _contains(o.name, text):
            return "party", _("Matched: officer name “%(value)s”.") % {"value": o.name}
        if code and o.badge_number.upper() == text.upper():
            sentence = _("Matched: badge number “%(value)s” of %(name)s.")
            return "party", sentence % {"value": o.badge_number, "name": o.name}
    for s in suspects:
        if s.name and _contains(s.name, text):
            return "party", _("Matched: suspect name “%(value)s”.") % {"value": s.name}
    fields: list[tuple[str, str, Any]] = [
        ("summary", case.summary, _("Matched: summary “%(value)s”.")),
        ("location", case.location, _("Matched: location “%(value)s”.")),
        ("narrative", case.narrative, _("Matched: what happened “%(value)s”.")),
    ]
    if code:
        fields.append(("dispatch_ref", case.dispatch_ref, _("Matched: 110 incident number “%(value)s”.")))
    for rank, value, sentence in fields:
        if _contains(value, text):
            return rank, sentence % {"value": _excerpt(value, text)}
    unit = case.unit
    if _contains(unit.name, text) or _contains(unit.name_en, text):
        return "unit", _("Matched: handling unit “%(value)s”.") % {"value": unit.display_name}
    return "", ""
