from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import mfa, services, tokens
from accounts.models import ApiToken, Membership, OrgUnit, User
from accounts.selectors import units_visible_to


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Police details"), {"fields": ("full_name", "badge_number", "phone")}),
    )
    list_display = ("username", "full_name", "badge_number", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "memberships__role")
    search_fields = ("username", "full_name", "badge_number", "email")
    inlines = [MembershipInline]
    actions = ["reset_two_factor"]

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Unticking "active" ends the sessions and API tokens too, as deactivation anywhere else does.
            services.deactivate_user(user=obj)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_formset(request, form, formset, change)
        if formset.model is Membership and (formset.new_objects or formset.changed_objects or formset.deleted_objects):
            tokens.revoke_tokens(user=form.instance)  # a change of roles ends the API tokens (accounts/tokens.py)

    @admin.action(description=_("Reset two-factor log-in (the user enrols again)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            mfa.reset_mfa(user=user, request=request)
        n = queryset.count()
        self.message_user(
            request,
            ngettext("Two-factor log-in reset for %(n)d user.", "Two-factor log-in reset for %(n)d users.", n)
            % {"n": n},
        )


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("path", "depth")
    autocomplete_fields = ["parent"]
    ordering = ("path",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrgUnit]:
        if request.user.is_superuser:
            return super().get_queryset(request)
        return units_visible_to(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: OrgUnit | None = None) -> tuple[str, ...]:
        # The code and position make up the materialised path that cases copy; they are fixed once created.
        return ("path", "depth", "code", "parent", "level") if obj else ("path", "depth")

    def save_model(self, request: HttpRequest, obj: OrgUnit, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            obj.save(update_fields=["name", "name_en"])
            return
        created = services.create_org_unit(
            code=obj.code, name=obj.name, name_en=obj.name_en, level=obj.level, parent=obj.parent
        )
        obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "created_at")
    list_filter = ("role", "unit__level")
    search_fields = ("user__username", "user__full_name", "unit__name", "unit__code")
    autocomplete_fields = ["user", "unit"]

    # A change of roles ends the API tokens of everyone it touches (accounts/tokens.py).
    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        previous_user = form.initial.get("user") if change else None
        super().save_model(request, obj, form, change)
        for user in User.objects.filter(pk__in={obj.user_id, previous_user} - {None}):
            tokens.revoke_tokens(user=user)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.revoke_membership(membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user"):
            services.revoke_membership(membership=membership)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Terminals' tokens, to see and revoke; they are issued only by logging in, and their keys are not kept."""

    list_display = ("user", "name", "created_at", "last_used_at", "expires_at", "mfa_verified")
    list_filter = ("mfa_verified",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__full_name", "name")
    fields = ("user", "name", "created_at", "last_used_at", "expires_at", "mfa_verified")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return tokens.tokens_administered_by(request.user).select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.display(description=_("expires at"))
    def expires_at(self, token: ApiToken) -> object:
        return tokens.expires_at(token)

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        tokens.revoke_token(token=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            tokens.revoke_token(token=token)
