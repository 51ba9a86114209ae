from django.urls import path

from analysis import evaluation_views, views, warning_views

app_name = "analysis"

urlpatterns = [
    path("", views.analysis_page, name="page"),
    path("file/<str:fmt>/", views.analysis_file, name="file"),
    path("warnings/", warning_views.warnings_page, name="warnings"),
    path("warnings/<int:pk>/", warning_views.warning_page, name="warning"),
    path("warnings/<int:pk>/acknowledge/", warning_views.warning_acknowledge, name="warning-acknowledge"),
    path("warnings/<int:pk>/resolve/", warning_views.warning_resolve, name="warning-resolve"),
    path("evaluations/", evaluation_views.evaluations_page, name="evaluations"),
    path("evaluations/start/", evaluation_views.evaluation_start, name="evaluation-start"),
    path("evaluations/<int:pk>/", evaluation_views.evaluation_page, name="evaluation"),
    path("evaluations/<int:pk>/lessons/", evaluation_views.evaluation_lessons, name="evaluation-lessons"),
    path("evaluations/<int:pk>/submit/", evaluation_views.evaluation_submit, name="evaluation-submit"),
    path("evaluations/<int:pk>/approve/", evaluation_views.evaluation_approve, name="evaluation-approve"),
    path("evaluations/<int:pk>/return/", evaluation_views.evaluation_return, name="evaluation-return"),
    path("evaluations/<int:pk>/file/<str:fmt>/", evaluation_views.evaluation_file, name="evaluation-file"),
]
