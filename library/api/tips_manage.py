"""The editors' and approvers' API of the guidance tips, mounted at /api/v1/guidance/manage/ (library/api/tips_urls.py)
beside the terminals' read-only endpoints. It mirrors the typical cases' ``manage/`` API (library/api/views.py) and
the tips' editors' pages (library/guidance/views.py): the same selectors, policy and services, nothing decided here.

Someone who writes no tips is refused (403); a tip the caller does not manage is a 404; a step they may not take on one
they see a 403, checked before the body is read; a stale version (body ``version`` or ``If-Match``) a 412, a step the
state does not allow a 409, an invalid one a 400 with the messages by field. A refusal changes nothing.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.requests import ApiRequest
from cases.api.idempotency import idempotent
from cases.api.pagination import KeysetPagination
from cases.api.schema import IDEMPOTENCY_KEY, responses
from cases.api.serializers import BoundedDateField, UnitRefSerializer, UserRefSerializer, enum, text
from cases.api.versioning import IF_MATCH_PATTERN, expected_version
from cases.api.views import SelectorListView, validated
from cases.choices import DutyScenario, IncidentKind
from library.api.managed import ManagedView, Managing
from library.choices import NOTE_MAX
from library.guidance import policy, selectors, services
from library.guidance.choices import TAGS_MAX, TIP_BODY_MAX, TIP_COLUMNS, TIP_TITLE_MAX, TipPriority, TipState
from library.guidance.models import Tip
from library.guidance.workflow import TRANSITIONS

# The steps taken at actions/{action}/: saving is the PATCH of the tip.
ACTIONS = [action for action in TRANSITIONS if action != "save"]

# --- shapes --------------------------------------------------------------------------------------------------------


class ManagedTipSerializer(serializers.Serializer):
    """A tip as its editors' page shows it: its draft (or its text, once sent on) and where it stands."""

    id = serializers.IntegerField()
    state = enum(TipState)
    version = serializers.IntegerField(help_text=gettext_lazy("Send it back (body or If-Match) with a change."))
    unit = UnitRefSerializer()
    texts = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=gettext_lazy("title_zh, body_zh, title_en, body_en: a language not written is empty."),
    )
    scenarios = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Duty scenarios."))
    kinds = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Incident types."))
    priority = enum(TipPriority)
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True, help_text=gettext_lazy("The last day, included; none: open."))
    author = UserRefSerializer()
    created_at = serializers.DateTimeField()
    last_editor = UserRefSerializer()
    edited_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    return_note = serializers.CharField(allow_blank=True)
    withdrawal_note = serializers.CharField(allow_blank=True)
    approved_by = UserRefSerializer(allow_null=True)
    published_to = UnitRefSerializer(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    replaces = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The tip this one replaces once published.")
    )
    in_force = serializers.BooleanField(help_text=gettext_lazy("Whether the caller reads it as in force today."))
    actions = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("The steps the caller may take now.")
    )


