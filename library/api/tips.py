"""The guidance API for terminals, mounted at /api/v1/guidance/ (rightsguard/urls.py): the tips in force for the
caller, and one of them (reading it counts the read, as its page does).

A terminal syncs cheaply: the list carries a strong ETag over the caller's tips in force in the answer's language (a
tip withdrawn, expired or coming into force changes it) and a Last-Modified; a GET with If-None-Match (or, without it,
If-Modified-Since) that still holds is answered 304 with no body. Like every answer of the API the answers are
``Cache-Control: no-store, private`` (cases/api/middleware.py): a browser or a proxy never keeps them; the terminal
keeps its own copy and its validators. Someone without a unit is refused (403); a tip not in force for the caller is a
404.
"""

import copy
import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.requests import ApiRequest
from cases.api.schema import responses
from cases.api.views import ApiView
from library import offline
from library import policy as library_policy
from library.choices import Language
from library.guidance import policy, selectors, services
from library.guidance.choices import TipPriority
from library.guidance.models import Tip
from library.selectors import reader_language

# --- shapes --------------------------------------------------------------------------------------------------------


class TagSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["duty_scenario", "incident_kind"])
    code = serializers.CharField()
    label = serializers.CharField(help_text=gettext_lazy("In the answer's language."))  # type: ignore[assignment]


class TipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(help_text=gettext_lazy("Changes whenever the tip does."))
    title = serializers.CharField(
        help_text=gettext_lazy("In the answer's language, or the other one when it has none.")
    )
    body = serializers.CharField()
    language = serializers.ChoiceField(choices=Language.choices)
    tags = TagSerializer(many=True)
    priority = serializers.ChoiceField(choices=TipPriority.choices)
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True, help_text=gettext_lazy("The last day, included; none: open."))
    updated_at = serializers.DateTimeField()


class TipListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = TipSerializer(many=True)


def _tip(tip: Tip) -> dict[str, Any]:
    shown = selectors.shown(tip)
    return {
        "id": tip.pk,
        "version": tip.version,
        "title": shown.title,
        "body": shown.body,
        "language": shown.language,
        "tags": [{"type": t.type, "code": t.code, "label": t.label} for t in selectors.tags_of(tip)],
        "priority": tip.priority,
        "valid_from": tip.valid_from,
        "valid_until": tip.valid_until,
        "updated_at": tip.updated_at,
    }


# --- the views -----------------------------------------------------------------------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The ETag of the copy the terminal holds: answered 304 with no body while it is current."),
)
IF_MODIFIED_SINCE = OpenApiParameter(
    "If-Modified-Since",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        "The Last-Modified of the copy the terminal holds (ignored with If-None-Match): 304 while nothing changed."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description=gettext_lazy("Strong; changes whenever the answer would."),
)
LAST_MODIFIED = OpenApiParameter(
    "Last-Modified",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description=gettext_lazy("When the caller's tips in force last changed."),
)
NOT_MODIFIED = OpenApiResponse(description=gettext_lazy("The terminal's copy is current: no body."))


def _require_library(request: ApiRequest) -> None:
    if not library_policy.has_library(request.actor):
        raise PermissionDenied(_("The guidance tips are for members of a unit."))


def _validated(response: Response, etag: str, last_modified: Any) -> Response:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    return response


def _not_modified(request: Request, etag: str, last_modified: Any) -> HttpResponseBase | None:
    """The 304 for a conditional GET whose copy is current (RFC 9110 §13.2.2: If-None-Match first), or None. An
    If-Modified-Since later than the server's clock is no date a copy can have been taken at (RFC 7232 §3.3): it is
    answered as if it had not been sent, never with a 304 that would keep a terminal's copy stale for ever."""
    stamp = int(last_modified.timestamp()) if last_modified is not None else None
    asked = request._request
    since = parse_http_date_safe(asked.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and since > time.time():
        asked = copy.copy(asked)
        asked.META = {key: value for key, value in asked.META.items() if key != "HTTP_IF_MODIFIED_SINCE"}
    answer = get_conditional_response(asked, etag=etag, last_modified=stamp)
    if answer is None or answer.status_code != 304:
        return None
    answer["ETag"] = etag
    if last_modified is not None:
        answer["Last-Modified"] = http_date(last_modified.timestamp())
    return answer


class GuidanceListView(ApiView):
    @extend_schema(
        operation_id="guidance_list",
        summary=gettext_lazy("The guidance tips in force for the caller"),
        description=gettext_lazy(
            "Published to a unit the caller belongs to (or lying under a unit they supervise or administer) and valid "
            "today, the most urgent first, at most 300; in the request's language (Accept-Language), or the other one "
            "where a tip has none. Send back the ETag in If-None-Match: 304 while the list is unchanged. A tip "
            "withdrawn or past its last day leaves the list, and the ETag changes."
        ),
        parameters=[IF_NONE_MATCH, IF_MODIFIED_SINCE, ETAG, LAST_MODIFIED],
        responses={**responses({200: TipListSerializer}, 401, 403), 304: NOT_MODIFIED},
    )
    def get(self, request: ApiRequest) -> Any:
        _require_library(request)
        tips = selectors.tips_in_force(request.actor)
        state = selectors.sync_state(request.actor, tips, reader_language())
        not_modified = _not_modified(request, state.etag, state.last_modified)
        if not_modified is not None:
            return not_modified
        data = TipListSerializer({"count": len(tips), "results": [_tip(tip) for tip in tips]}).data
        response = _validated(Response(data), state.etag, state.last_modified)
        return offline.keep_until(response, [tip.valid_until for tip in tips])


class GuidanceDetailView(ApiView):
    @extend_schema(
        summary=gettext_lazy("A guidance tip in force for the caller"),
        description=gettext_lazy(
            "Reading it counts the caller's first reading of the tip (a terminal asks for it when the officer opens "
            "the tip). ETag and Last-Modified as for the list."
        ),
        parameters=[IF_NONE_MATCH, IF_MODIFIED_SINCE, ETAG, LAST_MODIFIED],
        responses={**responses({200: TipSerializer}, 401, 403, 404), 304: NOT_MODIFIED},
    )
    def get(self, request: ApiRequest, pk: int) -> Any:
        _require_library(request)
        tip = get_object_or_404(policy.readable_tips(request.actor, selectors.today()), pk=pk)
        # HEAD is answered by this method too: the headers alone are no reading (a link preview, a freshness probe).
        if request.method == "GET":
            services.record_tip_read(tip=tip, by=request.user)
        etag = f'"{tip.pk}-{tip.version}-{reader_language()}"'
        not_modified = _not_modified(request, etag, tip.updated_at)
        if not_modified is not None:
            return not_modified
        response = _validated(Response(TipSerializer(_tip(tip)).data), etag, tip.updated_at)
        return offline.keep_until(response, [tip.valid_until])
