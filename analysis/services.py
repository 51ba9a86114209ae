"""Writes of the analysis data. An administrator records the officer strength of the units they administer
(accounts/scope.py, the rule behind the admin site)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import scope
from accounts.models import OrgUnit, User
from analysis.models import FIRST_YEAR, OfficerStrength


def strength_errors(*, year: int, regular: int, auxiliary: int) -> dict[str, str]:
    """What is wrong with these figures, one message per field: the admin form and the service share the rule."""
    errors: dict[str, str] = {}
    last = timezone.localdate().year + 1
    if not FIRST_YEAR <= year <= last:
        errors["year"] = _("Give a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": last}
    if regular < 0:
        errors["regular"] = _("A number of officers cannot be negative.")
    if auxiliary < 0:
        errors["auxiliary"] = _("A number of officers cannot be negative.")
    return errors


@transaction.atomic
def record_officer_strength(*, unit: OrgUnit, year: int, regular: int, auxiliary: int, by: User) -> OfficerStrength:
    """Record (or correct) ``unit``'s officer strength for ``year``: regular and auxiliary headcounts. Only an
    administrator of the unit (403 otherwise); a figure out of range is refused (400) and nothing is written."""
    if not scope.may_administer_unit(by, unit):
        raise PermissionDenied(_("You may record the officer strength of the units you administer only."))
    errors = strength_errors(year=year, regular=regular, auxiliary=auxiliary)
    if errors:
        raise ValidationError(errors)
    # Locked while read, so two corrections of the same year keep the last, not an error; and two first records at
    # once, which find no row to lock, meet on the unique constraint: the second updates the first's row.
    strength, _created = OfficerStrength.objects.update_or_create(
        unit=unit,
        year=year,
        defaults={"regular": regular, "auxiliary": auxiliary, "recorded_by": by, "recorded_at": timezone.now()},
    )
    return strength
