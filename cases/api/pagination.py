"""Keyset (cursor) pagination for every list: constant cost per page however deep the client reads.

Bad paging parameters are refused with 400 instead of being silently replaced by defaults, so a client
never mistakes a page of the wrong size (or the first page) for the one it asked for.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

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

    def _invalid_cursor(self) -> serializers.ValidationError:
        return serializers.ValidationError({self.cursor_query_param: [_("This cursor is not valid.")]})

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except Exception as exc:
            raise self._invalid_cursor() from exc

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError) as exc:
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            # A forged cursor position that does not parse as the ordering field's type.
            raise self._invalid_cursor() from exc

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
