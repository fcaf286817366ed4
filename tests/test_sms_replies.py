"""Patients' replies by text: STOP, START and HELP, answered in TwiML, with consent recorded."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from twilio.request_validator import RequestValidator

from clinic.models import Location, Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.transports import MemorySMSTransport
from scheduling.services.sms import Keyword, keyword_of
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.twilio_stub import AUTH_TOKEN

pytestmark = pytest.mark.django_db
SITE = "https://clinic.example.org"
INBOUND = SITE + "/sms/twilio/inbound/"


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.SITE_URL = SITE
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SMS_TRANSPORT = "memory"
    MemorySMSTransport.outbox.clear()
    yield
    MemorySMSTransport.outbox.clear()


def text_in(client, body: str, *, sender: str, token: str = AUTH_TOKEN):
    fields = {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC1", "From": sender, "To": "+19185550100",
              "Body": body, "NumMedia": "0"}
    signature = RequestValidator(token).compute_signature(INBOUND, fields)
    return client.post("/sms/twilio/inbound/", fields, HTTP_X_TWILIO_SIGNATURE=signature)


def answer_of(response) -> str:
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return " ".join(message.text or "" for message in root.iter("Message"))


@pytest.fixture
def texter(calendar) -> Patient:
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms", sms_consent=True).order_by(
        "pk").first()
    patient.blood_thinners.clear()
    return patient


@pytest.mark.parametrize(("text", "keyword"), [
    ("STOP", Keyword.STOP), ("stop", Keyword.STOP), (" Stop. ", Keyword.STOP), ("STOPALL", Keyword.STOP),
    ("Unsubscribe", Keyword.STOP), ("cancel", Keyword.STOP), ("END", Keyword.STOP), ("quit", Keyword.STOP),
    ("START", Keyword.START), ("yes", Keyword.START), ("UNSTOP", Keyword.START),
    ("help", Keyword.HELP), ("Please stop texting me at work", Keyword.OTHER), ("", Keyword.OTHER),
])
def test_a_reply_is_read_as_carriers_read_keywords(text, keyword):
    assert keyword_of(text) == keyword


def test_stop_withdraws_consent_with_the_reason_in_the_patients_history(client, texter):
    response = text_in(client, "STOP", sender=texter.phone.as_e164)
    assert response.status_code == 200
    texter.refresh_from_db()
    assert texter.sms_consent is False
    latest = texter.history.first()
    assert latest.sms_consent is False and latest.history_user is None
    assert latest.history_change_reason == f"Consent to text messages withdrawn: STOP texted from {texter.phone.as_e164}"
    words = answer_of(response)
    clinic = Location.objects.get()
    assert "no more text messages" in words and clinic.name in words and "START" in words


def test_stop_from_a_shared_number_stops_texts_to_everyone_on_it(client, texter):
    other = Patient.objects.exclude(pk=texter.pk).filter(sms_consent=True).order_by("pk").first()
    other.phone = str(texter.phone)  # typed in the national format: the same number
    other.save()
    text_in(client, "stop", sender=texter.phone.as_e164)
    assert Patient.objects.filter(pk__in=[texter.pk, other.pk], sms_consent=True).count() == 0


def test_a_patient_who_stopped_gets_no_more_pending_texts(client, texter, calendar):
    texter.email_consent = False  # texts only: nothing else to send them by
    texter.save()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(texter, esi)
    appointment = services.appointment_book(patient=texter, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    pending = appointment.reminders.get(kind="booking_confirmation")
    assert pending.channel == "sms" and pending.status == ReminderStatus.PENDING
    text_in(client, "STOP", sender=texter.phone.as_e164)
    dispatch.dispatch_due(now=NOW)
    pending.refresh_from_db()
    assert pending.status == ReminderStatus.CANCELLED and MemorySMSTransport.outbox == []


def test_a_patient_who_stopped_texts_but_takes_email_gets_the_waiting_messages_by_email(client, texter, calendar):
    assert texter.email_consent and texter.email
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(texter, esi)
    appointment = services.appointment_book(patient=texter, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9), now=NOW)
    waiting = {r.kind: (r.due_at, r.pk) for r in appointment.reminders.filter(status=ReminderStatus.PENDING)}
    assert set(appointment.reminders.values_list("channel", flat=True)) == {"sms"} and len(waiting) > 1
    text_in(client, "STOP", sender=texter.phone.as_e164)
    after = {r.kind: (r.due_at, r.pk) for r in appointment.reminders.filter(status=ReminderStatus.PENDING,
                                                                              channel="email")}
    assert after == waiting  # the same messages, at the same times, by email
    dispatch.dispatch_due(now=NOW)
    assert MemorySMSTransport.outbox == []
    assert [m.to for m in mail.outbox] == [[texter.email]]
    assert appointment.reminders.get(kind="booking_confirmation").status == ReminderStatus.SENT


def test_start_after_stop_puts_the_messages_due_later_back_on_texts(client, texter, calendar):
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(texter, esi)
    appointment = services.appointment_book(patient=texter, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9), now=NOW)
    later = appointment.reminders.filter(status=ReminderStatus.PENDING, next_attempt_at__gt=NOW)
    assert later.count() > 1
    text_in(client, "STOP", sender=texter.phone.as_e164)
    assert set(later.values_list("channel", flat=True)) == {"email"}
    text_in(client, "START", sender=texter.phone.as_e164)
    assert set(later.values_list("channel", flat=True)) == {"sms"}


def test_start_gives_consent_back_and_plans_the_reminders_of_visits_to_come(client, texter, calendar):
    text_in(client, "STOP", sender=texter.phone.as_e164)
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(texter, esi)
    texter.refresh_from_db()
    texter.email_consent = False
    texter.save()
    appointment = services.appointment_book(patient=texter, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    assert not appointment.reminders.exists()  # no consent to anything: nothing planned
    response = text_in(client, "Start", sender=texter.phone.as_e164)
    texter.refresh_from_db()
    assert texter.sms_consent is True
    assert texter.history.first().history_change_reason.startswith("Consent to text messages given: START")
    assert appointment.reminders.filter(channel="sms", status=ReminderStatus.PENDING).exists()
    assert "again" in answer_of(response)


def test_help_answers_with_the_clinics_name_phone_and_how_to_stop(client, texter):
    response = text_in(client, "HELP", sender=texter.phone.as_e164)
    words = answer_of(response)
    clinic = Location.objects.get()
    assert clinic.name in words and "(918) 555-0140" in words and "Reply STOP" in words
    texter.refresh_from_db()
    assert texter.sms_consent is True


def test_help_from_an_unknown_number_still_answers(client, calendar):
    words = answer_of(text_in(client, "help", sender="+12025550143"))
    assert Location.objects.get().name in words and "STOP" in words


def test_any_other_text_points_to_the_clinics_phone_and_changes_nothing(client, texter):
    words = answer_of(text_in(client, "Can I come at 10 instead?", sender=texter.phone.as_e164))
    assert "not read" in words and "(918) 555-0140" in words
    texter.refresh_from_db()
    assert texter.sms_consent is True


def test_the_answer_is_in_the_patients_language(client, texter):
    texter.language = "es"
    texter.save()
    words = answer_of(text_in(client, "STOP", sender=texter.phone.as_e164))
    assert "no recibirá más mensajes de texto" in words and "START" in words


def test_a_reply_with_a_bad_signature_changes_nothing(client, texter):
    response = text_in(client, "STOP", sender=texter.phone.as_e164, token="wrong")
    assert response.status_code == 403
    texter.refresh_from_db()
    assert texter.sms_consent is True


def test_replies_are_refused_while_no_twilio_auth_token_is_set(client, texter, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert text_in(client, "STOP", sender=texter.phone.as_e164).status_code == 403


@pytest.mark.parametrize("fields", [{"Body": "STOP"}, {"From": "+19185550150"}, {"From": "+1", "Body": "x" * 5000}])
def test_a_signed_reply_without_what_it_needs_is_a_bad_request(client, calendar, fields):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(INBOUND, fields)
    assert client.post("/sms/twilio/inbound/", fields, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 400


def test_a_reply_from_a_short_code_is_answered_with_nothing(client, calendar):
    response = text_in(client, "STOP", sender="72345")
    assert response.status_code == 200 and answer_of(response) == ""


def test_consent_withdrawn_by_text_is_dated(client, texter):
    text_in(client, "STOP", sender=texter.phone.as_e164)
    assert texter.history.first().history_date == dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.timezone.utc)
