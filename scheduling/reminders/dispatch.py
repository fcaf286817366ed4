"""Draining the outbox: claim due rows, send each, record each attempt.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" in a short
transaction, so two dispatchers never take the same row. Delivery is at least once: a row a
killed worker left "sending" goes back to "pending" after a lease, and carries its idempotency
key so a provider that honours it drops the repeat.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from scheduling.models import (
    AppointmentStatus,
    OrderStatus,
    ReminderKind,
    AttemptOutcome,
    Reminder,
    ReminderAttempt,
    ReminderStatus,
)
from clinic.models import Channel
from scheduling.reminders.messages import render
from scheduling.reminders.plan import outside_quiet_hours
from scheduling.reminders.transports import TransportError, transport_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200
POLL_SECONDS = 1.0


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


def _deliver(reminder: Reminder, *, now: dt.datetime, attempts: list[ReminderAttempt]) -> str:
    """Send one claimed reminder and mark it at once (one UPDATE), so that a worker killed
    mid-batch leaves at most the message in flight to be sent again."""
    def claimed():
        return Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING)

    if reminder.appointment_id:
        off = reminder.appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
    else:  # the link to book an order: pointless once the order is no longer open
        off = reminder.order.status != OrderStatus.OPEN
    if off and reminder.kind != ReminderKind.VISIT_CANCELLED:
        claimed().update(status=ReminderStatus.CANCELLED)
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
    count = reminder.attempts + 1
    attempts.append(ReminderAttempt(reminder=reminder, at=now, outcome=outcome, error=error, duration_ms=took))
    if outcome == AttemptOutcome.SENT:
        # The hot path, once per message: one plain statement (the ORM's update costs more
        # than the database does here).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Reminder._meta.db_table} SET status = %s, sent_at = %s, attempts = %s, last_error = '' "
                "WHERE id = %s AND status = %s",
                [ReminderStatus.SENT, timezone.now(), count, reminder.pk, ReminderStatus.SENDING],
            )
        return ReminderStatus.SENT
    if outcome == AttemptOutcome.TEMPORARY_FAILURE:
        claimed().update(status=ReminderStatus.PENDING, attempts=count, last_error=error,
                       next_attempt_at=now + backoff(count))
        return ReminderStatus.PENDING
    logger.warning("Reminder %s failed for good: %s", reminder.pk, error)
    claimed().update(status=ReminderStatus.FAILED, attempts=count, last_error=error)
    return ReminderStatus.FAILED


def send_claimed(ids: list[int], *, now: dt.datetime) -> list[str]:
    """Send claimed reminders (loaded in one query); the attempts are recorded together."""
    reminders = Reminder.objects.select_related(
        "appointment__location", "appointment__patient", "appointment__procedure_type", "order__patient"
    ).filter(pk__in=ids, status=ReminderStatus.SENDING).order_by("next_attempt_at", "pk")
    attempts: list[ReminderAttempt] = []
    try:
        return [_deliver(reminder, now=now, attempts=attempts) for reminder in reminders]
    finally:
        ReminderAttempt.objects.bulk_create(attempts)


def send_one(reminder_id: int, *, now: dt.datetime) -> str:
    """Send one claimed reminder; returns the row's new status."""
    statuses = send_claimed([reminder_id], now=now)
    return statuses[0] if statuses else Reminder.objects.get(pk=reminder_id).status


@contextlib.contextmanager
def _asynchronous_commit():
    """Each sent mark commits on its own, without waiting for the disk (PostgreSQL).

    A worker killed mid-batch loses nothing: the server has the commits. Only a crash of the
    database server itself could forget the last few marks, and those reminders would be sent
    again: at least once, as ever. Waiting for a disk flush per message would cap dispatch near
    700 a second.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def dispatch_due(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
                 budget: dt.timedelta = dt.timedelta(seconds=50), keep_polling: bool = False,
                 stop: threading.Event | None = None) -> int:
    """Send what is due, batch by batch, for at most `budget`. Returns how many were sent.

    With `keep_polling` (the beat task), it goes on looking every second until the budget is
    spent, so a reminder falling due between two beat runs waits about a second, not a minute.
    """
    deadline = time.monotonic() + budget.total_seconds()
    sent = 0
    with _asynchronous_commit():
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            moment = now or timezone.now()
            ids = claim_due(now=moment, batch_size=batch_size)
            if ids:
                sent += sum(status == ReminderStatus.SENT for status in send_claimed(ids, now=moment))
            elif keep_polling:
                if stop is not None:
                    stop.wait(POLL_SECONDS)
                else:
                    time.sleep(POLL_SECONDS)
            else:
                break
    return sent


def reminder_retry(reminder: Reminder) -> bool:
    """Staff retry of a failed reminder: back to pending, due now (a text keeps quiet hours)."""
    due = timezone.now()
    if reminder.channel == Channel.SMS:
        appointment = reminder.appointment
        if appointment is not None:
            due = outside_quiet_hours(due, appointment.location.zone, deadline=max(appointment.arrival, due))
    return bool(Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING, next_attempt_at=due, attempts=0))
