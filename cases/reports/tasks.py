"""Celery tasks for report and queue exports: thin, take ids and primitives, safe to run twice."""

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.utils import translation


def _produce(produce: Callable[..., Any], export_id: int, language: str, outbox_key: str | None) -> str:
    """Run ``produce`` for the export in the requester's language; returns the export's final status."""
    from cases import outbox

    with translation.override(language):
        status = produce(export_id=export_id).status
    outbox.done(outbox_key)
    return str(status)


@shared_task(name="cases.reports.export_yearly_report", acks_late=True)
def export_yearly_report(export_id: int, language: str, outbox_key: str | None = None) -> str:
    """Write a background export's file in the requester's language; returns the export's final status."""
    from cases.reports.services import produce_export

    return _produce(produce_export, export_id, language, outbox_key)


@shared_task(name="cases.reports.export_queue", acks_late=True)
def export_queue(export_id: int, language: str, outbox_key: str | None = None) -> str:
    """Write a queue workbook in the requester's language; returns the export's final status."""
    from cases.reports.queue_jobs import produce_queue_export

    return _produce(produce_queue_export, export_id, language, outbox_key)


@shared_task(name="cases.reports.sweep_exports", acks_late=True)
def sweep_exports(period: float | None = None) -> dict[str, int]:
    """Expire prepared files past their keep time and remove what killed export jobs left."""
    from cases import periodic
    from cases.reports import files

    if period and not periodic.claim("sweep_exports", period):
        return {"skipped": 1}
    return files.sweep()
