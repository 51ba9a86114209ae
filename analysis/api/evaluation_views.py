"""The evaluation report API, under /api/v1/analysis/evaluations/. Thin, like the pages (analysis/evaluation_views.py):
the same services, figures and policy (analysis/policy.py). Those without reports (officers) are refused with 403; a
report or a unit the caller does not see is a 404; a change the caller may not make on a report they see is a 403,
checked before the body is read; a step the report is past is 409, a stale version 412, an invalid body 400. A
refusal changes nothing."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authority import Actor
from accounts.models import unit_name
from accounts.requests import ApiRequest
from analysis import evaluation, explain, policy, services
from analysis.api import serializers as s
from analysis.choices import WarningKind, WarningState
from analysis.evaluation_views import RELATED, reading_of
from analysis.figures import change_pct, per_hundred
from analysis.models import EvaluationReport
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
        'The report\'s version the client last read, as returned in ETag (e.g. "2"). Same as "version" in the body; '
        "a stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The report's version, quoted; send it back in If-Match."),
    response=[200, 201],
)
REFUSAL = gettext_lazy("The evaluation reports are for administrators and supervisors.")
FIELDS = (
    "id",
    "unit",
    "year",
    "quarter",
    "state",
    "lessons",
    "written_by",
    "updated_at",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "returned_by",
    "returned_at",
    "return_note",
    "version",
)


def _require_evaluations(request: ApiRequest) -> Actor:
    if not policy.has_evaluations(request.actor):
        raise PermissionDenied(str(REFUSAL))
    actor: Actor = request.actor
    return actor


def api_figures(report: EvaluationReport, reading: evaluation.Reading) -> dict[str, Any]:
    """The reading as the API answers it: numbers and codes, the rates and changes worked out as on the page."""
    f = reading.figures
    officers = f["officers"]

    def pair(key: str) -> dict[str, Any]:
        now, before = f[key]["current"], f[key]["previous"]
        both = now is not None and before is not None
        return {"current": now, "previous": before, "change_pct": change_pct(now, before) if both else None}

    def rate(key: str) -> dict[str, Any]:
        return {
            "current": per_hundred(f[key]["current"], officers["current"]),
            "previous": per_hundred(f[key]["previous"], officers["previous"]),
        }

    def top(key: str) -> dict[str, Any]:
        total = f[key]["total"]
        shares = [
            {**item, "share_pct": round(item["cases"] * 100 / total, 1) if total else None} for item in f[key]["top"]
        ]
        return {**f[key], "top": shares}

    counts: dict[str, dict[str, Any]] = {
        kind: {"kind": kind, "raised": 0, "acknowledged": 0, "resolved": 0} for kind in WarningKind.values
    }
    for w in reading.warnings:
        row = counts[w["kind"]]
        row["raised"] += 1
        row["acknowledged"] += int(w["acknowledged"])
        row["resolved"] += int(w["resolved"])
    return {
        "frozen": bool(report.figures),
        "generated_at": reading.generated_at,
        "cases": pair("cases"),
        "officers_injured": pair("injured"),
        "officer_strength": pair("officers"),
        "cases_per_100_officers": rate("cases"),
        "officers_injured_per_100_officers": rate("injured"),
        "months": [
            {"month": m["month"], "cases": m["cases"], "cases_previous_year": m["previous"]} for m in f["months"]
        ],
        "duty_scenarios": top("scenarios"),
        "place_categories": top("places"),
        "repeat_attackers": {
            "cases": reading.repeat_cases,
            "suspects": reading.repeat_suspects,
            "listed": [
                {"case": r["case"], "reference": r["reference"], "suspect": r["suspect"], "earlier_cases": r["earlier"]}
                for r in reading.repeat_rows
            ],
        },
        "warnings_by_kind": list(counts.values()),
        "warnings": [
            {
                "id": w["id"],
                "kind": w["kind"],
                "severity": w["severity"],
                "owner_unit": w["owner"]["code"],
                "raised_at": w["raised_at"],
                "state": WarningState.RESOLVED
                if w["resolved"]
                else WarningState.ACKNOWLEDGED
                if w["acknowledged"]
                else WarningState.OPEN,
                "explanation": explain.explanation(
                    w["kind"], w["figures"], unit_name(w["owner"]["name"], w["owner"]["name_en"])
                ),
            }
            for w in reading.warnings
        ],
    }


def _answer(request: ApiRequest, report: EvaluationReport, code: int = status.HTTP_200_OK) -> Response:
    data = {name: getattr(report, name) for name in FIELDS}
    data["api_figures"] = api_figures(report, reading_of(report, request.actor))
    response = Response(s.EvaluationSerializer(data, context={"request": request}).data, status=code)
    response["ETag"] = f'"{report.version}"'
    return response


class EvaluationPagination(KeysetPagination):
    ordering = ("-id",)


class EvaluationListView(SelectorListView):
    model = EvaluationReport
    serializer_class = s.EvaluationRowSerializer
    pagination_class = EvaluationPagination
    query: dict[str, Any]  # the filters, read from the request before the list is

    def select(self) -> QuerySet[EvaluationReport]:
        reports = policy.visible_evaluations(self.request.actor).select_related(*RELATED)
        if "unit" in self.query:
            unit = get_object_or_404(case_policy.reportable_units(self.request.actor), pk=self.query["unit"])
            reports = reports.filter(unit__path__startswith=unit.path)
        if "year" in self.query:
            reports = reports.filter(year=self.query["year"])
        if "state" in self.query:
            reports = reports.filter(state=self.query["state"])
        return reports

    @extend_schema(
        summary=gettext_lazy("Evaluation reports the caller sees"),
        description=gettext_lazy(
            "Newest first: each unit's case analysis and evaluation for a quarter or a year, of the units the caller "
            "may report on (administrators and supervisors). The figures are in each report's own answer."
        ),
        parameters=[s.EvaluationQuerySerializer],
        responses=responses({200: s.EvaluationRowSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_evaluations(self.request)
        # A plain dict: an empty ``?unit=`` is refused as not a unit id, not read as "not given".
        query = s.EvaluationQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        self.query = dict(query.validated_data)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "query"):  # schema generation has no request to read them from
            self.query = {}
        return super().get_queryset()

    @extend_schema(
        summary=gettext_lazy("Start a unit's evaluation report"),
        description=gettext_lazy(
            "Starts the unit's report for the period as an empty draft (201), or answers the one it has already "
            "(200): a unit has one report per period. The supervisors of the unit or of a unit above it; a period "
            "that has not begun, or before 2015, is refused with 400."
        ),
        request=s.EvaluationCreateSerializer,
        responses=responses({200: s.EvaluationSerializer, 201: s.EvaluationSerializer}, 400, 401, 403, 404),
        parameters=[ETAG],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = _require_evaluations(self.request)
        data = validated(s.EvaluationCreateSerializer, request)
        unit = get_object_or_404(case_policy.reportable_units(actor), pk=data["unit"])
        if not policy.can_write_evaluation(actor, unit):
            raise PermissionDenied(str(services.WRITE_REFUSAL))
        report, created = services.start_evaluation(
            unit=unit, year=data["year"], quarter=data["quarter"], by=self.request.user
        )
        report = policy.visible_evaluations(actor).select_related(*RELATED).get(pk=report.pk)
        return _answer(self.request, report, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class EvaluationScoped(ApiView):
    """Views of one report: it comes from those the caller sees, or the answer is 404 (403 for officers)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        actor = _require_evaluations(self.request)
        visible = policy.visible_evaluations(actor).select_related(*RELATED)
        self.report: EvaluationReport = get_object_or_404(visible, pk=self.kwargs["pk"])

    def require_writing(self) -> None:
        if not policy.can_write_evaluation(self.request.actor, self.report.unit):
            raise PermissionDenied(str(services.WRITE_REFUSAL))

    def require_deciding(self) -> None:
        self.require_writing()
        if not policy.can_approve_evaluation(self.request.actor, self.report):
            raise PermissionDenied(str(services.FOUR_EYES_REFUSAL))

    def answer(self) -> Response:
        report = policy.visible_evaluations(self.request.actor).select_related(*RELATED).get(pk=self.report.pk)
        return _answer(self.request, report)


