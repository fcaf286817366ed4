"""Booking, rescheduling and cancelling: each one transaction.

The guarantee against double booking sits in the database. On PostgreSQL the location's days
the visit touches are locked (recovery bays are a pooled capacity that no constraint can
express; scheduling/locks.py) and exclusion constraints refuse overlapping physician, room and
patient ranges even if two transactions race past the checks here. On SQLite every write
transaction starts with BEGIN IMMEDIATE (settings), so the check and the insert below run one
booking at a time.

The check reads only what the visit's own span touches (scheduling/visit_span.py) and asks the
engine's own question about it: a booking costs a fixed, small number of statements however
full the calendar is.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import metrics, rows
from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine
from scheduling import catalog
from scheduling.errors import BookingError, NotEligible, SlotHeld, SlotUnavailable, TooSoon
from scheduling.locks import lock_booking, visit_days
from scheduling.models import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    Appointment,
    AppointmentStatus,
    EligibilityOverride,
    OrderStatus,
    ProcedureOrder,
    ReminderKind,
    ReminderStatus,
    SlotHold,
)
from scheduling.pathways.bookable_days import bookable_days, horizon_day, patient_notice_until
from scheduling.pathways.eligibility import patient_visits
from scheduling.pathways.overrides import may_override_rules
from scheduling.pathways.rules import Eligibility, Unmet
from scheduling.reminders.outbox import reminders_notify, reminders_schedule, reminders_schedule_new
from scheduling.selectors import availability_request, capable_room_ids, segments_of
from scheduling.services.careplan_progress import careplan_visit_booked, careplan_visit_moved
from scheduling.visit_span import room_capability_ids, visit_request
from scheduling.webhooks.events import EventKind, appointment_event, appointment_moved_event

EXCLUSION_VIOLATION = "23P01"



def _is_double_booking(error: IntegrityError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION or "no_overlap" in str(error)


def _validate_when(start: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(start):
        raise BookingError("Give the start time with its UTC offset, e.g. 2026-12-01T09:00:00-06:00.", field="start")
    if start < now:
        raise BookingError("That time is in the past.", field="start")


def _validate_grid(start: dt.datetime, location: Location) -> None:
    if not engine.is_on_grid(start, location.zone, location.slot_interval_minutes):
        raise BookingError(
            f"Procedures start on the clinic's {location.slot_interval_minutes}-minute grid "
            f"(e.g. 09:00, 09:{location.slot_interval_minutes:02d}); that time is between two starts.",
            field="start",
        )


def validate_physician(physician: Physician, procedure_type: ProcedureType) -> None:
    """A BookingError (field "physician") unless the physician takes appointments for the type."""
    if not physician.is_active:
        raise BookingError(f"{physician} is not taking appointments.", field="physician")
    # `procedure_type_ids` when the physician was read with it (the API reads it so).
    credentialed = getattr(physician, "procedure_type_ids", None)
    if credentialed is not None:
        credentialed = str(procedure_type.pk) in credentialed.split(",")
    else:
        credentialed = physician.procedure_types.filter(pk=procedure_type.pk).exists()
    if not credentialed:
        raise BookingError(f"{physician} is not credentialed for {procedure_type.name}.", field="physician")


def _location_for(physician: Physician, procedure_type: ProcedureType, start: dt.datetime, room: Room | None) -> Location:
    """Where the visit takes place: the room's location, else the one of the physician's block at that time."""
    if room is not None:
        return room.location
    held = catalog.current()  # the blocks and locations held in memory
    for location_id, blocks in held.schedule_blocks.items():
        location = held.locations.get(location_id)
        if location is None:  # added after the catalog read its locations: read again next time
            continue
        local = start.astimezone(location.zone)
        for block in blocks:
            if (
                block.physician_id == physician.pk
                and block.kind == procedure_type.schedule_kind
                and block.weekday == local.weekday()
                and block.start_time <= local.time() < block.end_time
                and block.valid_from <= local.date()
                and (block.valid_until is None or local.date() <= block.valid_until)
            ):
                return location
    _refuse_if_past_the_horizon(physician, start, held)
    raise SlotUnavailable(f"{physician} has no {procedure_type.get_schedule_kind_display().lower()} block at that time.")


def _refuse_if_past_the_horizon(physician: Physician, start: dt.datetime, held) -> None:
    """A time after the last bookable day of every location the physician works at is refused for
    that: its schedule blocks may simply not reach so far."""
    now = timezone.now()
    locations = [held.locations[location_id] for location_id, blocks in held.schedule_blocks.items()
                 if location_id in held.locations and any(block.physician_id == physician.pk for block in blocks)]
    lasts = {location: horizon_day(location, now) for location in locations}
    if lasts and all(start.astimezone(location.zone).date() > last for location, last in lasts.items()):
        raise SlotUnavailable(engine.beyond_the_horizon(max(lasts.values())), field="start")


def _order_and_eligibility(*, order: ProcedureOrder | None, patient: Patient, procedure_type: ProcedureType,
                           location: Location, start: dt.datetime, now: dt.datetime, by_patient: bool,
                           rebooking: Appointment | None = None) -> tuple[ProcedureOrder | None, Eligibility]:
    """The order the booking uses and what the rules say about it on the procedure's day: the
    day's verdict from `bookable_days`, the one answer the pages and the API offer days by.

    Without a given order, the patient's oldest bookable order they are eligible with is used.
    The patient's visits are read once, for both the order's other bookings and the rules'
    history; inside the booking's lock, so a second booking of the same order waits and sees it.
    """
    if order is not None and rebooking is None:
        if order.patient_id != patient.pk or order.procedure_type_id != procedure_type.pk:
            raise BookingError("That order is for another patient or procedure.", field="order")
        if order.status != OrderStatus.OPEN:
            raise NotEligible(f"That order is {order.get_status_display().lower()}, not open.")
        # The patient's visits, read once: the order's bookings, and the rules' history below.
        visits = patient_visits(patient)
        if any(visit.order_id == order.pk and visit.status in ACTIVE_STATUSES for visit in visits):
            raise NotEligible("That order is already booked; reschedule that appointment instead.")
    else:
        visits = None
    # The notice counts to the patient's arrival, as the search that offers the times does.
    if by_patient and start - dt.timedelta(minutes=procedure_type.prep_minutes) < patient_notice_until(location, now):
        raise TooSoon(_too_soon_words(location), field="start")
    day = start.astimezone(location.zone).date()
    days = bookable_days(patient=patient, procedure_type=procedure_type, location=location, now=now,
                         by_patient=by_patient, order=order, rebooking=rebooking, first_day=day, last_day=day,
                         visits=visits)
    if not days.verdicts:  # before the first day the booker may take, or past the horizon
        message = " ".join(item.message for item in days.unmet(day))
        raise TooSoon(message, field="start") if days.before is not None else SlotUnavailable(message)
    chosen, eligibility = days.orders[day], days.verdicts[day]
    if procedure_type.requires_order and chosen is None and rebooking is None:
        raise NotEligible(eligibility.explain(), unmet=eligibility.unmet)  # no order: not a rule to override
    return chosen, eligibility


def _too_soon_words(location: Location) -> str:
    return (f"{location.name} takes online bookings at least {location.minimum_notice_hours} hours ahead of "
            "the arrival; staff can book inside that notice.")


def _check_room(room: Room | None, location: Location, procedure_type: ProcedureType) -> None:
    if room is None:
        return
    if room.location_id != location.pk:
        raise BookingError(f"{room.name} is not at {location}.", field="room")
    if not room.is_active:
        raise BookingError(f"{room.name} is out of use.", field="room")
    if not capable_room_ids(procedure_type, {room.pk: room_capability_ids(room)}):
        raise BookingError(f"{room.name} does not have what {procedure_type.name} needs.", field="room")


def _hold(
    *,
    location: Location,
    procedure_type: ProcedureType,
    physician: Physician,
    patient: Patient | None,
    start: dt.datetime,
    room: Room | None,
    now: dt.datetime,
    exclude: Appointment | None = None,
    exclude_hold: str = "",
    apply_minimum_notice: bool = False,
) -> tuple[engine.Visit, int]:
    """Inside the booking transaction: check the slot is free, and pick the room."""
    asked = dict(procedure_type=procedure_type, location=location, start=start, now=now, physician=physician,
                 patient=patient, room=room, exclude_appointment=exclude, exclude_hold=exclude_hold,
                 apply_minimum_notice=apply_minimum_notice)
    request = visit_request(**asked)
    visit = engine.visit_at(start, request.segments)
    if apply_minimum_notice and visit.arrival >= now and visit.arrival < request.earliest:
        # Free or not, the time is inside the notice for a patient: say so, not that it is taken.
        raise TooSoon(_too_soon_words(location), field="start")
    reason = engine.explain_unavailable(request, start, physician.pk, room.pk if room else None)
    if reason:
        _refuse_if_only_held(asked, start=start, room=room)
        raise SlotUnavailable(reason)
    room_id = next(r.id for r in request.rooms if not engine.BusySpans(r.busy).overlaps(visit.room_start, visit.room_end))
    return visit, room_id


def _refuse_if_only_held(asked: dict, *, start: dt.datetime, room: Room | None) -> None:
    """Raise SlotHeld when the refused time would be free but for patients holding it on the
    booking pages: the front desk can wait for the hold to lapse, or pick another time, but
    must not be told the physician is busy."""
    without_holds = visit_request(**asked, count_holds=False)
    if engine.explain_unavailable(without_holds, start, asked["physician"].pk, room.pk if room else None):
        return  # taken anyway (or holds and a booking both): the plain reason says more
    visit = engine.visit_at(start, without_holds.segments)
    location, now = asked["location"], asked["now"]
    # The holds on the same people, rooms or bays at overlapping times; the time opens when the
    # last of them lapses.
    until = SlotHold.objects.filter(
        Q(location=location) | Q(physician=asked["physician"]), Q(room_end__gt=visit.room_start) |
        Q(discharge__gt=visit.room_start), expires_at__gt=now, room_start__lt=max(visit.room_end, visit.discharge),
    ).exclude(key=asked["exclude_hold"] or "").aggregate(until=Max("expires_at"))["until"]
    if until is None:
        return
    local = until.astimezone(location.zone)
    raise SlotHeld(_("That time is held for a booking in progress until %(time)s; it opens again then unless "
                     "it is booked.") % {"time": f"{local:%H:%M}"}, until=local)


def _visit_fields(visit: engine.Visit) -> dict:
    return {
        "arrival": visit.arrival,
        "procedure_start": visit.start,
        "procedure_end": visit.end,
        "discharge": visit.discharge,
        "room_start": visit.room_start,
        "room_end": visit.room_end,
    }


def _save(appointment: Appointment, *, by, reason: str, update_fields: list[str] | None = None) -> None:
    """Save, turning a database double-booking refusal into SlotUnavailable."""
    appointment._history_user = by
    appointment._change_reason = reason
    try:
        with transaction.atomic():
            appointment.save(update_fields=update_fields)
    except IntegrityError as error:
        if _is_double_booking(error):
            raise SlotUnavailable("That time was just taken by another booking.") from error
        raise


# The visits' history manager, read once: simple-history's descriptor builds a new manager class
# (Manager.from_queryset, which walks the queryset class with inspect) on every read of
# `Appointment.history`. A manager read from the class holds no instance.
_HISTORY = Appointment.history


def _history(appointment: Appointment, *, by, reason: str) -> dict:
    """The visit's history row for its creation, as simple-history's `bulk_history_create` makes
    it: besides its copy of the visit, these (clinic.rows.HISTORY_FIELDS)."""
    user = by or _HISTORY.model.get_default_history_user(appointment)
    return {"history_date": timezone.now(), "history_user_id": user.pk if user is not None else None,
            "history_change_reason": reason, "history_type": "+"}


def _insert(appointment: Appointment, *, by, reason: str) -> None:
    """Insert a new visit and its history row (written out: clinic/rows.py), turning a database
    double-booking refusal into SlotUnavailable. No savepoint: the refusal rolls the whole
    booking back."""
    try:
        with transaction.atomic(savepoint=False):
            rows.insert_with_history(appointment, _HISTORY.model, **_history(appointment, by=by, reason=reason))
    except IntegrityError as error:
        if _is_double_booking(error):
            raise SlotUnavailable("That time was just taken by another booking.") from error
        raise


def _booking_days(location: Location, procedure_type: ProcedureType,
                  start: dt.datetime) -> list[tuple[int, dt.date]]:
    """The location's days a booking at `start` takes time on: the visit's, and its follow-up's."""
    visit = engine.visit_at(start, segments_of(procedure_type))
    days = visit_days(location, min(visit.arrival, visit.room_start), max(visit.discharge, visit.room_end))
    if procedure_type.follow_up_type_id:
        # The follow-up's time is found under the lock, somewhere on its day (or into the night after).
        day = start.astimezone(location.zone).date() + dt.timedelta(days=procedure_type.follow_up_days or 0)
        days += [(location.pk, day), (location.pk, day + dt.timedelta(days=1))]
    return days


