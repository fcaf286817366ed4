"""Draining the outbox: claim due rows, send each, record each attempt.

Claiming takes rows with SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" under the
claim's own token in a short transaction, so two dispatchers never take the same row. Delivery
is at least once: a row a killed worker left "sending" goes back to "pending" after a lease, and
carries its idempotency key so a provider that honours it drops the repeat.

A lease can run out while its batch is still being sent (a provider answering in 2 s takes
400 s over a batch of 200; the lease is 300 s), and the next run then takes back the rows not
reached yet. So right before each message the dispatcher renews that row's lease on the
condition that it still holds the claim; a row taken back (or cancelled) meanwhile is skipped,
never sent twice. Only a message whose own send outlasts the whole lease can go twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

from django.conf import settings
from django.db import connection
from django.utils import timezone

from scheduling import catalog, outbox
from scheduling.models import (
    BEFORE_VISIT_KINDS,
    AppointmentStatus,
    OrderStatus,
    ReminderKind,
    AttemptOutcome,
    Reminder,
    ReminderAttempt,
    ReminderStatus,
)
from clinic import metrics
from clinic.models import Channel
from scheduling.reminders.messages import render
from scheduling.reminders.outbox import channel_for, reminder_move
from scheduling.reminders.plan import outside_quiet_hours
from scheduling.reminders.transports import TransportError, transport_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200
# What _deliver returns for a row another run took back: neither sent nor changed here.
SKIPPED = "skipped"
TOO_LATE = "Not sent: the patient's arrival time had passed."
NO_CONSENT = "Not sent: the patient has no consent to messages on this channel."
ALREADY_CONFIRMED = "Not sent: the patient had already confirmed the visit."


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes after each failure, at most an hour."""
    return outbox.backoff(attempts)


def claim_due(*, now: dt.datetime, token: uuid.UUID, batch_size: int = BATCH_SIZE) -> list[int]:
    """Take back rows whose lease ran out, then claim up to `batch_size` due rows under `token`."""
    return outbox.claim_due(Reminder, now=now, token=token, lease=lease(), batch_size=batch_size)


class _Claim:
    """The rows one claim holds, and what is written for every message: its lease renewed just
    before it is sent (only while the row is still ours), its sent mark just after.

    A sent mark is written together with the next message's renewal, one statement per message
    (a second would cost a quarter of the dispatch rate); both come before the next message is
    sent, so a worker killed mid-batch still leaves only the message in flight unmarked. Plain
    SQL: once per message, the ORM's update costs more than the database does here."""

    def __init__(self, token: uuid.UUID):
        table = Reminder._meta.db_table
        self.token = token
        self._token = Reminder._meta.get_field("claim_token").get_db_prep_value(token, connection)
        # (id, attempts, sent at, the provider's message id)
        self._unwritten: tuple[int, int, dt.datetime, str] | None = None
        ours = "status = %s AND claim_token = %s"
        self._renew = f"UPDATE {table} SET claimed_at = %s WHERE id = %s AND {ours}"
        self._sent = (f"UPDATE {table} SET status = %s, sent_at = %s, attempts = %s, last_error = '', "
                      f"provider_message_id = %s WHERE id = %s AND {ours}")
        self._sent_and_renew = (
            f"UPDATE {table} SET status = CASE WHEN id = %s THEN %s ELSE status END, "
            "sent_at = CASE WHEN id = %s THEN %s ELSE sent_at END, "
            "attempts = CASE WHEN id = %s THEN %s ELSE attempts END, "
            "last_error = CASE WHEN id = %s THEN '' ELSE last_error END, "
            "provider_message_id = CASE WHEN id = %s THEN %s ELSE provider_message_id END, "
            "claimed_at = CASE WHEN id = %s THEN %s ELSE claimed_at END "
            f"WHERE id IN (%s, %s) AND {ours} RETURNING id")

    def rows(self, pk: int):
        """The row while it is ours, for the rarer writes (a failure, a cancellation)."""
        self.flush()
        return Reminder.objects.filter(pk=pk, status=ReminderStatus.SENDING, claim_token=self.token)

    def renew(self, pk: int, *, at: dt.datetime) -> bool:
        """Extend the row's lease from `at`; False when the row is no longer ours to send."""
        with connection.cursor() as cursor:
            if self._unwritten is None:
                cursor.execute(self._renew, [at, pk, ReminderStatus.SENDING, self._token])
                return cursor.rowcount == 1
            sent, attempts, sent_at, provider_id = self._unwritten
            self._unwritten = None
            cursor.execute(self._sent_and_renew, [sent, ReminderStatus.SENT, sent, sent_at, sent, attempts, sent,
                                                  sent, provider_id, pk, at, sent, pk, ReminderStatus.SENDING,
                                                  self._token])
            return any(row[0] == pk for row in cursor.fetchall())

    def mark_sent(self, pk: int, *, attempts: int, provider_message_id: str = "") -> None:
        """Written with the next renewal, or by `flush` at the end of the batch."""
        self.flush()
        self._unwritten = (pk, attempts, timezone.now(), provider_message_id)

    def flush(self) -> None:
        if self._unwritten is None:
            return
        pk, attempts, sent_at, provider_id = self._unwritten
        self._unwritten = None
        with connection.cursor() as cursor:
            cursor.execute(self._sent, [ReminderStatus.SENT, sent_at, attempts, provider_id, pk,
                                        ReminderStatus.SENDING, self._token])


