"""Keyset (cursor) pagination for every list: constant cost per page however deep the client reads.

The rows and the cursors come from the one keyset paginator (cases/keyset.py), which the queue page uses too;
DRF's cursor pagination supplies the parameters, the ``next``/``previous``/``results`` answer and its schema.
Bad paging parameters are refused with 400 instead of being silently replaced by defaults, so a client never
mistakes a page of the wrong size (or the first page) for the one it asked for.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from cases.keyset import InvalidCursor, KeysetPage, keyset_page

MAX_PAGE_SIZE = 100


class KeysetPagination(CursorPagination):
    page_size = 25
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering: Any = ("-id",)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        ordering = self.get_ordering(request, queryset, view)
        try:
            self.keyset: KeysetPage = keyset_page(
                queryset, ordering, cursor=request.query_params.get(self.cursor_query_param), size=size
            )
        except InvalidCursor as exc:
            raise serializers.ValidationError({self.cursor_query_param: [_("This cursor is not valid.")]}) from exc
        return self.keyset.rows

    def _link(self, cursor: str | None) -> str | None:
        return replace_query_param(self.base_url or "", self.cursor_query_param, cursor) if cursor else None

    def get_next_link(self) -> str | None:
        return self._link(self.keyset.next_cursor)

    def get_previous_link(self) -> str | None:
        return self._link(self.keyset.previous_cursor)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class CasePagination(KeysetPagination):
    # The queue's index order (DESIGN §9); the id breaks ties between cases touched in the same instant.
    ordering = ("-last_activity_at", "-id")


class EventPagination(KeysetPagination):
    page_size = 50
    ordering = ("at", "id")


class FlagPagination(KeysetPagination):
    ordering = ("-raised_at", "-id")


class NotificationPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


class UnitPagination(KeysetPagination):
    page_size = 100
    ordering = ("path",)
