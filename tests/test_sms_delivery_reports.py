"""Twilio's delivery reports (status callbacks): signed, matched to the reminder, shown to staff."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import Reminder, ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.twilio_sms import status_callback_url, twilio_client
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.twilio_stub import AUTH_TOKEN, twilio_stub

pytestmark = pytest.mark.django_db
SITE = "https://clinic.example.org"


@pytest.fixture
def sent(settings, calendar) -> Reminder:
    """A booking confirmation texted through Twilio (the stub)."""
    settings.SITE_URL = SITE
    with twilio_stub() as stub:
        for name, value in stub.settings().items():
            setattr(settings, name, value)
        twilio_client.cache_clear()
        patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
        patient.blood_thinners.clear()
        esi = ProcedureType.objects.get(code="ESI_IL")
        calendar.order_for(patient, esi)
        appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                                start=local(NEXT_MONDAY, 9))
        dispatch.dispatch_due(now=NOW)
    twilio_client.cache_clear()
    reminder = appointment.reminders.get(kind="booking_confirmation")
    assert reminder.status == ReminderStatus.SENT and reminder.provider_message_id
    return reminder


def report(client, url: str, fields: dict, *, token: str = AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(url, fields)
    return client.post(url.removeprefix(SITE), fields, HTTP_X_TWILIO_SIGNATURE=signature)


def status_fields(reminder: Reminder, status: str, **extra) -> dict:
    return {"MessageSid": reminder.provider_message_id, "MessageStatus": status, "AccountSid": "AC1",
            "To": "+19185550150", "From": "+19185550100", **extra}


def test_a_delivered_report_is_recorded_on_the_reminder(client, sent):
    response = report(client, status_callback_url(sent.idempotency_key), status_fields(sent, "delivered"))
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered" and sent.delivery_error_code == ""
    assert sent.delivery_reported_at is not None


def test_an_undelivered_text_keeps_the_carriers_error_code(client, sent):
    report(client, status_callback_url(sent.idempotency_key), status_fields(sent, "undelivered", ErrorCode="30003"))
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.delivery_error_code) == ("undelivered", "30003")


def test_a_report_is_matched_by_message_id_without_the_reminder_in_the_address(client, sent):
    report(client, SITE + "/sms/twilio/status/", status_fields(sent, "failed", ErrorCode="30008"))
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.delivery_error_code) == ("failed", "30008")


def test_a_report_arriving_before_the_message_id_is_stored_finds_its_reminder_by_key(client, sent):
    Reminder.objects.filter(pk=sent.pk).update(provider_message_id="")
    report(client, status_callback_url(sent.idempotency_key), {**status_fields(sent, "sent"),
                                                               "MessageSid": "SM" + "f" * 32})
    sent.refresh_from_db()
    assert sent.delivery_status == "sent" and sent.provider_message_id == "SM" + "f" * 32


def test_a_late_sent_report_does_not_undo_delivered(client, sent):
    url = status_callback_url(sent.idempotency_key)
    report(client, url, status_fields(sent, "delivered"))
    report(client, url, status_fields(sent, "sent"))
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"


def test_a_report_with_a_bad_signature_is_refused(client, sent):
    response = report(client, status_callback_url(sent.idempotency_key), status_fields(sent, "delivered"),
                      token="not-the-auth-token")
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.delivery_status == ""


def test_a_report_signed_for_other_fields_is_refused(client, sent):
    url = status_callback_url(sent.idempotency_key)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, status_fields(sent, "sent"))
    response = client.post(url.removeprefix(SITE), status_fields(sent, "delivered"),
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403


def test_a_report_without_a_signature_is_refused(client, sent):
    response = client.post("/sms/twilio/status/", status_fields(sent, "delivered"))
    assert response.status_code == 403


def test_a_report_about_an_unknown_message_is_answered_and_ignored(client, sent):
    response = report(client, SITE + "/sms/twilio/status/", {**status_fields(sent, "delivered"),
                                                            "MessageSid": "SM" + "e" * 32})
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == ""


@pytest.mark.parametrize("fields", [
    {"MessageStatus": "delivered"},                                          # no message id
    {"MessageSid": "SM" + "1" * 32},                                         # no status
    {"MessageSid": "SM" + "1" * 32, "MessageStatus": "undelivered", "ErrorCode": "thirty"},
    {"MessageSid": "SM" + "x" * 5000, "MessageStatus": "delivered"},
])
def test_a_signed_report_without_what_it_needs_is_a_bad_request(client, sent, fields):
    assert report(client, SITE + "/sms/twilio/status/", fields).status_code == 400


def test_a_nul_in_a_report_is_a_bad_request_not_a_server_error(client, sent):
    fields = status_fields(sent, "deliv\x00ered")
    assert report(client, SITE + "/sms/twilio/status/", fields).status_code == 400


def test_a_get_is_not_allowed(client, sent):
    assert client.get("/sms/twilio/status/").status_code == 405


def test_the_admins_reminder_list_shows_the_delivery_and_its_error(admin_client, client, sent):
    report(client, status_callback_url(sent.idempotency_key), status_fields(sent, "undelivered", ErrorCode="30005"))
    page = admin_client.get("/admin/scheduling/reminder/").content.decode()
    assert "Not delivered (30005)" in page


def test_a_reminders_page_reads_without_a_save_button(admin_client, sent):
    page = admin_client.get(f"/admin/scheduling/reminder/{sent.pk}/change/").content.decode()
    assert sent.idempotency_key in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
