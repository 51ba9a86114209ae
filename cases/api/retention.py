"""The API of retention: an administrator places or lifts a case's legal hold, and reads what the daily retention
job will seal and anonymise in a month (cases/retention.py)."""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import ApiRequest
from cases import policy, retention
from cases.api.idempotency import idempotent
from cases.api.schema import IDEMPOTENCY_KEY, responses
from cases.api.views import ApiView, CaseScoped, validated
from cases.choices import IncidentKind
from cases.models import Case
from cases.services import retention as retention_services


class LegalHoldInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy("Why the hold is placed or lifted."))


class LegalHoldSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = (
            "id",
            "reference",
            "legal_hold",
            "legal_hold_reason",
            "legal_hold_at",
            "closed_at",
            "sealed_at",
            "anonymised_at",
        )
        read_only_fields = fields


class PlanRowSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    reference = serializers.CharField()
    unit = serializers.CharField()
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    closed_at = serializers.DateTimeField()
    step = serializers.ChoiceField(choices=list(retention.STEP_LABELS.items()))
    due_at = serializers.DateTimeField()


class _HoldView(CaseScoped):
    hold = True

    def post(self, request: ApiRequest, case_pk: int) -> Response:
        # Refused before the body is read, as every command is: a 403 never depends on what was sent.
        if not policy.can_hold(request.actor, self.case):
            raise exceptions.PermissionDenied(_("Only an administrator of the case's unit places or lifts a hold."))
        reason = validated(LegalHoldInputSerializer, request)["reason"]
        change = retention_services.place_legal_hold if self.hold else retention_services.lift_legal_hold
        case = change(case=self.case, by=request.user, reason=reason)
        return Response(LegalHoldSerializer(case).data)


class LegalHoldView(_HoldView):
    @extend_schema(
        summary=gettext_lazy("Place a legal hold on the case"),
        description=gettext_lazy(
            "An administrator of the case's unit, with a reason. While held, the retention job neither seals nor "
            "anonymises the case. The hold is on the case's timeline."
        ),
        request=LegalHoldInputSerializer,
        responses=responses({200: LegalHoldSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        return super().post(request, case_pk)


class LegalHoldLiftView(_HoldView):
    hold = False

    @extend_schema(
        summary=gettext_lazy("Lift the case's legal hold"),
        description=gettext_lazy(
            "An administrator of the case's unit, with a reason. The retention job acts on the case again once its "
            "dates have come. The lifting is on the case's timeline."
        ),
        request=LegalHoldInputSerializer,
        responses=responses({200: LegalHoldSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        return super().post(request, case_pk)


MONTH = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=gettext_lazy("The month, as YYYY-MM; the next month when left out."),
    pattern=r"^[0-9]{4}-[0-9]{2}$",
)


class RetentionPlanView(ApiView):
    @extend_schema(
        summary=gettext_lazy("What the retention job will seal and anonymise in a month"),
        description=gettext_lazy(
            "The closed cases of the subtrees the caller administers whose seal date or anonymise date falls in the "
            "month, by due date; held cases are left out. Administrators only."
        ),
        parameters=[MONTH],
        responses=responses({200: PlanRowSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: ApiRequest) -> Response:
        if not policy.can_read_retention_plan(request.actor):
            raise exceptions.PermissionDenied(_("Only administrators read the retention plan."))
        month = _month(request)
        rows = retention.retention_plan(month, paths=policy.retention_paths(request.actor))
        return Response(PlanRowSerializer(rows, many=True).data)


def _month(request: Request) -> Any:
    text = request.query_params.get("month", "")
    if not text:
        return retention.next_month()
    try:
        return retention.parse_month(text)
    except ValueError as exc:
        raise exceptions.ValidationError({"month": [_("Give the month as YYYY-MM.")]}) from exc
