"""Celery tasks of the calendar: thin, idempotent, safe to run twice."""

import datetime as dt
import threading

from celery import shared_task
from celery.signals import worker_shutting_down
from django.conf import settings

from scheduling.reminders.dispatch import dispatch_due
from scheduling.webhooks.delivery import dispatch_due as webhooks_dispatch_due
from scheduling.webhooks.retention import webhook_history_purge

# Set when the worker is asked to stop, so that a polling dispatch ends at once (the message in
# flight is finished; the rest of its batch goes back to pending for the next worker).
_stopping = threading.Event()


@worker_shutting_down.connect
def _stop_polling(**kwargs) -> None:
    _stopping.set()


@shared_task(name="scheduling.dispatch_reminders", ignore_result=True)
def dispatch_reminders() -> int:
    """Beat runs this every REMINDER_DISPATCH_SECONDS; it sends what falls due until shortly
    before the next run (two runs at once are harmless: rows are claimed with SKIP LOCKED)."""
    budget = dt.timedelta(seconds=settings.REMINDER_DISPATCH_SECONDS * 5 / 6)  # 50 s of each minute
    return dispatch_due(budget=budget, keep_polling=True, stop=_stopping)


@shared_task(name="scheduling.dispatch_webhooks", ignore_result=True)
def dispatch_webhooks() -> int:
    """Beat runs this every WEBHOOK_DISPATCH_SECONDS, beside the reminders' dispatch; it
    delivers what falls due until shortly before the next run."""
    budget = dt.timedelta(seconds=settings.WEBHOOK_DISPATCH_SECONDS * 5 / 6)
    return webhooks_dispatch_due(budget=budget, keep_polling=True, stop=_stopping)


@shared_task(name="scheduling.purge_webhook_history", ignore_result=True)
def purge_webhook_history() -> dict:
    """Beat runs this daily: deliveries that arrived more than WEBHOOK_RETENTION_DAYS ago go,
    with their attempts and the events left without a delivery."""
    deliveries, events = webhook_history_purge()
    return {"deliveries": deliveries, "events": events}
