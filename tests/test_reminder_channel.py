"""Messages waiting to go follow the patient's channel: a change of consent, number, address or
preferred channel moves them, keeping their times (a text keeps quiet hours)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic.models import Patient
from scheduling import services
from scheduling.models import BEFORE_VISIT_KINDS, ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.outbox import order_link_send
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


def test_late_in_the_evening_before_an_early_visit_its_reminder_stays_an_email(calendar):
    """Moved onto texts after 20:00 the evening before, the arrival reminder could only go in quiet
    hours: it stays on email, which the patient still takes."""
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True).exclude(
        phone="").order_by("pk").first()
    visit = booked(calendar, patient, hour=8)
    arrival_reminder = visit.reminders.get(kind="arrival")
    assert arrival_reminder.channel == "email" and arrival_reminder.next_attempt_at < visit.arrival
    late = local(NEXT_MONDAY - dt.timedelta(days=1), 22)
    patient.sms_consent, patient.preferred_channel = True, "sms"
    patient.save()
    with time_machine.travel(late, tick=False):
        services.patient_reminders_after_consent(patient=patient, now=late)
    arrival_reminder.refresh_from_db()
    assert arrival_reminder.channel == "email"


def test_an_orders_link_moves_onto_texts_when_email_is_withdrawn(calendar):
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True).exclude(
        phone="").order_by("pk").first()
    order = calendar.order_for(patient)
    link = order_link_send(order, location=calendar.location, now=NOW)
    assert link.channel == "email"
    patient.email_consent, patient.sms_consent = False, True
    patient.save()
    assert services.patient_reminders_after_consent(patient=patient, now=NOW) == 0
    link.refresh_from_db()
    assert (link.channel, link.next_attempt_at, link.status) == ("sms", NOW, ReminderStatus.PENDING)


def test_a_message_being_sent_when_texts_are_withdrawn_goes_by_email(calendar, settings, mailoutbox):
    settings.SMS_TRANSPORT = "memory"
    patient = Patient.objects.filter(preferred_channel="sms", sms_consent=True, email_consent=True).exclude(
        email="").order_by("pk").first()
    visit = booked(calendar, patient)
    confirmation = visit.reminders.get(kind="booking_confirmation")
    assert confirmation.channel == "sms"
    # Withdrawn while dispatch held the row: the move of the waiting messages did not see it.
    Patient.objects.filter(pk=patient.pk).update(sms_consent=False)
    dispatch.dispatch_due(now=NOW)
    confirmation.refresh_from_db()
    assert (confirmation.channel, confirmation.status) == ("email", ReminderStatus.SENT)
    assert [message.to for message in mailoutbox] == [[patient.email]]
