"""Draining the outbox: claim due rows, send each, record each attempt.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" in a short
transaction, so two dispatchers never take the same row. Delivery is at least once: a row a
killed worker left "sending" goes back to "pending" after a lease, and carries its idempotency
key so a provider that honours it drops the repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scheduling.models import (
    AppointmentStatus,
    AttemptOutcome,
    Reminder,
    ReminderAttempt,
    ReminderStatus,
)
from scheduling.reminders.messages import render
from scheduling.reminders.transports import TransportError, transport_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes after each failure, at most an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def claim_due(*, now: dt.datetime, batch_size: int = BATCH_SIZE) -> list[int]:
    with transaction.atomic():
        Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=now - lease()).update(
            status=ReminderStatus.PENDING)
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=ReminderStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        Reminder.objects.filter(pk__in=ids, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.SENDING, claimed_at=now)
    return ids


def send_one(reminder_id: int, *, now: dt.datetime) -> str:
    """Send one claimed reminder; returns the row's new status."""
    reminder = Reminder.objects.select_related(
        "appointment__location", "appointment__patient", "appointment__procedure_type").get(pk=reminder_id)
    if reminder.status != ReminderStatus.SENDING:
        return reminder.status
    claimed = Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING)
    if reminder.appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        claimed.update(status=ReminderStatus.CANCELLED)
        return ReminderStatus.CANCELLED
    started = time.monotonic()
    error, outcome = "", AttemptOutcome.SENT
    try:
        transport_for(reminder.channel).send(render(reminder))
    except TransportError as failure:
        error = str(failure)
        last = failure.permanent or reminder.attempts + 1 >= MAX_ATTEMPTS
        outcome = AttemptOutcome.PERMANENT_FAILURE if last else AttemptOutcome.TEMPORARY_FAILURE
    took = int((time.monotonic() - started) * 1000)
    attempts = reminder.attempts + 1
    ReminderAttempt.objects.create(reminder=reminder, at=now, outcome=outcome, error=error, duration_ms=took)
    if outcome == AttemptOutcome.SENT:
        claimed.update(status=ReminderStatus.SENT, sent_at=timezone.now(), attempts=attempts, last_error="")
        return ReminderStatus.SENT
    if outcome == AttemptOutcome.TEMPORARY_FAILURE:
        claimed.update(status=ReminderStatus.PENDING, attempts=attempts, last_error=error,
                       next_attempt_at=now + backoff(attempts))
        return ReminderStatus.PENDING
    logger.warning("Reminder %s failed for good: %s", reminder.pk, error)
    claimed.update(status=ReminderStatus.FAILED, attempts=attempts, last_error=error)
    return ReminderStatus.FAILED


def dispatch_due(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
                 budget: dt.timedelta = dt.timedelta(seconds=50)) -> int:
    """Send what is due, batch by batch, for at most `budget` (beat runs this every minute).
    Returns how many were sent."""
    deadline = time.monotonic() + budget.total_seconds()
    sent = 0
    while time.monotonic() < deadline:
        moment = now or timezone.now()
        ids = claim_due(now=moment, batch_size=batch_size)
        if not ids:
            break
        for reminder_id in ids:
            sent += send_one(reminder_id, now=moment) == ReminderStatus.SENT
    return sent


def reminder_retry(reminder: Reminder) -> bool:
    """Staff retry of a failed reminder: back to pending, due now."""
    return bool(Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING, next_attempt_at=timezone.now(), attempts=0))
