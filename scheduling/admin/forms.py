"""Shared by the calendar's admin pages."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from clinic.models import Location, Physician, Room

# Times offered at once: from the day asked for and the next fourteen, at most sixty of them.
SLOT_SEARCH_DAYS = 14
SLOT_CHOICES_LIMIT = 60


def bound_to_request(form_class, request):
    """The form class with the request passed in: its validation books or orders as the user."""

    class RequestBound(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, request=request, **kwargs)

    return RequestBound


def slot_choices(slots: list, location: Location) -> list[tuple[str, str]]:
    """The engine's slots as select choices, in the location's time zone.

    A choice's value carries the start (with its UTC offset), the physician and the room, so
    that the service is asked for exactly the time that was offered.
    """
    zone = location.zone
    names = {p.pk: p.name for p in Physician.objects.filter(pk__in={s.physician_id for s in slots}).select_related("user")}
    rooms = dict(location.rooms.values_list("pk", "name"))
    return [("", _("Choose a time"))] + [
        (
            f"{slot.start.isoformat()}|{slot.physician_id}|{slot.room_id}",
            f"{slot.start.astimezone(zone):%a %d %b %H:%M} — {names[slot.physician_id]}, {rooms[slot.room_id]} "
            f"(arrive {slot.arrival.astimezone(zone):%H:%M})",
        )
        for slot in slots
    ]


def parse_slot(value: str, location: Location) -> tuple[dt.datetime, Physician, Room] | None:
    """The start, physician and room of a choice from `slot_choices`; None if it is not one."""
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
