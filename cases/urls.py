from django.urls import path

from cases.views import evidence, filing, pages, parties, queue, reports, search, workspace

app_name = "cases"

urlpatterns = [
    path("", pages.home, name="home"),
    path("notifications/", pages.notifications, name="notifications"),
    path("notifications/read/", pages.notifications_read, name="notifications-read"),
    path("rules/", pages.rules, name="rules"),
    path("search/", search.search, name="search"),
    path("queue/", queue.queue, name="queue"),
    path("queue/saved/", queue.save_filter, name="queue-save"),
    path("queue/saved/<int:saved_id>/delete/", queue.delete_filter, name="queue-delete"),
    path("cases/new/", filing.new_case, name="new"),
    path("cases/<int:pk>/", workspace.case_detail, name="detail"),
    path("cases/<int:pk>/sheet.pdf", workspace.case_sheet, name="sheet"),
    path("cases/<int:pk>/edit/<slug:step>/", filing.edit_step, name="edit"),
    path("cases/<int:pk>/continue/", filing.resume, name="resume"),
    path("cases/<int:pk>/actions/<slug:action>/", workspace.case_action, name="action"),
    path("cases/<int:pk>/add/<slug:party>/", filing.add_party, name="add-party"),
    path("cases/<int:pk>/officers/<int:officer_id>/remove/", filing.remove_officer, name="remove-officer"),
    path("cases/<int:pk>/people/<slug:party>/<int:item_id>/edit/", parties.edit_party, name="edit-party"),
    path("cases/<int:pk>/people/<slug:party>/<int:item_id>/remove/", parties.remove_party, name="remove-party"),
    path("cases/<int:pk>/people/undo/", parties.undo_removal, name="undo-removal"),
    path("cases/<int:pk>/assign/", workspace.assign, name="assign"),
    path("cases/<int:pk>/clock/<slug:move>/", workspace.clock, name="clock"),
    path("cases/<int:pk>/suspects/<int:suspect_id>/disposition/", workspace.record_disposition, name="disposition"),
    path("cases/<int:pk>/suspects/<int:suspect_id>/transfer/", workspace.transfer, name="transfer"),
    path("cases/<int:pk>/support/", workspace.add_support, name="support"),
    path("cases/<int:pk>/support/<int:measure_id>/answer/", workspace.answer_support, name="support-answer"),
    path("cases/<int:pk>/findings/", workspace.add_finding, name="finding"),
    path("cases/<int:pk>/fault-findings/", workspace.record_fault_finding, name="fault-finding"),
    path("cases/<int:pk>/facts/", workspace.update_facts, name="facts"),
    path("cases/<int:pk>/notes/", workspace.add_note, name="note"),
    path("cases/<int:pk>/reveal/<slug:party>/<int:item_id>/", workspace.reveal, name="reveal"),
    path("cases/<int:pk>/evidence/", evidence.upload, name="evidence-upload"),
    path("cases/<int:pk>/evidence/<int:attachment_id>/", evidence.download, name="evidence-download"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/export/", reports.export, name="reports-export"),
    path("reports/exports/<int:pk>/", reports.export_status, name="reports-export-status"),
    path("reports/exports/<int:pk>/download/", reports.export_download, name="reports-export-download"),
]
