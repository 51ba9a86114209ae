"""Read-only admin views of the campaigns' records, scoped by the campaign policy: every change goes through
oversight/services.py and its log."""

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.requests import AuthenticatedRequest, user_of
from cases import policy as case_policy
from oversight import policy
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    Review,
    ReviewerAssignment,
)
from rightsguard.admin_lookups import DeclaredLookupsOnly


class ReadOnlyAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """Shown to whoever sees the campaign (its runners and reviewers); superusers see every campaign."""

    campaign_field = "campaign"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if case_policy.sees_every_case(user_of(request)):
            return qs
        actor = cast("AuthenticatedRequest", request).actor
        visible = policy.campaigns_visible_to(actor).values("pk")
        return (
            qs.filter(pk__in=visible)
            if self.campaign_field == ""
            else qs.filter(**{f"{self.campaign_field}__in": visible})
        )


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    campaign_field = ""
    list_display = ("name", "kind", "owner_unit", "state", "selected_count", "deadline")
    list_filter = ("kind", "state")


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "sub_unit", "reviewer", "assigned_at")


class ByCaseAdmin(ReadOnlyAdmin):
    """Records of a selected case: those a reviewer sees are of the sub-units they review, which the campaign-level
    scope above does not narrow; the admin site lists them to the campaign's runners only (and superusers)."""

    campaign_field = "campaign_case__campaign"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if case_policy.sees_every_case(user_of(request)):
            return qs
        actor = cast("AuthenticatedRequest", request).actor
        runs = [
            c.pk for c in policy.campaigns_visible_to(actor).select_related("owner_unit") if policy.can_manage(actor, c)
        ]
        return qs.filter(**{f"{self.campaign_field}__in": runs})


@admin.register(CampaignEvent)
class CampaignEventAdmin(ByCaseAdmin):
    """The campaign's log names what happened to every selected case: its organisers' (the campaign page shows it
    to them only)."""

    campaign_field = "campaign"
    list_display = ("campaign", "step", "actor", "at")
    list_filter = ("step",)


@admin.register(CampaignCase)
class CampaignCaseAdmin(ByCaseAdmin):
    campaign_field = "campaign"
    list_display = ("campaign", "case", "sub_unit", "made_up_at")


@admin.register(Review)
class ReviewAdmin(ByCaseAdmin):
    list_display = ("campaign_case", "reviewer", "reviewed_at")


@admin.register(Problem)
class ProblemAdmin(ByCaseAdmin):
    list_display = ("campaign_case", "type", "responsible_unit", "rectify_by", "rectified_on")
    list_filter = ("type",)


@admin.register(Accountability)
class AccountabilityAdmin(ByCaseAdmin):
    list_display = ("campaign_case", "officer_name", "unit", "measure", "decided_on")
    list_filter = ("measure",)