def _deliver(reminder: Reminder, claim: _Claim, *, now: dt.datetime | None,
             attempts: list[ReminderAttempt]) -> str:
    """Send one claimed reminder if it is still ours, and mark it before the next is sent, so
    that a worker killed mid-batch leaves at most the message in flight to be sent again.
    `now` is the caller's clock when it fixes one (tests), else the time of this attempt."""
    at = now or timezone.now()
    if reminder.appointment_id:
        off = reminder.appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
    else:  # the link to book an order: pointless once the order is no longer open
        off = reminder.order.status != OrderStatus.OPEN
    if off and reminder.kind != ReminderKind.VISIT_CANCELLED:
        claim.rows(reminder.pk).update(status=ReminderStatus.CANCELLED)
        return ReminderStatus.CANCELLED
    if reminder.appointment_id and reminder.kind in BEFORE_VISIT_KINDS and reminder.appointment.arrival <= at:
        claim.rows(reminder.pk).update(status=ReminderStatus.CANCELLED, last_error=TOO_LATE)
        return ReminderStatus.CANCELLED
    if reminder.kind == ReminderKind.CONFIRMATION_REQUEST and reminder.appointment.status != AppointmentStatus.SCHEDULED:
        # Confirmed since the request was planned (or the patient moved a confirmed visit).
        claim.rows(reminder.pk).update(status=ReminderStatus.CANCELLED, last_error=ALREADY_CONFIRMED)
        return ReminderStatus.CANCELLED
    patient = reminder.appointment.patient if reminder.appointment_id else reminder.order.patient
    if reminder.channel not in patient.consented_channels():
        # Consent withdrawn (or the number or address removed) since the row was written, and
        # the row was already being sent when the change moved the others: it goes by the
        # channel the patient takes now, or not at all.
        other = channel_for(patient)
        if other is not None and reminder_move(reminder, other, now=at):
            claim.rows(reminder.pk).update(status=ReminderStatus.PENDING, channel=reminder.channel,
                                           next_attempt_at=reminder.next_attempt_at, attempts=0, last_error="",
                                           claim_token=None)
            return ReminderStatus.PENDING
        claim.rows(reminder.pk).update(status=ReminderStatus.CANCELLED, last_error=NO_CONSENT)
        return ReminderStatus.CANCELLED
    if not claim.renew(reminder.pk, at=at):
        # The lease ran out while earlier messages of the batch were being sent, and another run
        # took the row back: it is that run's to send now. (Or the row was cancelled.)
        logger.info("Reminder %s skipped: no longer held by this dispatch run", reminder.pk)
        return SKIPPED
    started = time.monotonic()
    error, outcome, provider_id = "", AttemptOutcome.SENT, None
    try:
        provider_id = transport_for(reminder.channel).send(render(reminder))
    except TransportError as failure:
        metrics.reminder_failed(channel=reminder.channel)
        error = str(failure)
        last = failure.permanent or reminder.attempts + 1 >= MAX_ATTEMPTS
        outcome = AttemptOutcome.PERMANENT_FAILURE if last else AttemptOutcome.TEMPORARY_FAILURE
    took = int((time.monotonic() - started) * 1000)
    count = reminder.attempts + 1
    attempts.append(ReminderAttempt(reminder=reminder, at=at, outcome=outcome, error=error, duration_ms=took))
    if outcome == AttemptOutcome.SENT:
        metrics.reminder_sent(due_at=reminder.due_at, sent_at=at)
        claim.mark_sent(reminder.pk, attempts=count, provider_message_id=provider_id or "")
        return ReminderStatus.SENT
    if outcome == AttemptOutcome.TEMPORARY_FAILURE:
        claim.rows(reminder.pk).update(status=ReminderStatus.PENDING, attempts=count, last_error=error,
                                       next_attempt_at=at + backoff(count), claim_token=None)
        return ReminderStatus.PENDING
    logger.warning("Reminder %s failed for good: %s", reminder.pk, error)
    claim.rows(reminder.pk).update(status=ReminderStatus.FAILED, attempts=count, last_error=error)
    return ReminderStatus.FAILED


