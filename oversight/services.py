"""Every write to oversight campaigns. Each service owns its transaction, locks what it reads and then writes, checks
the policy (oversight/policy.py) on the locked rows, writes the campaign's log (``CampaignEvent``) and puts the steps
that concern a case on its timeline through the cases services. A refusal raises before anything is written:
``PermissionDenied`` for who may not, ``ValidationError`` (by field) for what may not be."""

import hashlib
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import policy as case_policy
from cases import selectors as case_selectors
from cases import services as case_services
from cases.choices import (
    OPEN_STATUSES,
    CampaignStep,
    CaseStatus,
    Disposition,
    FindingProblem,
    FlagKind,
    IncidentKind,
    SuspectStatus,
)
from cases.exceptions import StaleVersion
from cases.models import Case, Suspect
from oversight import policy
from oversight.choices import (
    CHECKLISTS,
    CUSTODY_STATUSES,
    PURSUIT_CUSTODY,
    PURSUIT_ENDS,
    PURSUIT_STEPS,
    Answer,
    CampaignKind,
    CampaignState,
    LogStep,
    Measure,
    ProblemType,
    PursuitStatus,
    SelectionMode,
)
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    PursuitRecord,
    Review,
    ReviewAnswer,
    ReviewerAssignment,
)
from oversight.scope import Scope

