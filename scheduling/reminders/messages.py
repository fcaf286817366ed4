"""The words of each reminder. Texts name the clinic, the date, the time and the phone, never
the procedure or a diagnosis: a message on a lock screen is read by whoever holds the phone."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Reminder, ReminderKind
from scheduling.reminders.links import link
from scheduling.reminders.transports import Message

SUBJECTS = {
    ReminderKind.BOOKING_CONFIRMATION: "Your visit is booked",
    ReminderKind.BLOOD_THINNER_HOLD: "Your blood thinner before your visit",
    ReminderKind.CONFIRMATION_REQUEST: "Please confirm your visit",
    ReminderKind.PREPARATION: "Getting ready for your visit tomorrow",
    ReminderKind.ARRIVAL: "Your visit today",
    ReminderKind.PAIN_DIARY: "Your pain diary",
    ReminderKind.TRIAL_REMOVAL: "Your follow-up visit",
    ReminderKind.CHECK_IN: "How are you feeling?",
    ReminderKind.VISIT_MOVED: "Your visit has moved",
    ReminderKind.VISIT_CANCELLED: "Your visit is cancelled",
    ReminderKind.WAITLIST_OFFER: "An earlier time is open",
}


# The links a message carries, as the email's buttons, in this order.
ACTIONS = [
    ("confirm_url", "Confirm my visit"),
    ("manage_url", "See or change my visit"),
    ("reschedule_url", "Change the time"),
    ("cancel_url", "Cancel my visit"),
    ("book_url", "Book another time"),
]


def _time(instant: dt.datetime) -> str:
    return instant.strftime("%-I:%M %p")


def render(reminder: Reminder) -> Message:
    appointment = reminder.appointment
    location, patient, procedure_type = appointment.location, appointment.patient, appointment.procedure_type
    zone = location.zone
    visit_day = appointment.procedure_start.astimezone(zone).date()
    sending_day = timezone.now().astimezone(zone).date()
    # Quiet hours can move a same-day message to the evening before: say which day it is.
    relative_day = {0: "today", 1: "tomorrow"}.get((visit_day - sending_day).days, f"on {visit_day:%A %B %-d}")
    context = {
        "relative_day": relative_day,
        "clinic": location.name,
        "phone": location.phone,
        "address": location.full_address,
        "day": f"{appointment.procedure_start.astimezone(zone):%A %B %-d}",
        "start": _time(appointment.procedure_start.astimezone(zone)),
        "arrival": _time(appointment.arrival.astimezone(zone)),
        "fasting_hours": procedure_type.fasting_hours,
        "driver": procedure_type.driver_required,
        "last_dose": "",
    }
    if reminder.kind == ReminderKind.CONFIRMATION_REQUEST:
        context["confirm_url"] = link(appointment, "confirm")
        context["cancel_url"] = link(appointment, "cancel")
        context["reschedule_url"] = link(appointment, "manage", "visit-reschedule")
    if reminder.kind in (ReminderKind.BOOKING_CONFIRMATION, ReminderKind.VISIT_MOVED, ReminderKind.WAITLIST_OFFER):
        context["manage_url"] = link(appointment, "manage")
    if reminder.kind == ReminderKind.VISIT_CANCELLED:
        context["book_url"] = settings.SITE_URL.rstrip("/") + reverse("book-start")
    if reminder.context.get("start"):
        offered = dt.datetime.fromisoformat(reminder.context["start"]).astimezone(zone)
        context["offer_day"], context["offer_time"] = f"{offered:%A %B %-d}", _time(offered)
    if reminder.context.get("last_dose"):
        context["last_dose"] = f"{dt.date.fromisoformat(reminder.context['last_dose']):%A %B %-d}"
    body = " ".join(render_to_string(f"reminders/{reminder.kind}.txt", context).split())
    to = patient.phone if reminder.channel == "sms" else patient.email
    subject = SUBJECTS[reminder.kind]
    if reminder.kind == ReminderKind.ARRIVAL:
        subject = f"Your visit {relative_day}"
    html = ""
    if reminder.channel == "email":
        actions = [(label, context[name]) for name, label in ACTIONS if context.get(name)]
        html = render_to_string("reminders/email.html", {**context, "subject": subject, "body": body,
                                                         "actions": actions})
    return Message(to=to, body=body, idempotency_key=reminder.idempotency_key,
                   subject=f"{location.name}: {subject}", html=html)