def _held_days(appointment: Appointment) -> list[tuple[int, dt.date]]:
    """The days a booked visit holds time on, and its follow-up's (they move with it)."""
    location = appointment.location
    days = visit_days(location, min(appointment.arrival, appointment.room_start),
                      max(appointment.discharge, appointment.room_end))
    for follow_up in appointment.follow_ups.filter(status__in=BOOKED_STATUSES).select_related("location"):
        days += visit_days(follow_up.location, follow_up.arrival, follow_up.discharge)
    return days


def _overridden(eligibility: Eligibility, *, by, override_reason: str) -> list[Unmet]:
    """The unmet rules the booking goes ahead despite (a physician's override), or NotEligible."""
    if eligibility.eligible:
        return []
    if not override_reason.strip():
        raise NotEligible(eligibility.explain(), unmet=eligibility.unmet)
    if not may_override_rules(by):
        raise NotEligible("Only a physician can override a pathway rule. " + eligibility.explain(),
                          unmet=eligibility.unmet)
    return eligibility.unmet


def _record_overrides(appointment: Appointment, unmet: list[Unmet], *, by, reason: str) -> list[EligibilityOverride]:
    return EligibilityOverride.objects.bulk_create([
        EligibilityOverride(appointment=appointment, rule_id=item.rule_id, unmet=item.message,
                            reason=reason.strip(), overridden_by=by)
        for item in unmet
    ])


