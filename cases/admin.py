"""Read-only admin views of the case records: every change goes through the services and their timeline."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.requests import AuthenticatedRequest, user_of
from accounts.scope import may_change_shared_settings
from cases import policy, services
from cases.choices import AccessAction
from cases.models import (
    AccessLog,
    Attachment,
    Case,
    CaseEvent,
    FaultFinding,
    Flag,
    FlagOverride,
    InvolvedOfficer,
    LookBackReview,
    Notification,
    ReferenceCounter,
    Referral,
    ReportExport,
    RetentionPolicy,
    RetentionPolicyChange,
    StageLimit,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
    WelfarePrompt,
)
from cases.rules.presentation import describe_flag
from cases.services import retention as retention_services
from cases.services.audit import log_access
from rightsguard.admin_lookups import DeclaredLookupsOnly


class ReadOnlyAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Records are written by services only; the admin shows them, scoped to what the user may see."""

    case_field: str | None = "case"
    # The office's assessment of a case (cases/policy.py): listed only for the cases whose internal material the
    # user reads, never to a filer who happens to be staff.
    internal = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if self.case_field is None or policy.sees_every_case(user_of(request)):
            return qs
        actor = cast("AuthenticatedRequest", request).actor
        qs = qs.filter(**{f"{self.case_field}__in": policy.visible_cases(actor).values("pk")})
        if self.internal:
            qs = qs.filter(policy.internal_scope_q(actor, through=f"{self.case_field}__"))
        elif self.model is CaseEvent:
            qs = qs.filter(policy.events_q(actor))
        return qs


class OfficerInline(admin.TabularInline):
    model = InvolvedOfficer
    extra = 0
    can_delete = False
    exclude = ("medical_notes",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SuspectInline(OfficerInline):
    model = Suspect  # type: ignore[assignment]
    exclude = ("id_number", "id_number_index")  # type: ignore[assignment]


class FaultFindingInline(OfficerInline):
    model = FaultFinding  # type: ignore[assignment]
    exclude = ()  # type: ignore[assignment]
    fields = ("finding", "department", "found_on", "document_reference", "notes", "carried_over", "recorded_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if policy.sees_every_case(user_of(request)):
            return qs
        return qs.filter(policy.internal_scope_q(cast("AuthenticatedRequest", request).actor, through="case__"))


class EventInline(OfficerInline):
    model = CaseEvent  # type: ignore[assignment]
    exclude = ()  # type: ignore[assignment]
    fields = ("at", "kind", "action", "from_status", "to_status", "actor", "data")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if policy.sees_every_case(user_of(request)):
            return qs
        return qs.filter(policy.events_q(cast("AuthenticatedRequest", request).actor))


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    case_field = None
    list_display = (
        "reference",
        "kind",
        "status",
        "unit",
        "occurred_at",
        "stage_due_at",
        "assigned_to",
        "last_activity_at",
    )
    list_filter = (
        "status",
        "kind",
        "channel",
        "track",
        "is_stalled",
        "is_downgraded",
        "has_review_prompt",
        "major_security_period",
        "legal_hold",
    )
    search_fields = ("reference", "summary", "dispatch_ref", "location")
    date_hierarchy = "occurred_at"
    list_select_related = ("unit", "assigned_to")
    inlines = [OfficerInline, SuspectInline, FaultFindingInline, EventInline]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        if policy.sees_every_case(user_of(request)):
            return super().get_queryset(request)
        return policy.visible_cases(cast("AuthenticatedRequest", request).actor).select_related("unit", "assigned_to")

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        # A case read here is in the access log as on the case page (a sealed case's reads above all).
        response = super().change_view(request, object_id, form_url, extra_context)
        case = self.get_object(request, object_id)
        if case is not None and response.status_code == 200:
            log_access(request=request, action=AccessAction.VIEW, case=case, object_ref=case.reference)
        return response


@admin.register(InvolvedOfficer)
class InvolvedOfficerAdmin(ReadOnlyAdmin):
    list_display = ("name", "case", "officer_type", "duty_status", "injury")
    list_filter = ("officer_type", "duty_status", "injury")
    search_fields = ("name", "badge_number", "case__reference")
    exclude = ("medical_notes",)


@admin.register(Suspect)
class SuspectAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "case", "status", "disposition", "lenient_reason", "decided_at")
    list_filter = ("status", "disposition", "lenient_reason")
    search_fields = ("name", "case__reference")
    exclude = ("id_number", "id_number_index")


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = (
        "case",
        "target",
        "to_unit",
        "body_name",
        "track",
        "suspect",
        "referred_at",
        "due_at",
        "acknowledged_at",
    )
    list_filter = ("target", "track")
    search_fields = ("case__reference", "external_reference", "body_name")


@admin.register(SupportMeasure)
class SupportMeasureAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "status", "amount", "delivered_on")
    list_filter = ("kind", "status")
    search_fields = ("case__reference",)


