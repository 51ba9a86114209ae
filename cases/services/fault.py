"""Recording the legal-affairs department's finding on police fault, which rule R14 reads (cases/rules/downgrade.py).

A finding is never changed: withdrawing or correcting one is recording a new one, which supersedes it (the latest by
the date of the finding, then the later record, counts: ``cases.selectors.FAULT_FINDING_ORDER``). Like any change
of a case's facts it bumps the case's version and has the case's flags checked once the transaction commits, so a
suppression starts or ends at once.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases import policy
from cases.choices import FAULT_FINDING_VALUES, FAULT_NEEDS_DOCUMENT, EventKind
from cases.models import Case, FaultFinding
from cases.selectors import current_fault_finding
from cases.services.common import change_case

DEPARTMENT_MAX = FaultFinding._meta.get_field("department").max_length or 150
DOCUMENT_REFERENCE_MAX = FaultFinding._meta.get_field("document_reference").max_length or 100
NOTES_MAX = 2000


def _too_long(limit: int) -> str:
    return _("Keep this to %(limit)s characters or fewer.") % {"limit": limit}


def _checked(
    case: Case,
    *,
    today: date,
    finding: str,
    department: str,
    found_on: date | None,
    document_reference: str,
    notes: str,
) -> dict[str, str]:
    """Field errors, each next to its field; empty when the finding may be recorded."""
    errors: dict[str, str] = {}
    if finding not in FAULT_FINDING_VALUES:
        errors["finding"] = _("Choose what the department found.")
    if not department:
        errors["department"] = _("Name the department that made the finding (the legal-affairs department).")
    elif len(department) > DEPARTMENT_MAX:
        errors["department"] = _too_long(DEPARTMENT_MAX)
    incident = timezone.localdate(case.occurred_at) if case.occurred_at else None
    if found_on is None:
        errors["found_on"] = _("Give the date of the finding.")
    elif found_on > today:
        errors["found_on"] = _("The date of the finding cannot be in the future.")
    elif incident is not None and found_on < incident:
        errors["found_on"] = _("The finding cannot be dated before the incident (%(date)s).") % {
            "date": incident.isoformat()
        }
    if len(document_reference) > DOCUMENT_REFERENCE_MAX:
        errors["document_reference"] = _too_long(DOCUMENT_REFERENCE_MAX)
    elif not document_reference and finding in FAULT_NEEDS_DOCUMENT:
        errors["document_reference"] = _(
            "Give the number of the finding document: it is required when the fault found is considerable or serious."
        )
    if len(notes) > NOTES_MAX:
        errors["notes"] = _too_long(NOTES_MAX)
    return errors


@transaction.atomic
def record_fault_finding(
    *,
    case: Case,
    by: User,
    finding: str,
    department: str,
    found_on: date | None,
    document_reference: str = "",
    notes: str = "",
    expected_version: int | None = None,
) -> FaultFinding:
    """Record the department's finding (none, minor, considerable or serious fault) on the case; it supersedes the
    current one. Refused (403) to anyone ``policy.can_record_fault_finding`` says no to; invalid input is refused
    field by field and nothing is written."""
    change = change_case(
        case,
        by=by,
        allowed=policy.can_record_fault_finding,
        refusal=_(
            "Only a supervisor of this unit who is not involved in the case can record a police-fault finding, "
            "and only while the case is open."
        ),
        expected_version=expected_version,
    )
    case = change.case
    department, document_reference, notes = department.strip(), document_reference.strip(), notes.strip()
    errors = _checked(
        case,
        today=timezone.localdate(change.at),
        finding=finding,
        department=department,
        found_on=found_on,
        document_reference=document_reference,
        notes=notes,
    )
    if errors:
        raise ValidationError(errors)
    previous = current_fault_finding(case)
    recorded = FaultFinding.objects.create(
        case=case,
        finding=finding,
        department=department,
        found_on=found_on,
        document_reference=document_reference,
        notes=notes,
        recorded_by=by,
        recorded_at=change.at,
    )
    current = current_fault_finding(case)
    change.save(
        EventKind.FAULT_FINDING,
        data={
            "fault_finding": recorded.pk,
            "finding": finding,
            "department": department,
            "found_on": found_on.isoformat() if found_on else None,
            "document_reference": document_reference,
            "previous": {"id": previous.pk, "finding": previous.finding} if previous else None,
            # A finding dated before the current one is kept in the history but does not count.
            "current": current is not None and current.pk == recorded.pk,
        },
    )
    return recorded
