"""Support the filing officer asks for on their application (medical, psychological, legal, clarification...), and
the office's answer to it. A request and its answer are one record with one lifecycle (cases.choices
SUPPORT_TRANSITIONS): requested, then approved or declined by the office with a reason, then delivered with the
provider and the date. The officer and the office read the same record; the database refuses a state that could
not be reached (cases.models.SupportMeasure's constraints)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import policy
from cases.choices import ANSWER_STATUS, SUPPORT_TRANSITIONS, EventKind, SupportAnswer, SupportKind, SupportStatus
from cases.models import Case, SupportMeasure
from cases.services.common import change_case, lock_case, now, record_event, require, save_case

PROVIDER_MAX = 200


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
                case=case,
                kind=kind,
                status=SupportStatus.REQUESTED,
                notes=notes,
                recorded_by=by,
                requested_at=now(),
                requested_by=by,
            )
        elif notes and existing[kind].notes != notes:
            existing[kind].notes = notes
            existing[kind].save(update_fields=["notes", "updated_at"])
    if set(kinds) != set(existing):
        t = now()
        save_case(case, t, [])
        record_event(case=case, kind=EventKind.SUPPORT, by=by, now=t, data={"requested": sorted(kinds)}, notify=False)
    return list(SupportMeasure.objects.filter(case=case, status=SupportStatus.REQUESTED).order_by("kind"))


@transaction.atomic
def answer_support_request(
    *,
    measure: SupportMeasure,
    by: User,
    answer: str,
    reason: str = "",
    provider: str = "",
    delivered_on: date | None = None,
    expected_version: int | None = None,
) -> SupportMeasure:
    """The office answers a support measure: approve or decline the officer's request (a refusal says why), or record
    it delivered (by whom, on which day). Only what ``SUPPORT_TRANSITIONS`` allows from the measure's status; the
    officers of the case are notified when the transaction commits."""
    change = change_case(
        measure.case_id,
        by=by,
        allowed=policy.can_answer_support,
        refusal=_(
            "Only a supervisor of this unit who did not file the case and is not listed on it can answer its support "
            "requests, while it is open."
        ),
        expected_version=expected_version,
    )
    measure = SupportMeasure.objects.select_for_update().get(pk=measure.pk)
    if answer not in SupportAnswer.values:
        raise ValidationError({"answer": _("Choose approve, decline or record as delivered.")})
    target = ANSWER_STATUS[SupportAnswer(answer)]
    if target not in SUPPORT_TRANSITIONS[SupportStatus(measure.status)]:
        raise ValidationError(
            {
                "answer": _("A measure that is “%(status)s” cannot become “%(target)s”.")
                % {"status": measure.get_status_display(), "target": SupportStatus(target).label}
            }
        )
    reason, provider = reason.strip(), provider.strip()
    errors: dict[str, str] = {}
    if target == SupportStatus.REFUSED and not reason:
        errors["reason"] = _("Say why the request is declined: the officer reads it.")
    if target == SupportStatus.DELIVERED:
        if not provider:
            errors["provider"] = _("Say who provided it (a hospital, a legal-aid centre, the office...).")
        elif len(provider) > PROVIDER_MAX:
            errors["provider"] = _("At most %(max)s characters.") % {"max": PROVIDER_MAX}
        if delivered_on is None:
            errors["delivered_on"] = _("Give the date the measure was delivered.")
        elif delivered_on > timezone.localdate(change.at):
            errors["delivered_on"] = _("The delivery date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    before = measure.status
    if measure.requested_at is not None and measure.decided_at is None:
        # The first answer to the officer's request (delivering at once approves it too).
        measure.decided_at = change.at
        measure.decided_by = by
    if reason:
        measure.decision_reason = reason
    if target == SupportStatus.DELIVERED:
        measure.provider = provider
        measure.delivered_on = delivered_on
    measure.status = target
    measure.full_clean()
    measure.save()
    data = {
        "measure": measure.pk,
        "kind": measure.kind,
        "answer": answer,
        "from": before,
        "status": target,
        "reason": reason,
    }
    if target == SupportStatus.DELIVERED:
        data.update(provider=provider, delivered_on=delivered_on.isoformat() if delivered_on else None)
    change.save(EventKind.SUPPORT, data=data)
    return measure
