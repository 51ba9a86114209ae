"""The guidance API, mounted at /api/v1/guidance/ (rightsguard/urls.py) ahead of the case API and its catch-all: the
terminals' read-only endpoints (library/api/tips.py) and, under ``manage/``, the editors' and approvers' (library/api/
tips_manage.py)."""

from django.urls import path

from library import offline
from library.api import tips, tips_manage

app_name = "guidance-api"

urlpatterns = [
    # Kept by the offline reader (library/offline.py): tips in force, nothing of a case.
    path("", offline.offline_copy()(tips.GuidanceListView.as_view()), name="guidance"),
    path("<int:pk>/", offline.offline_copy()(tips.GuidanceDetailView.as_view()), name="guidance-item"),
    path("manage/", tips_manage.TipManageListView.as_view(), name="guidance-manage"),
    path("manage/<int:pk>/", tips_manage.TipManageDetailView.as_view(), name="guidance-manage-item"),
    path(
        "manage/<int:pk>/actions/<str:action>/",
        tips_manage.TipManageActionView.as_view(),
        name="guidance-manage-action",
    ),
]
