"""The officer strength in the admin site: each administrator sees and records the units they administer
(accounts/scope.py), through ``analysis.services``; the early warnings, read-only and scoped alike; and their
settings, with their history."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts import scope
from accounts.admin import ScopedAdmin
from accounts.models import User
from accounts.requests import user_of
from analysis import selectors, services
from analysis.choices import WarningKind
from analysis.models import EarlyWarning, OfficerStrength, WarningSettings
from rightsguard.admin_lookups import DeclaredLookupsOnly


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


def _latest_settings_pk() -> int | None:
    return WarningSettings.objects.order_by("-changed_at", "-id").values_list("pk", flat=True).first()


class WarningSettingsForm(forms.ModelForm):
    # The row in force when the form was opened: saving over another administrator's later change is refused.
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = WarningSettings
        fields = services.SETTING_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["based_on"].initial = _latest_settings_pk()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("based_on") != _latest_settings_pk():
            raise forms.ValidationError(
                _(
                    "Another administrator changed these settings after you opened this form. Open the form again "
                    "to start from the settings in force; what you typed is still shown here."
                ),
                code="stale",
            )
        values = {name: cleaned.get(name) for name in services.SETTING_FIELDS}
        if all(value is not None for value in values.values()):
            for field, message in services.warning_settings_errors(**values).items():  # type: ignore[arg-type]
                self.add_error(field, message)
        return cleaned


@admin.register(WarningSettings)
class WarningSettingsAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """The early warnings' parameters hold for every unit: only an administrator of the whole tree changes them. A
    change is saved as a new row (the job reads the latest); the rows before it are the history, read-only."""

    form = WarningSettingsForm
    list_display = (*services.SETTING_FIELDS, "changed_by", "changed_at")
    list_select_related = ("changed_by",)
    readonly_fields = ("changed_by", "changed_at")

    def _latest_pk(self) -> int | None:
        return _latest_settings_pk()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and scope.may_change_shared_settings(user_of(request))

    def has_change_permission(self, request: HttpRequest, obj: WarningSettings | None = None) -> bool:
        allowed = super().has_change_permission(request, obj) and scope.may_change_shared_settings(user_of(request))
        return allowed and (obj is None or obj.pk == self._latest_pk())

    def has_delete_permission(self, request: HttpRequest, obj: WarningSettings | None = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A new row starts from the settings in force.
        current = selectors.current_settings()
        return {name: getattr(current, name) for name in services.SETTING_FIELDS}

    def save_model(self, request: HttpRequest, obj: WarningSettings, form: Any, change: bool) -> None:
        saved = services.record_warning_settings(
            by=user_of(request), **{name: getattr(obj, name) for name in services.SETTING_FIELDS}
        )
        # Whether added or "changed", the row saved is a new one: the one shown stays as it was.
        obj.pk, obj.changed_by, obj.changed_at, obj._state.adding = saved.pk, saved.changed_by, saved.changed_at, False


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ScopedAdmin):
    """The early warnings, read-only: raised by the job, acknowledged and resolved on their pages. Each administrator
    sees those owned by the units they administer, but for the suspects' earlier cases, told only to the supervisors
    covering the case (analysis/policy.py), superusers included."""

    list_display = ("raised_at", "kind", "severity", "owner_unit", "state", "key")
    list_filter = ("kind", "severity", "state")
    list_select_related = ("owner_unit",)
    search_fields = ("owner_unit__code", "owner_unit__name", "case__reference")
    readonly_fields = (
        "kind",
        "severity",
        "owner_unit",
        "case",
        "key",
        "figures",
        "state",
        "raised_at",
        "acknowledged_by",
        "acknowledged_at",
        "acknowledgement_note",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "version",
    )

    def administered(self, user: User) -> QuerySet[EarlyWarning]:
        return EarlyWarning.objects.filter(owner_unit__in=scope.administered_units(user).values("pk")).exclude(
            kind=WarningKind.REPEAT_ATTACKER
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[EarlyWarning]:
        # A superuser sees every unit's, yet reads no suspect's ID number here (cases/admin.py): nor the match on it.
        return super().get_queryset(request).exclude(kind=WarningKind.REPEAT_ATTACKER)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