def _follow_up_start(*, parent: Appointment, follow_up_type: ProcedureType, day: dt.date, now: dt.datetime,
                     exclude: Appointment | None = None) -> engine.Slot:
    """The first time on `day` the parent's physician can see the patient for the follow-up."""
    request = availability_request(
        procedure_type=follow_up_type, location=parent.location, first_day=day, last_day=day, now=now,
        physician=parent.physician, patient=parent.patient, exclude_appointment=exclude,
        apply_minimum_notice=False, limit=1,
    )
    slots = engine.find_slots(request)
    if not slots:
        raise SlotUnavailable(
            f"The follow-up ({follow_up_type.name}) must be {parent.procedure_type.follow_up_days} days later, on "
            f"{day.isoformat()}, and {parent.physician} has no free time for it that day; choose another day."
        )
    return slots[0]


def _book_follow_up(parent: Appointment, *, by, now: dt.datetime) -> Appointment | None:
    procedure_type = parent.procedure_type
    if not procedure_type.follow_up_type_id:
        return None
    follow_up_type = procedure_type.follow_up_type
    day = parent.procedure_start.astimezone(parent.location.zone).date() + dt.timedelta(
        days=procedure_type.follow_up_days)
    slot = _follow_up_start(parent=parent, follow_up_type=follow_up_type, day=day, now=now)
    visit = engine.visit_at(slot.start, segments_of(follow_up_type))
    follow_up = Appointment(
        location=parent.location, physician=parent.physician, room_id=slot.room_id, patient=parent.patient,
        procedure_type=follow_up_type, follow_up_of=parent, booked_by=by, **_visit_fields(visit),
    )
    _save(follow_up, by=by, reason=f"Booked with {procedure_type.name}")
    reminders_schedule(follow_up, now=now, booked=False)  # its confirmation is the parent's
    appointment_event(follow_up, EventKind.APPOINTMENT_BOOKED, now=now)
    return follow_up


