"""Moving visits that a change of plans stranded to the nearest time the engine offers.

"Nearest" is the offered start closest to the visit's own, never on an earlier day than the
visit's (a patient holding a blood thinner or arranging a driver has planned for that day),
with the visit's own physician first and, only if they have no time up to the booking horizon,
another physician credentialed for the procedure, at the same location. The times come from
`available_slots`, so the patient's other visits, other patients' holds, minimum notice and
the recovery bays are respected; days the pathway rules refuse are skipped; and the move itself
goes through `appointment_reschedule`, which checks everything again in its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling import availability as engine
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.models import Appointment, Reminder, ReminderKind, ReminderStatus
from scheduling.pathways.bookable_days import bookable_days
from scheduling.reminders.outbox import channel_for, reminders_notify
from scheduling.selectors import available_slots
from scheduling.services.booking import appointment_reschedule
from scheduling.stranded import upcoming_until

SEARCH_CHUNK_DAYS = 7
ATTEMPTS = 3  # another booking may take the nearest time between the search and the move


@dataclass(frozen=True)
class ReplanResult:
    """What happened to one visit, in the front desk's words."""

    appointment: Appointment
    moved: bool
    message: str


def nearest_offered_slot(*, appointment: Appointment, now: dt.datetime) -> engine.Slot | None:
    """The offered time nearest the visit's own (see the module's docstring), or None."""
    location, procedure_type = appointment.location, appointment.procedure_type
    zone = location.zone
    original = appointment.procedure_start
    first_day = max(original.astimezone(zone).date(), now.astimezone(zone).date())
    last_day = upcoming_until(location, now).astimezone(zone).date()
    days = bookable_days(patient=appointment.patient, procedure_type=procedure_type, location=location, now=now,
                         by_patient=False, rebooking=appointment, first_day=first_day, last_day=last_day)
    physician = appointment.physician
    own_physician_can = physician.is_active and physician.procedure_types.filter(pk=procedure_type.pk).exists()
    for candidate in ([physician] if own_physician_can else []) + [None]:
        day = first_day
        while day <= last_day:
            chunk_end = min(day + dt.timedelta(days=SEARCH_CHUNK_DAYS - 1), last_day)
            slots = [
                slot for slot in available_slots(
                    procedure_type=procedure_type, location=location, first_day=day, last_day=chunk_end, now=now,
                    physician=candidate, patient=appointment.patient, exclude_appointment=appointment,
                )
                if days.allows(slot.start.astimezone(zone).date())
            ]
            if slots:
                return min(slots, key=lambda slot: (abs(slot.start - original), slot.start, slot.physician_id))
            day = chunk_end + dt.timedelta(days=1)
    return None


def _tell_patient_moved(appointment: Appointment, *, now: dt.datetime) -> Reminder | None:
    """The clinic moved the visit: the patient gets its notice, with their link to see or change it.

    It takes the place of the plain "visit moved" notice the reschedule may have written, and
    of a booking confirmation not sent yet, so the patient hears once, of the new time, and
    that it was the clinic's doing."""
    Reminder.objects.filter(
        appointment=appointment, status=ReminderStatus.PENDING,
        kind__in=[ReminderKind.VISIT_MOVED, ReminderKind.CLINIC_MOVED, ReminderKind.BOOKING_CONFIRMATION],
    ).update(status=ReminderStatus.CANCELLED)
    return reminders_notify(appointment, ReminderKind.CLINIC_MOVED, now=now)


def _told(appointment: Appointment) -> str:
    if channel_for(appointment.patient) is None:
        return _("The patient has no consent to messages: call them.")
    return _("The patient is told, with the link to see or change the visit.")


def appointment_move_to_nearest(*, appointment: Appointment, by=None, now: dt.datetime | None = None) -> ReplanResult:
    """Move one visit to the nearest offered time, in one transaction, and tell the patient.

    Never raises for a visit that cannot be moved: the result says why, and the visit stays
    where it was."""
    now = now or timezone.now()
    zone = appointment.location.zone
    for _attempt in range(ATTEMPTS):
        slot = nearest_offered_slot(appointment=appointment, now=now)
        if slot is None:
            return ReplanResult(appointment, False, _(
                "Could not be moved: no time is offered for it at %(location)s up to %(horizon)s, with "
                "%(physician)s or another credentialed physician.") % {
                "location": appointment.location.name, "physician": appointment.physician.name,
                "horizon": f"{upcoming_until(appointment.location, now).astimezone(zone):%a %d %b %Y}"})
        physician = appointment.physician if slot.physician_id == appointment.physician_id else \
            type(appointment.physician).objects.select_related("user").get(pk=slot.physician_id)
        room = appointment.location.rooms.get(pk=slot.room_id)
        try:
            with transaction.atomic():
                moved = appointment_reschedule(appointment=appointment, start=slot.start, physician=physician,
                                               room=room, by=by, now=now)
                _tell_patient_moved(moved, now=now)
        except SlotUnavailable:
            appointment.refresh_from_db()  # taken meanwhile: look again
            continue
        except BookingError as error:
            appointment.refresh_from_db()
            return ReplanResult(appointment, False, _("Could not be moved: %(why)s") % {"why": error.message})
        start = moved.procedure_start.astimezone(zone)
        return ReplanResult(moved, True, _("Moved to %(when)s with %(physician)s in %(room)s. %(told)s") % {
            "when": f"{start:%a %d %b %Y %H:%M %Z}", "physician": moved.physician.name,
            "room": moved.room.name, "told": _told(moved)})
    return ReplanResult(appointment, False, _("Could not be moved: the times found were taken meanwhile; try again."))


def appointments_move_to_nearest(*, appointments, by=None, now: dt.datetime | None = None) -> list[ReplanResult]:
    """Move each visit in turn (earliest first), one transaction each: one that cannot be moved
    keeps its time and does not hold the others back."""
    now = now or timezone.now()
    ordered = sorted(appointments, key=lambda appointment: (appointment.procedure_start, appointment.pk))
    return [appointment_move_to_nearest(appointment=appointment, by=by, now=now) for appointment in ordered]
