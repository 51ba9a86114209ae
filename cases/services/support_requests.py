"""Support the filing officer asks for on their application (medical, psychological, legal, clarification...)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import policy
from cases.choices import EventKind, SupportKind, SupportStatus
from cases.models import Case, SupportMeasure
from cases.services.common import lock_case, now, record_event, require, save_case


@transaction.atomic
def set_requested_support(*, case: Case, by: User, kinds: list[str], notes: str = "") -> list[SupportMeasure]:
    """Replace the draft's requested measures with ``kinds``; the office decides on them after submission."""
    case = lock_case(case)
    require(policy.can_edit_draft(actor_for(by), case), _("Support can only be requested on your own draft."))
    unknown = set(kinds) - set(SupportKind.values)
    if unknown:
        raise ValidationError({"kinds": _("Unknown support measure.")})
    existing = {m.kind: m for m in SupportMeasure.objects.filter(case=case, status=SupportStatus.REQUESTED)}
    for kind, measure in existing.items():
        if kind not in kinds:
            measure.delete()
    for kind in kinds:
        if kind not in existing:
            SupportMeasure.objects.create(
                case=case, kind=kind, status=SupportStatus.REQUESTED, notes=notes, recorded_by=by
            )
        elif notes and existing[kind].notes != notes:
            existing[kind].notes = notes
            existing[kind].save(update_fields=["notes", "updated_at"])
    if set(kinds) != set(existing):
        t = now()
        save_case(case, t, [])
        record_event(case=case, kind=EventKind.SUPPORT, by=by, now=t, data={"requested": sorted(kinds)}, notify=False)
    return list(SupportMeasure.objects.filter(case=case, status=SupportStatus.REQUESTED).order_by("kind"))
