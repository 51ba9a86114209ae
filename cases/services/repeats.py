"""Repeat attackers: a suspect whose ID number matches a suspect punished for attacking police in an earlier case
makes the case's "previously punished for attacking police" fact true, so the aggravation rules see it.

The match is by the keyed blind index of the ID number (cases/fields.py ``blind_index``), never by the number. It is
made when the office has the case: on submission for the suspects the filer listed, and when a supervisor adds a
suspect or changes a suspect's ID number on an open case. Never on a draft: a draft is its filer's alone, and a fact
that turned true there would tell the filer, for any number typed, whether its holder was punished before.
"""

from collections.abc import Iterable
from typing import Any

from cases import selectors
from cases.choices import CaseStatus, EventKind
from cases.models import Suspect
from cases.rules.facts import FACTS
from cases.services.common import CaseChange, record_event

PRIOR_ATTACK = "prior_attack_on_police"
# ``CaseEvent.data["derived"]`` of the timeline entry that says why the fact was set.
REPEAT_SUSPECT = "repeat_suspect"
_PRIOR_ATTACK_FACT = next(f for f in FACTS if f.name == PRIOR_ATTACK)


def derive_prior_attack(
    change: CaseChange, suspects: Iterable[Suspect], *, submitting: bool = False
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
            # No reference or count of the earlier case: whoever reads this timeline may not see that case.
            return {"changes": {PRIOR_ATTACK: [before, True]}, "derived": REPEAT_SUSPECT, "suspect": suspect.pk}
    return None


def record_derived(change: CaseChange, data: dict[str, Any] | None) -> None:
    """The timeline entry saying the fact was set from the record, and why (after the change that led to it)."""
    if data is not None:
        record_event(case=change.case, kind=EventKind.UPDATED, by=None, now=change.at, data=data, notify=False)