def send_claimed(ids: list[int], *, token: uuid.UUID, now: dt.datetime | None = None,
                 stop: threading.Event | None = None) -> list[str]:
    """Send the reminders claimed under `token` (loaded in one query); the attempts are
    recorded together. When `stop` is set (the worker is shutting down), the rows not reached
    yet go back to pending at once rather than waiting out the lease."""
    claim = _Claim(token)
    reminders = list(Reminder.objects.select_related("appointment__patient", "order__patient").filter(
        pk__in=ids, status=ReminderStatus.SENDING, claim_token=token).order_by("next_attempt_at", "pk"))
    # The visits' locations and procedure types from the catalog held in memory, not joined.
    catalog.known_relations([r.appointment for r in reminders if r.appointment_id], "location", "procedure_type")
    attempts: list[ReminderAttempt] = []
    statuses: list[str] = []
    try:
        for position, reminder in enumerate(reminders):
            if stop is not None and stop.is_set():
                claim.flush()
                outbox.release(Reminder, [r.pk for r in reminders[position:]], token=token)
                break
            statuses.append(_deliver(reminder, claim, now=now, attempts=attempts))
        return statuses
    finally:
        claim.flush()
        ReminderAttempt.objects.bulk_create(attempts)


def send_one(reminder_id: int, *, token: uuid.UUID, now: dt.datetime | None = None) -> str:
    """Send one reminder claimed under `token`; returns the row's new status."""
    statuses = send_claimed([reminder_id], token=token, now=now)
    return statuses[0] if statuses else Reminder.objects.get(pk=reminder_id).status


def dispatch_due(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
                 budget: dt.timedelta = dt.timedelta(seconds=50), keep_polling: bool = False,
                 stop: threading.Event | None = None) -> int:
    """Send what is due, batch by batch, for at most `budget`. Returns how many were sent.

    With `keep_polling` (the beat task), it goes on looking every second until the budget is
    spent, so a reminder falling due between two beat runs waits about a second, not a minute.
    """
    def claim(at: dt.datetime, token: uuid.UUID) -> list[int]:
        return claim_due(now=at, token=token, batch_size=batch_size)

    def send(ids: list[int], token: uuid.UUID) -> int:
        statuses = send_claimed(ids, token=token, now=now, stop=stop)
        return sum(status == ReminderStatus.SENT for status in statuses)

    return outbox.drain(claim=claim, send=send, now=now, budget=budget, keep_polling=keep_polling, stop=stop)


def reminder_retry(reminder: Reminder) -> bool:
    """Staff retry of a failed reminder: back to pending, due now (a text keeps quiet hours)."""
    due = timezone.now()
    if reminder.channel == Channel.SMS:
        appointment = reminder.appointment
        if appointment is not None:
            due = outside_quiet_hours(due, appointment.location.zone, deadline=max(appointment.arrival, due))
    return bool(Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING, next_attempt_at=due, attempts=0))
