"""The library API, mounted at /api/v1/library/. Thin, like the pages (library/views.py): the same selectors, services
and policy. Readers read published typical cases (``/``, ``/{id}/``: reading one counts the read, as the page does);
editors and approvers work on write-ups under ``manage/``. Someone without a unit is refused (403); a write-up the
caller may not read (or manage) is a 404; a step they may not take on one they see a 403, checked before the body is
read; a stale version a 412, a step the state does not allow a 409, an invalid one a 400. A refusal changes nothing."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.requests import ApiRequest
from cases import policy as case_policy
from cases.api.idempotency import idempotent
from cases.api.pagination import KeysetPagination
from cases.api.schema import IDEMPOTENCY_KEY, responses
from cases.api.versioning import IF_MATCH_PATTERN, expected_version
from cases.api.views import ApiView, SelectorListView, validated
from library import policy, selectors, services
from library.api import serializers as s
from library.api.managed import ManagedView, Managing
from library.choices import COLUMNS, TEXT_FIELDS, column
from library.models import WriteUp, WriteUpVersion
from library.workflow import TRANSITIONS

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        'The write-up\'s version the client last read, as returned in ETag (e.g. "3"). Same as "version" in the body; '
        "a stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("The write-up's version, quoted; send it back in If-Match."),
    response=[200, 201],
)
ACTION = OpenApiParameter(
    "action",
    {"type": "string", "enum": list(TRANSITIONS)},
    OpenApiParameter.PATH,
    description=gettext_lazy("The step: save is the PATCH of the write-up; the others are taken here."),
)
FILTERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description=gettext_lazy("Words in the title or the texts.")),
    OpenApiParameter("kind", OpenApiTypes.STR, description=gettext_lazy("Incident type.")),
    OpenApiParameter("duty_scenario", OpenApiTypes.STR, description=gettext_lazy("Duty scenario.")),
    OpenApiParameter("place_category", OpenApiTypes.STR, description=gettext_lazy("Place category.")),
    OpenApiParameter("article", OpenApiTypes.STR, description=gettext_lazy("An article the typical case links to.")),
]


class LibraryPagination(KeysetPagination):
    ordering = ("-published_at", "-id")


class ManagePagination(KeysetPagination):
    ordering = ("-updated_at", "-id")


def _require_library(request: ApiRequest) -> None:
    if not policy.has_library(request.actor):
        raise PermissionDenied(_("The typical cases are for members of a unit."))


def _require_manages(request: ApiRequest) -> None:
    if not policy.manages_library(request.actor):
        raise PermissionDenied(_("Only supervisors and administrators edit and approve typical cases."))


def _item(writeup: WriteUp) -> dict[str, Any]:
    version = writeup.published_version
    if version is None:  # never: a listed write-up has its version (a database constraint)
        raise Http404
    shown = selectors.shown(version)
    return {
        "id": writeup.pk,
        "version": version.number,
        "title": shown.title,
        "language": shown.language,
        "languages": selectors.languages_of(version),
        "kind": version.kind,
        "duty_scenario": version.duty_scenario,
        "place_category": version.place_category,
        "articles": version.articles,
        "published_at": version.published_at,
    }


def _texts(version: WriteUpVersion) -> list[dict[str, str]]:
    return [
        {"language": language, **{field: getattr(version, column(field, language)) for field in TEXT_FIELDS}}
        for language in selectors.languages_of(version)
    ]


def _rules(codes: list[str]) -> list[dict[str, str]]:
    page = reverse("cases:rules")
    return [{"code": r.code, "title": r.title, "url": f"{page}#{r.anchor}"} for r in selectors.rule_references(codes)]


def _read(actor: Actor, writeup: WriteUp) -> dict[str, Any]:
    version = writeup.published_version
    if version is None:
        raise Http404
    case = writeup.case
    return {
        **_item(writeup),
        "texts": _texts(version),
        "rules": _rules(version.rule_codes),
        "published_to": writeup.scope_unit,
        "useful": selectors.feedback_of(actor, version),
        "source_case": {"id": case.pk, "reference": case.reference} if policy.sees_source(actor, case) else None,
    }


# --- reading -------------------------------------------------------------------------------------------------------


class LibraryListView(SelectorListView):
    model = WriteUp
    serializer_class = s.LibraryItemSerializer
    pagination_class = LibraryPagination

    def select(self) -> QuerySet[WriteUp]:
        params = self.request.query_params
        filters = selectors.ReaderFilters(
            q=params.get("q", "")[:100],
            kind=params.get("kind", ""),
            duty_scenario=params.get("duty_scenario", ""),
            place_category=params.get("place_category", ""),
            article=params.get("article", "")[:60],
        )
        return selectors.library_for(self.request.actor, filters)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(s.LibraryItemSerializer([_item(w) for w in page], many=True).data)

    @extend_schema(
        summary=gettext_lazy("The published typical cases the caller reads"),
        description=gettext_lazy(
            "Those published to a unit the caller belongs to (or that lies under a unit they supervise or "
            "administer), newest first; searched and filtered."
        ),
        parameters=FILTERS,
        responses=responses({200: s.LibraryItemSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_library(self.request)
        return super().get(request, *args, **kwargs)


class Readable(ApiView):
    """Views of one published typical case the caller reads, or 404."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require_library(self.request)
        readable = policy.readable_writeups(self.request.actor).select_related(
            "published_version", "case", "scope_unit"
        )
        self.writeup: WriteUp = get_object_or_404(readable, pk=self.kwargs["pk"])


