"""Shared by the calendar's admin pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from clinic.models import Location, Physician, Room
from scheduling.bookable import Time
from scheduling.models import Appointment


class PatientPicker(AutocompleteSelect):
    """The admin's patient autocomplete, which shows a malformed id from a query string as
    nothing chosen (the field says it is not valid) instead of failing to render."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [choice for choice in value if str(choice).isdigit()], attr)


def use_patient_picker(field: forms.ModelChoiceField, admin_site) -> None:
    """Make a form's patient field the admin's autocomplete (searching as the patient list does:
    name, phone in any style, date of birth) instead of a list of every patient."""
    field.widget = PatientPicker(Appointment._meta.get_field("patient"), admin_site)
    field.widget.choices = field.choices


def bound_to_request(form_class, request):
    """The form class with the request passed in: its validation books or orders as the user."""

    class RequestBound(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, request=request, **kwargs)

    return RequestBound


def time_choices(times: list[Time], location: Location) -> list[tuple[str, str]]:
    """The offered times as select choices, in the location's time zone."""
    if not times:
        return []
    zone = location.zone
    return [("", _("Choose a time"))] + [
        (time.value, f"{time.slot.start.astimezone(zone):%a %d %b %H:%M} — {time.physician}, {time.room} "
                     f"(arrive {time.slot.arrival.astimezone(zone):%H:%M})"
                     + (f" — {_('inside the minimum notice')}" if time.inside_notice else "")
                     + (f" — {_('the rules refuse this day')}" if time.refused else ""))
        for time in times
    ]


def check_day(day: dt.date, *, location: Location, today: dt.date) -> dt.date:
    """The day to search times from: today or later, within the location's booking horizon."""
    if day < today:
        raise forms.ValidationError(_("Choose today or a later day."))
    horizon = location.booking_horizon_days
    if day > today + dt.timedelta(days=horizon):
        raise forms.ValidationError(_("The clinic books at most %(days)s days ahead."), params={"days": horizon})
    return day


def parse_slot(value: str, location: Location) -> tuple[dt.datetime, Physician, Room] | None:
    """The start, physician and room of an offered time's value (`bookable.slot_value`); None if
    it is not one."""
    try:
        start_text, physician_id, room_id = value.split("|")
        start = dt.datetime.fromisoformat(start_text)
        physician = Physician.objects.select_related("user").get(pk=int(physician_id))
        room = location.rooms.get(pk=int(room_id))
    except (ValueError, Physician.DoesNotExist, Room.DoesNotExist):
        return None
    if start.tzinfo is None:
        return None
    return start, physician, room
