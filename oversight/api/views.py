"""The campaign API, mounted at /api/v1/campaigns/. Thin, like the pages (oversight/views.py): the same selectors,
services and policy (oversight/policy.py). Those without campaigns (officers) are refused with 403; a campaign or a
selected case the caller does not see is a 404; a step the caller may not take on what they see is a 403, checked
before the body is read; an invalid one a 400 from the services. A refusal changes nothing."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.requests import ApiRequest
from cases.api.idempotency import idempotent
from cases.api.pagination import KeysetPagination
from cases.api.schema import IDEMPOTENCY_KEY, responses
from cases.api.versioning import IF_MATCH_PATTERN, expected_version
from cases.api.views import ApiView, SelectorListView, validated
from oversight import policy, report, selectors, services
from oversight.api import serializers as s
from oversight.models import Campaign, CampaignCase, Problem, PursuitRecord

# The version of what the campaign recorded about a selected case (its review's "version"): a write given it, in the
# body or in If-Match as the case API takes a case's version, is refused with 412 if anything was written meanwhile.
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        'The review\'s version the client last read, as returned in ETag (e.g. "3"). Same as "version" in the body; '
        "a stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The review's version, quoted; send it back in If-Match."),
    response=[200, 201],
)


def _version(request: Request, data: dict[str, Any]) -> int | None:
    """The version the client read, from the body or If-Match (None: the write is not conditional)."""
    return expected_version(request, data.pop("version", None))


def _tagged(response: Response, item: CampaignCase) -> Response:
    response["ETag"] = f'"{item.version}"'
    return response


class CampaignPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


class SelectedPagination(KeysetPagination):
    page_size = 50
    ordering = ("id",)


def _require_campaigns(request: ApiRequest) -> None:
    if not policy.has_campaigns(request.actor):
        raise PermissionDenied(_("Only supervisors and administrators take part in oversight campaigns."))


class CampaignScoped(ApiView):
    """Views of one campaign: it comes from those the caller sees, or the answer is 404 (403 for officers)."""

    campaign_url_kwarg = "campaign_pk"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require_campaigns(self.request)
        self.campaign: Campaign = get_object_or_404(
            policy.campaigns_visible_to(self.request.actor).select_related("owner_unit"),
            pk=self.kwargs[self.campaign_url_kwarg],
        )

    def item(self, pk: int) -> CampaignCase:
        visible = policy.campaign_cases_visible_to(self.request.actor, self.campaign).select_related(
            "case", "sub_unit", "campaign", "campaign__owner_unit"
        )
        return get_object_or_404(visible, pk=pk)

    def require(self, allowed: bool, refusal: Any) -> None:
        if not allowed:
            raise PermissionDenied(str(refusal))

    def review_response(self, item: CampaignCase, code: int = status.HTTP_200_OK) -> Response:
        full = selectors.case_reviews(self.request.actor, self.campaign).get(pk=item.pk)
        return _tagged(Response(s.CaseReviewSerializer(full).data, status=code), full)


class ScopedList(SelectorListView, CampaignScoped):
    """A paged list under one campaign."""


def _detail(view: ApiView, campaign: Campaign, code: int = status.HTTP_200_OK) -> Response:
    campaign.progress = selectors.progress(view.request.actor, campaign)  # type: ignore[attr-defined]
    campaign.selected_seen = campaign.progress[-1].selected  # type: ignore[attr-defined]  # the total row's
    return Response(s.CampaignDetailSerializer(campaign, context={"request": view.request}).data, status=code)


# --- campaigns --------------------------------------------------------------------------------------------------------


class CampaignListView(SelectorListView):
    model = Campaign
    serializer_class = s.CampaignSerializer
    pagination_class = CampaignPagination

    def select(self) -> QuerySet[Campaign]:
        return selectors.campaigns_for(self.request.actor)

    @extend_schema(
        summary=gettext_lazy("Oversight campaigns the caller runs or reviews for"),
        responses=responses({200: s.CampaignSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_campaigns(self.request)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Create a campaign (a draft)"),
        description=gettext_lazy(
            "Administrators and supervisors of the owner unit. Cases are selected when the campaign starts."
        ),
        request=s.CampaignCreateSerializer,
        responses=responses({201: s.CampaignDetailSerializer}, 400, 401, 403, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest) -> Response:
        if not policy.can_create_any(request.actor):
            raise PermissionDenied(str(services.CREATE_REFUSAL))
        data = validated(s.CampaignCreateSerializer, request)
        campaign = services.create_campaign(
            by=request.user,
            name=data["name"],
            kind=data["kind"],
            owner_unit=data["owner_unit"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            deadline=data["deadline"],
            scope=s.ScopeSerializer.scope(data.get("scope") or {}),
            selection=data["selection"],
            sample_size=data.get("sample_size"),
            seed=data.get("seed") or "",
        )
        return _detail(self, campaign, status.HTTP_201_CREATED)


class CampaignDetailView(CampaignScoped):
    campaign_url_kwarg = "pk"

    @extend_schema(
        summary=gettext_lazy("A campaign, with its progress per sub-unit"),
        responses=responses({200: s.CampaignDetailSerializer}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        return _detail(self, self.campaign)


class CampaignReportView(CampaignScoped):
    @extend_schema(
        summary=gettext_lazy("A campaign's report: its figures per sub-unit and in total"),
        description=gettext_lazy(
            "The figures of the report page and its files, over the selected cases the caller sees (as the campaign "
            "itself): cases selected and reviewed, problems by type, rectified on time or late, overdue, cases made "
            "up, officers held accountable and decisions by measure, and for a fugitive pursuit where each pursuit "
            "stands."
        ),
        responses=responses({200: s.CampaignReportSerializer}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, campaign_pk: int) -> Response:
        if not policy.has_report(self.campaign):
            raise Http404(_("A draft campaign has no report yet."))
        return Response(s.CampaignReportSerializer.of(report.campaign_report(request.actor, self.campaign), request))


class CampaignStartView(CampaignScoped):
    @extend_schema(
        summary=gettext_lazy("Start a campaign: select its cases and freeze the list"),
        request=None,
        responses=responses({200: s.CampaignDetailSerializer}, 400, 401, 403, 404),
    )
    def post(self, request: ApiRequest, campaign_pk: int) -> Response:
        campaign = services.start_campaign(campaign=self.campaign, by=request.user)
        return _detail(self, campaign)


class CampaignCloseView(CampaignScoped):
    @extend_schema(
        summary=gettext_lazy("Close a running campaign"),
        request=None,
        responses=responses({200: s.CampaignDetailSerializer}, 400, 401, 403, 404),
    )
    def post(self, request: ApiRequest, campaign_pk: int) -> Response:
        campaign = services.close_campaign(campaign=self.campaign, by=request.user)
        return _detail(self, campaign)


class ReviewerListView(CampaignScoped):
    @extend_schema(
        summary=gettext_lazy("The reviewers assigned per sub-unit"),
        responses=responses({200: s.ReviewerSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, campaign_pk: int) -> Response:
        assignments = selectors.reviewers_of(self.campaign)
        return Response(s.ReviewerSerializer(assignments, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Assign a reviewer to a sub-unit"),
        description=gettext_lazy("A supervisor of the sub-unit or above it; in draft or while the campaign runs."),
        request=s.AssignSerializer,
        responses=responses({201: s.ReviewerSerializer}, 400, 401, 403, 404),
    )
    def post(self, request: ApiRequest, campaign_pk: int) -> Response:
        self.require(policy.can_manage(request.actor, self.campaign), services.MANAGE_REFUSAL)
        data = validated(s.AssignSerializer, request)
        reviewer = User.objects.filter(pk=data["reviewer"]).first()
        if reviewer is None:
            raise ValidationError(
                {"reviewer": _("The reviewer must be a supervisor of this sub-unit or of a unit above it.")}
            )
        assignment = services.assign_reviewer(
            campaign=self.campaign, by=request.user, sub_unit=data["sub_unit"], reviewer=reviewer
        )
        return Response(s.ReviewerSerializer(assignment).data, status=status.HTTP_201_CREATED)


# --- the selected cases and their reviews -----------------------------------------------------------------------------


class CampaignCaseListView(ScopedList):
    model = CampaignCase
    serializer_class = s.CampaignCaseSerializer
    pagination_class = SelectedPagination

    def select(self) -> QuerySet[CampaignCase]:
        return selectors.campaign_cases_listed(self.request.actor, self.campaign)

    @extend_schema(
        summary=gettext_lazy("The campaign's selected cases the caller sees"),
        description=gettext_lazy("The runners see every case; a reviewer those of the sub-units they review."),
        responses=responses({200: s.CampaignCaseSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ReviewListView(ScopedList):
    model = CampaignCase
    serializer_class = s.CaseReviewSerializer
    pagination_class = SelectedPagination

    def select(self) -> QuerySet[CampaignCase]:
        return selectors.case_reviews(self.request.actor, self.campaign).filter(review__isnull=False)

    @extend_schema(
        summary=gettext_lazy("The reviews recorded, with their problems, outcomes and accountability"),
        responses=responses({200: s.CaseReviewSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ItemScoped(CampaignScoped):
    """Views of one selected case of a campaign (``item_pk``), found among those the caller sees."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.selected = self.item(self.kwargs["item_pk"])