class LibraryDetailView(Readable):
    @extend_schema(
        summary=gettext_lazy("A published typical case"),
        description=gettext_lazy("Reading it counts the caller's first reading of this version, as the page does."),
        responses=responses({200: s.LibraryReadSerializer}, 401, 403, 404),
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        # HEAD is answered by this method too: the headers alone are no reading (a link preview, a freshness probe).
        if request.method == "GET":
            services.record_read(writeup=self.writeup, by=request.user)
        return Response(s.LibraryReadSerializer(_read(request.actor, self.writeup)).data)


class FeedbackView(Readable):
    @extend_schema(
        summary=gettext_lazy("Say whether a typical case was useful"),
        description=gettext_lazy("One answer per reader and version; answering again changes it."),
        request=s.FeedbackInputSerializer,
        responses=responses({200: s.FeedbackSerializer}, 400, 401, 403, 404),
    )
    def post(self, request: ApiRequest, pk: int) -> Response:
        data = validated(s.FeedbackInputSerializer, request)
        answer = services.give_feedback(writeup=self.writeup, by=request.user, useful=data["useful"])
        return Response(s.FeedbackSerializer({"version": answer.version.number, "useful": answer.useful}).data)


# --- editing and approving -----------------------------------------------------------------------------------------


def _manage_data(actor: Actor, writeup: WriteUp) -> dict[str, Any]:
    known = selectors.known_parties(writeup)
    proposals = selectors.proposals(writeup, known)
    return {
        "id": writeup.pk,
        "state": writeup.state,
        "version": writeup.version,
        "case": {"id": writeup.case.pk, "reference": writeup.case.reference},
        "unit": writeup.unit,
        "proposal_note": writeup.proposal_note,
        "proposed_by": writeup.proposed_by,
        "proposed_at": writeup.proposed_at,
        "last_editor": writeup.last_editor,
        "edited_at": writeup.edited_at,
        "submitted_at": writeup.submitted_at,
        "return_note": writeup.return_note,
        "withdrawal_note": writeup.withdrawal_note,
        "listed": writeup.listed,
        "published_version": writeup.published_version.number if writeup.published_version else None,
        "published_to": writeup.scope_unit,
        "texts": {name: getattr(writeup, name) for name in COLUMNS},
        "rule_codes": writeup.rule_codes,
        "articles": writeup.articles,
        "kind": writeup.kind,
        "duty_scenario": writeup.duty_scenario,
        "place_category": writeup.place_category,
        "remaining": [{"field": name, "kinds": kinds} for name, kinds in selectors.leftovers(writeup, known).items()],
        "proposals": {
            name: {
                "text": p.text,
                "changes": [{"kind": c.kind, "original": c.original, "replacement": c.text} for c in p.changes],
            }
            for name, p in proposals.items()
        },
        "actions": [t.action for t in policy.available_actions(actor, writeup)],
    }


def _managed_response(view: ApiView, writeup: WriteUp, code: int = status.HTTP_200_OK) -> Response:
    fresh = _managed_queryset(view.request.actor).get(pk=writeup.pk)
    data = s.WriteUpSerializer(_manage_data(view.request.actor, fresh)).data
    return Response(data, status=code, headers={"ETag": f'"{fresh.version}"'})


def _managed_queryset(actor: Actor) -> QuerySet[WriteUp]:
    return policy.managed_writeups(actor).select_related(
        "case", "unit", "proposed_by", "last_editor", "published_version", "scope_unit"
    )


class ManageListView(SelectorListView):
    model = WriteUp
    serializer_class = s.WriteUpSerializer
    pagination_class = ManagePagination

    def select(self) -> QuerySet[WriteUp]:
        state = self.request.query_params.get("state", "")
        found = _managed_queryset(self.request.actor)
        return found.filter(state=state) if state else found

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        rows = [_manage_data(self.request.actor, w) for w in page]
        return self.get_paginated_response(s.WriteUpSerializer(rows, many=True).data)

    @extend_schema(
        summary=gettext_lazy("The typical cases the caller edits or approves, in any state"),
        parameters=[OpenApiParameter("state", OpenApiTypes.STR, description=gettext_lazy("Only in this state."))],
        responses=responses({200: s.WriteUpSerializer(many=True)}, 400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_manages(self.request)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Propose a closed case as a typical case"),
        description=gettext_lazy(
            "A supervisor overseeing the case. The write-up starts from the case's summary and account, with every "
            "rule and article the case applied; its proposed replacements are in the answer."
        ),
        request=s.ProposeInputSerializer,
        responses=responses({201: s.WriteUpSerializer}, 400, 401, 403, 404, 422),
        parameters=[IDEMPOTENCY_KEY, ETAG],
    )
    @idempotent
    def post(self, request: ApiRequest) -> Response:
        _require_manages(request)
        data = validated(s.ProposeInputSerializer, request)
        case = case_policy.visible_cases(request.actor).filter(pk=data["case"]).first()
        if case is None:
            raise Http404
        writeup = services.propose_case(case=case, by=request.user, note=data.get("note") or "")
        return _managed_response(self, writeup, status.HTTP_201_CREATED)


class Managed(ManagedView):
    """Views of one write-up the caller edits or approves, or 404."""

    managing = Managing(
        require_manager=_require_manages,
        managed=_managed_queryset,
        may_take=policy.may_take,
        refusals=services.REFUSALS,
    )

    @property
    def writeup(self) -> WriteUp:
        return self.managed_object


class ManageDetailView(Managed):
    @extend_schema(
        summary=gettext_lazy("A typical case's working copy, what of the case it still holds, and its proposals"),
        responses=responses({200: s.WriteUpSerializer}, 401, 403, 404),
        parameters=[ETAG],
    )
    def get(self, request: ApiRequest, pk: int) -> Response:
        return _managed_response(self, self.writeup)

    @extend_schema(
        summary=gettext_lazy("Change the working copy"),
        description=gettext_lazy(
            "The supervisors of the proposing unit or above it, while proposed or being drafted: the texts given "
            "(the others are kept), the rules and articles linked (among those the case applied)."
        ),
        request=s.EditInputSerializer,
        responses=responses({200: s.WriteUpSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[IF_MATCH, ETAG],
    )
    def patch(self, request: ApiRequest, pk: int) -> Response:
        self.require("save")
        data = validated(s.EditInputSerializer, request)
        version = expected_version(request, data.pop("version", None))
        services.save_writeup(
            writeup=self.writeup,
            by=request.user,
            texts=services.texts_of(data),
            rule_codes=data.get("rule_codes"),
            articles=data.get("articles"),
            expected_version=version,
        )
        return _managed_response(self, self.writeup)


class ManageActionView(Managed):
    @extend_schema(
        summary=gettext_lazy("Take a step of the typical case's workflow"),
        description=gettext_lazy(
            "anonymise (editors: accept the proposed replacements), submit (editors: send for approval, refused while "
            "anything of the case remains), return (approvers, with a note), publish (approvers, not the last editor: "
            "to scope_unit, the proposing unit or one below it), withdraw (either, with a note), revise (editors), "
            "decline (either, with a note: a proposal or a draft never published)."
        ),
        request=s.ActionInputSerializer,
        responses=responses({200: s.WriteUpSerializer}, 400, 401, 403, 404, 409, 412),
        parameters=[ACTION, IF_MATCH, ETAG],
    )
    def post(self, request: ApiRequest, pk: int, action: str) -> Response:
        if action not in TRANSITIONS or action == "save":
            raise Http404
        self.require(action)
        data = validated(s.ActionInputSerializer, request)
        version = expected_version(request, data.pop("version", None))
        writeup, by = self.writeup, request.user
        if action == "anonymise":
            services.accept_anonymisation(writeup=writeup, by=by, fields=data.get("texts"), expected_version=version)
        elif action == "submit":
            services.submit_writeup(writeup=writeup, by=by, expected_version=version)
        elif action == "return":
            services.return_writeup(writeup=writeup, by=by, note=data.get("note") or "", expected_version=version)
        elif action == "publish":
            unit = OrgUnit.objects.filter(pk=data.get("scope_unit") or 0).first()
            if unit is None:
                raise ValidationError({"scope_unit": _("Publish to the proposing unit or to a unit below it.")})
            services.publish_writeup(writeup=writeup, by=by, scope_unit=unit, expected_version=version)
        elif action == "withdraw":
            services.withdraw_writeup(writeup=writeup, by=by, note=data.get("note") or "", expected_version=version)
        elif action == "decline":
            services.decline_writeup(writeup=writeup, by=by, note=data.get("note") or "", expected_version=version)
        else:
            services.revise_writeup(writeup=writeup, by=by, expected_version=version)
        return _managed_response(self, self.writeup)
