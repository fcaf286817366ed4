"""A time a patient is holding on the booking pages is told to staff as held, with when it
opens again, never as the physician being busy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from scheduling import services
from scheduling.models import Appointment, SlotHold
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

NINE = local(NEXT_MONDAY, 9)


@pytest.fixture
def held(calendar):
    """A patient on the booking pages picked Monday 09:00 with Dr. Okafor at 08:00 (held till 08:10)."""
    return services.slot_hold(key="patient-online", procedure_type=calendar.esi, physician=calendar.okafor,
                              start=NINE)


def book_through_the_api(calendar, front_desk, patient):
    client = APIClient()
    client.force_authenticate(front_desk)
    calendar.order_for(patient)
    return client.post("/api/v1/appointments/", {"patient": patient.pk, "procedure_type": "ESI_IL",
                                                 "physician": calendar.okafor.pk, "start": NINE.isoformat()},
                       format="json")


def test_booking_a_time_a_patient_holds_online_says_so_through_the_api(calendar, front_desk, held):
    response = book_through_the_api(calendar, front_desk, calendar.patients[1])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_held"
    assert body["detail"] == ("That time is held for a booking in progress until 08:10; it opens again then "
                              "unless it is booked.")
    assert body["held_until"] == "2026-11-24T08:10:00-06:00"
    assert not Appointment.objects.exists()


def test_the_held_time_can_be_booked_once_the_hold_lapses(calendar, front_desk, held, clock):
    clock.shift(dt.timedelta(minutes=11))
    assert book_through_the_api(calendar, front_desk, calendar.patients[1]).status_code == 201


def test_a_time_both_booked_and_held_is_refused_as_taken(calendar, front_desk):
    """The hold is not what stands in the way (a hold left from before the booking, say)."""
    patient = calendar.patients[2]
    calendar.order_for(patient)
    taken = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                      start=NINE)
    SlotHold.objects.create(
        key="patient-online", location=calendar.location, physician=calendar.okafor, room=taken.room,
        procedure_type=calendar.esi, procedure_start=taken.procedure_start, procedure_end=taken.procedure_end,
        discharge=taken.discharge, room_start=taken.room_start, room_end=taken.room_end,
        expires_at=timezone.now() + dt.timedelta(minutes=10))
    response = book_through_the_api(calendar, front_desk, calendar.patients[1])
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


def test_booking_a_time_a_patient_holds_online_says_so_in_the_admin(client, calendar, front_desk, held):
    client.force_login(front_desk)
    patient = calendar.patients[1]
    calendar.order_for(patient)
    # The front desk chose the time before the patient picked it online, then pressed Book.
    response = client.post(reverse("admin:scheduling_appointment_add"), {
        "patient": patient.pk, "procedure_type": calendar.esi.pk, "location": calendar.location.pk,
        "physician": "", "day": NEXT_MONDAY.isoformat(), "notes": "", "_book": "1",
        "slot": f"{NINE.isoformat()}|{calendar.okafor.pk}|{held.room_id}"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "That time is held for a booking in progress until 08:10; it opens again then unless it is booked." \
        in page
    assert "already booked or off" not in page
    assert not Appointment.objects.exists()
