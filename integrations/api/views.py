"""The integrations' API: endpoints for other systems of the intranet, called with an integration account's token
(accounts/integration.py). Thin: parse, call one service, answer."""

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.integration import IntegrationAccounts
from accounts.requests import ApiRequest
from cases.api.schema import responses
from cases.api.views import ApiView
from integrations import services
from integrations.api import serializers as s

EXAMPLE = {
    "incident_number": "330106202603120042",
    "occurred_at": "2026-03-12T21:40:00+08:00",
    "location": "杭州市西湖区北山街12号",
    "summary": "处置纠纷警情时，民警遭当事人推搡踢打。",
    "units_dispatched": ["330106001"],
    "officers": [
        {"police_number": "100001", "name": "张伟", "unit": "330106001", "attacked": True, "injured": True},
        {"police_number": "100002", "name": "李强", "unit": "330106001", "attacked": False, "injured": None},
    ],
}


class Incident110ImportView(ApiView):
    permission_classes = [IntegrationAccounts]

    @extend_schema(
        summary=gettext_lazy("Start applications from a 110 incident (integration accounts only)"),
        description=gettext_lazy(
            "For the 110 command centre's dispatch system, with its integration account's token. Each unit "
            "dispatched whose officers were attacked gets one draft application, filed in the name of its first "
            "attacked officer (found by police number), listing the unit's other attacked officers, with the "
            "incident's number, time, place and account filled in; the officer is notified, completes it and "
            "submits it. An application the unit already has for the incident number is answered instead: sending "
            "the same incident again starts nothing (200 with the same ids; 201 when something was started). A "
            "refused field is named by its path, e.g. officers[1].police_number. No other case data is answered."
        ),
        request=s.Incident110Serializer,
        responses=responses({201: s.Incident110ResultSerializer, 200: s.Incident110ResultSerializer}, 400, 401, 403),
        examples=[OpenApiExample("A dispute call in which one officer was attacked", value=EXAMPLE, request_only=True)],
        tags=["integrations"],
    )
    def post(self, request: ApiRequest) -> Response:
        serializer = s.Incident110Serializer(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(s.field_paths(serializer.errors))
        data: dict[str, Any] = serializer.validated_data
        incident = services.Incident(
            number=data["incident_number"],
            occurred_at=data["occurred_at"],
            location=data["location"],
            summary=data["summary"],
            kind=data["kind"],
            units_dispatched=tuple(data["units_dispatched"]),
            officers=tuple(services.OfficerOnScene(**officer) for officer in data["officers"]),
        )
        result = services.import_incident(incident=incident, by=request.user)
        code = status.HTTP_201_CREATED if result.created_any else status.HTTP_200_OK
        return Response(s.Incident110ResultSerializer(result).data, status=code)
