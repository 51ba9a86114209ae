"""The analysis API, mounted at /api/v1/analysis/ (rightsguard/urls.py) ahead of the case API and its catch-all."""

from django.urls import path

from analysis.api import views

app_name = "analysis-api"

urlpatterns = [
    path("", views.AnalysisView.as_view(), name="analysis"),
]
