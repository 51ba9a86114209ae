"""Selectors for duplicate applications: the likely duplicates of a case, with why each matched, and what the case page
shows of a case's links and merges. Writes are cases/services/duplicates.py; who sees what is cases/policy.py.

A case is a likely duplicate of another when

- both carry the same 110 incident number (compared without case or surrounding spaces); or
- both are of the same handling unit, their incidents lie at most ``WINDOW`` apart, and at least one of: a suspect
  of each has the same ID number (by its keyed blind index: no number is decrypted), a suspect of each has the same
  name (``normalised_name``), the places or the summaries are similar (``trigram_similarity`` at least
  ``SIMILAR``: pg_trgm's ``similarity`` on PostgreSQL, the same measure in Python elsewhere).

Only the cases the viewer sees (``policy.visible_cases``) are candidates, never drafts, never the case itself, never a
merged record and never a case already linked with it. The query count is fixed: the candidates (through the 110
number's trigram index of migration 0009 and the incident-time index), then their suspects in one query.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Exists, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import Func

from accounts.authority import Actor
from cases import policy
from cases.choices import CaseStatus, DuplicateReason
from cases.models import Case, CaseLink, CaseMerge, Suspect

# Incidents at most this far apart may be one.
WINDOW = timedelta(hours=2)
# Texts at least this similar (pg_trgm's measure: shared trigrams over all trigrams) count as "similar".
SIMILAR = 0.4
# At most this many candidates are shown: more would mean the incident number or the unit is not telling them apart.
LIMIT = 20


@dataclass(frozen=True)
class Candidate:
    case: Case
    reasons: tuple[str, ...]  # DuplicateReason values, in the enumeration's order

    @property
    def reason_labels(self) -> list[str]:
        return [str(DuplicateReason(r).label) for r in self.reasons]


def normalised_name(name: str) -> str:
    """A suspect's name as compared: full-width and compatibility forms folded (NFKC), case and spaces ignored."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or "")).casefold()


def _trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of ``text``: lower case, split into words of letters and digits, each padded with two spaces
    before and one after."""
    grams: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity(a, b)`` in Python: the trigrams both share over all the trigrams of either (0 for empty
    texts). pg_trgm keeps a multibyte trigram as a 3-byte hash, so the two may differ on a hash collision alone."""
    ga, gb = _trigrams(a or ""), _trigrams(b or "")
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


class _Similarity(Func):
    function = "similarity"
    output_field = FloatField()


def _similarity(field: str, text: str) -> Func | Value:
    if connection.vendor == "postgresql" and text:
        return _Similarity(field, Value(text))
    return Value(None, output_field=FloatField())


def _linked_q(case: Case) -> Q:
    low = CaseLink.objects.filter(low_id=case.pk, high_id=OuterRef("pk"))
    high = CaseLink.objects.filter(high_id=case.pk, low_id=OuterRef("pk"))
    return Q(Exists(low)) | Q(Exists(high))


def likely_duplicates(actor: Actor, case: Case) -> list[Candidate]:
    """The likely duplicates of ``case`` the actor may see, each with why it matched, most recently submitted first.
    Empty for a draft and for a merged record."""
    if case.status == CaseStatus.DRAFT or case.merged_into_id is not None:
        return []
    ref = (case.dispatch_ref or "").strip()
    near = Q()
    if case.occurred_at is not None:
        near = Q(
            unit_id=case.unit_id, occurred_at__gte=case.occurred_at - WINDOW, occurred_at__lte=case.occurred_at + WINDOW
        )
    same_ref = Q(dispatch_ref__iexact=ref) if ref else Q()
    if not near and not same_ref:
        return []
    rows = list(
        policy.visible_cases(actor)
        .filter(near | same_ref if near and same_ref else near or same_ref)
        .exclude(pk=case.pk)
        .exclude(status=CaseStatus.DRAFT)
        .filter(merged_into__isnull=True)
        .exclude(_linked_q(case))
        .annotate(
            place_similarity=_similarity("location", case.location),
            summary_similarity=_similarity("summary", case.summary),
        )
        .select_related("unit", "filed_by", "assigned_to")
        .order_by("-submitted_at", "-pk")[:LIMIT]
    )
    if not rows:
        return []
    ids_by_case: dict[int, set[str]] = {}
    names_by_case: dict[int, set[str]] = {}
    parties = Suspect.objects.filter(case_id__in=[case.pk, *(r.pk for r in rows)]).values_list(
        "case_id", "id_number_index", "name"
    )
    for case_id, index, name in parties:
        if index:
            ids_by_case.setdefault(case_id, set()).add(index)
        if normalised_name(name):
            names_by_case.setdefault(case_id, set()).add(normalised_name(name))
    own_ids, own_names = ids_by_case.get(case.pk, set()), names_by_case.get(case.pk, set())
    found = []
    for other in rows:
        reasons = []
        if ref and (other.dispatch_ref or "").strip().upper() == ref.upper():
            reasons.append(DuplicateReason.SAME_DISPATCH_REF)
        close = (
            other.unit_id == case.unit_id
            and case.occurred_at is not None
            and other.occurred_at is not None
            and abs(other.occurred_at - case.occurred_at) <= WINDOW
        )
        if close:
            if own_ids & ids_by_case.get(other.pk, set()):
                reasons.append(DuplicateReason.SAME_SUSPECT_ID)
            if own_names & names_by_case.get(other.pk, set()):
                reasons.append(DuplicateReason.SAME_SUSPECT_NAME)
            if _similar(other.place_similarity, case.location, other.location):
                reasons.append(DuplicateReason.SIMILAR_PLACE)
            if _similar(other.summary_similarity, case.summary, other.summary):
                reasons.append(DuplicateReason.SIMILAR_SUMMARY)
        # Close in time and place alone is no duplicate: a busy station has several incidents an afternoon.
        if reasons:
            found.append(Candidate(case=other, reasons=tuple(reasons)))
    return found


