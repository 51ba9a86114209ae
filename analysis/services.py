"""Writes of the analysis data. An administrator records the officer strength of the units they administer
(accounts/scope.py, the rule behind the admin site). The early-warning job records the warnings (analysis/warnings.py
finds them) and tells their owner units' offices; a supervisor acknowledges and resolves them (analysis/policy.py);
an administrator of the whole tree sets their parameters. A unit's supervisors write its case analysis and evaluation
reports; another supervisor approves them (analysis/policy.py)."""

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
from analysis import evaluation, explain, policy, selectors, warnings
from analysis.choices import QUARTERS, WHOLE_YEAR, EvaluationState, WarningKind, WarningState
from analysis.evaluation import Period
from analysis.models import (
    ALPHA_MAX,
    BASELINE_MONTHS,
    FIRST_YEAR,
    LESSONS_MAX,
    MIN_CASES,
    REPEAT_VICTIM_THRESHOLD,
    WINDOW_DAYS,
    EarlyWarning,
    EvaluationReport,
    OfficerStrength,
    WarningSettings,
)
from cases import services as case_services
from cases.exceptions import IllegalTransition, StaleVersion
from rightsguard.text import when


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


# --- case analysis and evaluation reports ---------------------------------------------------------------------------

# The first year a report may cover: as the analysis page, records were migrated in as far back as 2015.
EVALUATION_FIRST_YEAR = 2015
WRITE_REFUSAL = gettext_lazy("Only a supervisor of the report's unit or of a unit above it can do this.")
FOUR_EYES_REFUSAL = gettext_lazy(
    "You wrote or submitted this report: another supervisor of its unit or of a unit above it approves or returns it."
)
EVALUATION_STALE = gettext_lazy(
    "This report changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)


def evaluation_period_errors(*, year: int, quarter: int) -> dict[str, str]:
    """What is wrong with this period, one message per field: the start form, the API and the service share it."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if quarter not in (WHOLE_YEAR, *QUARTERS):
        errors["quarter"] = _("Choose the whole year or a quarter from 1 to 4.")
    if not EVALUATION_FIRST_YEAR <= year <= today.year:
        errors["year"] = _("Choose a year from %(first)d to %(last)d.") % {
            "first": EVALUATION_FIRST_YEAR,
            "last": today.year,
        }
    elif "quarter" not in errors and Period(year, quarter).start > today:
        errors["quarter"] = _("This quarter has not begun yet.")
    return errors


@transaction.atomic
def start_evaluation(*, unit: OrgUnit, year: int, quarter: int, by: User) -> tuple[EvaluationReport, bool]:
    """The unit's report for the period, started as an empty draft, or the one it has already (a unit has one report
    per period); and whether it was started now. A supervisor of the unit or above (403); a period out of range is
    refused (400) and nothing is written."""
    if not policy.can_write_evaluation(actor_for(by), unit):
        raise PermissionDenied(str(WRITE_REFUSAL))
    errors = evaluation_period_errors(year=year, quarter=quarter)
    if errors:
        raise ValidationError(errors)
    existing = EvaluationReport.objects.filter(unit=unit, year=year, quarter=quarter).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            report = EvaluationReport.objects.create(
                unit=unit, year=year, quarter=quarter, created_by=by, created_at=now, written_by=by, updated_at=now
            )
    except IntegrityError:  # started by someone else meanwhile: theirs is the unit's report
        return EvaluationReport.objects.get(unit=unit, year=year, quarter=quarter), False
    return report, True


def _locked_report(report: EvaluationReport, by: User, expected_version: int | None) -> EvaluationReport:
    """The report locked for a change: only by a supervisor of its unit or above (403), only on the version the caller
    read (412 from the API, 409 on the page); nothing is written otherwise."""
    locked = EvaluationReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
    if not policy.can_write_evaluation(actor_for(by), locked.unit):
        raise PermissionDenied(str(WRITE_REFUSAL))
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(str(EVALUATION_STALE), code="stale_version")
    return locked


def _past_draft(report: EvaluationReport) -> IllegalTransition:
    if report.state == EvaluationState.APPROVED:
        return IllegalTransition(_("This report is approved: it can no longer change."), code="illegal_transition")
    return IllegalTransition(
        _("This report was submitted for approval: it changes only if it is returned."), code="illegal_transition"
    )


def _text(text: str) -> str:
    """Typed text with its line breaks as one character each: a browser sends a textarea's line breaks as CR LF and
    counts each as one against its maxlength, so the bound checked here is the one the writer was shown."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _lessons(text: str) -> str:
    text = _text(text)
    if "\x00" in text:
        raise ValidationError({"lessons": _("The text holds a character that cannot be stored (NUL).")})
    if len(text) > LESSONS_MAX:
        raise ValidationError(
            {
                "lessons": _("Keep the lessons and measures to %(max)d characters; this text has %(n)d.")
                % {"max": LESSONS_MAX, "n": len(text)}
            }
        )
    return text


def _written(text: str) -> bool:
    return any(char.isprintable() and not char.isspace() for char in text)


def _wrote(report: EvaluationReport, by: User, lessons: str) -> None:
    """``by`` saves ``lessons``: their writer, and one of its authors, when the text changes (pressing Save on a text
    one did not change takes nobody's approval away)."""
    if lessons != report.lessons:
        report.lessons, report.written_by = lessons, by
        _author(report, by)


def _author(report: EvaluationReport, by: User) -> None:
    if by.pk not in report.authors:
        report.authors = [*report.authors, by.pk]


def _by_name(user: User) -> str:
    return user.full_name or user.username


