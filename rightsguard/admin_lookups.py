"""Which query-string filters an admin change list accepts: the ones its page offers, nothing else.

Django's admin accepts a lookup on any of the model's own fields from the query string
(``?medical_notes__contains=…``, ``?password__startswith=…``, ``?key__startswith=…``) even when the page never shows
that field; the number of rows found then answers a guess about a value the page hides. Every admin of the project
mixes in ``DeclaredLookupsOnly``: a lookup is accepted only when it belongs to a filter the page declares
(``list_filter``), to its ``date_hierarchy``, or to the admin's own pop-ups (a foreign key's ``limit_choices_to``).
Anything else is refused with ``DisallowedModelAdminLookup``, which Django answers with a 400.
"""

from typing import cast

from django.contrib.admin import ModelAdmin, SimpleListFilter, widgets
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

DATE_HIERARCHY_PARTS = ("year", "month", "day")


def _fkey_popup_lookup(model: type[Model], lookup: str, value: str) -> bool:
    """A lookup Django's raw-id pop-up sends for a foreign key's ``limit_choices_to`` (as ModelAdmin allows it)."""
    for fk_lookup in model._meta.related_fkey_lookups:
        if callable(fk_lookup):
            fk_lookup = fk_lookup()
        if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
            return True
    return False


def _within_declared_field(model: type[Model], path: str, lookup: str) -> bool:
    """``lookup`` filters the field at ``path`` itself (``injury__exact``, ``unit__id__exact``, ``level__isnull``),
    never a field reached through it (``unit__name__contains``)."""
    if lookup == path:
        return True
    if not lookup.startswith(path + LOOKUP_SEP):
        return False
    rest = lookup[len(path) + len(LOOKUP_SEP) :].split(LOOKUP_SEP)
    try:
        field = get_fields_from_path(model, path)[-1]
    except (FieldDoesNotExist, LookupError):
        return False
    if not field.is_relation:
        return True  # what follows is a lookup or a transform of this field
    related = field.related_model
    if related is None or isinstance(related, str):
        return False
    # A relation is filtered by the key it points at (RelatedFieldListFilter), then lookups only.
    target = getattr(field, "target_field", None)
    first = rest[0]
    if first in ("pk", getattr(target, "name", None)):
        rest = rest[1:]
    return not any(_is_field(related, part) for part in rest[:1])


def _is_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class DeclaredLookupsOnly:
    """Mixed into a ModelAdmin: only the lookups of its declared filters and date hierarchy are accepted."""

    def _admin(self) -> "ModelAdmin":
        return cast("ModelAdmin", self)

    def declared_lookups(self, request: HttpRequest | None) -> tuple[set[str], set[str]]:
        """The exact parameters (simple filters, date drill-down) and the field paths (field filters) of the page."""
        exact: set[str] = set()
        paths: set[str] = set()
        admin = self._admin()
        if admin.date_hierarchy:
            exact |= {f"{admin.date_hierarchy}{LOOKUP_SEP}{part}" for part in DATE_HIERARCHY_PARTS}
        list_filter = admin.get_list_filter(request) if request is not None else admin.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                exact.add(item.parameter_name)  # type: ignore[arg-type]
                continue
            field = item[0] if isinstance(item, list | tuple) else item
            paths.add(field.name if isinstance(field, Field) else str(field))
        return exact, paths

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if not super().lookup_allowed(lookup, value, request):  # type: ignore[misc]
            return False
        if _fkey_popup_lookup(self._admin().model, lookup, value):
            return True
        exact, paths = self.declared_lookups(request)
        return lookup in exact or any(_within_declared_field(self._admin().model, path, lookup) for path in paths)
