"""Writing a visit's reminder rows, always inside the transaction that books, moves or
cancels it: a reminder exists exactly when its visit does."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Q

from clinic.models import Channel, Location, Patient
from clinic.models.physicians import default_zone
from clinic.rows import insert
from scheduling import catalog
from scheduling.models import (BEFORE_VISIT_KINDS, Anchor, Appointment, ProcedureOrder, Reminder, ReminderKind,
                               ReminderStatus)
from scheduling.pathways.holds import blood_thinner_holds
from scheduling.reminders.plan import Step, Visit, outside_quiet_hours, plan

# Why a pending reminder was not sent, on its row for the staff.
REPLANNED = "Not sent: the visit moved, and its reminders were planned again for the new time."
HOLDS_REPLANNED = "Not sent: the blood-thinner hold was planned again."


def channel_for(patient: Patient) -> str | None:
    """The patient's preferred channel when they consented to it, else the other one they
    consented to, else None: no message without consent."""
    allowed = patient.consented_channels()
    if patient.preferred_channel in allowed:
        return patient.preferred_channel
    return allowed[0] if allowed else None


def _steps(appointment: Appointment) -> list[Step]:
    return [Step(step.kind, step.anchor, step.days, step.minutes, step.at_time)
            for step in catalog.current().reminder_steps.get(appointment.procedure_type_id, ())]


def reminders_schedule(appointment: Appointment, *, now: dt.datetime, booked: bool) -> list[Reminder]:
    """Replace the visit's pending reminders with those its plan now calls for.

    `booked` is true for a new booking (its confirmation goes out); a moved visit gets the
    rest of its plan at the new times, and keeps a confirmation not sent yet (messages are
    worded when sent, so it gives the new time).
    """
    pending = Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING)
    if not booked:
        pending = pending.exclude(kind=ReminderKind.BOOKING_CONFIRMATION)
    pending.update(status=ReminderStatus.CANCELLED, last_error=REPLANNED)
    if channel_for(appointment.patient) is None:
        return []
    return _write_plan(appointment, now=now, booked=booked, holds_told=_holds_told(appointment))


def reminders_replan_holds(appointment: Appointment, *, now: dt.datetime) -> list[Reminder]:
    """Replace the visit's pending blood-thinner hold messages with those its plan now calls for
    (the hold table, the patient's blood thinners or the procedure's bleeding risk changed); its
    other reminders, a move's or a waitlist offer's message among them, stay as they are."""
    Reminder.objects.filter(appointment=appointment, kind=ReminderKind.BLOOD_THINNER_HOLD,
                            status=ReminderStatus.PENDING).update(status=ReminderStatus.CANCELLED,
                                                                  last_error=HOLDS_REPLANNED)
    if channel_for(appointment.patient) is None:
        return []
    return _write_plan(appointment, now=now, booked=False, holds_told=_holds_told(appointment),
                       kinds={ReminderKind.BLOOD_THINNER_HOLD})


def _holds_told(appointment: Appointment) -> set[tuple[str, str]]:
    """A hold message already sent for the same drug and last-dose day is not repeated when the
    visit moves within the day (a passed hold reminder is otherwise due again at once)."""
    return {(r.context.get("drug"), r.context.get("last_dose")) for r in Reminder.objects.filter(
        appointment=appointment, kind=ReminderKind.BLOOD_THINNER_HOLD,
        status__in=[ReminderStatus.SENDING, ReminderStatus.SENT]).only("context")}


def reminders_schedule_new(appointment: Appointment, *, now: dt.datetime) -> list[Reminder]:
    """The reminders of a visit just booked: `reminders_schedule` for a visit that has none yet
    to replace or to have been told."""
    return _write_plan(appointment, now=now, booked=True, holds_told=set())


def _write_plan(appointment: Appointment, *, now: dt.datetime, booked: bool,
                holds_told: set[tuple[str, str]], kinds: set[str] | None = None) -> list[Reminder]:
    """The visit's planned reminders written as rows (only `kinds`, when given)."""
    channel = channel_for(appointment.patient)
    if channel is None:
        return []
    zone = appointment.location.zone
    day = appointment.procedure_start.astimezone(zone).date()
    holds = blood_thinner_holds(patient=appointment.patient, procedure_type=appointment.procedure_type,
                                procedure_day=day)
    visit = Visit(booked_at=now, arrival=appointment.arrival, start=appointment.procedure_start,
                  discharge=appointment.discharge, zone=zone, end=appointment.procedure_end,
                  hold_last_doses={hold.drug: hold.last_dose for hold in holds})
    steps = [step for step in _steps(appointment) if booked or step.anchor != "booked"]
    patient = appointment.patient
    email_allowed = patient.email_consent and bool(patient.email)
    rows = []
    for item in plan(steps, visit, sms=channel == Channel.SMS, now=now):
        if kinds is not None and item.kind not in kinds:
            continue
        if item.kind == ReminderKind.BLOOD_THINNER_HOLD and (
                item.context.get("drug"), item.context.get("last_dose")) in holds_told:
            continue
        item_channel, due = channel, item.due_at
        if item.kind == ReminderKind.BOOKING_CONFIRMATION and channel == Channel.SMS and due > now and email_allowed:
            # Booked at night: the confirmation goes by email at once rather than as a text at 08:00.
            item_channel, due = Channel.EMAIL, now
        rows.append(Reminder(appointment=appointment, kind=item.kind, channel=item_channel, due_at=due,
                             next_attempt_at=due, context=item.context,
                             idempotency_key=reminder_key(appointment, item.kind)))
    return insert(rows)


