"""The minimal patient an integration sends (name, date of birth, email, phone) is accepted;
without recorded consent they get no messages, and every staff view of them says so."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.models import Patient
from scheduling import services
from scheduling.models import Appointment, Reminder, ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.transports import MemorySMSTransport
from tests.conftest import NEXT_MONDAY, NOW, PATIENT_PAGE_INLINES, local

pytestmark = pytest.mark.django_db

MINIMAL = {"first_name": "Dolores", "last_name": "Whitehorse", "date_of_birth": "1952-07-19",
           "email": "dolores@example.com", "phone": "(918) 555-0190"}
FLAG = "No consent to contact"


@pytest.fixture
def api(front_desk) -> APIClient:
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


@pytest.fixture
def minimal_patient(calendar, api) -> Patient:
    response = api.post("/api/v1/patients/", MINIMAL, format="json")
    assert response.status_code == 201, response.json()
    return Patient.objects.get(pk=response.json()["id"])


@pytest.fixture
def visit(calendar, api, minimal_patient) -> Appointment:
    calendar.order_for(minimal_patient)
    response = api.post("/api/v1/appointments/", {"patient": minimal_patient.pk, "procedure_type": "ESI_IL",
                                                  "physician": calendar.okafor.pk,
                                                  "start": local(NEXT_MONDAY, 9).isoformat()}, format="json")
    assert response.status_code == 201, response.json()
    return Appointment.objects.get(pk=response.json()["id"])


def test_the_documented_minimal_patient_is_created(minimal_patient, api):
    assert (minimal_patient.sms_consent, minimal_patient.email_consent) == (False, False)
    assert minimal_patient.no_consent_to_contact
    body = api.get(f"/api/v1/patients/{minimal_patient.pk}/").json()
    assert {key: body[key] for key in MINIMAL} == MINIMAL


def test_a_patient_given_with_a_phone_alone_is_created_preferring_texts(calendar, api):
    response = api.post("/api/v1/patients/", {**MINIMAL, "email": ""}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["preferred_channel"] == "sms"


def test_a_visit_of_a_patient_without_consent_sends_nothing(visit, settings, mailoutbox):
    settings.SMS_TRANSPORT = "memory"
    MemorySMSTransport.outbox.clear()
    assert not visit.reminders.exists()
    assert dispatch.dispatch_due(now=local(NEXT_MONDAY, 8)) == 0
    assert mailoutbox == [] and MemorySMSTransport.outbox == []


def test_the_visit_page_says_no_reminders_go_out_and_why(client, front_desk, visit):
    client.force_login(front_desk)
    page = client.get(reverse("admin:scheduling_appointment_change", args=[visit.pk])).content.decode()
    assert FLAG in page
    assert "No reminders are sent for this visit until the patient&#x27;s consent to texts or email is recorded" \
        in page
    assert reverse("admin:clinic_patient_change", args=[visit.patient_id]) in page


def test_a_visit_of_a_consenting_patient_says_how_its_reminders_go(client, front_desk, calendar):
    patient = Patient.objects.filter(preferred_channel="sms", sms_consent=True).exclude(phone="").first()
    calendar.order_for(patient)
    appointment = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    client.force_login(front_desk)
    page = client.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).content.decode()
    assert FLAG not in page and f"Text message (SMS): {patient.phone}" in page


def test_the_patient_list_flags_the_patient_and_filters_by_it(client, front_desk, minimal_patient):
    client.force_login(front_desk)
    listing = client.get(reverse("admin:clinic_patient_changelist"), {"q": "Whitehorse"}).content.decode()
    body = listing.split("<tbody>", 1)[1]
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Whitehorse.*?</tr>", body, re.S).group(0)
    assert FLAG in row
    none = client.get(reverse("admin:clinic_patient_changelist"), {"contact": "none"}).content.decode()
    some = client.get(reverse("admin:clinic_patient_changelist"), {"contact": "some"}).content.decode()
    assert "Whitehorse" in none and "Whitehorse" not in some
    consenting = Patient.objects.filter(sms_consent=True).exclude(phone="").order_by("pk").first()
    assert consenting.last_name in some


def test_the_patient_page_flags_the_missing_consent(client, front_desk, minimal_patient):
    client.force_login(front_desk)
    page = client.get(reverse("admin:clinic_patient_change", args=[minimal_patient.pk])).content.decode()
    assert FLAG in page and "until their consent is recorded below" in page


def change_form(patient: Patient, **changes) -> dict:
    data = {"first_name": patient.first_name, "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(), "phone": patient.phone, "email": patient.email,
            "preferred_channel": patient.preferred_channel, "language": patient.language, "payer": "",
            "member_id": "", **PATIENT_PAGE_INLINES}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not False}


def test_staff_may_save_a_patient_without_consent_and_are_warned(client, front_desk, minimal_patient):
    """The admin does not refuse "no": a refusal would push staff to tick a box the patient never agreed to."""
    client.force_login(front_desk)
    response = client.post(reverse("admin:clinic_patient_change", args=[minimal_patient.pk]),
                           change_form(minimal_patient, member_id="M-77"), follow=True)
    assert response.status_code == 200
    assert Patient.objects.get(pk=minimal_patient.pk).member_id == "M-77"
    warnings = [str(m) for m in response.context["messages"]]
    assert any("has no consent to texts or email" in m for m in warnings), warnings


def test_recording_consent_plans_the_reminders_of_visits_to_come(client, front_desk, visit, clock):
    client.force_login(front_desk)
    response = client.post(reverse("admin:clinic_patient_change", args=[visit.patient_id]),
                           change_form(visit.patient, email_consent="on"), follow=True)
    assert response.status_code == 200
    assert "Reminders are now planned for 1 upcoming visit." in [str(m) for m in response.context["messages"]]
    kinds = set(visit.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", flat=True))
    assert {"confirmation_request", "preparation", "arrival"} <= kinds
    assert "booking_confirmation" not in kinds  # the booking is old news by now
    assert set(visit.reminders.values_list("channel", flat=True)) == {"email"}


def test_consent_withdrawn_after_reminders_were_planned_stops_them_with_the_reason(calendar, mailoutbox):
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True).order_by("pk").first()
    patient.blood_thinners.clear()
    calendar.order_for(patient)
    appointment = services.appointment_book(patient=patient, procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    Patient.objects.filter(pk=patient.pk).update(email_consent=False)
    assert dispatch.dispatch_due(now=NOW) == 0
    assert mailoutbox == []
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    assert confirmation.status == ReminderStatus.CANCELLED
    assert confirmation.last_error == "Not sent: the patient has no consent to messages on this channel."
    assert not Reminder.objects.filter(status=ReminderStatus.SENT).exists()
