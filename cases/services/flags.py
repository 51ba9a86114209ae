"""Supervisors' answer to a flag: acknowledging it records who looked at the prompt and when.

Acknowledging does not resolve a flag (only its condition clearing does) and is not activity on the case: it
neither bumps the case version nor resets the idle clock.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import policy
from cases.models import Flag
from cases.services.common import lock_case, now, require


@transaction.atomic
def acknowledge_flag(*, flag: Flag, by: User) -> Flag:
    """Record that a supervisor of the case's unit has seen the flag; acknowledging twice keeps the first."""
    # The case lock orders this with the scans, which change the case's flags only under the same lock.
    case = lock_case(flag.case_id)
    # Any stage, closed included: a downgraded flag on a closed case is exactly what the look-back reviews.
    require(
        policy.can_acknowledge_flag(actor_for(by), case),
        _("Only a supervisor of this case's unit can acknowledge its flags."),
    )
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.acknowledged_at is None:
        flag.acknowledged_by = by
        flag.acknowledged_at = now()
        flag.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return flag