# What a refusal says, wherever it is given: here, and by the API before it reads a body (a 403 must not depend on what
# was sent).
CREATE_REFUSAL = gettext_lazy("Only the administrators and supervisors of a unit can start a campaign there.")
MANAGE_REFUSAL = gettext_lazy("Only the administrators and supervisors of the owner unit can change this campaign.")
REVIEW_REFUSAL = gettext_lazy(
    "Only a reviewer assigned to this case's sub-unit can do this, while the campaign is running."
)
FOLLOW_UP_REFUSAL = gettext_lazy(
    "Only the case's reviewer or the campaign's organisers can do this, while the campaign is running."
)
STALE_REFUSAL = gettext_lazy(
    "This case's review changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)

NAME_MAX = 150
TEXT_MAX = 5000
SAMPLE_MAX = 1_000_000
# Days outside these years are never real here and overflow the time-zone arithmetic of a scope's last day (a 500 when
# the campaign starts); the API's date fields refuse them too (cases/api/filters.py).
FIRST_YEAR, LAST_YEAR = 1900, 2999
# The supervision finding a made-up case is reopened with, by the campaign problem behind it.
FINDING_FOR: dict[str, str] = {
    ProblemType.NON_HANDLING: FindingProblem.NOT_HANDLED,
    ProblemType.DOWNGRADED: FindingProblem.DOWNGRADED,
    ProblemType.PROTRACTED: FindingProblem.PROTRACTED,
    ProblemType.INTERFERENCE: FindingProblem.INTERFERENCE,
    ProblemType.EVIDENCE: FindingProblem.EVIDENCE_NOT_SECURED,
    ProblemType.TIME_LIMITS: FindingProblem.PROTRACTED,
    ProblemType.SUPPORT: FindingProblem.SUPPORT_NOT_PROVIDED,
    ProblemType.LOOK_BACK: FindingProblem.NOT_HANDLED,
}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _log(
    campaign: Campaign,
    step: str,
    by: User | None,
    *,
    item: CampaignCase | None = None,
    data: dict[str, Any] | None = None,
) -> CampaignEvent:
    return CampaignEvent.objects.create(
        campaign=campaign, step=step, campaign_case=item, actor=by, at=timezone.now(), data=data or {}
    )


def _on_timeline(item: CampaignCase, by: User, step: str, detail: str = "") -> None:
    case_services.record_campaign_step(
        case=item.case, by=by, step=step, campaign_id=item.campaign_id, name=item.campaign.name, detail=detail
    )


def _text(value: str, field: str, message: str, errors: dict[str, str], limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = message
    elif len(value) > limit:
        errors[field] = _("Keep this to %(limit)s characters or fewer.") % {"limit": limit}
    return value


def _one_line(value: str, field: str, errors: dict[str, str]) -> None:
    """A name shown as a title and sent as an e-mail's subject: a line break there would stop every reminder of the
    campaign from being sent (the mail library refuses a header with one)."""
    if field not in errors and any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        errors[field] = _("Write this on one line, without line breaks or control characters.")


def _check_days(errors: dict[str, str], **days: date | None) -> None:
    for field, day in days.items():
        if day is not None and field not in errors and not FIRST_YEAR <= day.year <= LAST_YEAR:
            errors[field] = _("Give a date between %(min)s and %(max)s.") % {"min": FIRST_YEAR, "max": LAST_YEAR}


def _raise(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationError(dict(errors))


def _today() -> date:
    return timezone.localdate()


# --- the campaign ----------------------------------------------------------------------------------------------------


def _check_scope(
    owner: OrgUnit, scope: Scope, selection: str, sample_size: int | None, seed: str, errors: dict[str, str]
) -> None:
    _check_days(
        errors,
        occurred_from=scope.occurred_from,
        occurred_to=scope.occurred_to,
        closed_from=scope.closed_from,
        closed_to=scope.closed_to,
    )
    if any(s not in CaseStatus.values or s == CaseStatus.DRAFT for s in scope.statuses):
        errors["statuses"] = _("Choose statuses from the list.")
    if any(k not in IncidentKind.values for k in scope.kinds):
        errors["kinds"] = _("Choose incident types from the list.")
    if any(f not in FlagKind.values for f in scope.flags):
        errors["flags"] = _("Choose flags from the list.")
    if scope.unit_path and not scope.unit_path.startswith(owner.path):
        errors["unit"] = _("Choose a unit within the owner unit.")
    if scope.occurred_from and scope.occurred_to and scope.occurred_to < scope.occurred_from:
        errors["occurred_to"] = _("The last day comes before the first.")
    if scope.closed_from and scope.closed_to and scope.closed_to < scope.closed_from:
        errors["closed_to"] = _("The last day comes before the first.")
    if selection not in SelectionMode.values:
        errors["selection"] = _("Choose how cases are selected.")
    elif selection == SelectionMode.ALL and sample_size is not None:
        errors["sample_size"] = _("A sample size is for a sample; every case in scope is selected here.")
    elif selection != SelectionMode.ALL and not (sample_size and 1 <= sample_size <= SAMPLE_MAX):
        errors["sample_size"] = _("Give the number of cases to sample, from 1 to %(max)s.") % {"max": SAMPLE_MAX}
    if len(seed) > 64:
        errors["seed"] = _("Keep this to %(limit)s characters or fewer.") % {"limit": 64}


@transaction.atomic
def create_campaign(
    *,
    by: User,
    name: str,
    kind: str,
    owner_unit: OrgUnit,
    period_start: date,
    period_end: date,
    deadline: date,
    scope: Scope,
    selection: str,
    sample_size: int | None = None,
    seed: str = "",
) -> Campaign:
    """A campaign in draft, with its scope and how its cases will be selected."""
    _require(
        policy.can_create_in(actor_for(by), owner_unit),
        str(CREATE_REFUSAL),
    )
    errors: dict[str, str] = {}
    name = _text(name, "name", _("Name the campaign."), errors, NAME_MAX)
    _one_line(name, "name", errors)
    if kind not in CampaignKind.values:
        errors["kind"] = _("Choose the kind of campaign.")
    _check_days(errors, period_start=period_start, period_end=period_end, deadline=deadline)
    if period_end < period_start:
        errors.setdefault("period_end", _("The period ends before it starts."))
    if deadline < _today():
        errors.setdefault("deadline", _("The deadline cannot be in the past."))
    elif deadline < period_start:
        errors.setdefault("deadline", _("The deadline cannot come before the period starts."))
    seed = (seed or "").strip()
    _check_scope(owner_unit, scope, selection, sample_size, seed, errors)
    _raise(errors)
    campaign = Campaign.objects.create(
        name=name,
        kind=kind,
        owner_unit=owner_unit,
        period_start=period_start,
        period_end=period_end,
        deadline=deadline,
        scope=scope.as_json(),
        selection=selection,
        sample_size=sample_size,
        seed=seed,
        created_by=by,
        created_at=timezone.now(),
    )
    _log(campaign, LogStep.CREATED, by, data={"scope": campaign.scope, "selection": selection})
    return campaign


def _lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("owner_unit").get(pk=campaign.pk)


def _manage(campaign: Campaign, by: User) -> Campaign:
    locked = _lock(campaign)
    _require(
        policy.can_manage(actor_for(by), locked),
        str(MANAGE_REFUSAL),
    )
    return locked


def _in_state(campaign: Campaign, *states: str) -> None:
    if campaign.state not in states:
        raise ValidationError(
            _("This is not possible while the campaign is “%(state)s”.") % {"state": campaign.get_state_display()},
            code="campaign_state",
        )


@transaction.atomic
def set_scope(
    *, campaign: Campaign, by: User, scope: Scope, selection: str, sample_size: int | None = None, seed: str = ""
) -> Campaign:
    """Change the scope and the selection of a campaign still in draft."""
    campaign = _manage(campaign, by)
    _in_state(campaign, CampaignState.DRAFT)
    errors: dict[str, str] = {}
    seed = (seed or "").strip()
    _check_scope(campaign.owner_unit, scope, selection, sample_size, seed, errors)
    _raise(errors)
    campaign.scope, campaign.selection, campaign.sample_size, campaign.seed = (
        scope.as_json(),
        selection,
        sample_size,
        seed,
    )
    campaign.save(update_fields=["scope", "selection", "sample_size", "seed"])
    _log(campaign, LogStep.SCOPE_SET, by, data={"scope": campaign.scope, "selection": selection})
    return campaign


def sample_key(seed: str, case_id: int) -> str:
    """The order a sample draws cases in: md5 of the seed followed by the case id, as PostgreSQL's md5 computes it."""
    return hashlib.md5(f"{seed}{case_id}".encode(), usedforsecurity=False).hexdigest()


def sub_unit_path(owner_path: str, unit_path: str) -> str:
    """The path of the owner's child that ``unit_path`` lies under (the owner's own for its own cases)."""
    rest = unit_path[len(owner_path) :]
    child = rest.split("/", 1)[0]
    return f"{owner_path}{child}/" if child else owner_path


def _select_in_sql(campaign: Campaign, candidates: QuerySet[Case]) -> None:
    """INSERT … SELECT of the chosen cases with their sub-units, in one statement (PostgreSQL). Only SQL that Django
    compiled from the queryset and constant text are interpolated; every value is a parameter."""
    owner = campaign.owner_unit.path
    cand_sql, cand_params = candidates.order_by().values("id", "unit_path").query.sql_with_params()
    placed = (
        "SELECT c.id AS case_id, su.id AS sub_unit_id FROM ("  # noqa: S608
        f"  SELECT cand.id, split_part(substr(cand.unit_path, %s), '/', 1) AS child FROM ({cand_sql}) AS cand"
        ") AS c JOIN accounts_orgunit su ON su.path = CASE WHEN c.child = '' THEN %s ELSE %s || c.child || '/' END"
    )
    params: list[Any] = [len(owner) + 1, *cand_params, owner, owner]
    order = "md5(%s || p.case_id::text), p.case_id"
    if campaign.selection == SelectionMode.ALL:
        chosen, chosen_params = "SELECT case_id, sub_unit_id FROM placed p", []
    elif campaign.selection == SelectionMode.SAMPLE:
        chosen = f"SELECT case_id, sub_unit_id FROM placed p ORDER BY {order} LIMIT %s"  # noqa: S608
        chosen_params = [campaign.seed, campaign.sample_size]
    else:
        chosen = (
            "SELECT case_id, sub_unit_id FROM (SELECT p.case_id, p.sub_unit_id, "  # noqa: S608
            f"row_number() OVER (PARTITION BY p.sub_unit_id ORDER BY {order}) AS n FROM placed p) r WHERE n <= %s"
        )
        chosen_params = [campaign.seed, campaign.sample_size]
    sql = (
        f"WITH placed AS ({placed}), chosen AS ({chosen}) "  # noqa: S608
        "INSERT INTO oversight_campaigncase (campaign_id, case_id, sub_unit_id) "
        "SELECT %s, case_id, sub_unit_id FROM chosen"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *chosen_params, campaign.pk])


def _select_in_python(campaign: Campaign, candidates: QuerySet[Case]) -> None:
    """The same selection as ``_select_in_sql``, for databases without md5 and split_part (SQLite)."""
    owner = campaign.owner_unit.path
    units = dict(OrgUnit.objects.filter(path__startswith=owner).values_list("path", "pk"))
    rows = [(pk, units[sub_unit_path(owner, path)]) for pk, path in candidates.values_list("pk", "unit_path")]
    if campaign.selection != SelectionMode.ALL:
        rows.sort(key=lambda row: (sample_key(campaign.seed, row[0]), row[0]))
        size = campaign.sample_size or 0
        if campaign.selection == SelectionMode.SAMPLE:
            rows = rows[:size]
        else:
            taken: dict[int, int] = {}
            kept = []
            for pk, sub in rows:
                if taken.get(sub, 0) < size:
                    taken[sub] = taken.get(sub, 0) + 1
                    kept.append((pk, sub))
            rows = kept
    CampaignCase.objects.bulk_create(
        [CampaignCase(campaign=campaign, case_id=pk, sub_unit_id=sub) for pk, sub in rows], batch_size=2000
    )


@transaction.atomic
def start_campaign(*, campaign: Campaign, by: User) -> Campaign:
    """Select the cases in scope and freeze the list: set-based, in one statement. A sample without a seed is given
    one now, recorded on the campaign, so the selection can be reproduced."""
    campaign = _manage(campaign, by)
    _in_state(campaign, CampaignState.DRAFT)
    if campaign.selection != SelectionMode.ALL and not campaign.seed:
        campaign.seed = secrets.token_hex(8)
    scope = Scope.from_json(campaign.scope)
    candidates = case_selectors.cases_in_scope(campaign.owner_unit.path, scope.filters())
    if campaign.kind == CampaignKind.FUGITIVE_PURSUIT:
        candidates = candidates.filter(Exists(_at_large().filter(case_id=OuterRef("pk"))))
    if connection.vendor == "postgresql":
        _select_in_sql(campaign, candidates)
    else:
        _select_in_python(campaign, candidates)
    selected = CampaignCase.objects.filter(campaign=campaign)
    campaign.selected_count = selected.count()
    if connection.vendor == "postgresql" and campaign.selected_count >= ANALYZE_AFTER:
        # The planner's statistics would not know the campaign for a minute or so (until autovacuum), and the first
        # visits of its page would be planned as for a handful of cases: tenfold slower at a look-back's size.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE oversight_campaigncase")
    campaign.state = CampaignState.RUNNING
    campaign.started_at = timezone.now()
    campaign.save(update_fields=["seed", "selected_count", "state", "started_at"])
    if campaign.kind == CampaignKind.FUGITIVE_PURSUIT:
        _open_pursuits(campaign)
    case_services.record_campaign_steps(
        cases=Case.objects.filter(pk__in=selected.values("case_id")),
        by=by,
        step=CampaignStep.SELECTED,
        campaign_id=campaign.pk,
        name=campaign.name,
    )
    _log(campaign, LogStep.STARTED, by, data={"selected": campaign.selected_count, "seed": campaign.seed})
    return campaign


# A start selecting at least this many cases refreshes the planner's statistics of the selected cases.
ANALYZE_AFTER = 10_000


def _at_large() -> QuerySet[Suspect]:
    return Suspect.objects.filter(status=SuspectStatus.AT_LARGE)


def _open_pursuits(campaign: Campaign) -> None:
    """A pursuit record, at large, for every suspect at large of every selected case: one INSERT … SELECT."""
    suspects_sql, suspects_params = _at_large().order_by().values("id", "case_id").query.sql_with_params()
    sql = (
        "INSERT INTO oversight_pursuitrecord (campaign_case_id, suspect_id, status, cross_border, note) "  # noqa: S608
        f"SELECT cc.id, s.id, %s, %s, '' FROM oversight_campaigncase cc JOIN ({suspects_sql}) s "
        "ON s.case_id = cc.case_id WHERE cc.campaign_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [PursuitStatus.AT_LARGE.value, False, *suspects_params, campaign.pk])


def sub_units_of(campaign: Campaign) -> QuerySet[OrgUnit]:
    """The units progress and reviewers go by: the owner unit (for its own cases) and its children."""
    owner = campaign.owner_unit
    return OrgUnit.objects.filter(pk=owner.pk) | OrgUnit.objects.filter(parent=owner)


@transaction.atomic
def assign_reviewer(*, campaign: Campaign, by: User, sub_unit: OrgUnit, reviewer: User) -> ReviewerAssignment:
    """Assign a supervisor of the sub-unit to review its selected cases (in draft or while running)."""
    campaign = _manage(campaign, by)
    _in_state(campaign, CampaignState.DRAFT, CampaignState.RUNNING)
    errors: dict[str, str] = {}
    if not sub_units_of(campaign).filter(pk=sub_unit.pk).exists():
        errors["sub_unit"] = _("Choose the owner unit or one of the units directly under it.")
    elif not policy.can_be_reviewer(actor_for(reviewer), sub_unit):
        errors["reviewer"] = _("The reviewer must be a supervisor of this sub-unit or of a unit above it.")
    elif ReviewerAssignment.objects.filter(campaign=campaign, sub_unit=sub_unit, reviewer=reviewer).exists():
        errors["reviewer"] = _("This reviewer is already assigned to this sub-unit.")
    _raise(errors)
    assignment = ReviewerAssignment.objects.create(
        campaign=campaign, sub_unit=sub_unit, reviewer=reviewer, assigned_by=by, assigned_at=timezone.now()
    )
    _log(campaign, LogStep.REVIEWER_ASSIGNED, by, data={"sub_unit": sub_unit.pk, "reviewer": reviewer.pk})
    return assignment


@transaction.atomic
def close_campaign(*, campaign: Campaign, by: User) -> Campaign:
    """End a running campaign; its records stay as they are (read-only from now on)."""
    campaign = _manage(campaign, by)
    _in_state(campaign, CampaignState.RUNNING)
    campaign.state = CampaignState.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["state", "closed_at"])
    reviewed = Review.objects.filter(campaign_case__campaign=campaign).count()
    _log(campaign, LogStep.CLOSED, by, data={"selected": campaign.selected_count, "reviewed": reviewed})
    return campaign


# --- reviewing a selected case ----------------------------------------------------------------------------------------


def _lock_item(item: CampaignCase) -> CampaignCase:
    return (
        CampaignCase.objects.select_for_update(of=("self",))
        .select_related("campaign", "campaign__owner_unit", "case")
        .get(pk=item.pk)
    )


def _check_version(item: CampaignCase, expected_version: int | None) -> None:
    """The version the caller read (a page's form, an API client), checked on the locked row: a tab loaded before
    someone else wrote, or a form sent twice, is refused whole (412 from the API). None: the caller guards itself."""
    if expected_version is not None and expected_version != item.version:
        raise StaleVersion(str(STALE_REFUSAL), code="stale_version")


def _bump(item: CampaignCase, *fields: str) -> None:
    """Save ``fields`` of the locked selected case with its next version: every write about it ends here."""
    item.version += 1
    item.save(update_fields=[*fields, "version"])


def _reviewing(item: CampaignCase, by: User, expected_version: int | None) -> CampaignCase:
    locked = _lock_item(item)
    _require(
        policy.can_review(actor_for(by), locked),
        str(REVIEW_REFUSAL),
    )
    _check_version(locked, expected_version)
    return locked


def _following_up(item: CampaignCase, by: User, expected_version: int | None) -> CampaignCase:
    locked = _lock_item(item)
    _require(
        policy.can_follow_up(actor_for(by), locked),
        str(FOLLOW_UP_REFUSAL),
    )
    _check_version(locked, expected_version)
    return locked


@transaction.atomic
def record_review(
    *,
    item: CampaignCase,
    by: User,
    answers: Mapping[str, tuple[str, str]],
    summary: str = "",
    expected_version: int | None = None,
) -> Review:
    """Answer the checklist of the campaign's kind for a selected case, every item: pass, problem (with a note) or not
    applicable. Recording it again replaces the answers (with ``expected_version``, only the review the caller read)."""
    item = _reviewing(item, by, expected_version)
    checklist = CHECKLISTS[item.campaign.kind]
    errors: dict[str, str] = {}
    for key in answers:
        if key not in checklist:
            errors[key] = _("This item is not on the checklist of this campaign.")
    cleaned: dict[str, tuple[str, str]] = {}
    for key in checklist:
        answer, note = answers.get(key, ("", ""))
        note = (note or "").strip()
        if answer not in Answer.values:
            errors[key] = _("Answer this item.")
        elif answer == Answer.PROBLEM and not note:
            errors[key] = _("Say what the problem is.")
        elif len(note) > TEXT_MAX:
            errors[key] = _("Keep this to %(limit)s characters or fewer.") % {"limit": TEXT_MAX}
        cleaned[key] = (answer, note)
    summary = (summary or "").strip()
    if len(summary) > TEXT_MAX:
        errors["summary"] = _("Keep this to %(limit)s characters or fewer.") % {"limit": TEXT_MAX}
    _raise(errors)
    now = timezone.now()
    review, created = Review.objects.update_or_create(
        campaign_case=item, defaults={"reviewer": by, "reviewed_at": now, "summary": summary}
    )
    for key, (answer, note) in cleaned.items():
        ReviewAnswer.objects.update_or_create(review=review, item=key, defaults={"answer": answer, "note": note})
    _bump(item)
    problems = sum(1 for answer, _note in cleaned.values() if answer == Answer.PROBLEM)
    _log(item.campaign, LogStep.REVIEWED, by, item=item, data={"problems": problems, "again": not created})
    _on_timeline(item, by, CampaignStep.REVIEWED)
    return review


def _check_unit(item: CampaignCase, unit: OrgUnit, field: str, errors: dict[str, str]) -> None:
    if not unit.path.startswith(item.campaign.owner_unit.path):
        errors[field] = _("Choose a unit within the campaign's owner unit.")


@transaction.atomic
def raise_problem(
    *,
    item: CampaignCase,
    by: User,
    type: str,
    description: str,
    responsible_unit: OrgUnit,
    rectify_by: date,
    expected_version: int | None = None,
) -> Problem:
    """A problem found in how a selected case was handled, with the unit that must rectify it and by when."""
    item = _reviewing(item, by, expected_version)
    errors: dict[str, str] = {}
    if type not in ProblemType.values:
        errors["type"] = _("Choose the type of problem.")
    description = _text(description, "description", _("Describe the problem."), errors)
    _check_unit(item, responsible_unit, "responsible_unit", errors)
    _check_days(errors, rectify_by=rectify_by)
    if rectify_by < _today():
        errors["rectify_by"] = _("The rectification date cannot be in the past.")
    _raise(errors)
    problem = Problem.objects.create(
        campaign_case=item,
        type=type,
        description=description,
        responsible_unit=responsible_unit,
        rectify_by=rectify_by,
        raised_by=by,
        raised_at=timezone.now(),
    )
    _bump(item)
    _log(item.campaign, LogStep.PROBLEM_RAISED, by, item=item, data={"problem": problem.pk, "type": type})
    _on_timeline(item, by, CampaignStep.PROBLEM)
    return problem


@transaction.atomic
def rectify_problem(
    *, problem: Problem, by: User, rectification: str, rectified_on: date, expected_version: int | None = None
) -> Problem:
    """Record what the responsible unit did about a problem, and when."""
    item = _following_up(problem.campaign_case, by, expected_version)
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    errors: dict[str, str] = {}
    if problem.rectified_on is not None:
        raise ValidationError(_("This problem is already recorded as rectified."), code="already_rectified")
    rectification = _text(rectification, "rectification", _("Say what was done."), errors)
    if rectified_on > _today():
        errors["rectified_on"] = _("The date cannot be in the future.")
    elif rectified_on < timezone.localtime(problem.raised_at).date():
        errors["rectified_on"] = _("The date cannot be before the problem was raised.")
    _raise(errors)
    problem.rectification = rectification
    problem.rectified_on = rectified_on
    problem.rectification_recorded_by = by
    problem.save(update_fields=["rectification", "rectified_on", "rectification_recorded_by"])
    _bump(item)
    on_time = rectified_on <= problem.rectify_by
    _log(item.campaign, LogStep.RECTIFIED, by, item=item, data={"problem": problem.pk, "on_time": on_time})
    _on_timeline(item, by, CampaignStep.RECTIFIED)
    return problem


@transaction.atomic
def make_up_case(
    *, item: CampaignCase, by: User, problem: Problem, expected_version: int | None = None
) -> CampaignCase:
    """Send a selected case back to be handled again because of a problem found: through the case workflow's own
    services — a closed case is recalled, then reopened with a supervision finding; a case in look-back is reopened.
    A case still being handled needs no making up."""
    item = _reviewing(item, by, expected_version)
    errors: dict[str, str] = {}
    if item.made_up_at is not None:
        raise ValidationError(_("This case has already been sent back to be handled again."), code="made_up")
    if problem.campaign_case_id != item.pk:
        errors["problem"] = _("Choose a problem found in this case.")
    status = item.case.status
    if status not in (CaseStatus.CLOSED, CaseStatus.LOOK_BACK):
        errors["problem"] = _(
            "The case is at the stage “%(status)s”: only a concluded or closed case is sent back to be handled again."
        ) % {"status": item.case.get_status_display()}
    _raise(errors)
    case = item.case
    if status == CaseStatus.CLOSED:
        case = case_services.recall_case(
            case=case,
            by=by,
            expected_version=None,
            reason=_("Recalled by the oversight campaign “%(name)s” to be handled again.")
            % {"name": item.campaign.name},
        )
    case_services.reopen_case(
        case=case,
        by=by,
        expected_version=None,
        problem=FINDING_FOR[problem.type],
        detail=problem.description,
        rectify_by=problem.rectify_by,
    )
    item.made_up_at = timezone.now()
    item.made_up_by = by
    item.made_up_problem = problem
    _bump(item, "made_up_at", "made_up_by", "made_up_problem")
    _log(item.campaign, LogStep.MADE_UP, by, item=item, data={"problem": problem.pk, "from_status": status})
    _on_timeline(item, by, CampaignStep.MADE_UP)
    return item


@transaction.atomic
def record_accountability(
    *,
    item: CampaignCase,
    by: User,
    officer_name: str,
    unit: OrgUnit,
    measure: str,
    document_reference: str,
    decided_on: date,
    officer_badge: str = "",
    problem: Problem | None = None,
    expected_version: int | None = None,
) -> Accountability:
    """An officer held accountable for how a selected case was handled: the measure and the decision document."""
    item = _following_up(item, by, expected_version)
    errors: dict[str, str] = {}
    officer_name = _text(officer_name, "officer_name", _("Name the officer."), errors, 100)
    officer_badge = (officer_badge or "").strip()
    if len(officer_badge) > 20:
        errors["officer_badge"] = _("Keep this to %(limit)s characters or fewer.") % {"limit": 20}
    _check_unit(item, unit, "unit", errors)
    if measure not in Measure.values:
        errors["measure"] = _("Choose the measure taken.")
    document_reference = _text(
        document_reference, "document_reference", _("Give the decision document's reference."), errors, 100
    )
    _check_days(errors, decided_on=decided_on)
    if decided_on > _today():
        errors["decided_on"] = _("The date cannot be in the future.")
    if problem is not None and problem.campaign_case_id != item.pk:
        errors["problem"] = _("Choose a problem found in this case.")
    _raise(errors)
    record = Accountability.objects.create(
        campaign_case=item,
        problem=problem,
        officer_name=officer_name,
        officer_badge=officer_badge,
        unit=unit,
        measure=measure,
        document_reference=document_reference,
        decided_on=decided_on,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    _bump(item)
    _log(item.campaign, LogStep.ACCOUNTABILITY, by, item=item, data={"record": record.pk, "measure": measure})
    _on_timeline(item, by, CampaignStep.ACCOUNTABILITY)
    return record


# --- fugitive pursuit -------------------------------------------------------------------------------------------------


@transaction.atomic
def record_pursuit_step(
    *,
    record: PursuitRecord,
    by: User,
    status: str,
    on: date,
    unit: OrgUnit,
    cross_border: bool | None = None,
    note: str = "",
    custody: str = SuspectStatus.DETAINED,
    expected_version: int | None = None,
) -> PursuitRecord:
    """Move the pursuit of one suspect on: located, lost again (at large), or ended — arrested, surrendered,
    extradited, deceased — on a day, by a unit. An end that brings the suspect into custody changes the suspect's
    status (to ``custody``) and a disposition still "at large" to "under investigation", through the case services:
    so it needs the case open and a supervisor of its unit, and is refused whole otherwise."""
    item = _following_up(record.campaign_case, by, expected_version)
    record = PursuitRecord.objects.select_for_update().select_related("suspect").get(pk=record.pk)
    errors: dict[str, str] = {}
    if status not in PursuitStatus.values:
        errors["status"] = _("Choose the step taken.")
    elif status == record.status or status not in PURSUIT_STEPS[record.status]:
        raise ValidationError(
            _("The pursuit cannot go from “%(from)s” to “%(to)s”.")
            % {"from": record.get_status_display(), "to": PursuitStatus(status).label},
            code="pursuit_step",
        )
    if status in PURSUIT_CUSTODY:
        if item.case.status not in OPEN_STATUSES:
            errors["status"] = _("The case is closed: recall it through the case workflow before recording this.")
        else:
            _require(
                case_policy.can_handle(actor_for(by), item.case),
                _("Only a supervisor of the case's unit can record that a suspect was caught."),
            )
        if custody not in CUSTODY_STATUSES:
            errors["custody"] = _("Choose the suspect's custody status.")
    _check_days(errors, on=on)
    if on > _today():
        errors.setdefault("on", _("The date cannot be in the future."))
    elif status in PURSUIT_ENDS and record.located_on and on < record.located_on:
        errors["on"] = _("The date cannot be before the suspect was located.")
    _check_unit(item, unit, "unit", errors)
    crossed = record.cross_border if cross_border is None else cross_border
    if status == PursuitStatus.EXTRADITED:
        if cross_border is False:
            errors["cross_border"] = _("An extradition or repatriation is across the border.")
        crossed = True
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        errors["note"] = _("Keep this to %(limit)s characters or fewer.") % {"limit": TEXT_MAX}
    _raise(errors)
    before = record.status
    record.status = status
    record.located_on = (
        on if status == PursuitStatus.LOCATED else None if status == PursuitStatus.AT_LARGE else record.located_on
    )
    record.ended_on = on if status in PURSUIT_ENDS else None
    record.unit = unit
    record.cross_border = crossed
    if note:
        record.note = note
    record.updated_by = by
    record.updated_at = timezone.now()
    record.save()
    _bump(item)
    if status in PURSUIT_CUSTODY:
        suspect = case_services.update_suspect(suspect=record.suspect, by=by, status=custody)
        if suspect.disposition == Disposition.AT_LARGE:
            case_services.record_disposition(suspect=suspect, by=by, disposition=Disposition.UNDER_INVESTIGATION)
    _log(
        item.campaign,
        LogStep.PURSUIT,
        by,
        item=item,
        data={
            "record": record.pk,
            "suspect": record.suspect_id,
            "from": before,
            "to": status,
            "on": on.isoformat(),
            "unit": unit.pk,
            "cross_border": crossed,
        },
    )
    _on_timeline(item, by, CampaignStep.PURSUIT)
    return record
