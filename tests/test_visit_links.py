"""Confirm and cancel links in reminders: signed, single-purpose, expiring, and acting
through the same services the staff use."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import AppointmentStatus, ReminderStatus
from scheduling.reminders.links import link, make_token
from scheduling.reminders.messages import render
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(calendar):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    return services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                     start=local(NEXT_MONDAY, 9))


def path(appointment, action: str) -> str:
    return link(appointment, action).removeprefix("http://127.0.0.1:8000")


def test_the_confirmation_request_carries_both_links(appointment):
    body = render(appointment.reminders.get(kind="confirmation_request")).body
    assert f"Confirm: {link(appointment, 'confirm')}" in body and f"Cancel: {link(appointment, 'cancel')}" in body
    patient = appointment.patient
    for url in (link(appointment, "confirm"), link(appointment, "cancel")):
        assert patient.last_name not in url and patient.phone.as_e164 not in url and patient.email not in url


def test_opening_a_link_changes_nothing_and_pressing_the_button_confirms(client, appointment):
    url = path(appointment, "confirm")
    page = client.get(url)
    assert page.status_code == 200 and "Monday, November 30, 2026" in page.content.decode()
    assert "9:00 AM" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    done = client.post(url)
    assert "your visit is confirmed" in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.history.first().history_change_reason == "Confirmed"
    assert client.post(url).status_code == 200  # pressing twice is harmless


def test_cancelling_from_the_link_cancels_the_reminders_too(client, appointment):
    response = client.post(path(appointment, "cancel"), {"reason": "transport", "detail": "Car trouble"})
    assert "Your visit is cancelled" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "By the patient: I have no ride (Car trouble)"
    assert not appointment.reminders.filter(status=ReminderStatus.PENDING).exists()


@pytest.mark.parametrize("tamper", ["wrong", "swap"])
def test_a_wrong_or_borrowed_token_gets_a_clear_page_with_the_phone(client, appointment, tamper):
    token = make_token(appointment, "confirm")
    if tamper == "wrong":
        url = f"/visit/{token[:-2]}xx/confirm/"
    else:  # a confirm token used to cancel
        url = f"/visit/{token}/cancel/"
    response = client.post(url)
    assert response.status_code == 410
    assert "This link does not work" in response.content.decode() and "(918) 555-0140" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_a_link_for_the_old_time_stops_working_when_the_visit_moves(client, appointment):
    url = path(appointment, "cancel")
    services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 13))
    response = client.post(url)
    assert response.status_code == 410 and "moved" in response.content.decode()


def test_links_expire_when_the_visit_starts(client, appointment, clock):
    url = path(appointment, "confirm")
    clock.move_to(local(NEXT_MONDAY, 9) + dt.timedelta(minutes=1))
    assert "expired" in client.get(url).content.decode()


def test_a_link_to_a_cancelled_visit_says_so_at_once(client, appointment):
    url = path(appointment, "confirm")
    services.appointment_cancel(appointment=appointment, reason="Clinic closed for weather")
    page = client.get(url)
    assert page.status_code == 410 and "has been cancelled" in page.content.decode()


def test_a_form_without_its_security_cookie_gets_a_page_with_the_phone(appointment):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(path(appointment, "confirm"))
    assert response.status_code == 403 and "(918) 555-0140" in response.content.decode()


def test_a_link_shows_only_the_visits_id(appointment):
    token = make_token(appointment, "confirm")
    assert token.split(":")[0] == str(appointment.pk)
    assert str(int(appointment.procedure_start.timestamp())) not in token


def test_links_sent_in_the_earlier_form_still_work(client, appointment):
    from django.core import signing
    legacy = signing.TimestampSigner(salt="interval.visit-link.confirm").sign(
        f"{appointment.pk}.{int(appointment.procedure_start.timestamp())}")
    assert client.get(f"/visit/{legacy}/confirm/").status_code == 200


def test_log_lines_leave_out_link_tokens():
    import logging
    from clinic.log import PatientLinksRedacted
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/visit/12:abc:def/",),
                               None)
    PatientLinksRedacted().filter(record)
    assert record.getMessage() == "Not Found: /visit/…/"
    order = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /book/order/7:x:y/confirm/ 200", None, None)
    PatientLinksRedacted().filter(order)
    assert order.getMessage() == "GET /book/order/…/confirm/ 200"
