"""Writes of the analysis data. An administrator records the officer strength of the units they administer
(accounts/scope.py, the rule behind the admin site). The early-warning job records the warnings (analysis/warnings.py
finds them) and tells their owner units' offices; a supervisor acknowledges and resolves them (analysis/policy.py);
an administrator of the whole tree sets their parameters."""

import math
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import scope
from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from analysis import explain, policy, selectors, warnings
from analysis.choices import WarningKind, WarningState
from analysis.models import (
    ALPHA_MAX,
    BASELINE_MONTHS,
    FIRST_YEAR,
    MIN_CASES,
    REPEAT_VICTIM_THRESHOLD,
    WINDOW_DAYS,
    EarlyWarning,
    OfficerStrength,
    WarningSettings,
)
from cases import services as case_services
from cases.exceptions import IllegalTransition, StaleVersion


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


# --- early warnings ------------------------------------------------------------------------------------------------

NOTE_MAX = 2000
ACT_REFUSAL = gettext_lazy("Only a supervisor of the warning's unit or of a unit above it can do this.")
STALE_REFUSAL = gettext_lazy(
    "This warning changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)
SETTINGS_REFUSAL = gettext_lazy("Only an administrator of the whole tree may change the early warning settings.")


def raise_early_warnings(*, now: datetime | None = None) -> dict[str, int]:
    """Record each condition that holds now (analysis/warnings.py) that has no warning yet, each in its own
    transaction with the notices to its owner unit's office; returns how many of each kind were raised. Idempotent:
    a condition's key is unique, so a rerun, or two runs at once, raise nothing twice."""
    now = now or timezone.now()
    found = warnings.conditions(now, selectors.current_settings())
    known = set(EarlyWarning.objects.filter(key__in=[c.key for c in found]).values_list("key", flat=True))
    raised = dict.fromkeys(WarningKind.values, 0)
    for condition in found:
        if condition.key not in known and _raise(condition, now) is not None:
            raised[condition.kind] += 1
    return raised


@transaction.atomic
def _raise(condition: warnings.Condition, now: datetime) -> EarlyWarning | None:
    try:
        with transaction.atomic():
            warning = EarlyWarning.objects.create(
                kind=condition.kind,
                severity=condition.severity,
                owner_unit=condition.owner_unit,
                case=condition.case,
                key=condition.key,
                figures=condition.figures,
                raised_at=now,
            )
    except IntegrityError:  # another run raised it meanwhile
        return None
    unit = condition.owner_unit
    case_services.notify_unit_office(
        unit=unit,
        topic=explain.TOPIC,
        params=explain.notice_params(warning.kind, warning.figures, (unit.name, unit.name_en)),
        link=reverse("analysis:warning", args=[warning.pk]),
        now=now,
    )
    return warning


def _locked(warning: EarlyWarning, by: User, expected_version: int | None) -> EarlyWarning:
    """The warning locked for a step: only those who may act on it (403), only on the version the caller read (412
    from the API, 409 on the page); nothing is written otherwise."""
    locked = EarlyWarning.objects.select_for_update().select_related("owner_unit").get(pk=warning.pk)
    if not policy.can_act(actor_for(by), locked):
        raise PermissionDenied(str(ACT_REFUSAL))
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(str(STALE_REFUSAL), code="stale_version")
    return locked


def _note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    # A note of white space and invisible characters only (zero-width spaces, joiners, byte-order marks) says nothing.
    if required and not any(char.isprintable() and not char.isspace() for char in note):
        raise ValidationError({"note": _("Say what was found and done: a resolution needs a note.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Keep the note to %(max)d characters.") % {"max": NOTE_MAX}})
    return note


@transaction.atomic
def acknowledge_warning(
    *, warning: EarlyWarning, by: User, note: str = "", expected_version: int | None = None
) -> EarlyWarning:
    """The office has seen the warning and is looking into it (open → acknowledged), with an optional note."""
    locked = _locked(warning, by, expected_version)
    if locked.state != WarningState.OPEN:
        raise IllegalTransition(_("This warning was acknowledged already."), code="illegal_transition")
    locked.acknowledgement_note = _note(note, required=False)
    locked.state, locked.acknowledged_by, locked.acknowledged_at = WarningState.ACKNOWLEDGED, by, timezone.now()
    locked.version += 1
    locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "acknowledgement_note", "version"])
    return locked


@transaction.atomic
def resolve_warning(*, warning: EarlyWarning, by: User, note: str, expected_version: int | None = None) -> EarlyWarning:
    """The office has looked into it and says what it found and did (acknowledged → resolved; the note is required)."""
    locked = _locked(warning, by, expected_version)
    if locked.state == WarningState.OPEN:
        raise IllegalTransition(_("Acknowledge the warning before you resolve it."), code="illegal_transition")
    if locked.state == WarningState.RESOLVED:
        raise IllegalTransition(_("This warning was resolved already."), code="illegal_transition")
    locked.resolution_note = _note(note, required=True)
    locked.state, locked.resolved_by, locked.resolved_at = WarningState.RESOLVED, by, timezone.now()
    locked.version += 1
    locked.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note", "version"])
    return locked


SETTING_FIELDS = ("window_days", "baseline_months", "alpha", "min_cases", "repeat_victim_threshold")


def warning_settings_errors(
    *, window_days: int, baseline_months: int, alpha: float, min_cases: int, repeat_victim_threshold: int
) -> dict[str, str]:
    """What is wrong with these settings, one message per field: the admin form and the service share the rule (and
    the constraints hold it whatever the door)."""
    errors: dict[str, str] = {}
    ranges = {
        "window_days": (window_days, WINDOW_DAYS),
        "baseline_months": (baseline_months, BASELINE_MONTHS),
        "min_cases": (min_cases, MIN_CASES),
        "repeat_victim_threshold": (repeat_victim_threshold, REPEAT_VICTIM_THRESHOLD),
    }
    for name, (value, (low, high)) in ranges.items():
        if not low <= value <= high:
            errors[name] = _("Give a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
    if not (0 < alpha <= ALPHA_MAX) or math.isnan(alpha):
        errors["alpha"] = _("Give a level above 0 and at most %(max)s.") % {"max": ALPHA_MAX}
    return errors


@transaction.atomic
def record_warning_settings(
    *, by: User, window_days: int, baseline_months: int, alpha: float, min_cases: int, repeat_victim_threshold: int
) -> WarningSettings:
    """New early warning settings, as a new row (the old ones stay as the history); the next run of the job reads
    them. Only an administrator of the whole tree (403); out-of-range values are refused (400), nothing written."""
    if not scope.may_change_shared_settings(by):
        raise PermissionDenied(str(SETTINGS_REFUSAL))
    errors = warning_settings_errors(
        window_days=window_days,
        baseline_months=baseline_months,
        alpha=alpha,
        min_cases=min_cases,
        repeat_victim_threshold=repeat_victim_threshold,
    )
    if errors:
        raise ValidationError(errors)
    return WarningSettings.objects.create(
        window_days=window_days,
        baseline_months=baseline_months,
        alpha=alpha,
        min_cases=min_cases,
        repeat_victim_threshold=repeat_victim_threshold,
        changed_by=by,
        changed_at=timezone.now(),
    )
