from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/report/", views.campaign_report, name="report"),
    path("<int:pk>/report/<str:fmt>/", views.campaign_report_file, name="report-file"),
    path("<int:pk>/start/", views.campaign_start, name="start"),
    path("<int:pk>/close/", views.campaign_close, name="close"),
    path("<int:pk>/reviewers/", views.campaign_assign, name="assign"),
    path("<int:pk>/cases/<int:item_id>/", views.review_page, name="review"),
    path("<int:pk>/cases/<int:item_id>/review/", views.review_record, name="review-record"),
    path("<int:pk>/cases/<int:item_id>/problems/", views.problem_raise, name="problem"),
    path("<int:pk>/cases/<int:item_id>/problems/<int:problem_id>/rectify/", views.problem_rectify, name="rectify"),
    path("<int:pk>/cases/<int:item_id>/make-up/", views.make_up, name="make-up"),
    path("<int:pk>/cases/<int:item_id>/accountability/", views.accountability_record, name="accountability"),
    path("<int:pk>/cases/<int:item_id>/pursuits/<int:record_id>/", views.pursuit_step, name="pursuit"),
]
