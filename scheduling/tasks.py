"""Celery tasks of the calendar: thin, idempotent, safe to run twice."""

from celery import shared_task

from scheduling.reminders.dispatch import dispatch_due


@shared_task(name="scheduling.dispatch_reminders", ignore_result=True)
def dispatch_reminders() -> int:
    """Beat runs this every minute; it sends the reminders that are due."""
    return dispatch_due()