def _similar(from_db: float | None, a: str, b: str) -> bool:
    if not a or not b:
        return False
    score = from_db if from_db is not None else trigram_similarity(a, b)
    return score >= SIMILAR


# --- what the case page shows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePanel:
    """The "Possible duplicates" panel of the case page and what it says of links and merges, as the actor may see."""

    candidates: list[Candidate]
    linked: list[Case]  # related cases the actor sees
    merged_into: Case | None  # the survivor of this merged record, when the actor sees it
    # The survivor's reference, which the merged record's own timeline names anyway; linked only when seen.
    merged_into_reference: str
    merges_received: list[CaseMerge]  # merges in force into this case whose merged record the actor sees
    can_link: bool
    can_merge: bool
    can_unmerge: bool  # this merged record's merge, by this actor, now (the service checks the period and the rest)


def linked_cases(actor: Actor, case: Case) -> QuerySet[Case]:
    """The cases linked with ``case`` that the actor sees."""
    return (
        policy.visible_cases(actor)
        .filter(
            Q(Exists(CaseLink.objects.filter(low_id=case.pk, high_id=OuterRef("pk"))))
            | Q(Exists(CaseLink.objects.filter(high_id=case.pk, low_id=OuterRef("pk"))))
        )
        .order_by("pk")
    )


def duplicate_panel(actor: Actor, case: Case) -> DuplicatePanel:
    """What the case page shows of the case's duplicates: the candidates and the controls for the office only; the
    "merged into" link for anyone who sees both cases."""
    office = policy.sees_duplicates(actor, case)
    merged_into, reference = None, ""
    if case.merged_into_id is not None:
        reference = Case.objects.filter(pk=case.merged_into_id).values_list("reference", flat=True).get()
        merged_into = policy.visible_cases(actor).filter(pk=case.merged_into_id).first()
    received: list[CaseMerge] = []
    if office:
        visible = policy.visible_cases(actor).filter(pk=OuterRef("merged_id"))
        received = list(
            CaseMerge.objects.filter(survivor=case, unmerged_at__isnull=True)
            .filter(Exists(visible))
            .select_related("merged", "merged_by")
            .order_by("merged_at", "pk")
        )
    return DuplicatePanel(
        candidates=likely_duplicates(actor, case) if office else [],
        linked=list(linked_cases(actor, case)) if office else [],
        merged_into=merged_into,
        merged_into_reference=reference,
        merges_received=received,
        can_link=policy.can_link(actor, case) and case.merged_into_id is None,
        can_merge=policy.can_merge(actor, case) and case.merged_into_id is None and case.is_open,
        can_unmerge=case.merged_into_id is not None
        and merged_into is not None
        and policy.can_unmerge(actor, case, merged_into),
    )


def merge_in_force(case: Case) -> CaseMerge | None:
    """The merge that made ``case`` a merged record, if it is one."""
    if case.merged_into_id is None:
        return None
    return CaseMerge.objects.filter(merged=case, unmerged_at__isnull=True).select_related("survivor").first()
