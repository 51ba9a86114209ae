from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import mfa, services
from accounts.models import Membership, OrgUnit, User
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
