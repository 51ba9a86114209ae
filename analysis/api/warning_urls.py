"""The early-warning API, mounted at /api/v1/warnings/ (rightsguard/urls.py) ahead of the case API and its catch-all."""

from django.urls import path

from analysis.api import warning_views as views

app_name = "warnings-api"

urlpatterns = [
    path("", views.WarningListView.as_view(), name="warnings"),
    path("<int:pk>/", views.WarningDetailView.as_view(), name="warning"),
    path("<int:pk>/acknowledge/", views.WarningAcknowledgeView.as_view(), name="warning-acknowledge"),
    path("<int:pk>/resolve/", views.WarningResolveView.as_view(), name="warning-resolve"),
]