@admin.register(SupervisionFinding)
class SupervisionFindingAdmin(ReadOnlyAdmin):
    internal = True
    list_display = ("case", "problem", "raised_at", "rectify_by", "rectified_at", "officers_held_accountable")
    list_filter = ("problem",)
    search_fields = ("case__reference", "detail")


@admin.register(FaultFinding)
class FaultFindingAdmin(ReadOnlyAdmin):
    internal = True
    list_display = ("case", "finding", "department", "found_on", "document_reference", "carried_over", "recorded_at")
    list_filter = ("finding", "carried_over")
    search_fields = ("case__reference", "department", "document_reference")
    list_select_related = ("case",)


@admin.register(LookBackReview)
class LookBackReviewAdmin(ReadOnlyAdmin):
    internal = True
    list_display = ("case", "campaign_year", "verdict", "started_at", "finished_at")
    list_filter = ("verdict", "campaign_year")
    search_fields = ("case__reference",)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    internal = True
    list_display = (
        "case",
        "kind",
        "rule_code",
        "rule_title",
        "basis_verified",
        "raised_at",
        "resolved_at",
        "resolution",
        "acknowledged_by",
    )
    list_filter = ("kind", "rule_code", "resolution")
    search_fields = ("case__reference",)
    list_select_related = ("case", "acknowledged_by")
    actions = ["acknowledge"]

    @admin.display(description=_("rule"))
    def rule_title(self, flag: Flag) -> str:
        return describe_flag(flag).title

    @admin.display(description=_("basis verified"), boolean=True)
    def basis_verified(self, flag: Flag) -> bool:
        return describe_flag(flag).basis_is_law

    @admin.action(description=_("Acknowledge the selected flags"))
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        done = 0
        for flag in queryset:
            try:
                services.acknowledge_flag(flag=flag, by=user_of(request))
            except PermissionDenied:
                continue
            done += 1
        self.message_user(request, _("%(count)d flags acknowledged.") % {"count": done}, messages.SUCCESS)


@admin.register(FlagOverride)
class FlagOverrideAdmin(ReadOnlyAdmin):
    """A supervisor's reasoned decision to let a case go on despite a rule's finding: kept as it was made, shown to
    those who see the case, never added, changed or deleted here."""

    case_field = "flag__case"
    list_display = ("case", "rule_code", "action", "reason", "by", "at")
    list_filter = ("reason", "action")
    search_fields = ("flag__case__reference",)
    list_select_related = ("flag__case", "by")
    fields = ("case", "flag", "action", "reason", "explanation", "legal_basis", "by", "at")
    readonly_fields = ("case",)
    date_hierarchy = "at"

    @admin.display(description=_("case"))
    def case(self, item: FlagOverride) -> Case:
        return item.flag.case

    @admin.display(description=_("rule"))
    def rule_code(self, item: FlagOverride) -> str:
        return item.flag.rule_code


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "case", "content_type", "size", "uploaded_by", "uploaded_at")
    search_fields = ("original_name", "case__reference", "sha256")
    exclude = ("stored_name",)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "action", "from_status", "to_status", "actor", "at")
    list_filter = ("kind", "action")
    search_fields = ("case__reference",)
    list_select_related = ("case", "actor")
    show_full_result_count = False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "action", "case", "object_ref", "outcome", "source_ip")
    list_filter = ("action", "outcome")
    search_fields = ("user__username", "object_ref", "request_id")


