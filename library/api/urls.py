"""The library API, mounted at /api/v1/library/ (rightsguard/urls.py) ahead of the case API and its catch-all."""

from django.urls import path

from library import offline
from library.api import views

app_name = "library-api"

urlpatterns = [
    # Kept by the offline reader (library/offline.py), but an answer naming the source case.
    path("", offline.offline_copy()(views.LibraryListView.as_view()), name="library"),
    path(
        "<int:pk>/",
        offline.offline_copy(unless=offline.shows_source)(views.LibraryDetailView.as_view()),
        name="library-item",
    ),
    path("<int:pk>/feedback/", views.FeedbackView.as_view(), name="library-feedback"),
    path("manage/", views.ManageListView.as_view(), name="library-manage"),
    path("manage/<int:pk>/", views.ManageDetailView.as_view(), name="library-manage-item"),
    path("manage/<int:pk>/actions/<str:action>/", views.ManageActionView.as_view(), name="library-manage-action"),
]
