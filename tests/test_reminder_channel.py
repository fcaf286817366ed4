"""Messages waiting to go follow the patient's channel: a change of consent, number, address or
preferred channel moves them, keeping their times (a text keeps quiet hours)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Patient
from scheduling import services
from scheduling.models import BEFORE_VISIT_KINDS, ReminderStatus
from scheduling.reminders.plan import QUIET_FROM, QUIET_UNTIL
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.test_minimal_patient import change_form

pytestmark = pytest.mark.django_db


def booked(calendar, patient: Patient, hour: int = 9):
    patient.blood_thinners.clear()
    calendar.order_for(patient)
    return services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                     start=local(NEXT_MONDAY, hour), now=NOW)


def waiting(appointment) -> dict[str, tuple[str, dt.datetime]]:
    return {r.kind: (r.channel, r.next_attempt_at) for r in appointment.reminders.filter(status=ReminderStatus.PENDING)}


def test_staff_choosing_email_over_texts_move_the_texts_waiting_to_email(client, front_desk, calendar):
    patient = Patient.objects.filter(preferred_channel="sms", sms_consent=True, email_consent=True).exclude(
        email="").order_by("pk").first()
    visit = booked(calendar, patient)
    before = waiting(visit)
    assert {channel for channel, _ in before.values()} == {"sms"}
    client.force_login(front_desk)
    response = client.post(reverse("admin:clinic_patient_change", args=[patient.pk]),
                           change_form(patient, sms_consent="on", email_consent="on", preferred_channel="email",
                                       phone=str(patient.phone)), follow=True)
    assert response.status_code == 200
    # Those due later go by email; the confirmation, due this minute, goes as it was written.
    assert waiting(visit) == {kind: ("sms" if due <= NOW else "email", due) for kind, (_, due) in before.items()}
    assert before["booking_confirmation"][1] == NOW


def test_moved_onto_texts_they_keep_quiet_hours_and_stay_before_the_arrival(client, front_desk, calendar):
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True).exclude(
        phone="").order_by("pk").first()
    visit = booked(calendar, patient, hour=8)  # arrival 07:30 or so: its last reminders fall in the night
    before = waiting(visit)
    assert {channel for channel, _ in before.values()} == {"email"}
    client.force_login(front_desk)
    response = client.post(reverse("admin:clinic_patient_change", args=[patient.pk]),
                           change_form(patient, sms_consent="on", preferred_channel="sms",
                                       phone=str(patient.phone)), follow=True)
    assert response.status_code == 200
    after = waiting(visit)
    assert set(after) == set(before) and {channel for channel, _ in after.values()} == {"sms"}
    zone = visit.location.zone
    for kind, (_, due) in after.items():
        local_time = due.astimezone(zone).time()
        assert QUIET_UNTIL <= local_time < QUIET_FROM, (kind, due)
        if kind in BEFORE_VISIT_KINDS:
            assert due < visit.arrival
    assert any(after[kind][1] != before[kind][1] for kind in after)  # some were moved out of the night


def test_withdrawn_consent_with_nothing_else_leaves_them_for_dispatch_to_cancel(calendar):
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True, sms_consent=False).order_by(
        "pk").first()
    visit = booked(calendar, patient)
    before = waiting(visit)
    patient.email_consent = False
    patient.save()
    assert services.patient_reminders_after_consent(patient=patient, now=NOW) == 0
    assert waiting(visit) == before
