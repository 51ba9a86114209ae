"""The analysis API, mounted at /api/v1/analysis/ (rightsguard/urls.py) ahead of the case API and its catch-all: the
analysis's figures and the evaluation reports."""

from django.urls import path

from analysis.api import evaluation_views, views

app_name = "analysis-api"

urlpatterns = [
    path("", views.AnalysisView.as_view(), name="analysis"),
    path("evaluations/", evaluation_views.EvaluationListView.as_view(), name="evaluations"),
    path("evaluations/<int:pk>/", evaluation_views.EvaluationDetailView.as_view(), name="evaluation"),
    path("evaluations/<int:pk>/submit/", evaluation_views.EvaluationSubmitView.as_view(), name="evaluation-submit"),
    path("evaluations/<int:pk>/approve/", evaluation_views.EvaluationApproveView.as_view(), name="evaluation-approve"),
    path("evaluations/<int:pk>/return/", evaluation_views.EvaluationReturnView.as_view(), name="evaluation-return"),
]
