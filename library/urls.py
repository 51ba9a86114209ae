from django.urls import include, path

from library import offline, pwa, training_views, views

app_name = "library"

urlpatterns = [
    # The readers' pages are kept by the offline reader (library/offline.py), but one naming the source case.
    path("", offline.offline_copy()(views.library_list), name="list"),
    path("<int:pk>/", offline.offline_copy(unless=offline.shows_source)(views.library_detail), name="detail"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("propose/<int:case_pk>/", views.propose, name="propose"),
    path("manage/", views.manage_list, name="manage"),
    path("manage/<int:pk>/", views.edit, name="edit"),
    path("manage/<int:pk>/<str:action>/", views.writeup_action, name="action"),
    # The guidance tips (library/guidance/), the training record and the offline reader's files.
    path("tips/", include("library.guidance.urls")),
    path("training/", training_views.training_page, name="training"),
    path("training/<str:fmt>/", training_views.training_file, name="training-file"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="sw"),
]