def reminders_retime_after_discharge(appointment: Appointment, *, discharged_at: dt.datetime,
                                     now: dt.datetime) -> list[Reminder]:
    """Time the visit's pending after-discharge reminders from when the patient really left,
    not from the planned discharge: a visit runs late or early."""
    visit = Visit(booked_at=now, arrival=appointment.arrival, start=appointment.procedure_start,
                  discharge=discharged_at, zone=appointment.location.zone, end=appointment.procedure_end)
    return _retime(appointment, Anchor.AFTER_DISCHARGE, visit, now=now)


def reminders_retime_after_procedure_end(appointment: Appointment, *, ended_at: dt.datetime,
                                         now: dt.datetime) -> list[Reminder]:
    """Time the visit's pending reminders counted from the procedure's end (the pain-diary
    prompts) from when it really ended: a diagnostic block's diary asks for the pain 30
    minutes, then every hour, after the injection, and a procedure runs late or early."""
    visit = Visit(booked_at=now, arrival=appointment.arrival, start=appointment.procedure_start,
                  discharge=appointment.discharge, zone=appointment.location.zone, end=ended_at)
    return _retime(appointment, Anchor.AFTER_PROCEDURE_END, visit, now=now)


def _retime(appointment: Appointment, anchor: str, visit: Visit, *, now: dt.datetime) -> list[Reminder]:
    """Re-plan the pending reminders of `anchor`'s steps for `visit`'s real times. Prompts
    already sent are not sent again; the ones still to come are re-planned."""
    steps = [step for step in _steps(appointment) if step.anchor == anchor]
    if not steps:
        return []
    kinds = {step.kind for step in steps}
    ours = Reminder.objects.filter(appointment=appointment, kind__in=kinds)
    already_out = ours.filter(status__in=[ReminderStatus.SENDING, ReminderStatus.SENT]).count()
    pending = ours.filter(status=ReminderStatus.PENDING)
    if not pending.exists():
        return []
    pending.update(status=ReminderStatus.CANCELLED)
    channel = channel_for(appointment.patient)
    if channel is None:
        return []
    planned = plan(steps, visit, sms=channel == Channel.SMS, now=now)[already_out:]
    return insert([
        Reminder(appointment=appointment, kind=item.kind, channel=channel, due_at=item.due_at,
                 next_attempt_at=item.due_at, context=item.context,
                 idempotency_key=reminder_key(appointment, item.kind))
        for item in planned])


def reminder_key(subject: Appointment | ProcedureOrder, kind: str) -> str:
    """A reminder's idempotency key, sent with it to the provider: its visit (or order) and kind,
    and a random part, so a provider that honours it drops a repeat of this one message only."""
    if isinstance(subject, ProcedureOrder):
        return f"order-{subject.pk}:{uuid.uuid4().hex}"
    return f"{subject.pk}:{kind}:{uuid.uuid4().hex}"