class ReviewDetailView(ItemScoped):
    @extend_schema(
        summary=gettext_lazy("What the campaign recorded about a selected case"),
        description=gettext_lazy(
            "The review (none yet: null), the problems, whether it was made up, accountability, and the version to "
            "send back with a write."
        ),
        responses=responses({200: s.CaseReviewSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, campaign_pk: int, item_pk: int) -> Response:
        return self.review_response(self.selected)

    @extend_schema(
        summary=gettext_lazy("Record the review of a selected case"),
        description=gettext_lazy(
            "An assigned reviewer of the case's sub-unit while the campaign runs: every item of the campaign kind's "
            "checklist, pass, problem (with a note) or not applicable. Recording it again replaces the answers: with "
            "the version (body or If-Match), only the review the client read."
        ),
        request=s.ReviewInputSerializer,
        responses=responses({200: s.CaseReviewSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def put(self, request: ApiRequest, campaign_pk: int, item_pk: int) -> Response:
        self.require(policy.can_review(request.actor, self.selected), services.REVIEW_REFUSAL)
        data = validated(s.ReviewInputSerializer, request)
        version = _version(request, data)
        answers = {a["item"]: (a["answer"], a.get("note") or "") for a in data["answers"]}
        services.record_review(
            item=self.selected,
            by=request.user,
            answers=answers,
            summary=data.get("summary") or "",
            expected_version=version,
        )
        return self.review_response(self.selected)


class ProblemView(ItemScoped):
    @extend_schema(
        summary=gettext_lazy("Record a problem found in a selected case"),
        request=s.ProblemInputSerializer,
        responses=responses({201: s.ProblemSerializer}, 400, 401, 403, 404, 412, 422),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest, campaign_pk: int, item_pk: int) -> Response:
        self.require(policy.can_review(request.actor, self.selected), services.REVIEW_REFUSAL)
        data = validated(s.ProblemInputSerializer, request)
        version = _version(request, data)
        problem = services.raise_problem(item=self.selected, by=request.user, expected_version=version, **data)
        return _tagged(
            Response(s.ProblemSerializer(problem).data, status=status.HTTP_201_CREATED), problem.campaign_case
        )


class RectifyView(ItemScoped):
    @extend_schema(
        summary=gettext_lazy("Record what was done about a problem, and when"),
        request=s.RectifyInputSerializer,
        responses=responses({200: s.ProblemSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, campaign_pk: int, item_pk: int, pk: int) -> Response:
        problem = get_object_or_404(
            Problem.objects.select_related("responsible_unit"), pk=pk, campaign_case=self.selected
        )
        self.require(policy.can_follow_up(request.actor, self.selected), services.FOLLOW_UP_REFUSAL)
        data = validated(s.RectifyInputSerializer, request)
        version = _version(request, data)
        problem = services.rectify_problem(problem=problem, by=request.user, expected_version=version, **data)
        return _tagged(Response(s.ProblemSerializer(problem).data), problem.campaign_case)


def _problem(item: CampaignCase, pk: int) -> Problem:
    """A problem of this selected case; any other id is refused as the service refuses another case's problem."""
    problem = Problem.objects.filter(pk=pk, campaign_case=item).first()
    if problem is None:
        raise ValidationError({"problem": _("Choose a problem found in this case.")})
    return problem


class MakeUpView(ItemScoped):
    @extend_schema(
        summary=gettext_lazy("Send a selected case back to be handled again"),
        description=gettext_lazy(
            "Through the case workflow: a closed case is recalled and reopened, a case in look-back is reopened, with "
            "a supervision finding for the problem. Once per case."
        ),
        request=s.MakeUpInputSerializer,
        responses=responses({200: s.CaseReviewSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, campaign_pk: int, item_pk: int) -> Response:
        self.require(policy.can_review(request.actor, self.selected), services.REVIEW_REFUSAL)
        data = validated(s.MakeUpInputSerializer, request)
        version = _version(request, data)
        problem = _problem(self.selected, data["problem"])
        services.make_up_case(item=self.selected, by=request.user, problem=problem, expected_version=version)
        return self.review_response(self.selected)


class AccountabilityView(ItemScoped):
    @extend_schema(
        summary=gettext_lazy("Record an officer held accountable"),
        request=s.AccountabilityInputSerializer,
        responses=responses({201: s.AccountabilitySerializer}, 400, 401, 403, 404, 412, 422),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest, campaign_pk: int, item_pk: int) -> Response:
        self.require(policy.can_follow_up(request.actor, self.selected), services.FOLLOW_UP_REFUSAL)
        data = validated(s.AccountabilityInputSerializer, request)
        version = _version(request, data)
        data["problem"] = _problem(self.selected, data["problem"]) if data.get("problem") else None
        record = services.record_accountability(item=self.selected, by=request.user, expected_version=version, **data)
        return _tagged(
            Response(s.AccountabilitySerializer(record).data, status=status.HTTP_201_CREATED), record.campaign_case
        )


# --- fugitive pursuit -------------------------------------------------------------------------------------------------


class PursuitListView(ScopedList):
    model = PursuitRecord
    serializer_class = s.PursuitSerializer
    pagination_class = SelectedPagination

    def select(self) -> QuerySet[PursuitRecord]:
        return selectors.pursuits_listed(self.request.actor, self.campaign)

    @extend_schema(
        summary=gettext_lazy("The pursuit of each suspect at large of the selected cases the caller sees"),
        responses=responses({200: s.PursuitSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PursuitStepView(CampaignScoped):
    @extend_schema(
        summary=gettext_lazy("Record a pursuit step"),
        description=gettext_lazy(
            "Located, lost again (at large), or ended: arrested, surrendered, extradited, deceased. An arrest, a "
            "surrender or an extradition changes the suspect's status (custody) through the case services, so it "
            "needs the case open and a supervisor of its unit."
        ),
        request=s.PursuitStepInputSerializer,
        responses=responses({200: s.PursuitSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, campaign_pk: int, pk: int) -> Response:
        record = get_object_or_404(selectors.pursuits_listed(request.actor, self.campaign), pk=pk)
        self.require(
            policy.can_follow_up(request.actor, self.item(record.campaign_case_id)), services.FOLLOW_UP_REFUSAL
        )
        data = validated(s.PursuitStepInputSerializer, request)
        version = _version(request, data)
        record = services.record_pursuit_step(record=record, by=request.user, expected_version=version, **data)
        record = selectors.pursuits_listed(request.actor, self.campaign).get(pk=record.pk)
        return _tagged(Response(s.PursuitSerializer(record).data), record.campaign_case)
