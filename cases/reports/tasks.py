"""Celery tasks for report exports."""
