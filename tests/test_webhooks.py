"""Webhooks: events written with each change, posted signed to a real HTTP receiver on this
machine, retried with backoff, in order per visit, given up after the limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from scheduling import services
from scheduling.errors import DeliveryOvertaken, SlotUnavailable
from scheduling.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from scheduling.webhooks.delivery import dispatch_due, webhook_delivery_retry
from scheduling.webhooks.endpoints import validate_webhook_url, webhook_secret_rotate
from scheduling.webhooks.events import webhook_event_write
from tests.careplans import make_plan, patient_with
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.webhooks import documented_verifier, start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the receiver is on this machine, without TLS
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_BACKOFF_SECONDS = 60
    settings.WEBHOOK_MAX_ATTEMPTS = 8
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


def endpoint_for(receiver, *, events=("appointment.*",), patient_data=False, name="Billing") -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(name=name, url=receiver.url, events=list(events),
                                              may_receive_patient_data=patient_data)
    receiver.secret = endpoint.secret
    return endpoint


@pytest.fixture
def endpoint(receiver):
    return endpoint_for(receiver)


@pytest.fixture
def patient(calendar):
    found = patient_with("Medicare")
    calendar.order_for(found)
    return found


def another_patient(calendar, patient):
    other = next(p for p in calendar.patients if p != patient and not p.blood_thinners.exists())
    calendar.order_for(other)
    return other


def book(calendar, patient, hour=9, day=NEXT_MONDAY):
    return services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                     start=local(day, hour))


def deliver():
    return dispatch_due(budget=dt.timedelta(seconds=20))


# ---- Written with the change ----------------------------------------------------------------------

def test_a_booking_writes_its_event_in_the_booking_transaction_and_a_rolled_back_booking_writes_none(
        calendar, endpoint, patient):
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment = book(calendar, patient)
        assert WebhookEvent.objects.filter(subject=f"appointment:{appointment.pk}").exists()
        raise RuntimeError("the request failed after booking")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()

    appointment = book(calendar, patient)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event.kind == "appointment.booked" and delivery.endpoint == endpoint
    assert delivery.subject == f"appointment:{appointment.pk}" and delivery.status == DeliveryStatus.PENDING


def test_a_refused_booking_writes_no_event(calendar, endpoint, patient):
    book(calendar, patient)
    with pytest.raises(SlotUnavailable):
        book(calendar, another_patient(calendar, patient))
    assert list(WebhookEvent.objects.values_list("kind", flat=True)) == ["appointment.booked"]


def test_only_active_endpoints_that_asked_for_the_event_get_a_delivery(calendar, receiver, patient):
    wants = endpoint_for(receiver, events=["appointment.booked"], name="Wants")
    endpoint_for(receiver, events=["appointment.cancelled"], name="Other event")
    inactive = endpoint_for(receiver, events=["appointment.booked"], name="Inactive")
    inactive.is_active = False
    inactive.save()
    book(calendar, patient)
    assert [d.endpoint for d in WebhookDelivery.objects.all()] == [wants]


def test_moves_cancellations_and_status_changes_are_events_with_times_in_the_locations_zone(
        calendar, endpoint, patient, receiver):
    appointment = book(calendar, patient)
    services.appointment_confirm(appointment=appointment)
    services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 11))
    services.appointment_cancel(appointment=appointment, reason="Feeling better")
    deliver()
    assert receiver.kinds() == ["appointment.booked", "appointment.status_changed", "appointment.moved",
                                "appointment.cancelled"]
    booked, confirmed, moved, cancelled = (item.event["data"] for item in receiver.received)
    assert booked["appointment"]["start"] == "2026-11-30T09:00:00-06:00"
    assert booked["appointment"]["arrival"] == "2026-11-30T08:30:00-06:00"
    assert booked["appointment"]["procedure_type"] == "ESI_IL" and booked["appointment"]["status"] == "scheduled"
    assert confirmed["appointment"]["status"] == "confirmed" and confirmed["previous_status"] == "scheduled"
    assert moved["appointment"]["start"] == "2026-11-30T11:00:00-06:00"
    assert moved["previous_start"] == "2026-11-30T09:00:00-06:00"
    assert cancelled["appointment"]["status"] == "cancelled"
    assert cancelled["appointment"]["cancel_reason"] == "Feeling better"
    assert all(item.verified for item in receiver.received)


def test_a_care_plan_tells_it_was_created_and_its_first_step_is_ready(calendar, receiver):
    endpoint_for(receiver, events=["care_plan.*"])
    plan = make_plan(calendar, patient_with("Medicare"))
    deliver()
    assert receiver.kinds() == ["care_plan.created", "care_plan.step_ready"]
    created, ready = (item.event["data"] for item in receiver.received)
    assert created["care_plan"]["id"] == plan.pk and created["patient"] == {"id": plan.patient_id}
    assert ready["step"]["position"] == 1 and ready["step"]["status"] == "ready"
    assert ready["step"]["procedure_type"] == "MBB_LUMBAR"


def test_a_patient_created_through_the_api_is_an_event(client, front_desk, receiver):
    endpoint_for(receiver, events=["patient.created"], patient_data=True)
    client.force_login(front_desk)
    response = client.post("/api/v1/patients/", {"first_name": "Ada", "last_name": "Quill",
                                                 "date_of_birth": "1960-02-03", "email": "ada@example.com"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    deliver()
    (received,) = receiver.received
    assert received.event["data"]["patient"] == {"id": response.json()["id"], "first_name": "Ada",
                                                 "last_name": "Quill", "date_of_birth": "1960-02-03",
                                                 "email": "ada@example.com", "phone": ""}


# ---- Signed, and patient data only where allowed ---------------------------------------------------

def test_the_request_is_signed_as_documented_and_names_its_event_and_id(calendar, endpoint, patient, receiver):
    book(calendar, patient)
    assert deliver() == 1
    (received,) = receiver.received
    event = received.event
    assert received.verified
    assert received.headers["Interval-Event"] == "appointment.booked" == event["type"]
    assert received.headers["Interval-Webhook-Id"] == event["id"] == WebhookEvent.objects.get().public_id
    assert received.headers["Interval-Signature"].startswith(f"t={int(NOW.timestamp())},v1=")
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    # The same request does not verify with another secret, nor with its body changed.
    verify = documented_verifier()
    assert not verify("whsec_other", received.body, received.headers["Interval-Signature"])
    assert not verify(endpoint.secret, received.body.replace(b"scheduled", b"confirmed"),
                      received.headers["Interval-Signature"])


def test_a_signature_older_than_five_minutes_does_not_verify(calendar, endpoint, patient, receiver, clock):
    book(calendar, patient)
    deliver()
    (received,) = receiver.received
    verify = documented_verifier()
    clock.move_to(NOW + dt.timedelta(minutes=6))
    assert not verify(endpoint.secret, received.body, received.headers["Interval-Signature"])


def test_the_patients_name_and_contact_go_only_to_endpoints_allowed_to_receive_them(calendar, receiver, patient):
    endpoint_for(receiver, patient_data=False, name="Analytics")
    allowed = endpoint_for(receiver, patient_data=True, name="EHR")
    book(calendar, patient)
    deliver()
    by_endpoint = {item.verified: item for item in receiver.received}  # the receiver knows the EHR's secret
    assert set(by_endpoint) == {True, False}
    assert by_endpoint[True].event["data"]["patient"]["last_name"] == patient.last_name
    assert by_endpoint[True].event["data"]["patient"]["phone"] == patient.phone
    assert by_endpoint[False].event["data"]["patient"] == {"id": patient.pk}
    assert patient.last_name.encode() not in by_endpoint[False].body
    assert WebhookDelivery.objects.get(endpoint=allowed).status == DeliveryStatus.DELIVERED


# ---- Retries, order, giving up --------------------------------------------------------------------

def test_a_failed_delivery_is_retried_after_its_backoff_and_every_attempt_is_logged(
        calendar, endpoint, patient, receiver, clock):
    receiver.answers = [500, 503]
    book(calendar, patient)
    assert deliver() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert "500" in delivery.last_error
    clock.move_to(NOW + dt.timedelta(seconds=59))
    assert deliver() == 0 and len(receiver.received) == 1  # not before its backoff
    clock.move_to(NOW + dt.timedelta(seconds=60))
    assert deliver() == 0
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=60 + 120)  # twice as long
    clock.move_to(NOW + dt.timedelta(seconds=180))
    assert deliver() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert all(a.duration_ms >= 0 for a in delivery.attempt_log.all())
    assert len({item.headers["Interval-Webhook-Id"] for item in receiver.received}) == 1  # one id for all
    assert all(item.verified for item in receiver.received)  # each attempt signed afresh


def test_a_later_event_about_a_visit_waits_until_the_earlier_one_is_delivered(
        calendar, endpoint, patient, receiver, clock):
    receiver.answers = [500]
    first = book(calendar, patient)
    services.appointment_cancel(appointment=first, reason="Changed her mind")
    other = book(calendar, another_patient(calendar, patient), hour=11)
    deliver()
    # The booking failed; its cancellation waits; another visit's event is not held up.
    assert [(item.headers["Interval-Event"], item.event["data"]["appointment"]["id"]) for item in receiver.received] \
        == [("appointment.booked", first.pk), ("appointment.booked", other.pk)]
    clock.move_to(NOW + dt.timedelta(minutes=1))
    deliver()
    assert [(item.headers["Interval-Event"], item.event["data"]["appointment"]["id"])
            for item in receiver.received[2:]] == [("appointment.booked", first.pk),
                                                  ("appointment.cancelled", first.pk)]


def test_a_delivery_is_given_up_after_the_limit_and_the_next_event_then_goes(
        calendar, endpoint, patient, receiver, clock, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers = [500, 500, 500]
    appointment = book(calendar, patient)
    services.appointment_confirm(appointment=appointment)
    booked = WebhookDelivery.objects.get(event__kind="appointment.booked")
    for minutes in (0, 1, 3):
        clock.move_to(NOW + dt.timedelta(minutes=minutes))
        deliver()
    booked.refresh_from_db()
    assert booked.status == DeliveryStatus.FAILED and booked.attempts == 3
    assert WebhookAttempt.objects.filter(delivery=booked).count() == 3
    # Given up, it no longer holds back the visit's next event, which went in the same run.
    assert receiver.kinds() == ["appointment.booked"] * 3 + ["appointment.status_changed"]


def test_staff_retry_a_given_up_delivery_with_its_attempts_counted_afresh_and_later_events_wait(
        calendar, endpoint, patient, receiver, clock, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    appointment = book(calendar, patient)
    deliver()
    booked = WebhookDelivery.objects.get()
    assert booked.status == DeliveryStatus.FAILED
    assert webhook_delivery_retry(booked)
    services.appointment_confirm(appointment=appointment)  # written after the retry: waits for it
    deliver()
    booked.refresh_from_db()
    assert booked.status == DeliveryStatus.DELIVERED and booked.attempts == 1
    assert receiver.kinds() == ["appointment.booked"] * 2 + ["appointment.status_changed"]


def test_a_given_up_delivery_is_not_retried_once_a_later_event_about_the_visit_was_delivered(
        calendar, endpoint, patient, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    appointment = book(calendar, patient)
    services.appointment_cancel(appointment=appointment, reason="Feeling better")
    deliver()
    assert receiver.kinds() == ["appointment.booked", "appointment.cancelled"]
    booked = WebhookDelivery.objects.get(event__kind="appointment.booked")
    with pytest.raises(DeliveryOvertaken, match="appointment.cancelled, which already reached Billing") as refused:
        webhook_delivery_retry(booked)
    assert "out of order" in refused.value.message
    booked.refresh_from_db()
    assert booked.status == DeliveryStatus.FAILED
    deliver()
    assert receiver.kinds() == ["appointment.booked", "appointment.cancelled"]  # "booked" never after "cancelled"


def test_a_given_up_delivery_is_not_retried_while_a_later_one_is_being_posted(endpoint):
    booked = webhook_event_write("appointment.booked", subject="appointment:1", data={})
    moved = webhook_event_write("appointment.moved", subject="appointment:1", data={})
    WebhookDelivery.objects.filter(event=booked).update(status=DeliveryStatus.FAILED, attempts=8)
    WebhookDelivery.objects.filter(event=moved).update(status=DeliveryStatus.SENDING)
    with pytest.raises(DeliveryOvertaken, match="appointment.moved, which is being posted to Billing"):
        webhook_delivery_retry(WebhookDelivery.objects.get(event=booked))
    # Another visit's given-up delivery is retried as before.
    other = webhook_event_write("appointment.booked", subject="appointment:2", data={})
    WebhookDelivery.objects.filter(event=other).update(status=DeliveryStatus.FAILED, attempts=8)
    assert webhook_delivery_retry(WebhookDelivery.objects.get(event=other))


def test_a_redirect_is_not_followed_and_counts_as_a_failure(calendar, endpoint, patient, receiver):
    receiver.answers = [302]
    book(calendar, patient)
    deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "302" in delivery.last_error
    assert len(receiver.received) == 1


def test_an_unreachable_endpoint_is_logged_without_a_status_and_retried(calendar, receiver, patient):
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:9/hooks")  # nothing listens
    book(calendar, patient)
    deliver()
    delivery = WebhookDelivery.objects.get()
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code is None and "No answer from the endpoint" in attempt.error
    assert delivery.status == DeliveryStatus.PENDING


def test_an_answer_that_is_not_http_is_logged_and_retried(calendar, receiver, patient):
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def garble():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"this is not HTTP\r\n\r\n")
        connection.close()

    threading.Thread(target=garble, daemon=True).start()
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{listener.getsockname()[1]}/")
    book(calendar, patient)
    deliver()
    listener.close()
    delivery = WebhookDelivery.objects.get()
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code is None and "No answer from the endpoint" in attempt.error
    assert delivery.status == DeliveryStatus.PENDING


def test_a_delivery_for_an_endpoint_made_inactive_is_not_sent(calendar, endpoint, patient, receiver):
    book(calendar, patient)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    deliver()
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED


# ---- Endpoint URLs --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.com/hooks", "javascript:alert(1)", "https://", "example.com/hooks",
                                 "https://user:pw@example.com/hooks", "", "https://exa\x00mple.com/"])
def test_an_endpoint_url_that_is_not_a_web_address_is_refused(url, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    with pytest.raises(ValidationError):
        validate_webhook_url(url)


def test_plain_http_is_refused_unless_the_setting_allows_it(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError, match="https://"):
        validate_webhook_url("http://billing.example.com/hooks")
    assert validate_webhook_url("https://billing.example.com/hooks") == "https://billing.example.com/hooks"
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert validate_webhook_url("http://127.0.0.1:8080/hooks") == "http://127.0.0.1:8080/hooks"


# ---- Secret rotation ------------------------------------------------------------------------------

def test_after_a_rotation_the_old_secret_verifies_for_a_day_unless_revoked(calendar, endpoint, patient, receiver,
                                                                          clock):
    verify = documented_verifier()
    old = endpoint.secret
    rotated = webhook_secret_rotate(endpoint=endpoint)
    appointment = book(calendar, patient)
    deliver()
    (received,) = receiver.received
    header = received.headers["Interval-Signature"]
    assert header.count("v1=") == 2
    assert verify(rotated.secret, received.body, header) and verify(old, received.body, header)

    clock.move_to(NOW + dt.timedelta(hours=24))
    services.appointment_confirm(appointment=appointment)
    deliver()
    header = receiver.received[-1].headers["Interval-Signature"]
    assert header.count("v1=") == 1 and verify(rotated.secret, receiver.received[-1].body, header)
    assert not verify(old, receiver.received[-1].body, header)

    revoked = webhook_secret_rotate(endpoint=rotated, keep_previous=False)
    assert revoked.signing_secrets(at=NOW + dt.timedelta(hours=24)) == [revoked.secret]
