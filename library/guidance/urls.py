"""The tips' pages, under /library/tips/ in the library's namespace (library/urls.py)."""

from django.urls import path

from library.guidance import views

urlpatterns = [
    path("", views.tips_list, name="tips"),
    path("<int:pk>/", views.tip_detail, name="tip"),
    path("new/", views.new_tip, name="tip-new"),
    path("manage/", views.manage_tips, name="tips-manage"),
    path("manage/<int:pk>/", views.tip_edit, name="tip-edit"),
    path("manage/<int:pk>/<str:action>/", views.tip_action, name="tip-action"),
]