class _Strict(serializers.Serializer):
    """Refuses fields it does not have (a misspelt text would otherwise be dropped without a word)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: [_("A guidance tip has no such field.")] for key in unknown})
        return super().to_internal_value(data)


def _tip_fields(*, creating: bool) -> dict[str, serializers.Field]:
    """The fields of what an editor writes: the texts, the tags, the priority and the validity."""
    fields: dict[str, serializers.Field] = {
        name: text(
            TIP_TITLE_MAX if name.startswith("title_") else TIP_BODY_MAX,
            required=False,
            allow_blank=True,
            trim_whitespace=False,
        )
        for name in TIP_COLUMNS
    }
    fields["scenarios"] = serializers.ListField(
        child=enum(DutyScenario), required=False, max_length=TAGS_MAX, help_text=gettext_lazy("Duty scenarios.")
    )
    fields["kinds"] = serializers.ListField(
        child=enum(IncidentKind), required=False, max_length=TAGS_MAX, help_text=gettext_lazy("Incident types.")
    )
    fields["priority"] = enum(TipPriority, required=False)
    fields["valid_from"] = BoundedDateField(
        required=creating, help_text=gettext_lazy("The first day the tip holds (a local day).")
    )
    fields["valid_until"] = BoundedDateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The last day it holds, included; null while it holds until withdrawn."),
    )
    return fields


class TipCreateSerializer(_Strict):
    unit = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text=gettext_lazy("The tip's unit: one the caller supervises or administers, or one below it."),
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **_tip_fields(creating=True)}


class TipEditSerializer(_Strict):
    """What to change (what is left out is kept), with the version read."""

    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **_tip_fields(creating=False)}


class TipActionSerializer(_Strict):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    note = text(NOTE_MAX, required=False, allow_blank=True, help_text=gettext_lazy("Returning or withdrawing: why."))
    scope_unit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=gettext_lazy("Publishing: the unit whose subtree reads it (the tip's unit or one below it)."),
    )


# --- what the views answer -----------------------------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        'The tip\'s version the client last read, as returned in ETag (e.g. "3"). Same as "version" in the body; a '
        "stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The tip's version, quoted; send it back in If-Match."),
    response=[200, 201],
)
ACTION = OpenApiParameter(
    "action",
    {"type": "string", "enum": ACTIONS},
    OpenApiParameter.PATH,
    description=gettext_lazy("The step: saving the draft is the PATCH of the tip; the others are taken here."),
)
STATE = OpenApiParameter(
    "state",
    {"type": "string", "enum": list(TipState.values)},
    description=gettext_lazy("Only in this state."),
)


class ManagePagination(KeysetPagination):
    ordering = ("-updated_at", "-id")


def _require_writes(request: ApiRequest) -> None:
    if not policy.writes_tips(request.actor):
        raise PermissionDenied(str(services.MANAGE_REFUSAL))


def _managed_queryset(actor: Actor) -> QuerySet[Tip]:
    return selectors.managed_for(actor).select_related("approved_by")


def _data(actor: Actor, tip: Tip, today: date) -> dict[str, Any]:
    return {
        "id": tip.pk,
        "state": tip.state,
        "version": tip.version,
        "unit": tip.unit,
        "texts": {name: getattr(tip, name) for name in TIP_COLUMNS},
        "scenarios": tip.scenarios,
        "kinds": tip.kinds,
        "priority": tip.priority,
        "valid_from": tip.valid_from,
        "valid_until": tip.valid_until,
        "author": tip.author,
        "created_at": tip.created_at,
        "last_editor": tip.last_editor,
        "edited_at": tip.edited_at,
        "submitted_at": tip.submitted_at,
        "return_note": tip.return_note,
        "withdrawal_note": tip.withdrawal_note,
        "approved_by": tip.approved_by,
        "published_to": tip.scope_unit,
        "published_at": tip.published_at,
        "withdrawn_at": tip.withdrawn_at,
        "replaces": tip.replaces_id,
        "in_force": policy.can_read(actor, tip, today),
        "actions": [t.action for t in policy.available_actions(actor, tip)],
    }


def _answer(request: ApiRequest, tip: Tip, code: int = status.HTTP_200_OK) -> Response:
    fresh = _managed_queryset(request.actor).get(pk=tip.pk)
    data = ManagedTipSerializer(_data(request.actor, fresh, selectors.today())).data
    return Response(data, status=code, headers={"ETag": f'"{fresh.version}"'})


def _input(data: dict[str, Any], tip: Tip | None = None) -> services.TipInput:
    """What the editor wrote, as the service takes it: the texts given (a save keeps the others), and the tags, the
    priority and the validity given, else the tip's own (a new tip: the defaults the form offers)."""
    return services.TipInput(
        texts={name: data[name] for name in TIP_COLUMNS if name in data},
        scenarios=data.get("scenarios", tip.scenarios if tip else []),
        kinds=data.get("kinds", tip.kinds if tip else []),
        priority=data.get("priority", tip.priority if tip else TipPriority.NORMAL),
        valid_from=data.get("valid_from", tip.valid_from if tip else None),
        valid_until=data.get("valid_until", tip.valid_until if tip else None),
    )


# --- the views -----------------------------------------------------------------------------------------------------


