"""The guidance API for terminals (library/api/tips.py), mounted at /api/v1/guidance/ (rightsguard/urls.py) ahead of
the case API and its catch-all."""

from django.urls import path

from library import offline
from library.api import tips

app_name = "guidance-api"

urlpatterns = [
    # Kept by the offline reader (library/offline.py): tips in force, nothing of a case.
    path("", offline.offline_copy()(tips.GuidanceListView.as_view()), name="guidance"),
    path("<int:pk>/", offline.offline_copy()(tips.GuidanceDetailView.as_view()), name="guidance-item"),
]
