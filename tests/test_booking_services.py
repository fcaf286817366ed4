"""Booking services: book, reschedule, cancel and the visit's lifecycle."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from clinic.models import Closure, ProcedureType, Room, RoomOutOfService, TimeOff
from scheduling import services
from scheduling.errors import BookingError, InvalidTransition, NotEligible, SlotUnavailable
from scheduling.models import Appointment, AppointmentStatus, OrderStatus, ReminderKind
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local

pytestmark = pytest.mark.django_db


def book(calendar, patient=None, start=None, physician=None, procedure_type=None, **kwargs) -> Appointment:
    patient = patient or calendar.patients[0]
    procedure_type = procedure_type or calendar.esi
    if procedure_type.requires_order and "order" not in kwargs:
        calendar.order_for(patient, procedure_type)
    return services.appointment_book(
        patient=patient, procedure_type=procedure_type, physician=physician or calendar.okafor,
        start=start or local(NEXT_MONDAY, 9), **kwargs,
    )


def test_a_booking_stores_every_instant_of_the_visit(calendar, front_desk):
    appointment = book(calendar, by=front_desk)
    start = local(NEXT_MONDAY, 9)
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert appointment.arrival == start - dt.timedelta(minutes=30)
    assert appointment.procedure_start == start
    assert appointment.procedure_end == start + dt.timedelta(minutes=20)
    assert appointment.discharge == start + dt.timedelta(minutes=50)
    assert appointment.room_start == start - dt.timedelta(minutes=5)
    assert appointment.room_end == start + dt.timedelta(minutes=30)
    assert appointment.room.capabilities.filter(code="fluoroscopy").exists()
    assert appointment.order is not None and appointment.location == calendar.location
    record = appointment.history.first()
    assert (record.history_user, record.history_change_reason) == (front_desk, "Booked")


def test_a_procedure_needing_an_order_is_refused_without_one(calendar):
    with pytest.raises(NotEligible, match="needs a physician's order"):
        services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                  physician=calendar.okafor, start=local(NEXT_MONDAY, 9))


def test_one_order_is_booked_once(calendar):
    order = calendar.order_for(calendar.patients[0])
    book(calendar, order=order)
    with pytest.raises(NotEligible, match="already booked"):
        book(calendar, start=local(NEXT_MONDAY, 11), order=order)


def test_a_self_bookable_visit_needs_no_order(calendar):
    appointment = book(calendar, procedure_type=calendar.consult, physician=calendar.okafor,
                       start=local(NEXT_MONDAY + dt.timedelta(days=1), 9))
    assert appointment.order is None and appointment.room.capabilities.filter(code="exam").exists()


def test_a_physician_not_credentialed_is_refused(calendar):
    implant = ProcedureType.objects.get(code="SCS_IMPLANT")
    with pytest.raises(BookingError, match="not credentialed") as caught:
        book(calendar, procedure_type=implant, physician=calendar.reyes, start=local(NEXT_THURSDAY, 9))
    assert caught.value.field == "physician"


@pytest.mark.parametrize(("start", "message"), [
    (local(NEXT_MONDAY, 9, 10), "grid"),
    (local(dt.date(2026, 11, 23), 9), "in the past"),
])
def test_a_start_off_the_grid_or_in_the_past_is_refused(calendar, start, message):
    with pytest.raises(BookingError, match=message) as caught:
        book(calendar, start=start)
    assert caught.value.field == "start"


def test_a_time_outside_the_physicians_blocks_is_unavailable(calendar):
    with pytest.raises(SlotUnavailable, match="no procedures block"):
        book(calendar, start=local(NEXT_MONDAY, 17))


def test_the_same_physician_cannot_be_booked_twice_at_once(calendar):
    book(calendar)
    with pytest.raises(SlotUnavailable, match="physician is already booked"):
        book(calendar, patient=calendar.patients[1])


def test_a_physician_flips_rooms_while_patients_prep_and_recover(calendar):
    first = book(calendar, start=local(NEXT_MONDAY, 9))
    second = book(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 9, 30))
    assert first.room != second.room  # the first room is held until 09:30 for turnover
    assert second.arrival < first.discharge


def test_the_patient_cannot_be_booked_twice_at_once(calendar):
    book(calendar, physician=calendar.reyes, start=local(NEXT_THURSDAY, 9))
    with pytest.raises(SlotUnavailable, match="patient already has a visit"):
        book(calendar, physician=calendar.nair, start=local(NEXT_THURSDAY, 9, 30), procedure_type=calendar.mbb)


def test_booking_the_same_visit_again_says_the_patient_has_it_not_that_the_physician_is_busy(calendar):
    book(calendar)
    # The front desk's second try (a double click, a retry after a time-out): the physician is
    # busy only with this very visit.
    with pytest.raises(SlotUnavailable, match="patient already has a visit"):
        book(calendar, order=None)
    assert Appointment.objects.filter(patient=calendar.patients[0]).count() == 1


def test_recovery_bays_are_never_overbooked(calendar):
    calendar.location.recovery_bays = 1
    calendar.location.save()
    book(calendar, physician=calendar.reyes, start=local(NEXT_THURSDAY, 9))
    with pytest.raises(SlotUnavailable, match="recovery bay"):
        book(calendar, patient=calendar.patients[1], physician=calendar.nair, start=local(NEXT_THURSDAY, 9))


def test_a_named_room_must_be_free_and_capable(calendar):
    exam = Room.objects.get(name="Exam 1")
    with pytest.raises(BookingError, match="does not have what") as caught:
        book(calendar, room=exam)
    assert caught.value.field == "room"
    suite = Room.objects.get(name="Fluoro Suite 1")
    book(calendar, room=suite)
    with pytest.raises(SlotUnavailable, match="room is taken"):
        book(calendar, patient=calendar.patients[1], physician=calendar.okafor, start=local(NEXT_MONDAY, 9, 30),
             room=suite)


def test_closures_time_off_and_rooms_out_of_service_are_respected(calendar):
    Closure.objects.create(location=calendar.location, first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, reason="Storm")
    with pytest.raises(SlotUnavailable, match="closed"):
        book(calendar)
    Closure.objects.all().delete()
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(NEXT_MONDAY, 0), ends_at=local(NEXT_MONDAY, 12))
    with pytest.raises(SlotUnavailable, match="physician is already booked or off"):
        book(calendar)
    TimeOff.objects.all().delete()
    for room in Room.objects.filter(capabilities__code="fluoroscopy"):
        RoomOutOfService.objects.create(room=room, starts_at=local(NEXT_MONDAY, 8), ends_at=local(NEXT_MONDAY, 10),
                                        reason="C-arm service")
    with pytest.raises(SlotUnavailable, match="No suitable room"):
        book(calendar)


def test_a_time_past_the_booking_horizon_is_refused_for_that(calendar):
    """Ninety days from Tuesday 24 November is Monday 22 February. Dr. Okafor sees consultations on
    Tuesdays only: a Monday within the horizon has no block of hers, one past it is past it."""
    with pytest.raises(SlotUnavailable, match="has no clinic .* block at that time"):
        book(calendar, procedure_type=calendar.consult, start=local(dt.date(2027, 2, 15), 10))
    with pytest.raises(SlotUnavailable, match="^That time is beyond the booking horizon: visits here are booked up to "
                                              "Monday February 22, 2027.$"):
        book(calendar, procedure_type=calendar.consult, start=local(dt.date(2027, 3, 1), 10))
    with pytest.raises(SlotUnavailable, match="^That time is beyond the booking horizon: visits here are booked up to "
                                              "Monday February 22, 2027.$"):  # a Monday of her procedures
        book(calendar, start=local(dt.date(2027, 3, 1), 9))


def test_rescheduling_takes_the_new_time_and_frees_the_old(calendar, front_desk):
    appointment = book(calendar)
    moved = services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 13), by=front_desk)
    assert moved.pk == appointment.pk and moved.procedure_start == local(NEXT_MONDAY, 13)
    assert moved.history.first().history_change_reason.startswith("Rescheduled from 2026-11-30 09:00")
    assert book(calendar, patient=calendar.patients[1]).procedure_start == local(NEXT_MONDAY, 9)


def test_rescheduling_into_its_own_old_time_is_allowed(calendar):
    appointment = book(calendar)
    moved = services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 9, 15))
    assert moved.procedure_start == local(NEXT_MONDAY, 9, 15)


def test_a_reschedule_to_the_time_the_visit_has_changes_nothing_and_tells_nobody(calendar, front_desk):
    """A repeated request, or the same time chosen again: the visit keeps its confirmation, its
    reminders and its calendar copies; no "your visit has moved" goes out."""
    appointment = book(calendar)
    services.appointment_confirm(appointment=appointment, by=front_desk)
    reminders = sorted(appointment.reminders.values_list("pk", "status"))
    same = services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 9), by=front_desk,
                                           room=appointment.room)
    assert same.pk == appointment.pk and same.procedure_start == local(NEXT_MONDAY, 9)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED and appointment.sequence == 0
    assert sorted(appointment.reminders.values_list("pk", "status")) == reminders
    assert not appointment.reminders.filter(kind=ReminderKind.VISIT_MOVED).exists()
    assert appointment.history.count() == 2  # booked, confirmed


def test_a_failed_reschedule_keeps_the_old_time(calendar):
    appointment = book(calendar)
    book(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 13))
    with pytest.raises(SlotUnavailable):
        services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 13))
    appointment.refresh_from_db()
    assert appointment.procedure_start == local(NEXT_MONDAY, 9)
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_cancelling_needs_a_reason_records_who_and_frees_the_time(calendar, front_desk):
    appointment = book(calendar)
    with pytest.raises(BookingError, match="Say why"):
        services.appointment_cancel(appointment=appointment, reason=" ", by=front_desk)
    services.appointment_cancel(appointment=appointment, reason="Patient has the flu", by=front_desk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert (appointment.cancel_reason, appointment.cancelled_by) == ("Patient has the flu", front_desk)
    assert appointment.history.first().history_change_reason == "Cancelled: Patient has the flu"
    assert book(calendar, patient=calendar.patients[1]).procedure_start == local(NEXT_MONDAY, 9)


def test_the_whole_lifecycle_is_recorded(calendar, clock, nurse):
    appointment = book(calendar)
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    check_in = functools.partial(services.appointment_check_in, confirmed_checks=["consent"])
    for step in (services.appointment_confirm, check_in, services.appointment_start,
                 services.appointment_move_to_recovery, services.appointment_complete):
        step(appointment=appointment, by=nurse)
    assert appointment.status == AppointmentStatus.COMPLETED
    assert appointment.order.status == OrderStatus.COMPLETED
    # The clock stands still: rows of the same instant in the order they were written.
    reasons = list(appointment.history.order_by("history_date", "history_id").values_list(
        "history_change_reason", flat=True))
    assert reasons == ["Booked", "Confirmed", "Checked in", "Started", "Moved to recovery", "Completed"]


@pytest.mark.parametrize(("steps", "then", "message"), [
    ([], services.appointment_complete, "scheduled; it cannot be completed"),
    ([services.appointment_check_in], services.appointment_mark_no_show, "checked in; it cannot be marked"),
    ([services.appointment_confirm, services.appointment_mark_no_show], services.appointment_check_in, "no-show"),
])
def test_only_valid_transitions_are_allowed(calendar, clock, steps, then, message):
    appointment = book(calendar)
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    for step in steps:
        step(appointment=appointment)
    with pytest.raises(InvalidTransition, match=message):
        then(appointment=appointment)


def test_a_cancelled_visit_cannot_be_moved(calendar):
    appointment = book(calendar)
    services.appointment_cancel(appointment=appointment, reason="Moved away")
    with pytest.raises(BookingError, match="cannot be moved"):
        services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 13))
