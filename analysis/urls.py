from django.urls import path

from analysis import views

app_name = "analysis"

urlpatterns = [
    path("", views.analysis_page, name="page"),
    path("file/<str:fmt>/", views.analysis_file, name="file"),
]
