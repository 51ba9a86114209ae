"""The early-warning API, mounted at /api/v1/warnings/ (rightsguard/urls.py) ahead of the case API and its catch-all.
Thin, like the pages (analysis/warning_views.py): the same selectors, services and policy (analysis/policy.py). Those
without warnings (officers) are refused with 403; a warning or a unit the caller does not see is a 404; a step the
caller may not take on a warning they see is a 403, checked before the body is read; a step the warning is past is
409, a stale version 412, an invalid body 400. A refusal changes nothing."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import ApiRequest
from analysis import policy, selectors, services
from analysis.api import serializers as s
from analysis.models import EarlyWarning
from cases import policy as case_policy
from cases.api.pagination import KeysetPagination
from cases.api.schema import responses
from cases.api.versioning import IF_MATCH_PATTERN, expected_version
from cases.api.views import ApiView, SelectorListView, validated

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        'The warning\'s version the client last read, as returned in ETag (e.g. "2"). Same as "version" in the body; '
        "a stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The warning's version, quoted; send it back in If-Match."),
    response=[200],
)
REFUSAL = gettext_lazy("The early warnings are for administrators and supervisors.")


def _require_warnings(request: ApiRequest) -> None:
    if not policy.has_warnings(request.actor):
        raise PermissionDenied(str(REFUSAL))


def _answer(request: Request, warning: EarlyWarning) -> Response:
    response = Response(s.WarningSerializer(warning, context={"request": request}).data)
    response["ETag"] = f'"{warning.version}"'
    return response


class WarningPagination(KeysetPagination):
    ordering = ("-raised_at", "-id")


class WarningListView(SelectorListView):
    model = EarlyWarning
    serializer_class = s.WarningSerializer
    pagination_class = WarningPagination
    filters = selectors.WarningFilters()

    def select(self) -> QuerySet[EarlyWarning]:
        return selectors.warnings_for(self.request.actor, self.filters)

    @extend_schema(
        summary=gettext_lazy("Early warnings the caller sees"),
        description=gettext_lazy(
            "Newest first: rises in a county's cases or in a province's duty scenario or place against their own "
            "baseline, suspects with earlier cases against police and officers attacked repeatedly. Administrators "
            "and supervisors see those of the units they may report on (a suspect's earlier cases only the "
            "supervisors covering the case); the supervisors act on them."
        ),
        parameters=[s.WarningQuerySerializer],
        responses=responses({200: s.WarningSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_warnings(self.request)
        # A plain dict: an empty ``?unit=`` is refused as not a unit id, not read as "not given".
        query = s.WarningQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        unit = None
        if "unit" in data:
            unit = get_object_or_404(case_policy.reportable_units(self.request.actor), pk=data["unit"])
        self.filters = selectors.WarningFilters(state=data.get("state", ""), kind=data.get("kind", ""), unit=unit)
        return super().get(request, *args, **kwargs)


class WarningScoped(ApiView):
    """Views of one warning: it comes from those the caller sees, or the answer is 404 (403 for officers)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require_warnings(self.request)
        visible = policy.visible_warnings(self.request.actor).select_related(
            "owner_unit", "case", "acknowledged_by", "resolved_by"
        )
        self.warning: EarlyWarning = get_object_or_404(visible, pk=self.kwargs["pk"])

    def require_acting(self) -> None:
        """Whether the caller may act on it: a 403 before the body is read."""
        if not policy.can_act(self.request.actor, self.warning):
            raise PermissionDenied(str(services.ACT_REFUSAL))

    def reread(self) -> EarlyWarning:
        return (
            policy.visible_warnings(self.request.actor)
            .select_related("owner_unit", "case", "acknowledged_by", "resolved_by")
            .get(pk=self.warning.pk)
        )


class WarningDetailView(WarningScoped):
    @extend_schema(
        summary=gettext_lazy("An early warning"),
        responses=responses({200: s.WarningSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        return _answer(request, self.warning)


class WarningAcknowledgeView(WarningScoped):
    @extend_schema(
        summary=gettext_lazy("Acknowledge an early warning"),
        description=gettext_lazy(
            "The office has seen it and is looking into it (open → acknowledged), with an optional note. The "
            "supervisors of its unit or of a unit above it; 409 once it is acknowledged."
        ),
        request=s.WarningStepSerializer,
        responses=responses({200: s.WarningSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        self.require_acting()
        data = validated(s.WarningStepSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.acknowledge_warning(
            warning=self.warning, by=request.user, note=data.get("note", ""), expected_version=version
        )
        return _answer(request, self.reread())


class WarningResolveView(WarningScoped):
    @extend_schema(
        summary=gettext_lazy("Resolve an early warning"),
        description=gettext_lazy(
            "The office says what it found and did (acknowledged → resolved; the note is required). The "
            "supervisors of its unit or of a unit above it; 409 while it is open or once it is resolved."
        ),
        request=s.WarningResolveSerializer,
        responses=responses({200: s.WarningSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        self.require_acting()
        data = validated(s.WarningResolveSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.resolve_warning(warning=self.warning, by=request.user, note=data["note"], expected_version=version)
        return _answer(request, self.reread())
