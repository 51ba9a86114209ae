"""Bulk work from the queue: one action on many cases at once.

Each case goes through the same service as the case page's action, in its own transaction (the service's), so a
refusal of one case leaves it untouched and does not undo the others: the result is a list, one outcome per case.
Only cases in the user's queue are acted on (``policy.supervised_cases``, drafts never); any other id sent is refused
with the same words whether or not such a case exists. Each case carries the version the user saw on the queue page,
checked by the service under its lock: a case changed by someone else since is refused, and so is every case of a
form sent a second time, as the first sending changed them (the one action that changes nothing the second time,
assigning to the same person, is also harmless to repeat).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import policy
from cases.choices import CaseStatus
from cases.exceptions import StaleVersion
from cases.models import Case

# One case's action: called with the case and the version the user saw.
CaseAction = Callable[[Case, int], object]


@dataclass(frozen=True)
class BulkOutcome:
    case_id: int
    reference: str  # empty when the id is not a case of the user's queue: its existence is not revealed
    done: bool
    reason: str = ""


def bulk_scope(by: User) -> QuerySet[Case]:
    """The cases a bulk action may touch: the user's queue, drafts excluded."""
    return policy.supervised_cases(actor_for(by)).exclude(status=CaseStatus.DRAFT)


def not_in_queue() -> str:
    return _("This case is not in your queue, or does not exist.")


def apply_in_bulk(*, by: User, items: Sequence[tuple[int, int]], act: CaseAction) -> list[BulkOutcome]:
    """Take ``act`` on each (case id, version seen) in order; one outcome per item, done or refused with the reason."""
    found = {case.pk: case for case in bulk_scope(by).filter(pk__in=[pk for pk, _version in items])}
    outcomes = []
    for pk, version in items:
        case = found.get(pk)
        if case is None:
            outcomes.append(BulkOutcome(pk, "", False, not_in_queue()))
            continue
        try:
            act(case, version)
        except StaleVersion:
            reason = _("Someone else changed this case after you opened the queue, so nothing was done to it.")
        except PermissionDenied as refusal:
            reason = str(refusal) or _("You are not allowed to do this on this case.")
        except ValidationError as refusal:
            reason = " ".join(refusal.messages)
        else:
            outcomes.append(BulkOutcome(pk, case.reference, True))
            continue
        outcomes.append(BulkOutcome(pk, case.reference, False, reason))
    return outcomes
