"""Query filters for the API lists (django-filter), and the case list's ordering.

Filters are strict: a parameter that is present must be valid, so a typo is a 400 rather than a silently
unfiltered list. Every filter narrows a queryset that already starts from ``cases_visible_to``.
"""

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from accounts.models import OrgUnit
from cases import policy
from cases.choices import INJURY_RANK, CaseStatus, FlagKind, IncidentKind, InjuryGrade, NotificationKind
from cases.dimensions import UnknownCode
from cases.models import Case, Flag, Notification
from cases.queue_filters import (
    ASSIGNED_TO_ME,
    DIMENSION_CHOICES,
    DUE_OVERDUE,
    DUE_PAUSED,
    DUE_WEEK,
    UNASSIGNED,
    QueueFilters,
    filter_cases,
    period_range,
    weekhour_code,
)
from cases.selectors import InboxFilters, filter_notifications

# Datetimes outside this range are refused: they are never real incident times, and converting them between
# time zones can overflow.
MIN_YEAR, MAX_YEAR = 1900, 2999


class _PresentMeansValid:
    """A parameter given with an empty value is an error, not "no filter"."""

    def clean(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError(_("Give a value, or leave the parameter out."), code="blank")
        return super().clean(value)  # type: ignore[misc]


class StrictChoiceField(_PresentMeansValid, django_filters.fields.ChoiceField):
    pass


class StrictIntegerField(_PresentMeansValid, forms.IntegerField):
    pass


class StrictBooleanField(_PresentMeansValid, forms.NullBooleanField):
    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError(_("Give true or false."), code="invalid")


class StrictIsoDateTimeField(_PresentMeansValid, django_filters.fields.IsoDateTimeField):
    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is not None and not MIN_YEAR <= result.year <= MAX_YEAR:
            raise forms.ValidationError(
                _("Give a date between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}, code="invalid"
            )
        return result


class ChoiceFilter(django_filters.ChoiceFilter):
    field_class = StrictChoiceField


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    field_class = StrictIntegerField


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A plain input hands the raw text to the field; the default select widget turns any unknown word into None.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StrictIsoDateTimeField


class StrictModelChoiceField(_PresentMeansValid, django_filters.fields.ModelChoiceField):
    pass


@extend_schema_field(OpenApiTypes.INT)
class UnitFilter(django_filters.ModelChoiceFilter):
    field_class = StrictModelChoiceField


@extend_schema_field({"type": "string", "maxLength": 100})
class TextFilter(django_filters.CharFilter):
    pass


class StrictMonthField(_PresentMeansValid, forms.CharField):
    def to_python(self, value: Any) -> tuple[datetime, datetime] | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        period = period_range(str(value))
        if period is None:
            raise forms.ValidationError(_("Give a month as YYYY-MM or a year as YYYY."), code="invalid")
        return period


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}(-(0[1-9]|1[0-2]))?$"})
class MonthFilter(django_filters.CharFilter):
    field_class = StrictMonthField

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return qs  # read by ``CaseFilter.queue_filters``


RANKED_INJURIES = [(grade, label) for grade, label in InjuryGrade.choices if grade in INJURY_RANK]


class CaseFilterForm(forms.Form):
    """What no single parameter can tell: an hour asked of cases whose time is not recorded."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            weekhour_code(data.get("weekday") or "", data.get("hour") or "")
        except UnknownCode:
            self.add_error(
                "hour", _("Leave hour out when weekday is - (the time is not recorded): such a case has none.")
            )
        return data


class CaseFilter(django_filters.FilterSet):
    """The case list's parameters, parsed into the queue's filters: the page and the API filter by one rule
    (cases/queue_filters.py)."""

    status = django_filters.MultipleChoiceFilter(
        choices=CaseStatus.choices, help_text=gettext_lazy("Any of these statuses (repeat the parameter).")
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=IncidentKind.choices, help_text=gettext_lazy("Any of these incident types (repeat the parameter).")
    )
    unit = UnitFilter(
        queryset=OrgUnit.objects.all(),
        help_text=gettext_lazy("Handling unit id: cases of this unit and every unit below it."),
    )
    flag = django_filters.MultipleChoiceFilter(
        choices=FlagKind.choices,
        help_text=gettext_lazy(
            "Cases with any of these open flags (repeat the parameter). downgraded: an outcome below the minimum "
            "verified law calls for; review_prompt: any other rule finding, kept apart from downgrades."
        ),
    )
    injury_at_least = ChoiceFilter(
        choices=RANKED_INJURIES, help_text=gettext_lazy("Cases where the worst injury is at least this grade.")
    )
    occurred_after = DateTimeFilter(help_text=gettext_lazy("Incident at or after this time."))
    occurred_before = DateTimeFilter(help_text=gettext_lazy("Incident before this time."))
    created_after = DateTimeFilter(help_text=gettext_lazy("Filed at or after this time."))
    created_before = DateTimeFilter(help_text=gettext_lazy("Filed before this time."))
    q = TextFilter(
        max_length=100,
        help_text=gettext_lazy(
            "Finds cases whose reference, summary, narrative, location, 110 incident number, involved officer "
            "(name or badge number), suspect name or handling unit name contains the text, or, among the cases "
            "whose ID numbers the caller may read in full, with a suspect of exactly this ID number: the same search "
            "as the queue page's and the top bar's."
        ),
    )
    assigned = ChoiceFilter(
        choices=[(ASSIGNED_TO_ME, gettext_lazy("Assigned to me")), (UNASSIGNED, gettext_lazy("Unassigned"))],
        help_text=gettext_lazy("The queue's 'mine' and 'unassigned' views."),
    )

    due = ChoiceFilter(
        choices=[
            (DUE_OVERDUE, gettext_lazy("Overdue")),
            (DUE_WEEK, gettext_lazy("Due within seven days")),
            (DUE_PAUSED, gettext_lazy("Clock paused")),
        ],
        help_text=gettext_lazy(
            "The stage clock: overdue (the stage deadline has passed), week (due within the next seven days) or "
            "paused. A paused clock is neither overdue nor due."
        ),
    )
    submitted = MonthFilter(
        help_text=gettext_lazy("Submitted in this month, written YYYY-MM, or this year, written YYYY (local time).")
    )
    awaiting = BooleanFilter(
        method="filter_nothing", help_text=gettext_lazy("Cases with a referral awaiting acknowledgement.")
    )
    awaiting_unit = UnitFilter(
        queryset=OrgUnit.objects.all(),
        method="filter_nothing",
        help_text=gettext_lazy("Unit id: cases with a referral awaiting acknowledgement by this handling unit."),
    )
    # The analysis's dimensions, as the queue page takes them (cases/queue_filters.py DIMENSION_CHOICES); "-" is
    # "not recorded".
    scenario = ChoiceFilter(
        choices=DIMENSION_CHOICES["scenario"],
        help_text=gettext_lazy(
            "Duty scenario, whatever the incident type (kind narrows it to types); -: not recorded."
        ),
    )
    place = ChoiceFilter(choices=DIMENSION_CHOICES["place"], help_text=gettext_lazy("Place category; -: not recorded."))
    weapon = ChoiceFilter(
        choices=DIMENSION_CHOICES["weapon"],
        help_text=gettext_lazy("Weapon as recorded (unknown where it was not asked)."),
    )
    intox = ChoiceFilter(
        choices=DIMENSION_CHOICES["intox"],
        help_text=gettext_lazy("Whether the attacker was drunk: yes, no, or - (not recorded)."),
    )
    crowd = ChoiceFilter(
        choices=DIMENSION_CHOICES["crowd"],
        help_text=gettext_lazy(
            "organised: someone organised or incited it, whatever the number of attackers; otherwise group: three "
            "attackers or more; few: one or two; -: the number of attackers is not recorded (or recorded as 0)."
        ),
    )
    weekday = ChoiceFilter(
        choices=DIMENSION_CHOICES["weekday"],
        help_text=gettext_lazy(
            "ISO weekday it occurred (1 Monday … 7 Sunday), local time; -: the time is not recorded (then no hour)."
        ),
    )
    hour = ChoiceFilter(
        choices=DIMENSION_CHOICES["hour"], help_text=gettext_lazy("Hour it occurred (0–23), local time.")
    )

    class Meta:
        model = Case
        fields: list[str] = []
        form = CaseFilterForm

    def filter_nothing(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        """The parameter is read by ``queue_filters``; the one filter is applied in ``filter_queryset``."""
        return queryset

    def queue_filters(self) -> QueueFilters:
        d = self.form.cleaned_data
        return QueueFilters(
            statuses=tuple(d["status"]),
            kinds=tuple(d["kind"]),
            unit_path=d["unit"].path if d["unit"] else "",
            flags=tuple(d["flag"]),
            min_injury_rank=INJURY_RANK[d["injury_at_least"]] if d["injury_at_least"] else None,
            occurred_after=d["occurred_after"],
            occurred_before=d["occurred_before"],
            created_after=d["created_after"],
            created_before=d["created_before"],
            text=d["q"],
            assigned=d["assigned"],
            due=d["due"] or "",
            submitted_after=d["submitted"][0] if d["submitted"] else None,
            submitted_before=d["submitted"][1] if d["submitted"] else None,
            awaiting_ack=bool(d["awaiting"]),
            awaiting_unit_id=d["awaiting_unit"].pk if d["awaiting_unit"] else None,
            scenario=d["scenario"] or "",
            place=d["place"] or "",
            weapon=d["weapon"] or "",
            intox=d["intox"] or "",
            crowd=d["crowd"] or "",
            weekday=d["weekday"] or "",
            hour=d["hour"] or "",
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        filters = self.queue_filters()
        if filters.flags:
            # Flags are the office's: filtering by them finds only cases whose internal material the caller reads,
            # so a filer cannot tell which of their own cases are flagged (cases/policy.py).
            queryset = queryset.filter(policy.internal_scope_q(self.request.actor))
        return filter_cases(queryset, filters, actor=self.request.actor)


class CaseFilterBackend(DjangoFilterBackend):
    """``CaseFilter``, skipped when the request names none of its parameters: no filter applies then (an empty
    ``CaseFilter`` changes nothing), and building and validating its form is a good part of a plain list's cost."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if not any(name in request.query_params for name in CaseFilter.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class FlagFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=FlagKind.choices)
    open = BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", help_text=gettext_lazy("Only flags not yet resolved.")
    )
    acknowledged = BooleanFilter(method="filter_acknowledged")
    case = IntegerFilter(field_name="case_id")

    class Meta:
        model = Flag
        fields: list[str] = []

    def filter_acknowledged(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(acknowledged_at__isnull=not value)


class NotificationFilter(django_filters.FilterSet):
    """The notification page's filters (cases/selectors.py ``filter_notifications``)."""

    unread = BooleanFilter(
        method="filter_unread", help_text=gettext_lazy("true: only notifications not yet read; false: only read ones.")
    )
    kind = ChoiceFilter(
        choices=NotificationKind.choices,
        method="filter_kind",
        help_text=gettext_lazy("Only notifications of this kind."),
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return filter_notifications(queryset, InboxFilters(unread=value))

    def filter_kind(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return filter_notifications(queryset, InboxFilters(kind=value or ""))


# --- ordering ----------------------------------------------------------------------------------------------------

CASE_ORDERINGS = ("-last_activity_at", "last_activity_at", "-created_at", "created_at", "-reference", "reference")


class CaseOrdering(BaseFilterBackend):
    """``ordering`` for the case list, one of :data:`CASE_ORDERINGS`; the id breaks ties.

    Cursor pagination asks this backend for the ordering (it has ``get_ordering``), so pages stay consistent.
    """

    param = "ordering"
    default = ("-last_activity_at", "-id")

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        value = request.query_params.get(self.param)
        if value is None:
            return self.default
        if value not in CASE_ORDERINGS:
            raise serializers.ValidationError(
                {self.param: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CASE_ORDERINGS)}]}
            )
        return (value, "-id" if value.startswith("-") else "id")

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        return queryset.order_by(*self.get_ordering(request, queryset, view))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": str(_("Sort order; a leading minus sorts descending. Default: -last_activity_at.")),
                "schema": {"type": "string", "enum": list(CASE_ORDERINGS)},
            }
        ]