def channel_now(patient, *, zone, now: dt.datetime, deadline: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The channel and due time of a message meant to go at once (None without consent): a text
    keeps quiet hours, unless the patient takes email too, which can go now (an earlier time
    offered from the waitlist goes to the first to answer; a booking link is best read today)."""
    channel = channel_for(patient)
    if channel != Channel.SMS:
        return None if channel is None else (channel, now)
    due = outside_quiet_hours(now, zone, deadline=deadline)
    if due > now and patient.email_consent and patient.email:
        return Channel.EMAIL, now
    return channel, due


def reminders_notify(appointment: Appointment, kind: str, *, now: dt.datetime,
                     context: dict | None = None) -> Reminder | None:
    """A message due at once: a change the clinic made (the visit moved or was cancelled), or
    an earlier time offered from the waitlist."""
    chosen = channel_now(appointment.patient, zone=appointment.location.zone, now=now,
                         deadline=max(appointment.arrival, now))
    if chosen is None:
        return None
    channel, due = chosen
    return Reminder.objects.create(appointment=appointment, kind=kind, channel=channel, due_at=due,
                                   next_attempt_at=due, context=context or {},
                                   idempotency_key=reminder_key(appointment, kind))


def order_link_send(order: ProcedureOrder, *, location: Location, now: dt.datetime) -> Reminder | None:
    """Queue the message with the link to book an ordered procedure (None without consent).
    `location` is the site whose name and phone the message gives."""
    chosen = channel_now(order.patient, zone=location.zone, now=now, deadline=now + dt.timedelta(days=1))
    if chosen is None:
        return None
    channel, due = chosen
    return Reminder.objects.create(order=order, kind=ReminderKind.ORDER_BOOKING_LINK, channel=channel, due_at=due,
                                   next_attempt_at=due, context={"location": location.pk},
                                   idempotency_key=reminder_key(order, ReminderKind.ORDER_BOOKING_LINK))


def reminders_follow_channel(patient: Patient, *, now: dt.datetime) -> int:
    """Move the patient's messages waiting to go onto the channel they take now (their consent,
    number, address or preferred channel changed): one on a channel they no longer agreed to,
    and one due later on a channel other than their choice. An email chosen over a text at
    night, due at once, stays as it is. Returns how many moved; with no channel left, none:
    dispatch cancels them, saying why."""
    channel = channel_for(patient)
    if channel is None:
        return 0
    allowed = patient.consented_channels()
    waiting = (Reminder.objects.select_for_update(of=("self",))
               .filter(Q(appointment__patient=patient) | Q(order__patient=patient), status=ReminderStatus.PENDING)
               .exclude(channel=channel)
               .filter(~Q(channel__in=allowed) | Q(next_attempt_at__gt=now))
               .select_related("appointment", "order"))
    moved = [reminder for reminder in waiting if reminder_move(reminder, channel, now=now)]
    Reminder.objects.bulk_update(moved, ["channel", "next_attempt_at", "attempts", "last_error"])
    return len(moved)


def reminder_move(reminder: Reminder, channel: str, *, now: dt.datetime) -> bool:
    """Put a message not sent yet on `channel` (unsaved), due when it was, or now if that has
    passed. A text keeps quiet hours, before the visit's arrival (an after-visit prompt within
    two days, an order's link within one); False, and nothing changed, when it cannot: the
    arrival comes before the quiet hours end. Its attempts start again on the new channel."""
    due = max(reminder.next_attempt_at, now)
    if channel == Channel.SMS:
        appointment = reminder.appointment
        if appointment is None:  # an order's link: the site it names
            site = _location(reminder.context.get("location"))
            zone = site.zone if site is not None else default_zone()
            deadline = due + dt.timedelta(days=1)
        else:
            zone = (_location(appointment.location_id) or appointment.location).zone
            deadline = (max(appointment.arrival, due) if reminder.kind in BEFORE_VISIT_KINDS
                        else due + dt.timedelta(days=2))
        due = outside_quiet_hours(due, zone, deadline=deadline)
        if due < now:  # only the evening before would do, and it has passed
            return False
    reminder.channel, reminder.next_attempt_at, reminder.attempts, reminder.last_error = channel, due, 0, ""
    return True


def _location(pk) -> Location | None:
    if pk is None:
        return None
    return catalog.current().locations.get(pk) or Location.objects.filter(pk=pk).first()


def reminders_cancel(appointment: Appointment) -> int:
    """No reminder goes out for a visit that is cancelled or moved away from its time."""
    return Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING).exclude(
        kind=ReminderKind.VISIT_CANCELLED).update(status=ReminderStatus.CANCELLED)


__all__ = ["ReminderKind", "channel_for", "order_link_send", "reminder_move", "reminders_cancel",
           "reminders_follow_channel", "reminders_notify",
           "reminders_retime_after_discharge", "reminders_retime_after_procedure_end", "reminders_schedule",
           "reminders_schedule_new"]
