"""The officer strength in the admin site: each administrator sees and records the units they administer
(accounts/scope.py), through ``analysis.services``."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import scope
from accounts.admin import ScopedAdmin
from accounts.models import User
from accounts.requests import user_of
from analysis import services
from analysis.models import OfficerStrength


class OfficerStrengthForm(forms.ModelForm):
    class Meta:
        model = OfficerStrength
        fields = ("unit", "year", "regular", "auxiliary")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        year, regular, auxiliary = (cleaned.get(name) for name in ("year", "regular", "auxiliary"))
        if year is not None and regular is not None and auxiliary is not None:
            for field, message in services.strength_errors(year=year, regular=regular, auxiliary=auxiliary).items():
                self.add_error(field, message)
        return cleaned


@admin.register(OfficerStrength)
class OfficerStrengthAdmin(ScopedAdmin):
    form = OfficerStrengthForm
    list_display = ("unit", "year", "regular", "auxiliary", "recorded_by", "recorded_at")
    list_filter = ("year",)
    list_select_related = ("unit", "recorded_by")
    search_fields = ("unit__code", "unit__name", "unit__name_en")
    autocomplete_fields = ["unit"]
    readonly_fields = ("recorded_by", "recorded_at")

    def administered(self, user: User) -> QuerySet[OfficerStrength]:
        return OfficerStrength.objects.filter(unit__in=scope.administered_units(user).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: OfficerStrength | None = None) -> tuple[str, ...]:
        # A correction changes the figures; another unit or year is another record.
        return ("unit", "year", *self.readonly_fields) if obj else tuple(self.readonly_fields)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scope.administered_units(user_of(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: OfficerStrength, form, change: bool) -> None:
        saved = services.record_officer_strength(
            unit=obj.unit, year=obj.year, regular=obj.regular, auxiliary=obj.auxiliary, by=user_of(request)
        )
        obj.pk, obj.recorded_by, obj.recorded_at, obj._state.adding = (
            saved.pk,
            saved.recorded_by,
            saved.recorded_at,
            False,
        )
