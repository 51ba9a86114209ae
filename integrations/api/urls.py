"""The integrations API, mounted at /api/v1/incidents/ (rightsguard/urls.py) ahead of the case API and its catch-all."""

from django.urls import path

from integrations.api import views

app_name = "integrations-api"

urlpatterns = [
    path("110/", views.Incident110ImportView.as_view(), name="incident-110"),
]
