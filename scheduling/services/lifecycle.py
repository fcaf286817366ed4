"""A visit's status from booking to discharge; only valid transitions are allowed.

scheduled -> confirmed -> checked in -> in procedure -> in recovery -> completed,
or cancelled (with a reason and who) or no-show. Every change is saved with who made it and
why, and shows in the admin history.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.utils import timezone

from scheduling.errors import BookingError, ChecksMissing, InvalidTransition
from scheduling.models import Appointment, AppointmentStatus, OrderStatus
from scheduling.models import ReminderKind, WaitlistEntry, WaitlistStatus
from scheduling.pathways.checks import visit_checks
from scheduling.models import BaselineSource
from scheduling.reminders.outbox import (
    reminders_cancel,
    reminders_notify,
    reminders_retime_after_discharge,
    reminders_retime_after_procedure_end,
)
from scheduling.services.careplan_progress import careplan_visit_completed, careplan_visit_off
from scheduling.services.checks import checks_record
from scheduling.services.diary import diary_baseline_record, diary_procedure_ended
from scheduling.services.waitlist import waitlist_offer_freed
from scheduling.webhooks.events import EventKind, appointment_event

S = AppointmentStatus

ALLOWED: dict[str, set[str]] = {
    S.SCHEDULED: {S.CONFIRMED, S.CHECKED_IN, S.CANCELLED, S.NO_SHOW},
    S.CONFIRMED: {S.CHECKED_IN, S.CANCELLED, S.NO_SHOW},
    S.CHECKED_IN: {S.IN_PROCEDURE, S.CANCELLED},
    S.IN_PROCEDURE: {S.IN_RECOVERY, S.COMPLETED},
    S.IN_RECOVERY: {S.COMPLETED},
}

_VERBS = {
    S.CONFIRMED: "confirmed",
    S.CHECKED_IN: "checked in",
    S.IN_PROCEDURE: "started",
    S.IN_RECOVERY: "moved to recovery",
    S.COMPLETED: "completed",
    S.CANCELLED: "cancelled",
    S.NO_SHOW: "marked as a no-show",
}


# The history's reason column holds 100 characters; a longer cancellation reason is shortened
# there (PostgreSQL refuses an overlong value), and kept whole on the visit.
_HISTORY_REASON_LENGTH = Appointment.history.model._meta.get_field("history_change_reason").max_length


def _history_reason(text: str) -> str:
    return text if len(text) <= _HISTORY_REASON_LENGTH else text[:_HISTORY_REASON_LENGTH - 1] + "…"


# Transitions that change a visit's event in the calendar feeds (cancelled, no-show): its
# SEQUENCE goes up so that calendars holding it replace it. Checking in and the steps after it
# leave the event as it was.
_SHOWN_DIFFERENTLY_IN_FEEDS = {S.CANCELLED, S.NO_SHOW}


def _transition(appointment: Appointment, to: str, *, by, reason: str = "", **fields) -> Appointment:
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if to not in ALLOWED.get(current.status, set()):
            raise InvalidTransition(
                f"This visit is {current.get_status_display().lower()}; it cannot be {_VERBS[to]}."
            )
        previous_status = current.status
        current.status = to
        for name, value in fields.items():
            setattr(current, name, value)
        if to in _SHOWN_DIFFERENTLY_IN_FEEDS:
            current.sequence += 1
            fields["sequence"] = current.sequence
        current._history_user = by
        current._change_reason = _history_reason(reason or _VERBS[to].capitalize())
        current.save(update_fields=["status", "updated_at", *fields])
        if to in (S.CANCELLED, S.NO_SHOW):
            reminders_cancel(current)  # in the same transaction: no reminder for a visit that is off
        kind = EventKind.APPOINTMENT_CANCELLED if to == S.CANCELLED else EventKind.APPOINTMENT_STATUS_CHANGED
        appointment_event(current, kind, previous_status=previous_status)  # in the change's transaction
        if to == S.COMPLETED and current.order_id:
            current.order.status = OrderStatus.COMPLETED
            current.order._history_user = by
            current.order.save(update_fields=["status"])
    appointment.refresh_from_db()
    return appointment


def appointment_confirm(*, appointment: Appointment, by=None) -> Appointment:
    return _transition(appointment, S.CONFIRMED, by=by)


def appointment_cancel(*, appointment: Appointment, reason: str, by=None, notify_patient: bool = True
                       ) -> Appointment:
    """Cancel a visit, and with it its pending follow-ups (an SCS trial's lead removal).

    The patient is told, unless they cancelled it themselves (`notify_patient=False`)."""
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("Say why the visit is cancelled.", field="reason")
    with transaction.atomic():
        cancelled = _transition(appointment, S.CANCELLED, by=by, reason=f"Cancelled: {reason}",
                                cancel_reason=reason[:300], cancelled_by=by, cancelled_at=timezone.now())
        for follow_up in appointment.follow_ups.filter(status__in=[S.SCHEDULED, S.CONFIRMED]):
            why = f"{appointment.procedure_type.name} cancelled: {reason}"
            _transition(follow_up, S.CANCELLED, by=by, reason=f"Cancelled: {why}", cancel_reason=why[:300],
                        cancelled_by=by, cancelled_at=timezone.now())
        if notify_patient:
            reminders_notify(cancelled, ReminderKind.VISIT_CANCELLED, now=timezone.now())
        WaitlistEntry.objects.filter(appointment=cancelled).update(status=WaitlistStatus.ENDED)
        waitlist_offer_freed(cancelled=cancelled, now=timezone.now())
        careplan_visit_off(appointment=cancelled, what="cancelled", by=by)
    return cancelled


def appointment_check_in(*, appointment: Appointment, by=None, confirmed_checks: Collection[str] = (),
                         baseline_pain: int | None = None) -> Appointment:
    """Check the patient in and record the pre-procedure checks seen at the desk, by `by`.

    Patients check in on the day of their visit, not before. `confirmed_checks` are kinds of
    check (`CheckKind`) the visit needs; those not confirmed stay open for later, and starting
    the procedure without them needs a reason. `baseline_pain` (0-10), asked at the desk for
    a procedure with a pain diary, is the diary's pain before the procedure."""
    zone = appointment.location.zone
    visit_day = appointment.procedure_start.astimezone(zone).date()
    if timezone.now().astimezone(zone).date() != visit_day:
        raise InvalidTransition(f"Patients check in on the day of their visit ({visit_day:%A %B %-d}).")
    with transaction.atomic():
        checked_in = _transition(appointment, S.CHECKED_IN, by=by)
        checks_record(appointment=checked_in, confirmed=confirmed_checks, by=by, now=timezone.now())
        if baseline_pain is not None:
            diary_baseline_record(appointment=checked_in, pain=baseline_pain, source=BaselineSource.CHECK_IN,
                                  now=timezone.now())
    return checked_in


def appointment_start(*, appointment: Appointment, by=None, reason: str = "") -> Appointment:
    """Start the procedure. If a pre-procedure check is not confirmed, only with a reason, which
    stays on each missing check and in the visit's history."""
    reason = (reason or "").strip()
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if S.IN_PROCEDURE not in ALLOWED.get(current.status, set()):
            return _transition(appointment, S.IN_PROCEDURE, by=by)  # refused, in the usual words
        checks = visit_checks(current)
        if checks.complete:
            return _transition(appointment, S.IN_PROCEDURE, by=by)
        words = checks.missing_words()
        if not reason:
            raise ChecksMissing(f"Not confirmed: {words}. Confirm the checks, or say why the procedure starts "
                                "without them.", field="reason")
        checks_record(appointment=current, confirmed=(), by=by, now=timezone.now())  # rows for every need
        current.checks.filter(kind__in=[item.kind for item in checks.missing]).update(missing_reason=reason[:300])
        return _transition(appointment, S.IN_PROCEDURE, by=by, reason=f"Started without {words}: {reason}")


def _procedure_ended(appointment: Appointment, now) -> None:
    """The procedure ends now: the pain diary and its prompts count from now, not from the
    planned end."""
    diary_procedure_ended(appointment=appointment, at=now)
    reminders_retime_after_procedure_end(appointment, ended_at=now, now=now)


def appointment_move_to_recovery(*, appointment: Appointment, by=None) -> Appointment:
    now = timezone.now()
    with transaction.atomic():
        in_recovery = _transition(appointment, S.IN_RECOVERY, by=by)
        _procedure_ended(in_recovery, now)
    return in_recovery


def appointment_complete(*, appointment: Appointment, by=None) -> Appointment:
    """The patient leaves now: the prompts timed from discharge (the pain diary) count from now,
    not from the planned discharge."""
    now = timezone.now()
    with transaction.atomic():
        from_procedure = Appointment.objects.filter(pk=appointment.pk, status=S.IN_PROCEDURE).exists()
        completed = _transition(appointment, S.COMPLETED, by=by)
        if from_procedure:  # no recovery: the procedure ends now
            _procedure_ended(completed, now)
        reminders_retime_after_discharge(completed, discharged_at=now, now=now)
        careplan_visit_completed(appointment=completed, by=by, now=now)
    return completed


def appointment_mark_no_show(*, appointment: Appointment, by=None) -> Appointment:
    """Only once the arrival time has passed can a patient have failed to come."""
    if timezone.now() < appointment.arrival:
        arrival = appointment.arrival.astimezone(appointment.location.zone)
        raise InvalidTransition(f"The patient is not due until {arrival:%A %B %-d, %H:%M}; "
                                "a no-show can be marked after that.")
    with transaction.atomic():
        missed = _transition(appointment, S.NO_SHOW, by=by)
        careplan_visit_off(appointment=missed, what="missed", by=by)
    return missed
