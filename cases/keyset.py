"""Keyset pagination, the one paginator of the queue page and of every API list.

A page is the rows strictly after (or, going back, strictly before) a position in a fixed order, so page 10,000
costs what page 1 costs, and rows added or removed between two requests neither repeat nor skip a row. The order
always ends in a unique field (the id breaks ties), so a position names exactly one place in it. A row without a
value for a nullable key comes after every row with one, in either direction (a closed case has no stage deadline,
and sorting by the deadline must not hide it), on PostgreSQL and SQLite alike. The cursor is the position's values
as text (JSON null for a missing value), read back with the model fields' own parsing: a forged or mangled cursor is
refused, never turned into a query the database rejects.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Field, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Key:
    field: Field
    descending: bool

    @property
    def name(self) -> str:
        return self.field.name

    def order_by(self, *, backwards: bool) -> OrderBy:
        """The key's term in ORDER BY: missing values last going forward, so first going back."""
        descending = self.descending != backwards
        expression = F(self.name)
        if not self.field.null:
            return expression.desc() if descending else expression.asc()
        nulls = {"nulls_first": True} if backwards else {"nulls_last": True}
        return expression.desc(**nulls) if descending else expression.asc(**nulls)


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None


def order_keys(model: type[Model], ordering: Sequence[str]) -> list[Key]:
    """The keys of ``ordering`` (field names, a leading minus for descending), ending in a unique one: when the
    last given field is not unique, the id follows it in the same direction."""
    keys = []
    for name in ordering:
        descending = name.startswith("-")
        name = name.lstrip("-")
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            raise ValueError(f"{model.__name__} has no field {name!r} to order by") from None
        if not isinstance(field, Field):
            raise ValueError(f"{model.__name__}.{name} is a relation, not a column to order by")
        keys.append(Key(field, descending))
    if not keys or not keys[-1].field.unique:
        keys.append(Key(model._meta.pk, keys[-1].descending if keys else False))
    return keys


def _encode(values: list[str | None], *, backwards: bool) -> str:
    raw = json.dumps({"before" if backwards else "after": values}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _position(row: Model, keys: list[Key], *, backwards: bool) -> str:
    values = [None if key.field.value_from_object(row) is None else key.field.value_to_string(row) for key in keys]
    return _encode(values, backwards=backwards)


def _parse(key: Key, text: Any) -> Any:
    if text is None and key.field.null:
        return None
    if not isinstance(text, str) or "\x00" in text:
        raise InvalidCursor
    try:
        value = key.field.to_python(text)
        key.field.run_validators(value)
        if isinstance(value, datetime):
            # Naive or beyond the calendar once in UTC: no row was ever at such a position.
            if timezone.is_naive(value):
                raise InvalidCursor
            value.astimezone(UTC)
    except (ValidationError, OverflowError) as exc:
        raise InvalidCursor from exc
    return value


def decode_cursor(cursor: str, keys: list[Key]) -> tuple[list[Any], bool]:
    """The position's values in the order's types, and whether the page lies before it."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor from exc
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"after", "before"} & raw.keys()):
        raise InvalidCursor
    ((direction, texts),) = raw.items()
    if not isinstance(texts, list) or len(texts) != len(keys):
        raise InvalidCursor
    return [_parse(key, text) for key, text in zip(keys, texts, strict=True)], direction == "before"


def _same(key: Key, value: Any) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def _past(key: Key, value: Any, *, backwards: bool) -> Q:
    """Rows whose ``key`` lies strictly beyond ``value`` in the direction of travel; missing values are last."""
    if value is None:
        # Nothing lies after a missing value; going back, every row with a value lies before it.
        return Q(**{f"{key.name}__isnull": False}) if backwards else Q(pk__in=[])
    step = Q(**{f"{key.name}__{'lt' if key.descending != backwards else 'gt'}": value})
    if key.field.null and not backwards:
        step |= Q(**{f"{key.name}__isnull": True})
    return step


def _beyond(keys: list[Key], values: list[Any], *, backwards: bool) -> Q:
    """Rows after the position in the order (before it when going back): on the first key that differs."""
    q = Q(pk__in=[])
    for i, key in enumerate(keys):
        step = _past(key, values[i], backwards=backwards)
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            step &= _same(earlier, value)
        q |= step
    return q


def keyset_page(queryset: QuerySet, ordering: Sequence[str], *, cursor: str | None, size: int) -> KeysetPage:
    """One page of ``queryset`` in ``ordering``, from ``cursor`` (the first page without one).

    Rows without a value for a nullable key come after those with one.
    """
    keys = order_keys(queryset.model, ordering)
    backwards = False
    if cursor:
        values, backwards = decode_cursor(cursor, keys)
        queryset = queryset.filter(_beyond(keys, values, backwards=backwards))
    rows = list(queryset.order_by(*[key.order_by(backwards=backwards) for key in keys])[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return KeysetPage(rows=[], next_cursor=None, previous_cursor=None)
    # Going forward, a page reached by a cursor has rows before it; going back, the page left has rows after.
    has_next = more or backwards
    has_previous = more if backwards else bool(cursor)
    return KeysetPage(
        rows=rows,
        next_cursor=_position(rows[-1], keys, backwards=False) if has_next else None,
        previous_cursor=_position(rows[0], keys, backwards=True) if has_previous else None,
    )