@metrics.counts_booking_outcome
def appointment_book(
    *,
    patient: Patient,
    procedure_type: ProcedureType,
    physician: Physician,
    start: dt.datetime,
    by=None,
    room: Room | None = None,
    order: ProcedureOrder | None = None,
    override_reason: str = "",
    hold_key: str = "",
    notes: str = "",
    by_patient: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a visit whose procedure starts at `start`. Raises BookingError and its kinds.

    `hold_key` names the caller's hold on the time (the booking pages'): that hold does not
    count against the booking, and is released by it.

    The pathway rules are checked for the procedure's day; a physician may book despite them
    with `override_reason`, which stays on the record. A procedure with a follow-up (the SCS
    trial's lead removal) books it in the same transaction, or nothing is booked.

    `by_patient`: the patient books for themselves (the booking pages). They may not book inside
    the location's minimum notice, nor before the first day their preparation allows; staff may
    (README, "Minimum notice"). Such a refusal is TooSoon.
    """
    now = now or timezone.now()
    if not procedure_type.is_active:
        raise BookingError(f"{procedure_type.name} is not offered.", field="procedure_type")
    validate_physician(physician, procedure_type)
    _validate_when(start, now)
    location = _location_for(physician, procedure_type, start, room)
    _validate_grid(start, location)
    _check_room(room, location, procedure_type)
    with transaction.atomic():
        lock_booking(days=_booking_days(location, procedure_type, start), patient_ids=[patient.pk])
        # The calendar first: a retried request gets "slot unavailable", not a rule about itself.
        visit, room_id = _hold(location=location, procedure_type=procedure_type, physician=physician,
                               patient=patient, start=start, room=room, now=now, exclude_hold=hold_key)
        order, eligibility = _order_and_eligibility(order=order, patient=patient, procedure_type=procedure_type,
                                                    location=location, start=start, now=now, by_patient=by_patient)
        overridden = _overridden(eligibility, by=by, override_reason=override_reason)
        appointment = Appointment(
            location=location, physician=physician, room_id=room_id, patient=patient, procedure_type=procedure_type,
            order=order, booked_by=by, notes=notes, **_visit_fields(visit),
        )
        _insert(appointment, by=by, reason="Booked" + (" (rule overridden)" if overridden else ""))
        overrides = _record_overrides(appointment, overridden, by=by, reason=override_reason)
        # Known once for the reminders' hold dates and for whoever shows the visit.
        catalog.known_blood_thinners(patient)
        reminders_schedule_new(appointment, now=now)
        appointment_event(appointment, EventKind.APPOINTMENT_BOOKED, now=now)
        _book_follow_up(appointment, by=by, now=now)
        careplan_visit_booked(appointment=appointment, by=by, now=now)
        if hold_key:
            SlotHold.objects.filter(key=hold_key).delete()
    _known_as_booked(appointment, overrides)
    return appointment


def _known_as_booked(appointment: Appointment, overrides: list[EligibilityOverride]) -> None:
    """What a visit just booked holds is known: no outcome yet, and these overrides. Whoever shows
    it (the API's answer) need not read them back."""
    Appointment.outcome.related.set_cached_value(appointment, None)
    known = appointment.overrides.all()
    known._result_cache, known._prefetch_done = overrides, True
    appointment._prefetched_objects_cache = {"overrides": known}


def _move_follow_ups(parent: Appointment, *, by, now: dt.datetime) -> None:
    """Keep each pending follow-up the same number of days after its moved parent."""
    follow_ups = parent.follow_ups.select_for_update().filter(
        status__in=BOOKED_STATUSES)
    for follow_up in follow_ups:
        day = parent.procedure_start.astimezone(parent.location.zone).date() + dt.timedelta(
            days=parent.procedure_type.follow_up_days or 0)
        slot = _follow_up_start(parent=parent, follow_up_type=follow_up.procedure_type, day=day, now=now,
                                exclude=follow_up)
        previous_start = follow_up.procedure_start
        for name, value in _visit_fields(engine.visit_at(slot.start, segments_of(follow_up.procedure_type))).items():
            setattr(follow_up, name, value)
        follow_up.location, follow_up.physician, follow_up.room_id = parent.location, parent.physician, slot.room_id
        follow_up.status = AppointmentStatus.SCHEDULED
        follow_up.sequence += 1  # locked above: calendar feeds replace their copy of it
        _save(follow_up, by=by, reason=f"Moved with {parent.procedure_type.name}")
        reminders_schedule(follow_up, now=now, booked=False)
        appointment_moved_event(follow_up, previous_start=previous_start, now=now)


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    by=None,
    physician: Physician | None = None,
    room: Room | None = None,
    override_reason: str = "",
    hold_key: str = "",
    by_patient: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a visit. The new time is checked and taken before the old one is freed, in one
    transaction: if the new time cannot be had, the visit stays where it was. Its follow-ups
    move with it, or nothing moves. A move to the time, physician and room the visit already
    has changes nothing. `by_patient` as for `appointment_book`."""
    now = now or timezone.now()
    if appointment.status not in BOOKED_STATUSES:
        raise BookingError(f"A visit that is {appointment.get_status_display().lower()} cannot be moved.",
                           code="invalid_transition")
    physician = physician or appointment.physician
    procedure_type = appointment.procedure_type
    validate_physician(physician, procedure_type)
    _validate_when(start, now)
    location = _location_for(physician, procedure_type, start, room)
    _validate_grid(start, location)
    _check_room(room, location, procedure_type)
    previous = appointment.procedure_start
    held_days = _held_days(appointment) if procedure_type.follow_up_type_id else visit_days(
        appointment.location, min(appointment.arrival, appointment.room_start),
        max(appointment.discharge, appointment.room_end))
    with transaction.atomic():
        # The old days and the new, in one ordered lock: a visit moving between two days and
        # another moving the other way queue rather than deadlock.
        lock_booking(days=held_days + _booking_days(location, procedure_type, start),
                     patient_ids=[appointment.patient_id])
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status not in BOOKED_STATUSES:
            raise BookingError(f"A visit that is {current.get_status_display().lower()} cannot be moved.",
                               code="invalid_transition")
        if (current.procedure_start, current.physician_id) == (start, physician.pk) and room in (None, current.room):
            # Already there (a repeated request, a time chosen again): nothing moves, nobody is told.
            if hold_key:
                SlotHold.objects.filter(key=hold_key).delete()
            return current
        visit, room_id = _hold(location=location, procedure_type=procedure_type, physician=physician,
                               patient=appointment.patient, start=start, room=room, now=now, exclude=current,
                               exclude_hold=hold_key)
        _order, eligibility = _order_and_eligibility(order=current.order, patient=current.patient,
                                                     procedure_type=procedure_type, location=location, start=start,
                                                     now=now, by_patient=by_patient, rebooking=current)
        overridden = _overridden(eligibility, by=by, override_reason=override_reason)
        for name, value in _visit_fields(visit).items():
            setattr(appointment, name, value)
        appointment.location, appointment.physician, appointment.room_id = location, physician, room_id
        # A move by the clinic needs the patient's confirmation again; a patient who picked the
        # new time themselves keeps the visit as it was (a confirmed visit stays confirmed).
        appointment.status = current.status if by_patient else AppointmentStatus.SCHEDULED
        appointment.sequence = current.sequence + 1  # calendar feeds replace their copy of it
        local = previous.astimezone(location.zone)
        _save(appointment, by=by, reason=f"Rescheduled from {local:%Y-%m-%d %H:%M %Z}")
        _record_overrides(appointment, overridden, by=by, reason=override_reason)
        reminders_schedule(appointment, now=now, booked=False)
        appointment_moved_event(appointment, previous_start=previous, now=now)
        confirmed_before = appointment.reminders.filter(kind=ReminderKind.BOOKING_CONFIRMATION,
                                                        status=ReminderStatus.SENT).exists()
        if confirmed_before:  # else the pending confirmation gives the new time
            reminders_notify(appointment, ReminderKind.VISIT_MOVED, now=now)
        _move_follow_ups(appointment, by=by, now=now)
        careplan_visit_moved(appointment=appointment, by=by, now=now)
        if hold_key:
            SlotHold.objects.filter(key=hold_key).delete()
    return appointment
