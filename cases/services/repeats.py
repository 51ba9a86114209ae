"""Repeat attackers: a suspect whose ID number matches a suspect punished for attacking police in an earlier case
makes the case's "previously punished for attacking police" fact true, so the aggravation rules see it.

The match is by the keyed blind index of the ID number (cases/fields.py ``blind_index``), never by the number. It is
made when the office has the case: on submission for the suspects the filer listed, and when a supervisor adds a
suspect or changes a suspect's ID number on an open case; it is made again when a suspect's number changes or a
suspect is removed, or the incident's type or time changes, and a fact the record set goes back to the answer it
replaced once no suspect matches. Never on a draft: a draft is its filer's alone, and a fact
that turned true there would tell the filer, for any number typed, whether its holder was punished before.

The other way round: when a suspect's punishment is recorded or changed (``record_disposition``), a punished
suspect's number changes, or the case of a punished suspect has its incident moved in time or leaves the record
(rejected, withdrawn: ``rederive_after_punished_case_changed``), after a later case listing the same number is already
with the office, that later case is matched again once the change commits (``rederive_later_cases``, through the
outbox): a punishment decided before its incident but recorded after it still sets the fact, and one corrected away
(or whose case turns out later than the attack, or off the record) gives back the answer it replaced. Open cases
only: a closed case's facts are what it was closed on.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import transaction

from cases import outbox, policy, selectors, summaries
from cases.choices import OPEN_STATUSES, CaseStatus, EventKind
from cases.models import Case, Suspect
from cases.rules.facts import FACTS
from cases.services.common import lock_case, now, record_event, save_case

PRIOR_ATTACK = "prior_attack_on_police"
# ``CaseEvent.data["derived"]`` of the timeline entry that says why the fact was set.
REPEAT_SUSPECT = "repeat_suspect"
# ... of the entry that says the record no longer holds it (the matching suspect's number changed or was removed).
NO_REPEAT_SUSPECT = "no_repeat_suspect"
_PRIOR_ATTACK_FACT = next(f for f in FACTS if f.name == PRIOR_ATTACK)


class Changing(Protocol):
    """What matching needs of a change under way: the locked case and the time (a person's ``CaseChange``, or the
    record's own ``RecordChange``)."""

    case: Case
    at: datetime


@dataclass
class RecordChange:
    """A change the record makes by itself, no person's: the case under its row lock and the time."""

    case: Case
    at: datetime


def derive_prior_attack(
    change: Changing, suspects: Iterable[Suspect], *, submitting: bool = False
) -> dict[str, Any] | None:
    """Set the fact on ``change.case`` (not saved yet) when one of ``suspects`` was punished for attacking police in
    an earlier case; returns the timeline entry's data, or None when nothing changes.

    The record outweighs an earlier "no" (the filer may not have known); a "yes" stays. Only where the incident type
    asks the fact (an attack on officers, their vehicle or equipment): elsewhere no rule reads it and the forms do not
    show it. ``submitting``: the draft is being submitted, so the office has it from now."""
    case = change.case
    if (case.status == CaseStatus.DRAFT and not submitting) or case.prior_attack_on_police is True:
        return None
    if not _PRIOR_ATTACK_FACT.asked_about(case.kind):
        return None
    for suspect in suspects:
        if suspect.id_number_index and selectors.earlier_punishments_of(case, suspect.id_number_index):
            before = case.prior_attack_on_police
            case.prior_attack_on_police = True
            # No reference or count of the earlier case: whoever reads this timeline may not see that case. The entry
            # and the value are the office's (``policy.reads_the_record``): the filer typed the number.
            return {
                "changes": {PRIOR_ATTACK: [before, True]},
                policy.FROM_THE_RECORD: REPEAT_SUSPECT,
                "suspect": suspect.pk,
            }
    return None


def rederive_prior_attack(change: Changing) -> dict[str, Any] | None:
    """Match the case's suspects as they are now, after a change that may make or unmake the match (a suspect's ID
    number changed or removed, the incident type or time changed): set the fact as ``derive_prior_attack`` does, or,
    when the record set it and no suspect matches any longer, give back the answer it replaced. A value a person gave
    since the record set it stays. Returns the timeline entry's data, or None when nothing changes."""
    case = change.case
    if case.status == CaseStatus.DRAFT:
        return None
    suspects = list(Suspect.objects.filter(case=case).exclude(id_number_index="").order_by("id"))
    derived = derive_prior_attack(change, suspects)
    if derived is not None or case.prior_attack_on_police is not True:
        return derived
    if _PRIOR_ATTACK_FACT.asked_about(case.kind) and any(
        selectors.earlier_punishments_of(case, s.id_number_index) for s in suspects
    ):
        return None
    replaced = selectors.answer_the_record_replaced(case, PRIOR_ATTACK)
    if replaced is None:
        return None
    (answer,) = replaced
    case.prior_attack_on_police = answer  # type: ignore[assignment]
    return {"changes": {PRIOR_ATTACK: [True, answer]}, policy.FROM_THE_RECORD: NO_REPEAT_SUSPECT, "answer": answer}


def record_derived(change: Changing, data: dict[str, Any] | None) -> None:
    """The timeline entry saying the fact was set from the record, and why (after the change that led to it)."""
    if data is not None:
        record_event(case=change.case, kind=EventKind.UPDATED, by=None, now=change.at, data=data, notify=False)


def rederive_after_punished_case_changed(case: Case) -> None:
    """``case``'s incident moved in time, or the case left the record (rejected, withdrawn): once the change commits,
    the later cases listing the numbers of its punished suspects are matched again (``rederive_later_cases``)."""
    indexes = (
        Suspect.objects.filter(case=case, disposition__in=sorted(selectors.PUNISHMENTS))
        .exclude(id_number_index="")
        .values_list("id_number_index", flat=True)
    )
    outbox.rederive_repeats_on_commit(list(indexes), changed_case=case.pk)


def rederive_later_cases(id_number_index: str, *, changed_case: int) -> int:
    """Match again the open cases (other than ``changed_case``) listing a suspect with this ID number (blind index),
    after a punishment of that number was recorded, changed or moved in ``changed_case``; returns how many cases'
    fact changed. Each case in a transaction of its own, under its row lock, with the timeline entry saying why and
    its flags checked again. Idempotent: a case already matching as the record says is left as it is."""
    if not id_number_index:
        return 0
    case_ids = (
        Suspect.objects.filter(id_number_index=id_number_index, case__status__in=OPEN_STATUSES)
        .exclude(case_id=changed_case)
        .values_list("case_id", flat=True)
        .distinct()
    )
    changed = 0
    for case_id in sorted(case_ids):
        with transaction.atomic():
            case = lock_case(case_id)
            if case.status not in OPEN_STATUSES:
                continue
            summarised = summaries.contribution(case)
            change = RecordChange(case=case, at=now())
            derived = rederive_prior_attack(change)
            if derived is None:
                continue
            save_case(case, change.at, [PRIOR_ATTACK])
            summaries.apply(summaries.difference(summarised, summaries.contribution(case)))
            record_derived(change, derived)
            outbox.check_flags_on_commit(case)
            changed += 1
    return changed