class EmailDeliveryFilter(admin.SimpleListFilter):
    """Where a notification's e-mail stands: failed ones are the administrators' to look into."""

    title = _("e-mail")
    parameter_name = "email"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [
            ("sent", _("Sent")),
            ("waiting", _("Not sent yet")),
            ("retrying", _("Failed, to be retried")),
            ("failed", _("Failed for good")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        unsent = Q(emailed_at__isnull=True, email_failed_at__isnull=True)
        filters = {
            "sent": Q(emailed_at__isnull=False),
            "waiting": unsent & Q(email_attempts=0),
            "retrying": unsent & Q(email_attempts__gt=0),
            "failed": Q(email_failed_at__isnull=False),
        }
        chosen = filters.get(self.value() or "")
        return queryset if chosen is None else queryset.filter(chosen)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "recipient",
        "case",
        "verb",
        "kind",
        "delivery",
        "created_at",
        "read_at",
        "emailed_at",
        "email_attempts",
        "email_failed_at",
    )
    list_filter = (EmailDeliveryFilter, "kind", "delivery")
    search_fields = ("recipient__username", "case__reference")
    list_select_related = ("recipient", "case")
    actions = ["retry_email"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Of the cases the user sees: those whose internal material the user reads (the office's sentences name
        findings, flags and due dates), and the user's own. A filer who is staff never reads what the office was
        told about their case."""
        # Notices about a unit (no case) are for its supervisors' notification lists only, never the admin site: one
        # may tell of a suspect's earlier cases, which rests on ID numbers no administrator reads.
        qs = super().get_queryset(request).filter(case__isnull=False)
        user = user_of(request)
        if policy.sees_every_case(user):
            return qs
        actor = cast("AuthenticatedRequest", request).actor
        return qs.filter(policy.internal_scope_q(actor, through="case__") | Q(recipient_id=user.pk))

    @admin.action(description=_("Retry the failed e-mails of the selected notifications"))
    def retry_email(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        try:
            count = services.retry_failed_emails(notifications=queryset, by=user_of(request))
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        message = ngettext("%(count)d e-mail will be sent again.", "%(count)d e-mails will be sent again.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdmin):
    case_field = None
    list_display = ("year", "last_number")


@admin.register(StageLimit)
class StageLimitAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """The time limits hold for every unit's cases: only an administrator of the whole tree changes them."""

    list_display = ("stage", "track", "days", "halved_in_major_period", "basis")
    list_editable = ("days", "halved_in_major_period")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_change_shared_settings(user_of(request))

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_change_permission(request, obj) and may_change_shared_settings(user_of(request))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_delete_permission(request, obj) and may_change_shared_settings(user_of(request))


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    case_field = None
    list_display = ("requested_by", "unit", "year", "format", "language", "status", "progress", "created_at")
    list_filter = ("format", "status", "year")
    search_fields = ("requested_by__username", "unit__name", "unit__code")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        return qs if user_of(request).is_superuser else qs.filter(requested_by=user_of(request))


@admin.register(WelfarePrompt)
class WelfarePromptAdmin(ReadOnlyAdmin):
    """The welfare prompts raised (cases/welfare.py): the office's, like the flags."""

    internal = True
    list_display = ("officer_name", "attacks", "case", "attacked_at", "raised_at")
    list_select_related = ("case",)


class RetentionPolicyForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 3}), required=True, max_length=2000
    )

    class Meta:
        model = RetentionPolicy
        fields = ("seal_after_days", "anonymise_after_days")


class RetentionPolicyChangeInline(admin.TabularInline):
    model = RetentionPolicyChange
    extra = 0
    can_delete = False
    fields = (
        "at",
        "by",
        "previous_seal_after_days",
        "seal_after_days",
        "previous_anonymise_after_days",
        "anonymise_after_days",
        "reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """The retention periods hold for every unit's cases: only an administrator of the whole tree changes them, each
    change with a reason, kept below the period (``RetentionPolicyChange``)."""

    form = RetentionPolicyForm
    list_display = ("kind", "seal_after_days", "anonymise_after_days", "effective_from", "basis_verified")
    readonly_fields = ("kind", "basis", "basis_verified", "effective_from", "updated_at")
    inlines = [RetentionPolicyChangeInline]

    def get_fields(self, request: HttpRequest, obj: object = None) -> Any:
        return ["kind", "seal_after_days", "anonymise_after_days", "reason", *self.readonly_fields[1:]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_change_permission(request, obj) and may_change_shared_settings(user_of(request))

    def save_model(self, request: HttpRequest, obj: RetentionPolicy, form: Any, change: bool) -> None:
        retention_services.change_retention_policy(
            policy_row=obj,
            by=user_of(request),
            seal_after_days=form.cleaned_data["seal_after_days"],
            anonymise_after_days=form.cleaned_data["anonymise_after_days"],
            reason=form.cleaned_data["reason"],
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The change history is written by the service only."""
