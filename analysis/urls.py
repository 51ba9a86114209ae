from django.urls import path

from analysis import views, warning_views

app_name = "analysis"

urlpatterns = [
    path("", views.analysis_page, name="page"),
    path("file/<str:fmt>/", views.analysis_file, name="file"),
    path("warnings/", warning_views.warnings_page, name="warnings"),
    path("warnings/<int:pk>/", warning_views.warning_page, name="warning"),
    path("warnings/<int:pk>/acknowledge/", warning_views.warning_acknowledge, name="warning-acknowledge"),
    path("warnings/<int:pk>/resolve/", warning_views.warning_resolve, name="warning-resolve"),
]
