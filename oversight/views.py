"""The campaign pages. Thin: parse the input, call one service or selector, render. An invisible campaign or case is
a 404; a forbidden step on a visible one a 403 (the services decide)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import OrgUnit
from accounts.reauth import REAUTH_AT, reauth_redirect, recently_reauthenticated
from accounts.requests import AuthenticatedRequest
from cases import services as case_services
from cases.choices import AccessAction
from cases.exceptions import StaleVersion
from cases.views.kept import typed_fields
from oversight import policy, report, report_files, selectors, services
from oversight.choices import CHECKLISTS, CampaignKind, CampaignState
from oversight.forms import (
    AccountabilityForm,
    AssignForm,
    CampaignForm,
    MakeUpForm,
    ProblemForm,
    PursuitStepForm,
    RectifyForm,
    ReviewForm,
    Versioned,
)
from oversight.models import Campaign, CampaignCase, Problem, PursuitRecord


def _require_campaigns(request: AuthenticatedRequest) -> None:
    if not policy.has_campaigns(request.actor):
        raise PermissionDenied(_("Only supervisors and administrators take part in oversight campaigns."))


def _campaign(request: AuthenticatedRequest, pk: int) -> Campaign:
    _require_campaigns(request)
    return get_object_or_404(policy.campaigns_visible_to(request.actor).select_related("owner_unit"), pk=pk)


def _item(request: AuthenticatedRequest, campaign: Campaign, item_id: int) -> CampaignCase:
    visible = policy.campaign_cases_visible_to(request.actor, campaign).select_related(
        "case", "case__unit", "sub_unit", "campaign", "campaign__owner_unit"
    )
    return get_object_or_404(visible, pk=item_id)


def _errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages] for name, errs in error.error_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


def campaign_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_campaigns(request)
    return render(
        request,
        "oversight/list.html",
        {
            "campaigns": selectors.campaigns_for(request.actor),
            "can_create": policy.can_create_any(request.actor),
            "reminders": selectors.reminders_for(request.actor),
        },
    )


def campaign_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_campaigns(request)
    units = policy.owner_units(request.actor)
    form = CampaignForm(request.POST or None, units=units)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                campaign = services.create_campaign(
                    by=request.user,
                    name=d["name"],
                    kind=d["kind"],
                    owner_unit=d["owner_unit"],
                    period_start=d["period_start"],
                    period_end=d["period_end"],
                    deadline=d["deadline"],
                    scope=form.scope(),
                    selection=d["selection"],
                    sample_size=d.get("sample_size"),
                    seed=d.get("seed") or "",
                )
            except ValidationError as error:
                form.add_service_errors(_errors(error))
            else:
                messages.success(request, _("Campaign “%(name)s” created as a draft.") % {"name": campaign.name})
                return redirect("oversight:detail", pk=campaign.pk)
        status = 400
    return render(request, "oversight/new.html", {"form": form}, status=status)


def _detail(
    request: AuthenticatedRequest, campaign: Campaign, *, assign_form: AssignForm | None = None, status: int = 200
) -> HttpResponse:
    actor = request.actor
    manages = policy.can_manage(actor, campaign)
    after = request.GET.get("after", "")
    items = selectors.campaign_cases_page(actor, campaign, after=int(after) if after.isdigit() else 0)
    if manages and assign_form is None and campaign.state != CampaignState.CLOSED:
        assign_form = AssignForm(
            sub_units=services.sub_units_of(campaign).order_by("path"), reviewers=selectors.reviewer_choices(campaign)
        )
    return render(
        request,
        "oversight/detail.html",
        {
            "campaign": campaign,
            "manages": manages,
            "sees_seed": policy.sees_seed(actor, campaign),
            "progress": selectors.progress(actor, campaign),
            "items": items,
            "next_after": items[-1].pk if len(items) == selectors.CASE_PAGE else None,
            "assign_form": assign_form if manages else None,
            "log": selectors.campaign_log(campaign)[:20] if manages else [],
            "checklist": CHECKLISTS[campaign.kind],
            "pursuit": selectors.pursuit_figures(actor, campaign)
            if campaign.kind == CampaignKind.FUGITIVE_PURSUIT
            else None,
        },
        status=status,
    )


def campaign_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, _campaign(request, pk))


# --- the campaign's report ---------------------------------------------------------------------------------------


# The file asked for before the password was confirmed: the re-authentication page returns the reader to the report,
# which fetches the file (once), instead of leaving them at the password form while the file downloads behind it.
PENDING_REPORT_FILE = "oversight.pending_report_file"


@never_cache
@require_GET
def campaign_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The figures per sub-unit with charts, over the selected cases the reader sees (as the campaign page)."""
    campaign = _reported(request, pk)
    figures = report.campaign_report(request.actor, campaign)
    context = {
        "campaign": campaign,
        **report_files.page_context(figures),
        "password_first": not recently_reauthenticated(request),
        "reauth_minutes": max(1, settings.RIGHTSGUARD_REAUTH_SECONDS // 60),
        "resume_format": _resumed_file(request, campaign),
    }
    return render(request, "oversight/report.html", context)


def _reported(request: AuthenticatedRequest, pk: int) -> Campaign:
    """A campaign the reader sees that has a report (a draft has none): 404 otherwise."""
    campaign = _campaign(request, pk)
    if not policy.has_report(campaign):
        raise Http404(_("A draft campaign has no report yet."))
    return campaign


def _resumed_file(request: AuthenticatedRequest, campaign: Campaign) -> str:
    """The format of the file this user asked for on this campaign's report just before re-authenticating, once. Only
    just before: a download abandoned at the password page is not resumed when the password is confirmed later for
    something else."""
    pending = request.session.get(PENDING_REPORT_FILE)
    if not isinstance(pending, dict) or pending.get("campaign") != campaign.pk:
        return ""
    if not recently_reauthenticated(request):
        return ""
    del request.session[PENDING_REPORT_FILE]
    asked, confirmed = pending.get("at"), request.session.get(REAUTH_AT)
    if not isinstance(asked, int | float) or not isinstance(confirmed, int | float):
        return ""
    if not 0 <= confirmed - asked <= settings.RIGHTSGUARD_REAUTH_SECONDS:
        return ""
    fmt = pending.get("format")
    return fmt if fmt in report_files.FORMATS else ""


@never_cache
@require_GET
def campaign_report_file(request: AuthenticatedRequest, pk: int, fmt: str) -> HttpResponse:
    """The report as a CSV, XLSX or PDF file in the page's language; each download is in the access log. Like the
    yearly report's exports, it needs the password confirmed recently (after the checks of who may see it); after
    the password the reader is back on the report page, which fetches the file."""
    if fmt not in report_files.FORMATS:
        raise Http404(_("No such format."))
    campaign = _reported(request, pk)
    if not recently_reauthenticated(request):
        asked = timezone.now().timestamp()
        request.session[PENDING_REPORT_FILE] = {"campaign": campaign.pk, "format": fmt, "at": asked}
        return reauth_redirect(request, reverse("oversight:report", args=[campaign.pk]))
    figures = report.campaign_report(request.actor, campaign)
    data = report_files.render_file(figures, fmt)
    case_services.log_access(
        request=request,
        action=AccessAction.EXPORT,
        object_ref=f"campaign-report campaign={campaign.pk} format={fmt} lang={get_language() or 'en'}",
    )
    response = HttpResponse(data, content_type=report_files.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{report_files.file_name(figures, fmt)}"'
    return response


@require_POST
def campaign_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        campaign = services.start_campaign(campaign=campaign, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Campaign started: %(n)s cases selected.") % {"n": campaign.selected_count})
    return redirect("oversight:detail", pk=campaign.pk)


@require_POST
def campaign_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        services.close_campaign(campaign=campaign, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Campaign closed."))
    return redirect("oversight:detail", pk=campaign.pk)


@require_POST
def campaign_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if not policy.can_manage(request.actor, campaign):
        raise PermissionDenied(_("Only the administrators and supervisors of the owner unit can change this campaign."))
    form = AssignForm(
        request.POST,
        sub_units=services.sub_units_of(campaign).order_by("path"),
        reviewers=selectors.reviewer_choices(campaign),
    )
    if form.is_valid():
        try:
            services.assign_reviewer(campaign=campaign, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(_errors(error))
        else:
            messages.success(request, _("Reviewer assigned."))
            return redirect("oversight:detail", pk=campaign.pk)
    return _detail(request, campaign, assign_form=form, status=400)


# --- the review page of one selected case ------------------------------------------------------------------------


def _units(item: CampaignCase) -> Any:
    return OrgUnit.objects.filter(path__startswith=item.campaign.owner_unit.path).order_by("path")


@dataclass(frozen=True)
class Stale:
    """A form refused because the selected case changed since its page was loaded: the service's sentence, which form,
    and what was typed (shown as text only when the page no longer offers that form)."""

    message: str
    key: str
    typed: str

    @property
    def rows(self) -> int:
        return min(max(self.typed.count("\n") + 2, 3), 12)


def _typed_text(form: Versioned) -> str:
    """What was typed in ``form``, as text to copy: the one field's text, or a line per field."""
    fields = typed_fields(form)
    if len(fields) == 1:
        return fields[0][1]
    return "\n".join(f"{label}: {value}" for label, value in fields)


def _review_page(
    request: AuthenticatedRequest, item: CampaignCase, *, status: int = 200, stale: Stale | None = None, **bound: Any
) -> HttpResponse:
    actor = request.actor
    campaign = item.campaign
    problems = selectors.problems_of(item)
    review = getattr(item, "review", None)
    # Every form of the page carries the version it shows; a bound form carries what was posted (brought up to date
    # after a stale refusal, so that sending it again, once checked, is taken).
    version = {"version": item.version}
    initial: dict[str, Any] = dict(version)
    if review is not None:
        initial["summary"] = review.summary
        for answer in review.answers.all():
            initial[answer.item] = answer.answer
            initial[f"{answer.item}_note"] = answer.note
    can_review = policy.can_review(actor, item)
    can_follow_up = policy.can_follow_up(actor, item)
    open_problems = list(problems.filter(rectified_on__isnull=True))
    pursuits = [
        (
            record,
            (bound.get("pursuit_form") if bound.get("pursuit_record") == record.pk else None)
            or PursuitStepForm(record=record, units=_units(item), initial=version),
        )
        for record in selectors.pursuits_of(item)
    ]
    offered = {
        "review_form": can_review,
        "problem_form": can_review,
        "rectify_form": can_follow_up and any(p.pk == bound.get("rectify_problem") for p in open_problems),
        "make_up_form": can_review and problems.exists() and not item.made_up_at,
        "accountability_form": can_follow_up,
        "pursuit_form": can_follow_up
        and any(r.pk == bound.get("pursuit_record") and form.steps for r, form in pursuits),
    }
    context = {
        "campaign": campaign,
        "item": item,
        "case": item.case,
        "review": review,
        "problems": problems,
        "accountability": selectors.accountability_of(item),
        "can_review": can_review,
        "can_follow_up": can_follow_up,
        "stale": stale,
        # What was typed in a form the page no longer offers (the problem was rectified meanwhile, say), to copy.
        "stale_typed": stale.typed if stale is not None and not offered.get(stale.key) else "",
        "review_form": bound.get("review_form") or ReviewForm(initial=initial, kind=campaign.kind),
        "problem_form": bound.get("problem_form") or ProblemForm(units=_units(item), initial=version),
        "rectify_forms": {
            p.pk: (bound.get("rectify_form") if bound.get("rectify_problem") == p.pk else None)
            or RectifyForm(prefix=f"p{p.pk}", initial=version)
            for p in open_problems
        },
        "make_up_form": bound.get("make_up_form") or MakeUpForm(problems=problems, initial=version),
        "accountability_form": bound.get("accountability_form")
        or AccountabilityForm(units=_units(item), problems=problems, initial=version),
        "pursuits": pursuits,
    }
    return render(request, "oversight/review.html", context, status=status)


def review_page(request: AuthenticatedRequest, pk: int, item_id: int) -> HttpResponse:
    return _review_page(request, _item(request, _campaign(request, pk), item_id))


def _done(request: AuthenticatedRequest, item: CampaignCase, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("oversight:review", pk=item.campaign_id, item_id=item.pk)


def _refused(request: AuthenticatedRequest, item: CampaignCase, error: ValidationError) -> HttpResponse:
    """A step the state no longer allows (a second click, a tab loaded before someone else acted): the service's
    reason above the page as it is now, since the form it came from may no longer be on it."""
    messages.error(request, " ".join(error.messages))
    return redirect("oversight:review", pk=item.campaign_id, item_id=item.pk)


def _submit(
    request: AuthenticatedRequest,
    item: CampaignCase,
    key: str,
    form: Versioned,
    call: Callable[[dict[str, Any]], object],
    done: str,
    **bound: Any,
) -> HttpResponse:
    """Validate a form of the review page, call its service with the version the page showed, and go back to the page;
    or show the page again with the form as it was sent: with its errors (400), or, when the case changed since the
    page was loaded, with the service's sentence above the page as it is now (409). Nothing is written then, and the
    form keeps what was typed, its version brought up to date: checked, it can be sent again."""
    bound_forms: dict[str, Any] = {key: form, **bound}
    if form.is_valid():
        try:
            call(form.service_data())
        except StaleVersion as error:
            item = _item(request, item.campaign, item.pk)
            data = request.POST.copy()
            data[form.add_prefix("version")] = str(item.version)
            form.data = data
            stale = Stale(message=" ".join(error.messages), key=key, typed=_typed_text(form))
            return _review_page(request, item, status=409, stale=stale, **bound_forms)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, item, error)
            form.add_service_errors(_errors(error))
        else:
            return _done(request, item, done)
    return _review_page(request, item, status=400, **bound_forms)


@require_POST
def review_record(request: AuthenticatedRequest, pk: int, item_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    form = ReviewForm(request.POST, kind=item.campaign.kind)
    return _submit(
        request,
        item,
        "review_form",
        form,
        lambda d: services.record_review(
            item=item,
            by=request.user,
            answers=form.answers(),
            summary=d.get("summary") or "",
            expected_version=d["expected_version"],
        ),
        _("Review recorded."),
    )


@require_POST
def problem_raise(request: AuthenticatedRequest, pk: int, item_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    form = ProblemForm(request.POST, units=_units(item))
    return _submit(
        request,
        item,
        "problem_form",
        form,
        lambda d: services.raise_problem(item=item, by=request.user, **d),
        _("Problem recorded."),
    )


@require_POST
def problem_rectify(request: AuthenticatedRequest, pk: int, item_id: int, problem_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    problem = get_object_or_404(Problem, pk=problem_id, campaign_case=item)
    form = RectifyForm(request.POST, prefix=f"p{problem.pk}")
    return _submit(
        request,
        item,
        "rectify_form",
        form,
        lambda d: services.rectify_problem(problem=problem, by=request.user, **d),
        _("Rectification recorded."),
        rectify_problem=problem.pk,
    )


@require_POST
def make_up(request: AuthenticatedRequest, pk: int, item_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    form = MakeUpForm(request.POST, problems=selectors.problems_of(item))
    return _submit(
        request,
        item,
        "make_up_form",
        form,
        lambda d: services.make_up_case(item=item, by=request.user, **d),
        _("The case is sent back to be handled again."),
    )


@require_POST
def accountability_record(request: AuthenticatedRequest, pk: int, item_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    form = AccountabilityForm(request.POST, units=_units(item), problems=selectors.problems_of(item))
    return _submit(
        request,
        item,
        "accountability_form",
        form,
        lambda d: services.record_accountability(item=item, by=request.user, **d),
        _("Accountability recorded."),
    )


@require_POST
def pursuit_step(request: AuthenticatedRequest, pk: int, item_id: int, record_id: int) -> HttpResponse:
    item = _item(request, _campaign(request, pk), item_id)
    record = get_object_or_404(PursuitRecord, pk=record_id, campaign_case=item)
    form = PursuitStepForm(request.POST, record=record, units=_units(item))
    return _submit(
        request,
        item,
        "pursuit_form",
        form,
        lambda d: services.record_pursuit_step(record=record, by=request.user, **d),
        _("Pursuit step recorded."),
        pursuit_record=record.pk,
    )