class EvaluationDetailView(EvaluationScoped):
    @extend_schema(
        summary=gettext_lazy("An evaluation report, with its figures"),
        description=gettext_lazy(
            "An approved report answers the figures kept when it was approved; before approval they are read now. "
            "Suspects with earlier cases against police are listed (masked) only to the supervisors of the report's "
            "unit or of a unit above it, and the warnings only those the caller may open; everyone else gets the "
            "counts."
        ),
        responses=responses({200: s.EvaluationSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        return self.answer()

    @extend_schema(
        summary=gettext_lazy("Write an evaluation report's lessons and measures"),
        description=gettext_lazy(
            "A draft only (409 once it is submitted or approved). The supervisors of its unit or of a unit above it."
        ),
        request=s.LessonsSerializer,
        responses=responses({200: s.EvaluationSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def patch(self, request: ApiRequest, pk: int) -> Response:
        self.require_writing()
        data = validated(s.LessonsSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.save_lessons(report=self.report, by=request.user, lessons=data["lessons"], expected_version=version)
        return self.answer()


class EvaluationSubmitView(EvaluationScoped):
    @extend_schema(
        summary=gettext_lazy("Submit an evaluation report for approval"),
        description=gettext_lazy(
            "Draft → submitted, once its lessons are written and its period is over (400 otherwise); 409 when it is "
            "not a draft. The supervisors of its unit or of a unit above it; those who may approve it are told."
        ),
        request=s.VersionSerializer,
        responses=responses({200: s.EvaluationSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        self.require_writing()
        data = validated(s.VersionSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.submit_evaluation(report=self.report, by=request.user, expected_version=version)
        return self.answer()


class EvaluationApproveView(EvaluationScoped):
    @extend_schema(
        summary=gettext_lazy("Approve an evaluation report"),
        description=gettext_lazy(
            "Submitted → approved, final: its figures are kept as they are now. A supervisor of its unit or of a "
            "unit above it who neither wrote nor submitted it (403 for its writers and submitters); 409 when it is not "
            "submitted."
        ),
        request=s.VersionSerializer,
        responses=responses({200: s.EvaluationSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        self.require_deciding()
        data = validated(s.VersionSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.approve_evaluation(report=self.report, by=request.user, expected_version=version)
        return self.answer()


class EvaluationReturnView(EvaluationScoped):
    @extend_schema(
        summary=gettext_lazy("Return an evaluation report to its writers"),
        description=gettext_lazy(
            "Submitted → draft, with a note saying what should change (kept and shown). The same people as "
            "approve it; 409 when it is not submitted."
        ),
        request=s.ReturnSerializer,
        responses=responses({200: s.EvaluationSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        self.require_deciding()
        data = validated(s.ReturnSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.return_evaluation(report=self.report, by=request.user, note=data["note"], expected_version=version)
        return self.answer()
