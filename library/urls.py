from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_list, name="list"),
    path("<int:pk>/", views.library_detail, name="detail"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("propose/<int:case_pk>/", views.propose, name="propose"),
    path("manage/", views.manage_list, name="manage"),
    path("manage/<int:pk>/", views.edit, name="edit"),
    path("manage/<int:pk>/<str:action>/", views.writeup_action, name="action"),
]
