"""The analysis's Celery tasks: thin, re-reading everything, safe to run twice."""

from celery import shared_task

from analysis import services
from cases import periodic


@shared_task(name="analysis.early_warning", acks_late=True)
def early_warning(period: float | None = None) -> dict[str, int]:
    """Raise the early warnings that hold today (beat, daily; analysis/warnings.py). The period is claimed first, so a
    second beat's tick does nothing; each warning's unique key does the rest."""
    if period and not periodic.claim("early_warning", period):
        return {"skipped": 1}
    return services.raise_early_warnings()
