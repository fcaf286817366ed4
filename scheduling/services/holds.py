"""Holding a picked time for a patient while they fill in the booking form."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.models import Patient, Physician, ProcedureType, Room
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.locks import lock_booking
from scheduling.models import Appointment, SlotHold
from scheduling.services.booking import (
    appointment_book,
    _booking_days,
    _check_room,
    _hold,
    _location_for,
    _validate_grid,
    validate_physician,
    _validate_when,
)

HOLD_MINUTES = 10
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_hold_key() -> str:
    return secrets.token_urlsafe(24)


def slot_hold(
    *,
    key: str,
    procedure_type: ProcedureType,
    physician: Physician,
    start: dt.datetime,
    patient: Patient | None = None,
    room: Room | None = None,
    moving: Appointment | None = None,
    now: dt.datetime | None = None,
) -> SlotHold:
    """Hold the time for `HOLD_MINUTES` under `key`, replacing the key's earlier hold.

    Only a time the engine would offer can be held (minimum notice included); otherwise
    SlotUnavailable, as when someone else holds or has booked it. `room` holds that room (a
    FHIR proposal names its room), or SlotUnavailable when it is taken; without it the first
    free suitable room is held. `moving` is the visit a patient is rescheduling: its own time
    does not count against the new one.
    """
    now = now or timezone.now()
    validate_physician(physician, procedure_type)
    _validate_when(start, now)
    location = _location_for(physician, procedure_type, start, room)
    _validate_grid(start, location)
    _check_room(room, location, procedure_type)
    with transaction.atomic():
        lock_booking(days=_booking_days(location, procedure_type, start))
        SlotHold.objects.filter(expires_at__lte=now - dt.timedelta(hours=1)).delete()  # sweep old ones
        visit, room_id = _hold(location=location, procedure_type=procedure_type, physician=physician,
                               patient=patient, start=start, room=room, now=now, exclude=moving,
                               exclude_hold=key, apply_minimum_notice=True)
        SlotHold.objects.filter(key=key).delete()
        return SlotHold.objects.create(
            key=key, location=location, physician=physician, room_id=room_id, procedure_type=procedure_type,
            procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
            room_start=visit.room_start, room_end=visit.room_end,
            expires_at=now + dt.timedelta(minutes=HOLD_MINUTES),
        )



def appointment_book_held(*, hold_key: str, start: dt.datetime, physician: Physician,
                          now: dt.datetime | None = None, **booking) -> tuple[Appointment, bool]:
    """Book a held time (`appointment_book`'s arguments), the hold named by a client that may
    have kept it too long (FHIR $book): an unknown key, or a hold on another time, is refused,
    not ignored; a lapsed hold still books while the time is free, else SlotUnavailable says the
    hold expired. Returns the visit and whether its hold had lapsed.
    """
    now = now or timezone.now()
    hold = SlotHold.objects.filter(key=hold_key).first() if _KEY.fullmatch(hold_key) else None
    if hold is None:
        raise BookingError(_("That hold is not known (or was used already): hold the time again."), field="hold")
    if hold.procedure_start != start or hold.physician_id != physician.pk:
        raise BookingError(_("That hold is for another time or physician."), field="hold")
    lapsed = hold.expires_at <= now
    with transaction.atomic():
        try:
            appointment = appointment_book(hold_key=hold_key, start=start, physician=physician, now=now, **booking)
        except SlotUnavailable as error:
            if not lapsed:
                raise
            raise SlotUnavailable(_("The hold has expired and the time is no longer free: find another time."),
                                  field="hold") from error
    return appointment, lapsed
