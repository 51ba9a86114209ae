"""The admin site's account pages.

Every list, form choice and object check asks ``accounts/scope.py`` (the one rule of who administers whom), and every
change of standing (memberships, passwords, activation, privileges) goes through ``accounts/services.py``, which
checks the rule again and writes the ``AccountAudit`` record. The third-party records about accounts (groups,
authenticators, log-in lockouts) are the superusers' to change; other staff see those of the accounts they
administer.
"""

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.db.models.fields import BLANK_CHOICE_DASH
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa, scope, services, sso, tokens
from accounts.models import AccountAudit, ApiToken, DirectoryGroupMapping, Membership, OrgUnit, Role, User
from accounts.requests import user_of
from rightsguard.admin_lookups import DeclaredLookupsOnly

# What only a superuser may change on an account; other administrators see these read-only.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _role_choices(user: User) -> list[tuple[str, str]]:
    """A blank choice, then the roles ``user`` may grant somewhere (the chosen unit is checked on saving)."""
    return [*BLANK_CHOICE_DASH, *((role, str(Role(role).label)) for role in scope.grantable_roles(user))]


class ScopedAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Model permissions open a page; ``administered`` (a queryset of accounts/scope.py) decides which rows it has."""

    def administered(self, user: User) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if user_of(request).is_superuser:
            return qs
        return qs.filter(pk__in=self.administered(user_of(request)).values("pk"))

    def in_scope(self, request: HttpRequest, obj: object | None) -> bool:
        if obj is None:
            return scope.administers_anything(user_of(request))
        return self.administered(user_of(request)).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]

    def has_view_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self.in_scope(request, None)

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)


class AccountCreationForm(AdminUserCreationForm):
    """The stock form plus the account's first membership, offered as the actor may grant it.

    Only superusers create accounts without a role: no administrator could reach such an account afterwards.
    """

    unit = forms.ModelChoiceField(label=_("unit"), queryset=OrgUnit.objects.none(), required=False)
    role = forms.ChoiceField(label=_("role"), choices=(), required=False)
    actor: User  # set per request by UserAdmin.get_form

    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ("username",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        required = not scope.may_change_privileges(self.actor)
        self.fields["unit"].queryset = scope.administered_units(self.actor)  # type: ignore[attr-defined]
        self.fields["role"].choices = _role_choices(self.actor)  # type: ignore[attr-defined]
        self.fields["unit"].required = self.fields["role"].required = required

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        unit, role = cleaned.get("unit"), cleaned.get("role")
        if self.has_error("unit") or self.has_error("role"):
            return cleaned
        if bool(unit) != bool(role):
            self.add_error("role", gettext("Give both a unit and a role, or neither."))
        elif unit and role and not scope.may_grant_at(self.actor, unit, role):
            self.add_error("role", gettext("You may not grant this role at this unit."))
        return cleaned


class MembershipInline(admin.TabularInline):
    """Memberships are granted and revoked (each an audited service call), never edited in place."""

    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]
    # Shown, never chosen: only a directory's log-in marks a membership as its own (accounts/sso.py).
    readonly_fields = ("managed_by",)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_add_permission(request, obj) and (
            obj is None or scope.may_administer_user(user_of(request), obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or scope.may_administer_user(user_of(request), obj)
        )

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scope.administered_units(user_of(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = _role_choices(user_of(request))
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Police details"), {"fields": ("full_name", "badge_number", "phone", "language")}),
    )
    add_fieldsets = (
        *(BaseUserAdmin.add_fieldsets or ()),
        (_("First membership"), {"fields": ("unit", "role")}),
    )
    add_form = AccountCreationForm
    list_display = ("username", "full_name", "badge_number", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "memberships__role")
    search_fields = ("username", "full_name", "badge_number", "email")
    inlines = [MembershipInline]
    actions = ["reset_two_factor"]

    def administered(self, user: User) -> QuerySet[User]:
        return scope.administered_users(user)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        # A new account's first membership is part of the add form (an account without one is no administrator's).
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = ("last_login", "date_joined")
        return readonly if scope.may_change_privileges(user_of(request)) else (*readonly, *PRIVILEGE_FIELDS)

    def get_form(self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form
        return type(form.__name__, (form,), {"actor": user_of(request)})

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # The account's API tokens go with it; their cached checks must go at once too (accounts/tokens.py).
        tokens.forget_user(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            tokens.forget_user(user)
        super().delete_queryset(request, queryset)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if not change:
            cleaned = form.cleaned_data
            created = services.create_user(
                username=obj.username,
                password=cleaned["password1"] if cleaned.get("set_usable_password") else None,
                validate=False,  # the form validated it
                unit=cleaned.get("unit"),
                role=cleaned.get("role") or "",
                by=user_of(request),
            )
            obj.pk, obj.password, obj._state.adding = created.pk, created.password, False
            return
        # The form has set every submitted value on ``obj``; activation and privileges are left as stored here and
        # changed by their services (in save_related for the many-to-many ones).
        stored = User.objects.get(pk=obj.pk)
        for name in ("is_active", "is_staff", "is_superuser"):
            setattr(obj, name, getattr(stored, name))
        details = [name for name in form.changed_data if name not in ("is_active", "password", *PRIVILEGE_FIELDS)]
        if details:
            # Through the service: a new e-mail address (where second-factor notices go) is audited.
            services.update_user_details(
                user=obj, changes={name: getattr(obj, name) for name in details}, by=user_of(request)
            )
        if "is_active" in form.changed_data:
            if form.cleaned_data["is_active"]:
                services.reactivate_user(user=obj, by=user_of(request))
            else:
                # Ends the sessions and API tokens too, as deactivation anywhere else does.
                services.deactivate_user(user=obj, by=user_of(request))

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # Not form.save_m2m(): an account's only many-to-many fields are its groups and permissions.
        cleaned = form.cleaned_data
        if change and any(name in form.changed_data for name in PRIVILEGE_FIELDS):
            services.set_privileges(
                user=form.instance,
                is_staff=cleaned["is_staff"],
                is_superuser=cleaned["is_superuser"],
                groups=list(cleaned["groups"]),
                permissions=list(cleaned["user_permissions"]),
                by=user_of(request),
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # sorts the rows into new and deleted without writing them
        for membership in formset.deleted_objects:
            services.revoke_membership(membership=membership, by=user_of(request))
        for membership in formset.new_objects:
            services.grant_membership(
                user=form.instance, unit=membership.unit, role=membership.role, by=user_of(request)
            )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # The stock view saves the form itself; here the password goes through the service (rule and audit). An
        # account outside the administrator's reach is not found (404), whatever the method.
        user = self.get_object(request, unquote(id))
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user is None:
            raise Http404
        if request.method == "POST":
            form = self.change_password_form(user, request.POST)
            if form.is_valid() and (form.cleaned_data["set_usable_password"] or "unset-password" in request.POST):
                usable = form.cleaned_data["set_usable_password"]
                services.set_password(
                    user=user, password=form.cleaned_data["password1"] if usable else None, by=user_of(request)
                )
                self.log_change(request, user, self.construct_change_message(request, form, []))
                update_session_auth_hash(request, user)  # a superuser setting their own stays logged in
                self.message_user(
                    request,
                    gettext("Password changed successfully.")
                    if usable
                    else gettext("Password-based authentication was disabled."),
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=(user.pk,)))
        return super().user_change_password(request, id, form_url)

    @admin.action(description=_("Reset two-factor log-in (the user enrols again)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            if not scope.may_administer_user(user_of(request), user):
                raise PermissionDenied
            mfa.reset_mfa(user=user, request=request)
        n = queryset.count()
        self.message_user(
            request,
            ngettext("Two-factor log-in reset for %(n)d user.", "Two-factor log-in reset for %(n)d users.", n)
            % {"n": n},
        )


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("path", "depth")
    autocomplete_fields = ["parent"]
    ordering = ("path",)

    def administered(self, user: User) -> QuerySet[OrgUnit]:
        return scope.administered_units(user)

    def get_readonly_fields(self, request: HttpRequest, obj: OrgUnit | None = None) -> tuple[str, ...]:
        # The code and position make up the materialised path that cases copy; they are fixed once created.
        return ("path", "depth", "code", "parent", "level") if obj else ("path", "depth")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = scope.administered_units(user_of(request))
            # A new root (a tree of its own) is for superusers.
            kwargs["required"] = not scope.may_create_unit(user_of(request), None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: OrgUnit, form, change: bool) -> None:
        if change:
            services.rename_org_unit(unit=obj, name=obj.name, name_en=obj.name_en, by=user_of(request))
            return
        created = services.create_org_unit(
            code=obj.code, name=obj.name, name_en=obj.name_en, level=obj.level, parent=obj.parent, by=user_of(request)
        )
        obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    """Granted and revoked through the services (rule, audit, API tokens); never edited in place."""

    list_display = ("user", "role", "unit", "managed_by", "created_at")
    readonly_fields = ("managed_by",)
    list_filter = ("role", "unit__level")
    list_select_related = ("user", "unit")
    search_fields = ("user__username", "user__full_name", "unit__name", "unit__code")
    autocomplete_fields = ["user", "unit"]

    def administered(self, user: User) -> QuerySet[Membership]:
        return scope.administered_memberships(user)

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = scope.administered_users(user_of(request))
        elif db_field.name == "unit":
            kwargs["queryset"] = scope.administered_units(user_of(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = _role_choices(user_of(request))
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Membership | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        actor = user_of(request)

        class GrantForm(form):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                user, unit, role = cleaned.get("user"), cleaned.get("unit"), cleaned.get("role")
                if user and unit and role and not scope.may_grant(actor, subject=user, unit=unit, role=role):
                    raise forms.ValidationError(gettext("You may not grant this role to this account at this unit."))
                return cleaned

        return GrantForm

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        created = services.grant_membership(user=obj.user, unit=obj.unit, role=obj.role, by=user_of(request))
        obj.pk, obj.created_at, obj._state.adding = created.pk, created.created_at, False

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: int) -> HttpResponse:
        # Django sends a revoker without the change permission (nobody has it here) to the index; the list is where
        # they came from.
        response = super().response_delete(request, obj_display, obj_id)
        if isinstance(response, HttpResponseRedirect) and self.has_view_permission(request):
            response["Location"] = reverse("admin:accounts_membership_changelist")
        return response

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.revoke_membership(membership=obj, by=user_of(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "unit"):
            services.revoke_membership(membership=membership, by=user_of(request))


@admin.register(ApiToken)
class ApiTokenAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Terminals' tokens, to see and revoke; they are issued only by logging in, and their keys are not kept."""

    list_display = ("user", "name", "created_at", "last_used_at", "expires_at", "mfa_verified")
    list_filter = ("mfa_verified",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__full_name", "name")
    fields = ("user", "name", "created_at", "last_used_at", "expires_at", "mfa_verified")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return tokens.tokens_administered_by(user_of(request)).select_related("user")

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


@admin.register(AccountAudit)
class AccountAuditAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes a record here (the services write them)."""

    list_display = ("at", "actor", "subject", "action", "unit", "role", "before", "after")
    list_filter = ("action",)
    list_select_related = ("actor", "subject", "unit")
    search_fields = ("subject__username", "subject__full_name", "actor__username")
    date_hierarchy = "at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountAudit]:
        qs = super().get_queryset(request)
        if user_of(request).is_superuser:
            return qs
        # The records of the accounts one administers, and the changes one made oneself.
        return qs.filter(
            Q(subject__in=scope.administered_users(user_of(request)).values("pk")) | Q(actor=user_of(request))
        )

    def has_view_permission(self, request: HttpRequest, obj: AccountAudit | None = None) -> bool:
        return super().has_view_permission(request, obj) and scope.administers_anything(user_of(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccountAudit | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccountAudit | None = None) -> bool:
        return False


class DirectoryGroupMappingForm(forms.ModelForm):
    class Meta:
        model = DirectoryGroupMapping
        fields = ("directory", "group", "unit", "role")

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if role not in sso.grantable_roles():
            raise forms.ValidationError(
                gettext("This installation lets directory groups grant only these roles: %(roles)s.")
                % {"roles": ", ".join(sorted(sso.grantable_roles())) or "-"}
            )
        return str(role)


@admin.register(DirectoryGroupMapping)
class DirectoryGroupMappingAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Which directory group grants which role where (accounts/sso.py). A superuser's business: a row grants a role
    to everyone the directory puts in the group, at their next log-in."""

    form = DirectoryGroupMappingForm
    list_display = ("directory", "group", "role", "unit")
    list_filter = ("directory", "role")
    list_select_related = ("unit",)
    search_fields = ("group", "unit__code", "unit__name")
    autocomplete_fields = ["unit"]

    # The admin site asks these of anonymous callers too (its log-in page lists the apps): a refusal, never a 403.

    def has_view_permission(self, request: HttpRequest, obj: DirectoryGroupMapping | None = None) -> bool:
        return _is_superuser(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: DirectoryGroupMapping | None = None) -> bool:
        return _is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: DirectoryGroupMapping | None = None) -> bool:
        return _is_superuser(request)


