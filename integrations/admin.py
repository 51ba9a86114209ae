"""The integrations in the admin site: webhook subscriptions, managed by the administrators of their unit's subtree
through ``integrations.services.webhooks``; their deliveries with the delivery log, and the 110 imports, read-only and
scoped alike."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts import scope
from accounts.admin import ScopedAdmin
from accounts.models import User
from accounts.requests import user_of
from integrations import policy
from integrations.choices import WebhookEvent
from integrations.models import IncidentImport, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.services import webhooks


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    event_kinds = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    # Write-only: never shown again once saved; left blank on a change, the secret stays.
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "At least 32 characters, agreed with the receiving system's operator: it checks each delivery's "
            "X-RightsGuard-Signature with it. Leave blank to keep the secret."
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "unit", "event_kinds", "secret", "active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if all(name in cleaned for name in ("name", "url", "unit", "event_kinds")):
            errors = webhooks.subscription_errors(self.input(cleaned), new=self.instance.pk is None)
            for field, message in errors.items():
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    @staticmethod
    def input(cleaned: dict[str, Any]) -> webhooks.SubscriptionInput:
        return webhooks.SubscriptionInput(
            name=cleaned["name"],
            url=cleaned["url"],
            event_kinds=tuple(cleaned["event_kinds"]),
            unit=cleaned["unit"],
            secret=cleaned.get("secret") or "",
        )


@admin.register(WebhookSubscription)
@method_decorator(sensitive_post_parameters("secret"), name="changeform_view")  # error reports hide it
class WebhookSubscriptionAdmin(ScopedAdmin):
    form = WebhookSubscriptionForm
    list_display = ("name", "url", "unit", "active", "consecutive_failures", "disabled_at", "owner")
    list_filter = ("active",)
    list_select_related = ("unit", "owner")
    search_fields = ("name", "url", "unit__code")
    readonly_fields = ("owner", "consecutive_failures", "disabled_at", "disabled_reason", "created_at", "updated_at")

    def administered(self, user: User) -> QuerySet[WebhookSubscription]:
        return policy.managed_subscriptions(user)

    def get_fields(self, request: HttpRequest, obj: WebhookSubscription | None = None) -> Any:
        fields = ["name", "url", "unit", "event_kinds", "secret"]
        # A new subscription starts active; afterwards it can be switched off and on again.
        return [*fields, "active", *self.readonly_fields] if obj else fields

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scope.administered_units(user_of(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        # Its deliveries and their log stay: a subscription no longer wanted is disabled.
        return False

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        data = WebhookSubscriptionForm.input(form.cleaned_data)
        if change:
            saved = webhooks.update_subscription(
                subscription=obj, by=user_of(request), data=data, active=form.cleaned_data.get("active", True)
            )
        else:
            saved = webhooks.create_subscription(by=user_of(request), data=data)
        obj.pk, obj._state.adding = saved.pk, False
        obj.owner, obj.created_at, obj.updated_at = saved.owner, saved.created_at, saved.updated_at


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


class ReadOnly(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    """The delivery log: each case move sent to each subscription, with every attempt."""

    list_display = ("created_at", "subscription", "event_kind", "status", "attempts", "last_status_code")
    list_filter = ("status", "event_kind")
    list_select_related = ("subscription",)
    readonly_fields = (
        "uuid",
        "subscription",
        "event_kind",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "created_at",
    )
    exclude = ("event",)
    inlines = [WebhookAttemptInline]

    def administered(self, user: User) -> QuerySet[WebhookDelivery]:
        return WebhookDelivery.objects.filter(subscription__in=policy.managed_subscriptions(user).values("pk"))


@admin.register(IncidentImport)
class IncidentImportAdmin(ReadOnly):
    """Which 110 incidents were imported for which units. Not the application: until its officer submits it, a draft
    is theirs alone (cases/policy.py)."""

    list_display = ("imported_at", "incident_number", "unit", "attached", "imported_by")
    list_select_related = ("unit", "imported_by")
    search_fields = ("incident_number", "unit__code")
    fields = ("incident_number", "unit", "attached", "imported_by", "imported_at")
    readonly_fields = fields

    def administered(self, user: User) -> QuerySet[IncidentImport]:
        return IncidentImport.objects.filter(unit__in=scope.administered_units(user).values("pk"))
