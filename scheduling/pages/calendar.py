"""The "add to calendar" file for a visit (RFC 5545, with the location's time zone)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from icalendar import Event

from scheduling.ical import add_time_zones, new_calendar
from scheduling.models import Appointment


def visit_calendar(appointment: Appointment, *, manage_url: str) -> bytes:
    """One event from arrival to discharge, in the clinic's zone. Its summary names the clinic,
    never the procedure: calendars are shared and shown on lock screens."""
    location, zone = appointment.location, appointment.location.zone
    calendar = new_calendar("Patient visit")
    event = Event()
    event.add("uid", f"visit-{appointment.pk}@interval")
    event.add("dtstamp", timezone.now().astimezone(dt.timezone.utc))
    event.add("dtstart", appointment.arrival.astimezone(zone))
    event.add("dtend", appointment.discharge.astimezone(zone))
    event.add("summary", _("Visit at %(clinic)s") % {"clinic": location.name})
    event.add("location", location.full_address)
    start = appointment.procedure_start.astimezone(zone)
    event.add("description", "\n".join([
        _("Please arrive at %(arrival)s; your visit starts at %(start)s.") % {
            "arrival": date_format(appointment.arrival.astimezone(zone), _("g:i A")),
            "start": date_format(start, _("g:i A"))},
        _("Questions: %(phone)s") % {"phone": location.phone},
        _("See or change your visit: %(url)s") % {"url": manage_url},
    ]))
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    calendar.add_component(event)
    day = appointment.arrival.astimezone(zone).date()
    add_time_zones(calendar, first=day, last=day)
    return calendar.to_ical()
