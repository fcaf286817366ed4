"""The words of each reminder. Texts name the clinic, the date, the time and the phone, never
the procedure or a diagnosis: a message on a lock screen is read by whoever holds the phone.

Each message is worded in the patient's language, with dates in that language's words."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.phone_numbers import as_written, for_sending
from scheduling import catalog
from scheduling.models import Reminder, ReminderKind
from scheduling.reminders.links import link, order_link
from scheduling.reminders.transports import Message

SUBJECTS = {
    ReminderKind.BOOKING_CONFIRMATION: gettext_lazy("Your visit is booked"),
    ReminderKind.BLOOD_THINNER_HOLD: gettext_lazy("Your blood thinner before your visit"),
    ReminderKind.CONFIRMATION_REQUEST: gettext_lazy("Please confirm your visit"),
    ReminderKind.PREPARATION: gettext_lazy("Getting ready for your visit"),
    ReminderKind.ARRIVAL: gettext_lazy("Your visit today"),
    ReminderKind.PAIN_DIARY: gettext_lazy("Your pain diary"),
    ReminderKind.TRIAL_REMOVAL: gettext_lazy("Your follow-up visit"),
    ReminderKind.CHECK_IN: gettext_lazy("How are you feeling?"),
    ReminderKind.VISIT_MOVED: gettext_lazy("Your visit has moved"),
    ReminderKind.CLINIC_MOVED: gettext_lazy("We had to move your visit"),
    ReminderKind.VISIT_CANCELLED: gettext_lazy("Your visit is cancelled"),
    ReminderKind.WAITLIST_OFFER: gettext_lazy("An earlier time is open"),
    ReminderKind.ORDER_BOOKING_LINK: gettext_lazy("Choose a time for your visit"),
}


# The links a message carries, as the email's buttons, in this order.
ACTIONS = [
    ("confirm_url", gettext_lazy("Confirm my visit")),
    ("manage_url", gettext_lazy("See or change my visit")),
    ("reschedule_url", gettext_lazy("Change the time")),
    ("cancel_url", gettext_lazy("Cancel my visit")),
    ("book_url", gettext_lazy("Book another time")),
    ("diary_url", gettext_lazy("Open my pain diary")),
]


@lru_cache(maxsize=4096)
def _formatted(value: dt.date | dt.datetime, format_string: str, language: str) -> str:
    # A dispatch run words hundreds of messages about the same few days and times; formatting
    # a date in the patient's language is the costliest part of wording one. Values are local
    # wall-clock times (aware datetimes of different zones at one instant compare equal).
    return date_format(value, format_string)


def _time(instant: dt.datetime) -> str:
    return _formatted(instant.replace(tzinfo=None), _("g:i A"), translation.get_language())


def _day(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()  # already local: the cache must not see two zones' instants as equal
    return _formatted(value, _("l F j"), translation.get_language())


def render(reminder: Reminder) -> Message:
    patient = reminder.appointment.patient if reminder.appointment_id else reminder.order.patient
    with translation.override(patient.language or settings.LANGUAGE_CODE):
        if reminder.order_id and not reminder.appointment_id:
            return _render_order_link(reminder)
        return _render(reminder)


def _render_order_link(reminder: Reminder) -> Message:
    """The link to book an ordered procedure: it names the clinic, never the procedure."""
    order, patient = reminder.order, reminder.order.patient
    locations = catalog.current().locations
    location = locations.get(reminder.context.get("location")) or min(
        (each for each in locations.values() if each.is_active), key=lambda each: each.pk)
    context = {"clinic": location.name, "phone": as_written(location.phone), "address": location.full_address,
               "book_url": order_link(order)}
    body = " ".join(render_to_string("reminders/order_booking_link.txt", context).split())
    subject = str(SUBJECTS[reminder.kind])
    html = ""
    if reminder.channel == "email":
        html = render_to_string("reminders/email.html", {
            **context, "subject": subject, "body": body, "language": translation.get_language(),
            "actions": [(gettext_lazy("Choose a time"), context["book_url"])]})
    return Message(to=for_sending(patient.phone) if reminder.channel == "sms" else patient.email, body=body,
                   idempotency_key=reminder.idempotency_key, subject=f"{location.name}: {subject}", html=html)


def _render(reminder: Reminder) -> Message:
    appointment = reminder.appointment
    location, patient, procedure_type = appointment.location, appointment.patient, appointment.procedure_type
    zone = location.zone
    start = appointment.procedure_start.astimezone(zone)
    visit_day = start.date()
    sending_day = timezone.now().astimezone(zone).date()
    # Quiet hours can move a same-day message to the evening before: say which day it is.
    relative_day = {0: _("today"), 1: _("tomorrow")}.get(
        (visit_day - sending_day).days, _("on %(day)s") % {"day": _day(visit_day)})
    context = {
        "relative_day": relative_day,
        "clinic": location.name,
        "phone": as_written(location.phone),
        "address": location.full_address,
        "day": _day(start),
        "start": _time(start),
        "arrival": _time(appointment.arrival.astimezone(zone)),
        "fasting_hours": procedure_type.fasting_hours,
        "driver": procedure_type.driver_required,
        "last_dose": "",
    }
    if reminder.kind == ReminderKind.CONFIRMATION_REQUEST:
        context["confirm_url"] = link(appointment, "confirm")
        context["cancel_url"] = link(appointment, "cancel")
        context["reschedule_url"] = link(appointment, "manage", "visit-reschedule")
    if reminder.kind in (ReminderKind.BOOKING_CONFIRMATION, ReminderKind.VISIT_MOVED, ReminderKind.CLINIC_MOVED,
                         ReminderKind.WAITLIST_OFFER):
        context["manage_url"] = link(appointment, "manage")
    if reminder.kind == ReminderKind.PAIN_DIARY:
        context["diary_url"] = link(appointment, "diary")
    if reminder.kind == ReminderKind.VISIT_CANCELLED:
        context["book_url"] = settings.SITE_URL.rstrip("/") + reverse("book-start")
    if reminder.context.get("start"):
        offered = dt.datetime.fromisoformat(reminder.context["start"]).astimezone(zone)
        context["offer_day"], context["offer_time"] = _day(offered), _time(offered)
    if reminder.context.get("last_dose"):
        last_dose = dt.date.fromisoformat(reminder.context["last_dose"])
        context["last_dose"] = _day(last_dose)
        # Booked after the last-dose day: the message cannot say "today is the last day".
        context["hold_passed"] = last_dose < sending_day
    body = " ".join(render_to_string(f"reminders/{reminder.kind}.txt", context).split())
    to = for_sending(patient.phone) if reminder.channel == "sms" else patient.email
    subject = str(SUBJECTS[reminder.kind])
    if reminder.kind == ReminderKind.ARRIVAL:
        subject = _("Your visit %(day)s") % {"day": relative_day}
    html = ""
    if reminder.channel == "email":
        actions = [(label, context[name]) for name, label in ACTIONS if context.get(name)]
        html = render_to_string("reminders/email.html", {**context, "subject": subject, "body": body,
                                                         "actions": actions,
                                                         "language": translation.get_language()})
    return Message(to=to, body=body, idempotency_key=reminder.idempotency_key,
                   subject=f"{location.name}: {subject}", html=html)