def _is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


# --- Third-party records about accounts ------------------------------------------------------------------------


class SuperuserChangesAdmin(DeclaredLookupsOnly):
    """Mixed into a third-party ModelAdmin: superusers change the records; other staff (with the view permission)
    see those of the accounts they administer (``account_field`` names the account: a user or a username)."""

    account_field = "user"
    by_username = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)  # type: ignore[misc]
        if user_of(request).is_superuser:
            return qs
        accounts = scope.administered_users(user_of(request))
        if self.by_username:
            return qs.filter(**{f"{self.account_field}__in": accounts.values("username")})
        return qs.filter(**{f"{self.account_field}__in": accounts.values("pk")})

    def has_view_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        allowed = super().has_view_permission(request, obj)  # type: ignore[misc]
        if user_of(request).is_superuser or obj is None:
            return allowed
        return allowed and self.get_queryset(request).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return user_of(request).is_superuser and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return user_of(request).is_superuser and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return user_of(request).is_superuser and super().has_delete_permission(request, obj)  # type: ignore[misc]


def _rescope(model: type, **attributes: object) -> None:
    """Register ``model`` again, its third-party admin class with ``SuperuserChangesAdmin`` mixed in."""
    if not admin.site.is_registered(model):
        return
    base: type[admin.ModelAdmin] = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(
        model, type(base.__name__, (SuperuserChangesAdmin, base), {"__module__": __name__, **attributes})
    )


for _model in (TOTPDevice, StaticDevice):
    _rescope(_model)
for _model in (AccessAttempt, AxesAccessLog, AccessFailureLog):
    _rescope(_model, account_field="username", by_username=True)


# Groups carry permissions: making or changing one is a superuser's act. Their names are no secret to staff.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DeclaredLookupsOnly, BaseGroupAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return user_of(request).is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return user_of(request).is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return user_of(request).is_superuser and super().has_delete_permission(request, obj)