class TipManageListView(SelectorListView):
    model = Tip
    serializer_class = ManagedTipSerializer
    pagination_class = ManagePagination

    def select(self) -> QuerySet[Tip]:
        found = _managed_queryset(self.request.actor)
        if "state" not in self.request.query_params:
            return found
        state = self.request.query_params["state"]
        if state not in TipState.values:
            raise ValidationError({"state": [_("Choose among the listed values.")]})
        return found.filter(state=state)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        today = selectors.today()
        rows = [_data(self.request.actor, tip, today) for tip in page]
        return self.get_paginated_response(ManagedTipSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="guidance_manage_list",
        summary=gettext_lazy("The guidance tips the caller writes or approves, in any state"),
        description=gettext_lazy(
            "The tips of the units the caller supervises or administers (and of those below them), the latest "
            "changed first: as the editors' page lists them."
        ),
        parameters=[STATE],
        responses=responses({200: ManagedTipSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_writes(self.request)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="guidance_manage_create",
        summary=gettext_lazy("Write a new guidance tip (a draft)"),
        description=gettext_lazy(
            "A supervisor or administrator, for a unit they cover. The texts in Chinese, English or both; send it for "
            "approval when it is complete (actions/submit/)."
        ),
        request=TipCreateSerializer,
        responses=responses({201: ManagedTipSerializer}, 400, 401, 403, 422),
        parameters=[IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest) -> Response:
        _require_writes(request)
        data = validated(TipCreateSerializer, request)
        unit = OrgUnit.objects.filter(pk=data.pop("unit")).first()
        if unit is None:
            raise ValidationError({"unit": [_("There is no such unit.")]})
        tip = services.create_tip(by=request.user, unit=unit, data=_input(data))
        return _answer(request, tip, status.HTTP_201_CREATED)


class ManagedTip(ManagedView):
    """Views of one tip the caller writes or approves, or 404."""

    managing = Managing(
        require_manager=_require_writes,
        managed=_managed_queryset,
        may_take=policy.may_take,
        refusals=services.REFUSALS,
    )

    @property
    def tip(self) -> Tip:
        return self.managed_object


class TipManageDetailView(ManagedTip):
    @extend_schema(
        operation_id="guidance_manage_retrieve",
        summary=gettext_lazy("A guidance tip as its editors and approvers work on it"),
        responses=responses({200: ManagedTipSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        return _answer(request, self.tip)

    @extend_schema(
        operation_id="guidance_manage_partial_update",
        summary=gettext_lazy("Change the draft"),
        description=gettext_lazy(
            "The supervisors and administrators of the tip's unit or above it, while it is a draft: the texts given "
            "(the others are kept), the tags, the priority and the validity given."
        ),
        request=TipEditSerializer,
        responses=responses({200: ManagedTipSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def patch(self, request: ApiRequest, pk: int) -> Response:
        self.require("save")
        data = validated(TipEditSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.save_tip(tip=self.tip, by=request.user, data=_input(data, self.tip), expected_version=version)
        return _answer(request, self.tip)


class TipManageActionView(ManagedTip):
    @extend_schema(
        operation_id="guidance_manage_action",
        summary=gettext_lazy("Take a step of the guidance tip's workflow"),
        description=gettext_lazy(
            "submit (editors: send the draft for approval, complete in at least one language), return (approvers, "
            "with a note), publish (approvers who neither wrote it nor made its last change: to scope_unit, the "
            "tip's unit or one below it; its officers are told), withdraw (either, with a note), copy (editors: a new "
            "draft written from a published or withdrawn tip, which replaces it once published: answered 201 with "
            "the new tip)."
        ),
        request=TipActionSerializer,
        responses=responses({200: ManagedTipSerializer, 201: ManagedTipSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[ACTION, IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int, action: str) -> Response:
        if action not in ACTIONS:
            raise Http404
        self.require(action)
        data = validated(TipActionSerializer, request)
        version = expected_version(request, data.pop("version", None))
        tip, by = self.tip, request.user
        if action == "submit":
            services.submit_tip(tip=tip, by=by, expected_version=version)
        elif action == "return":
            services.return_tip(tip=tip, by=by, note=data.get("note") or "", expected_version=version)
        elif action == "publish":
            unit = OrgUnit.objects.filter(pk=data.get("scope_unit") or 0).first()
            if unit is None:
                raise ValidationError({"scope_unit": [str(services.SCOPE_REFUSAL)]})
            services.publish_tip(tip=tip, by=by, scope_unit=unit, expected_version=version)
        elif action == "withdraw":
            services.withdraw_tip(tip=tip, by=by, note=data.get("note") or "", expected_version=version)
        else:
            new = services.copy_tip(tip=tip, by=by, expected_version=version)
            return _answer(request, new, status.HTTP_201_CREATED)
        return _answer(request, tip)
