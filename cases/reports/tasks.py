"""Celery tasks for report and queue exports: thin, take ids and primitives, safe to run twice."""

from celery import shared_task
from django.utils import translation


@shared_task(name="cases.reports.export_yearly_report", acks_late=True)
def export_yearly_report(export_id: int, language: str, outbox_key: str | None = None) -> str:
    """Write a background export's file in the requester's language; returns the export's final status."""
    from cases import outbox
    from cases.reports.services import produce_export

    with translation.override(language):
        status = produce_export(export_id=export_id).status
    outbox.done(outbox_key)
    return status


@shared_task(name="cases.reports.export_queue", acks_late=True)
def export_queue(export_id: int, language: str, outbox_key: str | None = None) -> str:
    """Write a queue workbook in the requester's language; returns the export's final status."""
    from cases import outbox
    from cases.reports.queue_jobs import produce_queue_export

    with translation.override(language):
        status = produce_queue_export(export_id=export_id).status
    outbox.done(outbox_key)
    return status
