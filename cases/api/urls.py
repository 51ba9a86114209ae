"""REST API v1, mounted at /api/v1/ (rightsguard/urls.py). Docs: /api/v1/docs/, schema: /api/v1/schema/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.integration import PeopleOnly
from cases.api import auth, retention, views
from cases.workflow import ACTIONS

app_name = "api"


def _docs_view():
    view = SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", authentication_classes=views.AUTHENTICATION, permission_classes=[PeopleOnly]
    )
    # A browser that is not logged in is sent to the login page (LoginRequiredMiddleware) instead of a JSON 401.
    view.login_required = True  # type: ignore[attr-defined]
    return view


urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=views.AUTHENTICATION, permission_classes=[PeopleOnly]),
        name="schema",
    ),
    path("docs/", _docs_view(), name="docs"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/tokens/", auth.TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<int:pk>/", auth.TokenDetailView.as_view(), name="token-detail"),
    path("me/", views.MeView.as_view(), name="me"),
    path("units/", views.UnitListView.as_view(), name="units"),
    path("rules/", views.RuleCatalogueView.as_view(), name="rules"),
    path("flags/", views.FlagListView.as_view(), name="flags"),
    path("flags/<int:pk>/acknowledge/", views.FlagAcknowledgeView.as_view(), name="flag-acknowledge"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.NotificationsReadView.as_view(), name="notifications-read"),
    path("notifications/preferences/", views.NotificationPreferencesView.as_view(), name="notification-preferences"),
    path("notifications/<int:pk>/read/", views.NotificationReadView.as_view(), name="notification-read"),
    path("reports/yearly/", views.YearlyReportView.as_view(), name="yearly-report"),
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<int:pk>/sheet/", views.CaseSheetView.as_view(), name="case-sheet"),
    *[
        path(
            f"cases/<int:case_pk>/actions/{action}/",
            views.CaseActionView.as_view(action_name=action),
            name=f"case-{action}",
        )
        for action in ACTIONS
    ],
    path("cases/<int:case_pk>/assignment/", views.AssignView.as_view(), name="case-assignment"),
    path("cases/<int:case_pk>/clock/pause/", views.PauseClockView.as_view(), name="case-clock-pause"),
    path("cases/<int:case_pk>/clock/resume/", views.ResumeClockView.as_view(), name="case-clock-resume"),
    path("cases/<int:case_pk>/clock/extend/", views.ExtendDeadlineView.as_view(), name="case-clock-extend"),
    path("cases/<int:case_pk>/notes/", views.NoteView.as_view(), name="case-notes"),
    path("cases/<int:case_pk>/officers/", views.OfficerListView.as_view(), name="case-officers"),
    path("cases/<int:case_pk>/officers/<int:pk>/", views.OfficerDetailView.as_view(), name="case-officer"),
    path(
        "cases/<int:case_pk>/officers/<int:pk>/reveal/", views.OfficerRevealView.as_view(), name="case-officer-reveal"
    ),
    path("cases/<int:case_pk>/suspects/", views.SuspectListView.as_view(), name="case-suspects"),
    path("cases/<int:case_pk>/suspects/<int:pk>/", views.SuspectDetailView.as_view(), name="case-suspect"),
    path(
        "cases/<int:case_pk>/suspects/<int:pk>/reveal/", views.SuspectRevealView.as_view(), name="case-suspect-reveal"
    ),
    path(
        "cases/<int:case_pk>/suspects/<int:pk>/disposition/",
        views.DispositionView.as_view(),
        name="case-suspect-disposition",
    ),
    path(
        "cases/<int:case_pk>/suspects/<int:pk>/transfer/",
        views.TransferView.as_view(),
        name="case-suspect-transfer",
    ),
    path("cases/<int:case_pk>/referrals/", views.ReferralListView.as_view(), name="case-referrals"),
    path("cases/<int:case_pk>/support/", views.SupportListView.as_view(), name="case-support"),
    path("cases/<int:case_pk>/support/<int:pk>/", views.SupportDetailView.as_view(), name="case-support-measure"),
    path("cases/<int:case_pk>/support/<int:pk>/answer/", views.SupportAnswerView.as_view(), name="case-support-answer"),
    path("cases/<int:case_pk>/findings/", views.FindingListView.as_view(), name="case-findings"),
    path(
        "cases/<int:case_pk>/findings/<int:pk>/rectify/",
        views.RectifyFindingView.as_view(),
        name="case-finding-rectify",
    ),
    path("cases/<int:case_pk>/fault-findings/", views.FaultFindingListView.as_view(), name="case-fault-findings"),
    path("cases/<int:case_pk>/reviews/", views.ReviewListView.as_view(), name="case-reviews"),
    path("cases/<int:case_pk>/attachments/", views.AttachmentListView.as_view(), name="case-attachments"),
    path(
        "cases/<int:case_pk>/attachments/<int:pk>/download/",
        views.AttachmentDownloadView.as_view(),
        name="case-attachment-download",
    ),
    path("cases/<int:case_pk>/events/", views.EventListView.as_view(), name="case-events"),
    path("cases/<int:case_pk>/legal-hold/", retention.LegalHoldView.as_view(), name="case-legal-hold"),
    path("cases/<int:case_pk>/legal-hold/lift/", retention.LegalHoldLiftView.as_view(), name="case-legal-hold-lift"),
    path("retention/plan/", retention.RetentionPlanView.as_view(), name="retention-plan"),
    path("cases/<int:case_pk>/duplicates/", views.DuplicateListView.as_view(), name="case-duplicates"),
    path("cases/<int:case_pk>/links/", views.CaseLinkView.as_view(), name="case-links"),
    path("cases/<int:case_pk>/links/<int:pk>/", views.CaseUnlinkView.as_view(), name="case-link"),
    path("cases/<int:case_pk>/merge/", views.CaseMergeView.as_view(), name="case-merge"),
    path("cases/<int:case_pk>/unmerge/", views.CaseUnmergeView.as_view(), name="case-unmerge"),
    # Any path, including one with a newline in it ("." would not match that).
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not-found"),
]
