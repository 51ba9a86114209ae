"""REST API v1. Thin: reads start from a selector scoped by the case policy (cases/policy.py) for
``request.actor``; commands parse input with a
serializer, call one service and render the result. Refusals come from the services and are mapped to HTTP by
``rightsguard.api.exception_handler``; an invisible case is a 404 because it is fetched from the visible set.
"""

from collections.abc import Iterable
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership, OrgUnit
from accounts.requests import ApiRequest
from accounts.selectors import units_visible_to
from cases import duplicates, policy, selectors, sensitive, services
from cases.api import serializers as s
from cases.api.authentication import ApiTokenAuthentication
from cases.api.filters import CaseFilter, CaseFilterBackend, CaseOrdering, FlagFilter, NotificationFilter
from cases.api.idempotency import attempt_of, idempotent
from cases.api.pagination import (
    CasePagination,
    EventPagination,
    FlagPagination,
    NotificationPagination,
    UnitPagination,
)
from cases.api.schema import ETAG, IDEMPOTENCY_KEY, IF_MATCH, errors, responses
from cases.api.versioning import etag, expected_version
from cases.choices import AccessAction, FlagKind, NotificationKind
from cases.evidence import ALLOWED_CONTENT_TYPES, CannotKeep, EvidenceMissing, EvidenceUnavailable
from cases.models import (
    Case,
    CaseEvent,
    Flag,
    InvolvedOfficer,
    Notification,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.reports import scope as report_scope
from cases.reports.case_sheet import open_case_sheet
from cases.reports.yearly import case_summary
from cases.rules.catalogue import rule_catalogue
from cases.services.audit import log_access, log_denied
from cases.services.inbox import mark_notifications_read, set_notification_preferences
from cases.workflow_actions import WORKFLOW_ACTIONS, WorkflowAction

# Token first: an unauthenticated request then gets 401 with ``WWW-Authenticate: Token`` (session-only clients
# are browsers, which never see it). Session requests keep DRF's CSRF enforcement.
AUTHENTICATION = [ApiTokenAuthentication, SessionAuthentication]


class ApiView(APIView):
    authentication_classes = AUTHENTICATION
    request: ApiRequest  # authenticated before any handler runs

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # An unsupported method is a 405 for everyone: which methods a path has is no secret (the schema says),
        # and answering 401 first would tell an unauthenticated client the wrong thing.
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(method.upper())
        super().initial(request, *args, **kwargs)

    def context(self, **extra: Any) -> dict[str, Any]:
        # Serializers read the caller's grants as ``request.actor``, resolved once for the request.
        return {"request": self.request, **extra}


class CaseScoped(ApiView):
    # Views of one case: it comes from the caller's visible set, or the answer is 404 (and the refusal is logged).
    #
    # The case is looked up right after authentication, before the body is read: whether a case exists for the
    # caller never depends on what they sent, and a refusal is logged outside any transaction of the handler.

    case_url_kwarg = "case_pk"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.case = self.visible_case()

    def visible_case(self) -> Case:
        pk = self.kwargs[self.case_url_kwarg]
        case = selectors.cases_for_api(self.request.actor).filter(pk=pk).first()
        if case is None:
            log_denied(request=self.request, object_ref=f"case:{pk}", outcome="not_found")
            raise exceptions.NotFound()
        return case

    def context(self, **extra: Any) -> dict[str, Any]:
        return super().context(case=self.case, **extra)

    def suspects_response(self, suspects: list[Suspect], *, many: bool, code: int = status.HTTP_200_OK) -> Response:
        """Suspects with their ID numbers masked: only the reveal endpoint shows one in full (cases/sensitive.py)."""
        data = s.SuspectSerializer(suspects if many else suspects[0], many=many, context=self.context()).data
        return Response(data, status=code)


def require_internal(request: ApiRequest, case: Case) -> None:
    """The office's assessment of a case (findings, police-fault findings, reviews): 403 for its filer."""
    if not policy.sees_internal(request.actor, case):
        raise exceptions.PermissionDenied(_("This is the office's internal record of the case."))


def validated(serializer_class: type, request: Request, *, partial: bool = False, **context: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def case_response(view: ApiView, case: Case, code: int = status.HTTP_200_OK) -> Response:
    answers = selectors.fact_answers_as_read(view.request.actor, case)
    data = s.CaseDetailSerializer(case, context={**view.context(), "fact_answers": answers}).data
    return Response(data, status=code, headers={"ETag": etag(case)})


# --- cases -----------------------------------------------------------------------------------------------------


class SelectorListView(generics.ListAPIView, ApiView):
    # A paginated list whose queryset is a selector for the caller.

    model: type[Model]

    def select(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.model._default_manager.none()
        return self.select()


class CaseListView(SelectorListView):
    model = Case
    serializer_class = s.CaseSerializer
    filter_backends = [CaseFilterBackend, CaseOrdering]
    filterset_class = CaseFilter
    pagination_class = CasePagination

    def select(self) -> QuerySet[Case]:
        return selectors.cases_for_api(self.request.actor)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A page's rows are read as plain values and rendered by the list serializer's row twin (the same JSON).
        cases = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(cases.values_list(*s.CASE_LIST_COLUMNS, named=True))
        return self.get_paginated_response(s.case_list_data(rows or [], actor=self.request.actor))

    @extend_schema(
        summary=gettext_lazy("Cases visible to the caller"),
        responses=responses({200: s.CaseSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Start an application (a draft)"),
        request=s.CaseCreateSerializer,
        responses=responses({201: s.CaseDetailSerializer}, 400, 401, 403, 422),
        parameters=[IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest) -> Response:
        data = validated(s.CaseCreateSerializer, request)
        unit = data.pop("unit")
        add_filer = data.pop("add_filer_as_officer")
        case = services.create_draft_case(by=request.user, unit=unit, details=data, add_filer_as_officer=add_filer)
        return case_response(self, case, status.HTTP_201_CREATED)


class CaseDetailView(CaseScoped):
    case_url_kwarg = "pk"

    @extend_schema(
        summary=gettext_lazy("A case, with the actions the caller may take"),
        responses=responses({200: s.CaseDetailSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        log_access(request=request, action=AccessAction.VIEW, case=self.case, object_ref=self.case.reference)
        return case_response(self, self.case)

    @extend_schema(
        summary=gettext_lazy("Change the application's details"),
        description=gettext_lazy(
            "The filer while the case is a draft (a supervisor of the unit may correct details while it is open). "
            "The status is never written here: use the actions."
        ),
        request=s.CaseUpdateSerializer,
        responses=responses({200: s.CaseDetailSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def patch(self, request: ApiRequest, pk: int) -> Response:
        changes = validated(s.CaseUpdateSerializer, request, partial=True)
        version = expected_version(request, changes.pop("version", None))
        case = services.update_case_details(case=self.case, by=request.user, expected_version=version, changes=changes)
        return case_response(self, case)


class ActionSchema(AutoSchema):
    # The parts of a workflow action's operation that differ by action, read from the view's registry entry.

    @property
    def workflow_action(self) -> WorkflowAction:
        return self.view.workflow_action  # type: ignore[attr-defined]

    def get_operation_id(self) -> str:
        return f"cases_actions_{self.workflow_action.name}"

    def get_summary(self) -> str:
        return str(self.workflow_action.transition.label)

    def get_description(self) -> str:  # type: ignore[override]
        return _("Requires: %(requires)s") % {"requires": self.workflow_action.transition.requires}

    def get_request_serializer(self) -> type[s.VersionedSerializer]:
        return self.workflow_action.api_input


class CaseActionView(CaseScoped):
    # One workflow action, named by the URL conf: ``CaseActionView.as_view(action_name="refer")``. What it parses
    # and which service it calls come from the action's entry in cases/workflow_actions.py.

    action_name = ""
    schema = ActionSchema()

    @property
    def workflow_action(self) -> WorkflowAction:
        return WORKFLOW_ACTIONS[self.action_name]

    @extend_schema(
        responses=responses({200: s.CaseDetailSerializer}, 400, 401, 403, 404, 409, 412, 422),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        action = self.workflow_action
        # As in the browser: a forbidden action is refused before its input is looked at, so a 403 never depends
        # on what was sent. The service checks again under its lock.
        if not policy.can_perform(request.actor, self.case, action.name):
            raise PermissionDenied(
                _("You are not allowed to %(action)s this case.") % {"action": action.transition.label}
            )
        payload = validated(action.api_input, request)
        version = expected_version(request, payload.pop("version", None))
        case = action.service(case=self.case, by=request.user, expected_version=version, **payload)
        return case_response(self, case)


class CaseCommandView(CaseScoped):
    # Handling commands that are not status changes (assignment, the stage clock, notes).

    input_serializer: type = s.VersionedSerializer

    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        raise NotImplementedError

    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        payload = validated(self.input_serializer, request)
        version = expected_version(request, payload.pop("version", None))
        return case_response(self, self.run(payload, version))


_COMMAND_SCHEMA: dict[str, Any] = {
    "responses": responses({200: s.CaseDetailSerializer}, 400, 401, 403, 404, 412, 422),
    "parameters": [IF_MATCH, IDEMPOTENCY_KEY, ETAG],
}


@extend_schema(
    summary=gettext_lazy("Assign the case to a supervisor of its unit (or nobody)"),
    request=s.AssignmentSerializer,
    **_COMMAND_SCHEMA,
)
class AssignView(CaseCommandView):
    input_serializer = s.AssignmentSerializer

    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        return services.assign_case(
            case=self.case, by=self.request.user, expected_version=version, assignee=payload["assignee"]
        )


@extend_schema(summary=gettext_lazy("Pause the stage clock"), request=s.PauseClockSerializer, **_COMMAND_SCHEMA)
class PauseClockView(CaseCommandView):
    input_serializer = s.PauseClockSerializer

    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        return services.pause_clock(case=self.case, by=self.request.user, expected_version=version, **payload)


@extend_schema(
    summary=gettext_lazy("Extend the stage's time limit"),
    description=gettext_lazy(
        "Once per stage, where the law allows it: an administrative case under supervision gets 30 more days "
        "with the approval of the organ above (PSAPL Art. 99). Refused with 400 where no extension applies or "
        "the stage was already extended."
    ),
    request=s.ExtendDeadlineSerializer,
    **_COMMAND_SCHEMA,
)
class ExtendDeadlineView(CaseCommandView):
    input_serializer = s.ExtendDeadlineSerializer

    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        return services.extend_deadline(case=self.case, by=self.request.user, expected_version=version, **payload)


@extend_schema(summary=gettext_lazy("Resume the stage clock"), request=s.VersionedSerializer, **_COMMAND_SCHEMA)
class ResumeClockView(CaseCommandView):
    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        return services.resume_clock(case=self.case, by=self.request.user, expected_version=version)


@extend_schema(
    summary=gettext_lazy("Add a note to the timeline"),
    request=s.NoteSerializer,
    responses=responses({200: s.CaseDetailSerializer}, 400, 401, 403, 404, 422),
    parameters=[IDEMPOTENCY_KEY, ETAG],
)
class NoteView(CaseCommandView):
    input_serializer = s.NoteSerializer

    def run(self, payload: dict[str, Any], version: int | None) -> Case:
        return services.add_note(
            case=self.case, by=self.request.user, text=payload["text"], visibility=payload.get("visibility", "")
        )


# --- involved officers and suspects ----------------------------------------------------------------------------


class OfficerListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Involved officers (victims)"),
        responses=responses({200: s.InvolvedOfficerSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        return Response(s.InvolvedOfficerSerializer(self.case.officers.all(), many=True, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("List an involved officer"),
        request=s.InvolvedOfficerWriteSerializer,
        responses=responses({201: s.InvolvedOfficerSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        fields = validated(s.InvolvedOfficerWriteSerializer, request)
        officer = services.add_involved_officer(case=self.case, by=request.user, **fields)
        return Response(s.InvolvedOfficerSerializer(officer, context=self.context()).data, status=201)


class OfficerDetailView(CaseScoped):
    @cached_property
    def officer(self) -> InvolvedOfficer:
        return get_object_or_404(InvolvedOfficer, case=self.case, pk=self.kwargs["pk"])

    @extend_schema(
        summary=gettext_lazy("An involved officer"),
        responses=responses({200: s.InvolvedOfficerSerializer}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        return Response(s.InvolvedOfficerSerializer(self.officer, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Change an involved officer (injury, duty status, …)"),
        description=gettext_lazy(
            "The filer on their draft, a supervisor covering the case while it is open. A field left out keeps its "
            "value. With the case version (body or If-Match) a change made meanwhile is refused with 412."
        ),
        request=s.InvolvedOfficerUpdateSerializer,
        responses=responses({200: s.InvolvedOfficerSerializer}, 400, 401, 403, 404, 412),
    )
    def patch(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        officer = self.officer
        fields = validated(s.InvolvedOfficerUpdateSerializer, request, partial=True)
        version = expected_version(request, fields.pop("version", None))
        officer = services.update_involved_officer(officer=officer, by=request.user, expected_version=version, **fields)
        return Response(s.InvolvedOfficerSerializer(officer, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Remove an involved officer"),
        description=gettext_lazy(
            "The filer on their draft, a supervisor covering the case while it is open; recorded on the timeline. "
            "Refused (400) for an officer a support measure is recorded for, and for the only officer of a "
            "submitted case. With If-Match, a change made meanwhile is refused with 412."
        ),
        responses={204: None, **errors(400, 401, 403, 404, 412)},
    )
    def delete(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        version = expected_version(request, None)
        services.remove_involved_officer(officer=self.officer, by=request.user, expected_version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReauthRequired(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = gettext_lazy(
        "Revealing masked data needs a recent re-authentication: re-enter your password on the re-authentication "
        "page (/accounts/reauth/), then ask again."
    )
    default_code = "reauth_required"


REVEAL_403 = OpenApiResponse(
    s.ErrorSerializer,
    description=gettext_lazy(
        "The role may not see this value in full (code permission_denied), or a browser session has not "
        "re-authenticated recently (code reauth_required)."
    ),
)


class RevealView(CaseScoped):
    # One masked value in full, under the rule of cases/policy.py (the case page's reveal calls it too).
    # Never idempotent-replayed: a stored answer would keep the value, and each reveal must be logged.

    party = ""
    input_serializer: type

    def post(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        validated(self.input_serializer, request)  # names the one field this endpoint reveals
        try:
            revealed = sensitive.reveal_value(
                request=request, actor=request.actor, case=self.case, party=self.party, item_id=pk
            )
        except sensitive.RevealRefused as refused:
            if refused.refusal == policy.Refusal.NOT_FOUND:
                raise exceptions.NotFound() from None
            if refused.refusal == policy.Refusal.FORBIDDEN:
                raise PermissionDenied(_("You may not see this in full.")) from None
            raise ReauthRequired() from None
        response = Response(s.RevealedSerializer({"field": revealed.field, "value": revealed.value}).data)
        add_never_cache_headers(response)
        return response


@extend_schema(
    summary=gettext_lazy("Reveal an involved officer's medical details"),
    description=gettext_lazy(
        "Shows the masked value in full in this answer only, and logs it. For supervisors covering the case and the "
        "officer themself; a browser session must have re-authenticated recently. API token clients reveal only "
        "here, one value per request."
    ),
    request=s.OfficerRevealSerializer,
    responses={**responses({200: s.RevealedSerializer}, 400, 401, 404), 403: REVEAL_403},
)
class OfficerRevealView(RevealView):
    party = "officer"
    input_serializer = s.OfficerRevealSerializer


@extend_schema(
    summary=gettext_lazy("Reveal a suspect's ID number"),
    description=gettext_lazy(
        "Shows the masked value in full in this answer only, and logs it. For supervisors covering the case; a "
        "browser session must have re-authenticated recently. API token clients reveal only here, one value per "
        "request."
    ),
    request=s.SuspectRevealSerializer,
    responses={**responses({200: s.RevealedSerializer}, 400, 401, 404), 403: REVEAL_403},
)
class SuspectRevealView(RevealView):
    party = "suspect"
    input_serializer = s.SuspectRevealSerializer


class SuspectListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Suspects, with their dispositions"),
        responses=responses({200: s.SuspectSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        return self.suspects_response(list(self.case.suspects.all()), many=True)

    @extend_schema(
        summary=gettext_lazy("Add a suspect"),
        request=s.SuspectWriteSerializer,
        responses=responses({201: s.SuspectSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        fields = validated(s.SuspectWriteSerializer, request)
        suspect = services.add_suspect(case=self.case, by=request.user, **fields)
        return self.suspects_response([suspect], many=False, code=status.HTTP_201_CREATED)


class SuspectScoped(CaseScoped):
    @cached_property
    def suspect(self) -> Suspect:
        return get_object_or_404(Suspect, case=self.case, pk=self.kwargs["pk"])


class SuspectDetailView(SuspectScoped):
    @extend_schema(summary=gettext_lazy("A suspect"), responses=responses({200: s.SuspectSerializer}, 401, 403, 404))
    def get(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        return self.suspects_response([self.suspect], many=False)

    @extend_schema(
        summary=gettext_lazy("Change a suspect's identity or status"),
        description=gettext_lazy(
            "The filer on their draft, a supervisor covering the case while it is open. A field left out keeps its "
            "value. With the case version (body or If-Match) a change made meanwhile is refused with 412."
        ),
        request=s.SuspectUpdateSerializer,
        responses=responses({200: s.SuspectSerializer}, 400, 401, 403, 404, 412),
    )
    def patch(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        suspect = self.suspect
        fields = validated(s.SuspectUpdateSerializer, request, partial=True)
        version = expected_version(request, fields.pop("version", None))
        suspect = services.update_suspect(suspect=suspect, by=request.user, expected_version=version, **fields)
        return self.suspects_response([suspect], many=False)

    @extend_schema(
        summary=gettext_lazy("Remove a suspect"),
        description=gettext_lazy(
            "The filer on their draft, a supervisor covering the case while it is open; recorded on the timeline. "
            "Refused (400) once a disposition or a transfer for administrative punishment is recorded for the "
            "suspect. With If-Match, a change made meanwhile is refused with 412."
        ),
        responses={204: None, **errors(400, 401, 403, 404, 412)},
    )
    def delete(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        version = expected_version(request, None)
        services.remove_suspect(suspect=self.suspect, by=request.user, expected_version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DispositionView(SuspectScoped):
    @extend_schema(
        summary=gettext_lazy("Record a suspect's disposition"),
        description=gettext_lazy(
            "A disposition lower than the one recorded before needs lowered_reason. A lenient outcome (below a "
            "criminal case, or non-prosecution or exemption) needs lenient_reason, and other needs "
            "lenient_reason_detail; an administrative punishment after the suspect's recorded transfer is not lower."
        ),
        request=s.DispositionSerializer,
        responses=responses({200: s.SuspectSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        suspect = self.suspect
        fields = validated(s.DispositionSerializer, request)
        suspect = services.record_disposition(suspect=suspect, by=request.user, **fields)
        return self.suspects_response([suspect], many=False)


class TransferView(SuspectScoped):
    @extend_schema(
        summary=gettext_lazy("Record a suspect's transfer for administrative punishment"),
        description=gettext_lazy(
            "For a suspect not prosecuted or exempted from punishment (Criminal Procedure Law Art. 177 para 3), "
            "while the case is in supervision or look-back: a referral on the administrative track linked to the "
            "suspect, closed as it is recorded. The case keeps its status, track and stage clock. The suspect's "
            "administrative punishment is then recorded as their disposition."
        ),
        request=s.TransferSerializer,
        responses=responses({201: s.ReferralSerializer}, 400, 401, 403, 404, 412, 422),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        suspect = self.suspect
        # Refused before the input is read, as on the page: a 403 must not depend on what was sent.
        if not policy.can_record_transfer(request.actor, self.case):
            raise PermissionDenied(str(services.TRANSFER_REFUSAL))
        payload = validated(s.TransferSerializer, request)
        version = expected_version(request, payload.pop("version", None))
        referral = services.transfer_for_administrative_punishment(
            suspect=suspect, by=request.user, expected_version=version, **payload
        )
        return Response(s.ReferralSerializer(referral, context=self.context()).data, status=status.HTTP_201_CREATED)


# --- handling records ------------------------------------------------------------------------------------------------


class ReferralListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Referrals to handling units and outside bodies"),
        description=gettext_lazy("Referrals are made and acknowledged through the refer and acknowledge actions."),
        responses=responses({200: s.ReferralSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        referrals = self.case.referrals.select_related("to_unit")
        return Response(s.ReferralSerializer(referrals, many=True, context=self.context()).data)


class SupportListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Support measures for the officers"),
        responses=responses({200: s.SupportMeasureSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        measures = self.case.support_measures.all()
        return Response(s.SupportMeasureSerializer(measures, many=True, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Record a support measure"),
        request=s.SupportMeasureWriteSerializer,
        responses=responses({201: s.SupportMeasureSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        fields = validated(s.SupportMeasureWriteSerializer, request, case=self.case)
        measure = services.record_support_measure(case=self.case, by=request.user, **fields)
        return Response(s.SupportMeasureSerializer(measure, context=self.context()).data, status=201)


class SupportDetailView(CaseScoped):
    @cached_property
    def measure(self) -> SupportMeasure:
        return get_object_or_404(SupportMeasure, case=self.case, pk=self.kwargs["pk"])

    @extend_schema(
        summary=gettext_lazy("A support measure"), responses=responses({200: s.SupportMeasureSerializer}, 401, 403, 404)
    )
    def get(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        return Response(s.SupportMeasureSerializer(self.measure, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Update a support measure (status, delivery, …)"),
        request=s.SupportMeasureUpdateSerializer,
        responses=responses({200: s.SupportMeasureSerializer}, 400, 401, 403, 404),
    )
    def patch(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        measure = self.measure
        changes = validated(s.SupportMeasureUpdateSerializer, request, partial=True, case=self.case)
        measure = services.update_support_measure(measure=measure, by=request.user, **changes)
        return Response(s.SupportMeasureSerializer(measure, context=self.context()).data)


class SupportAnswerView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Answer a support measure"),
        description=gettext_lazy(
            "The office answers the officer's request on the request itself: approve, decline with a reason, or "
            "record it delivered with the provider and the date; an approved or offered measure is later delivered "
            "the same way. Only what the measure's status allows; the case's officers are notified."
        ),
        request=s.SupportAnswerSerializer,
        responses=responses({200: s.SupportMeasureSerializer}, 400, 401, 403, 404, 412),
        parameters=[IF_MATCH],
    )
    def post(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        measure = get_object_or_404(SupportMeasure, case=self.case, pk=pk)
        fields = validated(s.SupportAnswerSerializer, request)
        version = expected_version(request, fields.pop("version", None))
        measure = services.answer_support_request(
            measure=measure,
            by=request.user,
            expected_version=version,
            answer=fields["answer"],
            reason=fields.get("reason", ""),
            provider=fields.get("provider", ""),
            delivered_on=fields.get("delivered_on"),
        )
        return Response(s.SupportMeasureSerializer(measure, context=self.context()).data)


class FindingListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Supervision findings"),
        responses=responses({200: s.FindingSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        require_internal(request, self.case)
        return Response(s.FindingSerializer(self.case.findings.all(), many=True, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Raise a supervision finding"),
        request=s.FindingWriteSerializer,
        responses=responses({201: s.FindingSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        fields = validated(s.FindingWriteSerializer, request)
        finding = services.raise_finding(case=self.case, by=request.user, **fields)
        return Response(s.FindingSerializer(finding, context=self.context()).data, status=201)


class FaultFindingListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Police-fault findings"),
        description=gettext_lazy(
            "The legal-affairs department's findings on police fault, oldest first; the current one (the latest by "
            "date of finding, then record) is marked. Rule R14 reads it."
        ),
        responses=responses({200: s.FaultFindingSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        require_internal(request, self.case)
        findings = list(selectors.fault_findings_of(self.case))
        context = self.context(current_id=findings[-1].pk if findings else None)
        return Response(s.FaultFindingSerializer(findings, many=True, context=context).data)

    @extend_schema(
        summary=gettext_lazy("Record a police-fault finding"),
        description=gettext_lazy(
            "A supervisor of the case's unit, not involved in the case, while it is open. A finding is never "
            "changed: a correction or withdrawal is a new finding, which supersedes the earlier one."
        ),
        request=s.FaultFindingWriteSerializer,
        responses=responses({201: s.FaultFindingSerializer}, 400, 401, 403, 404, 412, 422),
        parameters=[IDEMPOTENCY_KEY, IF_MATCH],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        # Refused before the body is read, as on the case page: a 403 must not depend on what was sent.
        if not policy.can_record_fault_finding(request.actor, self.case):
            raise PermissionDenied(
                _(
                    "Only a supervisor of this unit who is not involved in the case can record a police-fault "
                    "finding, and only while the case is open."
                )
            )
        fields = validated(s.FaultFindingWriteSerializer, request)
        version = expected_version(request, fields.pop("version", None))
        finding = services.record_fault_finding(case=self.case, by=request.user, expected_version=version, **fields)
        current = selectors.current_fault_finding(self.case)
        context = self.context(current_id=current.pk if current else None)
        return Response(s.FaultFindingSerializer(finding, context=context).data, status=201)


class RectifyFindingView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Record that a finding was rectified"),
        request=s.RectifySerializer,
        responses=responses({200: s.FindingSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        finding = get_object_or_404(SupervisionFinding, case=self.case, pk=pk)
        fields = validated(s.RectifySerializer, request)
        finding = services.rectify_finding(finding=finding, by=request.user, **fields)
        return Response(s.FindingSerializer(finding, context=self.context()).data)


class ReviewListView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Look-back reviews"),
        description=gettext_lazy(
            "Reviews are opened and decided through the conclude, close, reopen and recall actions."
        ),
        responses=responses({200: s.ReviewSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        require_internal(request, self.case)
        return Response(s.ReviewSerializer(self.case.reviews.all(), many=True, context=self.context()).data)


class AttachmentListView(CaseScoped):
    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Before the body is read (and before an Idempotency-Key is looked at): someone who may not add evidence
        # is refused without the file being received, written or scanned, whatever the file is.
        if request.method == "POST" and not policy.can_add_material(self.request.actor, self.case):
            raise exceptions.PermissionDenied(_("You cannot add evidence to this case."))

    @extend_schema(
        summary=gettext_lazy("Evidence files"),
        responses=responses({200: s.AttachmentSerializer(many=True)}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        attachments = self.case.attachments.all()
        return Response(s.AttachmentSerializer(attachments, many=True, context=self.context()).data)

    @extend_schema(
        summary=gettext_lazy("Upload evidence"),
        description=gettext_lazy(
            "multipart/form-data. The type is decided by the file's content: JPEG, PNG, PDF or MP4; anything "
            "else, an empty file, one over the size limit or one that would take the case over its evidence limit "
            "is refused with 400. JPEG and PNG images are stored re-encoded, upright and without their metadata "
            "(EXIF, GPS position, XMP, comments, text chunks), so the stored size and SHA-256 are those of the "
            "re-encoded file; images that do not decode completely or have too many pixels are refused with 400. "
            "PDF files must open strictly, have pages and end at their end-of-file marker, and are refused with 400 "
            "when they contain JavaScript, launch actions, embedded files, rich media or an XFA form; MP4 files must "
            "be consistent ISO base-media boxes covering the whole file with a movie header. When a malware scanner "
            "is configured, a file it finds something in is refused with 400, and every upload is refused with 503 "
            "while the scanner cannot check files. An upload the evidence store cannot take now is refused with 503 "
            "when the store cannot be reached and 507 when it is full; nothing is kept."
        ),
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses=responses({201: s.AttachmentSerializer}, 400, 401, 403, 404, 422, 503, 507),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        fields = validated(s.AttachmentUploadSerializer, request)
        try:
            attachment = services.add_evidence(
                case=self.case,
                by=request.user,
                file=fields["file"],
                description=fields.get("description", ""),
                attempt=attempt_of(request),
            )
        except CannotKeep as exc:
            return Response({"code": exc.code, "detail": str(exc)}, status=exc.status)
        return Response(s.AttachmentSerializer(attachment, context=self.context()).data, status=201)


class AttachmentDownloadView(CaseScoped):
    @extend_schema(
        summary=gettext_lazy("Download an evidence file"),
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("The file, as an attachment."))
            for content_type in ALLOWED_CONTENT_TYPES
        }
        | errors(401, 403, 404, 503),
    )
    def get(self, request: ApiRequest, case_pk: int, pk: int) -> FileResponse | Response:
        try:
            return services.open_evidence(case=self.case, attachment_id=pk, request=request)
        except EvidenceMissing as exc:
            return Response({"code": exc.code, "detail": str(exc)}, status=404)
        except EvidenceUnavailable as exc:
            return Response({"code": exc.code, "detail": str(exc)}, status=exc.status)


class DownloadNegotiation(DefaultContentNegotiation):
    """A download answers with its file whatever the client says it accepts (a client asking for application/pdf is
    not refused with 406); its errors, which the renderers write, stay JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class CaseSheetView(CaseScoped):
    case_url_kwarg = "pk"
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        summary=gettext_lazy("The case sheet PDF"),
        description=gettext_lazy(
            "The case as the A4 PDF the case page offers, in the request's language (Accept-Language): the record a "
            "supervisor files or hands to a procuratorate. For the supervisors and administrators overseeing the "
            "case; its filer and the officers listed on it are refused (403). Suspects' ID numbers and officers' "
            "medical details are masked, as on the page. Each download is in the access log."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=_("The PDF, as an attachment."))
        }
        | errors(401, 403, 404),
    )
    def get(self, request: ApiRequest, pk: int) -> HttpResponse:
        return open_case_sheet(case=self.case, actor=request.actor, by=request.user, request=request)


class EventListView(SelectorListView, CaseScoped):
    model = CaseEvent
    serializer_class = s.CaseEventSerializer
    pagination_class = EventPagination

    def select(self) -> QuerySet:
        return selectors.timeline_visible_to(self.request.actor, self.case)

    def get_serializer_context(self) -> dict[str, Any]:
        shared_only = not policy.sees_internal(self.request.actor, self.case)
        return {**super().get_serializer_context(), **self.context(shared_only=shared_only)}

    @extend_schema(
        summary=gettext_lazy("The case's timeline, oldest first"),
        responses=responses({200: s.CaseEventSerializer(many=True)}, 400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- flags, units, the caller, notifications, reports -------------------------------------------------------------


class FlagListView(SelectorListView):
    model = Flag
    serializer_class = s.FlagSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = FlagFilter
    pagination_class = FlagPagination

    def select(self) -> QuerySet:
        return selectors.flags_visible_to(self.request.actor)

    @extend_schema(
        summary=gettext_lazy("Flags on the cases the caller supervises or administers"),
        description=gettext_lazy("Flags are prompts for the office, never legal verdicts; officers see none."),
        responses=responses({200: s.FlagSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class FlagAcknowledgeView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Acknowledge a flag"),
        description=gettext_lazy(
            "Records that a supervisor of the case's unit has seen the prompt. It does not resolve the flag, "
            "and acknowledging again keeps the first acknowledgement."
        ),
        request=None,
        responses=responses({200: s.FlagSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request: ApiRequest, pk: int) -> Response:
        flag = get_object_or_404(selectors.flags_visible_to(request.actor), pk=pk)
        flag = services.acknowledge_flag(flag=flag, by=request.user)
        return Response(s.FlagSerializer(flag).data)


class RuleCatalogueView(ApiView):
    @extend_schema(
        summary=gettext_lazy("The rule catalogue"),
        description=gettext_lazy(
            "Every rule the flags come from: each version with the incident dates it covers, its severity "
            "(downgrade or review prompt), title, basis and each source part with its confidence tag; the "
            "suppressions with the rules they silence; and the time-limit rules. A rule not verified from the "
            "official text in every part is not the law: its caveat says so."
        ),
        responses=responses({200: s.RuleCatalogueSerializer}, 401, 403),
    )
    def get(self, request: ApiRequest) -> Response:
        if not policy.can_read_rule_catalogue(request.actor):
            raise exceptions.PermissionDenied(_("The rule catalogue is for members of a unit."))
        return Response(s.RuleCatalogueSerializer(rule_catalogue()).data)


class UnitListView(SelectorListView):
    model = OrgUnit
    serializer_class = s.UnitSerializer
    pagination_class = UnitPagination

    def select(self) -> QuerySet:
        return units_visible_to(self.request.user)

    @extend_schema(
        summary=gettext_lazy("Units in the caller's subtrees"),
        responses=responses({200: s.UnitSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class MeView(ApiView):
    @extend_schema(
        summary=gettext_lazy("The caller and their memberships"), responses=responses({200: s.MeSerializer}, 401, 403)
    )
    def get(self, request: ApiRequest) -> Response:
        user = request.user
        memberships = Membership.objects.filter(user=user).select_related("unit").order_by("unit__path", "role")
        data = {
            "id": user.pk,
            "username": user.username,
            "full_name": user.full_name,
            "badge_number": user.badge_number,
            "email": user.email,
            "memberships": memberships,
        }
        return Response(s.MeSerializer(data).data)


class NotificationListView(SelectorListView):
    model = Notification
    serializer_class = s.NotificationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination

    def select(self) -> QuerySet:
        return selectors.notifications_for(self.request.actor)

    @extend_schema(
        summary=gettext_lazy("The caller's notifications, newest first"),
        responses=responses({200: s.NotificationSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationsReadView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Mark the caller's notifications read"),
        description=gettext_lazy(
            "Marks the given notifications (or every unread one) read. Ids of notifications that are not the "
            "caller's, or already read, are ignored."
        ),
        request=s.MarkNotificationsReadSerializer,
        responses=responses({200: s.MarkedReadSerializer}, 400, 401, 403),
    )
    def post(self, request: ApiRequest) -> Response:
        fields = validated(s.MarkNotificationsReadSerializer, request)
        marked = mark_notifications_read(user=request.user, ids=fields.get("ids"))
        return Response(s.MarkedReadSerializer({"marked": marked}).data)


class NotificationReadView(ApiView):
    @extend_schema(
        operation_id="notification_read_one",
        summary=gettext_lazy("Mark one of the caller's notifications read"),
        description=gettext_lazy(
            "Marks the notification read, as opening it on the notifications page does. Someone else's notification, "
            "or one about a case the caller can no longer see, is not found and nothing changes."
        ),
        request=None,
        responses=responses({200: s.NotificationSerializer}, 401, 403, 404),
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        note = get_object_or_404(selectors.notifications_for(request.actor), pk=pk)
        mark_notifications_read(user=request.user, ids=[note.pk])
        note = get_object_or_404(selectors.notifications_for(request.actor), pk=pk)
        return Response(s.NotificationSerializer(note).data)


PREFERENCES_DESCRIPTION = gettext_lazy(
    "One field per kind of notification, as on the notification settings page: email (e-mailed at once), daily (in "
    "the daily digest e-mail) or in_app (the notification list only). Every notification is in the list whatever is "
    "chosen; e-mail problems are told there only and have no setting. A choice applies to notifications made from "
    "then on. Only the caller's own settings are read or changed."
)

PREFERENCES_WRITE_DESCRIPTION = gettext_lazy(
    "The fields are those of the GET answer: email, daily or in_app per kind. PUT gives every kind; PATCH only those "
    "to change. An unknown kind or delivery, or a kind left out of a PUT, is refused with 400 and its message under "
    "the kind's name, and nothing is saved. The answer is the caller's settings for every kind."
)


class NotificationPreferencesView(ApiView):
    @extend_schema(
        summary=gettext_lazy("How the caller hears about each kind of notification"),
        description=PREFERENCES_DESCRIPTION,
        responses=responses({200: s.NotificationPreferencesSerializer}, 401, 403),
    )
    def get(self, request: ApiRequest) -> Response:
        return self.answer(selectors.notification_preferences(request.user))

    @extend_schema(
        summary=gettext_lazy("Set how the caller hears about every kind of notification"),
        description=PREFERENCES_WRITE_DESCRIPTION,
        request=s.NotificationPreferencesSerializer,
        responses=responses({200: s.NotificationPreferencesSerializer}, 400, 401, 403),
    )
    def put(self, request: ApiRequest) -> Response:
        return self.save(request, complete=True)

    @extend_schema(
        summary=gettext_lazy("Change how the caller hears about some kinds of notification"),
        description=PREFERENCES_WRITE_DESCRIPTION,
        request=s.NotificationPreferencesSerializer,
        responses=responses({200: s.NotificationPreferencesSerializer}, 400, 401, 403),
    )
    def patch(self, request: ApiRequest) -> Response:
        return self.save(request, complete=False)

    def save(self, request: ApiRequest, *, complete: bool) -> Response:
        # The body is handed to the service as it came: the settings page's rule decides it, kind by kind. An object
        # of more entries than there are kinds is refused whole, so a huge one is not answered with a message for
        # each of its names.
        if not isinstance(request.data, dict) or len(request.data) > len(NotificationKind.values):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send an object naming kinds of notification and how you hear about each.")]}
            )
        saved = set_notification_preferences(user=request.user, deliveries=request.data, complete=complete)
        return self.answer(saved)

    def answer(self, deliveries: dict[str, str]) -> Response:
        return Response(s.NotificationPreferencesSerializer(deliveries).data)


class YearlyReportView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Yearly summary for a unit subtree"),
        description=gettext_lazy(
            "The cases submitted in the year (local time), by incident type, current status and month of submission, "
            "and the flags raised and resolved in the year by kind (downgrades apart from review prompts), and the "
            "downgraded flags overridden in the year, among the cases the caller supervises or administers: the same "
            "figures as the yearly report's. The report itself, with every section and its exports, is the Reports "
            "page."
        ),
        parameters=[s.YearlyReportQuerySerializer],
        responses=responses({200: s.YearlyReportSerializer}, 400, 401, 403, 404),
    )
    def get(self, request: ApiRequest) -> Response:
        # A plain dict, not the QueryDict: DRF reads an empty value of form data as "not given", and ``?unit=``
        # would report every unit the caller oversees instead of being refused as not a unit id.
        query = s.YearlyReportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        if not policy.can_report(request.actor):
            raise exceptions.PermissionDenied(_("Reports are for supervisors and administrators."))
        unit = None
        if "unit" in query.validated_data:
            unit = get_object_or_404(policy.reportable_units(request.actor), pk=query.validated_data["unit"])
        units = [unit] if unit is not None else report_scope.outermost_report_units(request.actor)
        summary = case_summary(units=units, year=query.validated_data["year"])
        data = {
            "year": summary.year,
            "unit": unit,
            "total": summary.total,
            "by_kind": [{"kind": k, "count": n} for k, n in sorted(summary.by_kind.items())],
            "by_status": [{"status": k, "count": n} for k, n in sorted(summary.by_status.items())],
            "by_month": summary.by_month,
            "downgraded_overridden": summary.downgraded_overridden,
            "flags": [
                {"kind": kind, "raised": summary.flags_raised[kind], "resolved": summary.flags_resolved[kind]}
                for kind in FlagKind.values
            ],
        }
        return Response(s.YearlyReportSerializer(data).data)


class NotFoundView(APIView):
    """Any other path under the API answers 404 in the API's error format, not with an HTML page."""

    authentication_classes: list[Any] = []
    schema = None

    @property
    def default_response_headers(self) -> dict[str, str]:
        # No Allow header: a path that does not exist supports no method.
        return {"Vary": "Accept"}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before any permission check: there is nothing here to protect, for anyone.
        raise exceptions.NotFound()


# --- duplicates -------------------------------------------------------------------------------------------------


class DuplicateScoped(CaseScoped):
    """The office's duplicates of a case: its supervisors and administrators (``policy.sees_duplicates``); 403 for the
    filer and the officers listed, who would otherwise learn of other officers' applications."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not policy.sees_duplicates(self.request.actor, self.case):
            raise PermissionDenied(_("The likely duplicates of a case are the office's."))

    def other_case(self, pk: int) -> Case:
        """Another case named by the request, from the caller's visible set: 404 otherwise, as for the case itself."""
        other = selectors.cases_for_api(self.request.actor).filter(pk=pk).first()
        if other is None:
            log_denied(request=self.request, object_ref=f"case:{pk}", outcome="not_found")
            raise exceptions.NotFound()
        return other


_DUPLICATE_ERRORS = (400, 401, 403, 404, 409, 422)


@extend_schema(
    summary=gettext_lazy("Likely duplicates of the case, with why each matched"),
    description=gettext_lazy(
        "Only cases the caller sees, never the case itself, a draft, a merged record or a case already linked with it. "
        "For the case's supervisors and administrators."
    ),
    responses=responses({200: s.DuplicateCandidateSerializer(many=True)}, 401, 403, 404),
)
class DuplicateListView(DuplicateScoped):
    def get(self, request: ApiRequest, case_pk: int) -> Response:
        candidates = duplicates.likely_duplicates(request.actor, self.case)
        data = [{"case": c.case, "reasons": list(c.reasons)} for c in candidates]
        return Response(s.DuplicateCandidateSerializer(data, many=True, context=self.context()).data)


@extend_schema(
    summary=gettext_lazy("Link the case with a related case"),
    request=s.LinkInputSerializer,
    responses=responses({201: s.CaseLinkSerializer}, *_DUPLICATE_ERRORS),
    parameters=[IDEMPOTENCY_KEY],
)
class CaseLinkView(DuplicateScoped):
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        payload = validated(s.LinkInputSerializer, request)
        other = self.other_case(payload["case"])
        link = services.link_cases(by=request.user, case=self.case, other=other, reason=payload["reason"])
        return Response(s.CaseLinkSerializer(link).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary=gettext_lazy("Remove the link between the case and another"),
    request=s.ReasonInputSerializer,
    responses=responses({204: None}, *_DUPLICATE_ERRORS),
)
class CaseUnlinkView(DuplicateScoped):
    def delete(self, request: ApiRequest, case_pk: int, pk: int) -> Response:
        payload = validated(s.ReasonInputSerializer, request)
        other = self.other_case(pk)
        services.unlink_cases(by=request.user, case=self.case, other=other, reason=payload["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    summary=gettext_lazy("Merge the case into another as its duplicate"),
    description=gettext_lazy(
        "The case (at intake) becomes a closed record merged into the other (open), whose victims its filer and "
        "officers join. 409 when the state does not allow it (already merged, a merged record on either side, the "
        "case past intake, the other not open), with a code saying which."
    ),
    request=s.MergeInputSerializer,
    responses=responses({201: s.CaseMergeSerializer}, *_DUPLICATE_ERRORS),
    parameters=[IDEMPOTENCY_KEY],
)
class CaseMergeView(DuplicateScoped):
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        payload = validated(s.MergeInputSerializer, request)
        into = self.other_case(payload["into"])
        merge = services.merge_cases(by=request.user, case=self.case, into=into, reason=payload["reason"])
        return Response(s.CaseMergeSerializer(merge).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary=gettext_lazy("Undo the merge of this merged record (administrators)"),
    description=gettext_lazy(
        "Within RIGHTSGUARD_UNMERGE_DAYS of the merge, and while the case it was merged into has not moved on "
        "(409 otherwise, with a code saying why)."
    ),
    request=s.ReasonInputSerializer,
    responses=responses({200: s.CaseMergeSerializer}, *_DUPLICATE_ERRORS),
    parameters=[IDEMPOTENCY_KEY],
)
class CaseUnmergeView(DuplicateScoped):
    @idempotent
    def post(self, request: ApiRequest, case_pk: int) -> Response:
        payload = validated(s.ReasonInputSerializer, request)
        merge = services.unmerge_cases(by=request.user, case=self.case, reason=payload["reason"])
        return Response(s.CaseMergeSerializer(merge).data)