def _link(report: EvaluationReport) -> str:
    return reverse("analysis:evaluation", args=[report.pk])


@transaction.atomic
def save_lessons(
    *, report: EvaluationReport, by: User, lessons: str, expected_version: int | None = None
) -> EvaluationReport:
    """Write the report's "lessons and measures" (a draft only: 409 after it is submitted)."""
    locked = _locked_report(report, by, expected_version)
    if locked.state != EvaluationState.DRAFT:
        raise _past_draft(locked)
    _wrote(locked, by, _lessons(lessons))
    locked.updated_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["lessons", "written_by", "authors", "updated_at", "version"])
    return locked


@transaction.atomic
def submit_evaluation(
    *, report: EvaluationReport, by: User, expected_version: int | None = None, lessons: str | None = None
) -> EvaluationReport:
    """Send the draft for approval (draft → submitted), with ``lessons`` saved first when given. It needs its lessons
    written and its period over (400 otherwise); the supervisors who may approve it are told."""
    locked = _locked_report(report, by, expected_version)
    if locked.state != EvaluationState.DRAFT:
        raise _past_draft(locked)
    now = timezone.now()
    if lessons is not None:
        _wrote(locked, by, _lessons(lessons))
    if not _written(locked.lessons):
        raise ValidationError({"lessons": _("Write the lessons and measures before you submit the report.")})
    period = Period(locked.year, locked.quarter)
    if period.end > timezone.localdate(now):
        raise ValidationError(
            _("The period ends on %(day)s: submit the report once it is over.") % {"day": when(period.last_day)}
        )
    locked.state, locked.submitted_by, locked.submitted_at, locked.updated_at = EvaluationState.SUBMITTED, by, now, now
    _author(locked, by)
    locked.version += 1
    locked.save(
        update_fields=[
            "lessons",
            "written_by",
            "authors",
            "state",
            "submitted_by",
            "submitted_at",
            "updated_at",
            "version",
        ]
    )
    case_services.notify_about_unit(
        unit=locked.unit,
        recipients=policy.approvers_to_tell(locked.unit, locked.authors),
        topic=evaluation.TOPIC,
        params=evaluation.notice_params(evaluation.SUBMITTED, locked.unit, locked.year, locked.quarter, _by_name(by)),
        link=_link(locked),
        now=now,
    )
    return locked


def _decided(locked: EvaluationReport, by: User) -> None:
    """A submitted report, decided by someone who did not write or submit it: 409 otherwise, then 403."""
    if locked.state != EvaluationState.SUBMITTED:
        if locked.state == EvaluationState.APPROVED:
            raise IllegalTransition(_("This report is approved already."), code="illegal_transition")
        raise IllegalTransition(_("This report is not submitted for approval."), code="illegal_transition")
    if not policy.can_approve_evaluation(actor_for(by), locked):
        raise PermissionDenied(str(FOUR_EYES_REFUSAL))


def _tell_writers(locked: EvaluationReport, by: User, event: str, submitter_id: int | None, now: datetime) -> None:
    """Tell the report's writer and its submitter (not the one who decided) that it was approved or returned."""
    told = {locked.written_by_id, submitter_id} - {None, by.pk}
    case_services.notify_about_unit(
        unit=locked.unit,
        recipients=[uid for uid in told if uid is not None],
        topic=evaluation.TOPIC,
        params=evaluation.notice_params(event, locked.unit, locked.year, locked.quarter, _by_name(by)),
        link=_link(locked),
        now=now,
    )


@transaction.atomic
def approve_evaluation(*, report: EvaluationReport, by: User, expected_version: int | None = None) -> EvaluationReport:
    """Approve a submitted report (submitted → approved, final): a supervisor of its unit or above who neither wrote
    nor submitted it (four eyes). Its figures are read now and kept as they are (``figures``): the report no longer
    follows later changes of the cases. Its writer and submitter are told."""
    locked = _locked_report(report, by, expected_version)
    _decided(locked, by)
    now = timezone.now()
    locked.figures = evaluation.compute(unit=locked.unit, year=locked.year, quarter=locked.quarter)
    locked.state, locked.approved_by, locked.approved_at, locked.updated_at = EvaluationState.APPROVED, by, now, now
    locked.version += 1
    locked.save(update_fields=["figures", "state", "approved_by", "approved_at", "updated_at", "version"])
    _tell_writers(locked, by, evaluation.APPROVED, locked.submitted_by_id, now)
    return locked


@transaction.atomic
def return_evaluation(
    *, report: EvaluationReport, by: User, note: str, expected_version: int | None = None
) -> EvaluationReport:
    """Send a submitted report back to its writers as a draft, saying why (the note is required and kept): the same
    people as approve it. Its writer and submitter are told."""
    locked = _locked_report(report, by, expected_version)
    _decided(locked, by)
    note = _text(note)
    if not _written(note):
        raise ValidationError({"note": _("Say what should change: a return needs a note.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Keep the note to %(max)d characters.") % {"max": NOTE_MAX}})
    now = timezone.now()
    submitter = locked.submitted_by_id
    locked.state, locked.submitted_by, locked.submitted_at = EvaluationState.DRAFT, None, None
    locked.returned_by, locked.returned_at, locked.return_note, locked.updated_at = by, now, note, now
    locked.version += 1
    locked.save(
        update_fields=[
            "state",
            "submitted_by",
            "submitted_at",
            "returned_by",
            "returned_at",
            "return_note",
            "updated_at",
            "version",
        ]
    )
    _tell_writers(locked, by, evaluation.RETURNED, submitter, now)
    return locked
