"""The Twilio transport: the real twilio SDK against a stub of Twilio's HTTP API on this machine."""

from __future__ import annotations

import pytest

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.transports import Message, TransportError, transport_for
from scheduling.reminders.twilio_sms import TwilioSMSTransport, twilio_client
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.twilio_stub import ACCOUNT_SID, twilio_stub

MESSAGE = Message(to="(918) 555-0101", body="Bartlesville Pain Clinic: your visit is booked.",
                  idempotency_key="7:booking_confirmation:abc")


@pytest.fixture
def stub(settings):
    with twilio_stub() as running:
        for name, value in running.settings().items():
            setattr(settings, name, value)
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.SITE_URL = "https://clinic.example.org"
        twilio_client.cache_clear()
        yield running
    twilio_client.cache_clear()


def test_a_text_goes_to_the_messages_api_in_e164_with_a_status_callback(stub):
    message_id = TwilioSMSTransport().send(MESSAGE)
    (request,) = stub.received
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["account"] == ACCOUNT_SID
    assert request["fields"]["To"] == "+19185550101"
    assert request["fields"]["From"] == "+19185550100"
    assert request["fields"]["Body"] == MESSAGE.body
    assert request["fields"]["StatusCallback"] == (
        "https://clinic.example.org/sms/twilio/status/?reminder=7%3Abooking_confirmation%3Aabc")
    assert message_id == f"SM{1:032x}"


def test_a_messaging_service_sends_instead_of_a_number_when_set(stub, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "a" * 32
    TwilioSMSTransport().send(MESSAGE)
    (request,) = stub.received
    assert request["fields"]["MessagingServiceSid"] == "MG" + "a" * 32 and "From" not in request["fields"]


@pytest.mark.parametrize(("status", "code", "permanent"), [
    (400, 21211, True),   # invalid number
    (400, 21610, True),   # the patient replied STOP
    (400, 21614, True),   # a landline
    (400, None, True),    # any other refusal of this request
    (429, 20429, False),  # too many requests
    (500, None, False),
    (503, None, False),
    (401, 20003, False),  # the account's credentials: retried while an operator fixes them
])
def test_twilios_answer_decides_whether_to_retry(stub, status, code, permanent):
    stub.fail("+19185550101", status, code)
    with pytest.raises(TransportError) as caught:
        TwilioSMSTransport().send(MESSAGE)
    assert caught.value.permanent is permanent
    assert str(status) in str(caught.value)


def test_an_unreachable_twilio_is_retried_later(stub, settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    twilio_client.cache_clear()
    with pytest.raises(TransportError) as caught:
        TwilioSMSTransport().send(MESSAGE)
    assert caught.value.permanent is False


def test_a_number_that_never_parsed_is_refused_for_good_without_asking_twilio(stub):
    with pytest.raises(TransportError) as caught:
        TwilioSMSTransport().send(Message(to="ask for Bob", body="Hi", idempotency_key="k"))
    assert caught.value.permanent is True and stub.received == []


def test_sms_transport_twilio_picks_the_twilio_transport(stub):
    assert isinstance(transport_for("sms"), TwilioSMSTransport)


@pytest.mark.django_db
def test_a_dispatched_reminder_keeps_twilios_message_id(stub, calendar):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    assert dispatch.dispatch_due(now=NOW) == 1
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    (request,) = stub.received
    assert request["fields"]["To"] == patient.phone.as_e164 and request["fields"]["To"].startswith("+1918")
    assert confirmation.status == ReminderStatus.SENT
    assert confirmation.provider_message_id == f"SM{1:032x}"
    assert confirmation.idempotency_key in request["fields"]["StatusCallback"].replace("%3A", ":")


@pytest.mark.django_db
def test_a_reminder_twilio_refuses_for_good_fails_with_twilios_reason(stub, calendar):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    stub.fail(patient.phone.as_e164, 400, 21610)
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    dispatch.dispatch_due(now=NOW)
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    assert confirmation.status == ReminderStatus.FAILED and confirmation.attempts == 1
    assert "21610" in confirmation.last_error and "STOP" in confirmation.last_error
    assert confirmation.provider_message_id == ""
