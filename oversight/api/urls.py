"""The campaign API, mounted at /api/v1/campaigns/ (rightsguard/urls.py) ahead of the case API and its catch-all."""

from django.urls import path

from oversight.api import views

app_name = "campaigns-api"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaigns"),
    path("<int:pk>/", views.CampaignDetailView.as_view(), name="campaign"),
    path("<int:campaign_pk>/report/", views.CampaignReportView.as_view(), name="campaign-report"),
    path("<int:campaign_pk>/start/", views.CampaignStartView.as_view(), name="campaign-start"),
    path("<int:campaign_pk>/close/", views.CampaignCloseView.as_view(), name="campaign-close"),
    path("<int:campaign_pk>/reviewers/", views.ReviewerListView.as_view(), name="campaign-reviewers"),
    path("<int:campaign_pk>/cases/", views.CampaignCaseListView.as_view(), name="campaign-cases"),
    path("<int:campaign_pk>/reviews/", views.ReviewListView.as_view(), name="campaign-reviews"),
    path("<int:campaign_pk>/reviews/<int:item_pk>/", views.ReviewDetailView.as_view(), name="campaign-review"),
    path("<int:campaign_pk>/reviews/<int:item_pk>/problems/", views.ProblemView.as_view(), name="campaign-problems"),
    path(
        "<int:campaign_pk>/reviews/<int:item_pk>/problems/<int:pk>/rectify/",
        views.RectifyView.as_view(),
        name="campaign-problem-rectify",
    ),
    path("<int:campaign_pk>/reviews/<int:item_pk>/make-up/", views.MakeUpView.as_view(), name="campaign-make-up"),
    path(
        "<int:campaign_pk>/reviews/<int:item_pk>/accountability/",
        views.AccountabilityView.as_view(),
        name="campaign-accountability",
    ),
    path("<int:campaign_pk>/pursuits/", views.PursuitListView.as_view(), name="campaign-pursuits"),
    path("<int:campaign_pk>/pursuits/<int:pk>/steps/", views.PursuitStepView.as_view(), name="campaign-pursuit-step"),
]
