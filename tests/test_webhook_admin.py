"""Webhook endpoints in the admin: the clinic manager's alone; the secret shown once, revealable
and rotatable; deliveries listed with their attempts and retried on demand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scheduling.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from scheduling.webhooks.events import webhook_event_write

pytestmark = pytest.mark.django_db

ADD = "/admin/scheduling/webhookendpoint/add/"
LIST = "/admin/scheduling/webhookendpoint/"
DELIVERIES = "/admin/scheduling/webhookdelivery/"


@pytest.fixture
def endpoint(demo_clinic):
    return WebhookEndpoint.objects.create(name="Billing", url="https://billing.example.com/hooks",
                                          events=["appointment.booked"])


def form(**changes) -> dict:
    return {"name": "EHR interface", "url": "https://ehr.example.org/interval", "events": ["appointment.*"],
            "is_active": "on", **changes}


@pytest.mark.parametrize("role", ["front_desk", "nurse", "physician_user"])
def test_other_roles_cannot_see_or_manage_endpoints(client, role, request, endpoint):
    client.force_login(request.getfixturevalue(role))
    assert client.get(LIST).status_code == 403
    assert client.post(ADD, form()).status_code == 403
    assert client.get(reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])).status_code == 403
    secret = endpoint.secret
    assert client.post(reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == secret  # not rotated
    assert client.get(DELIVERIES).status_code == 403
    assert not WebhookEndpoint.objects.filter(name="EHR interface").exists()


def test_the_manager_registers_an_endpoint_and_sees_its_secret_once(client, manager):
    client.force_login(manager)
    response = client.post(ADD, form(may_receive_patient_data="on"), follow=True)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(name="EHR interface")
    assert endpoint.events == ["appointment.*"] and endpoint.may_receive_patient_data
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    # Afterwards the endpoint's page shows only a hint of it.
    page = client.get(reverse("admin:scheduling_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page and endpoint.secret_hint in page


def test_the_manager_reveals_and_rotates_the_secret(client, manager, endpoint):
    client.force_login(manager)
    url = reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])
    response = client.get(url)
    assert endpoint.secret in response.content.decode()
    old = endpoint.secret
    client.post(url)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_") and endpoint.secret_rotated_at
    assert endpoint.previous_secret == old  # still signs for a day
    newer = endpoint.secret
    client.post(url, {"revoke": "1"})
    endpoint.refresh_from_db()
    assert endpoint.secret not in (old, newer) and endpoint.previous_secret == ""


@pytest.mark.parametrize(("url", "words"), [
    ("http://ehr.example.org/interval", "https:// addresses only"),
    ("ftp://ehr.example.org/interval", "starting with https://"),
    ("https://ehr.example.org/" + "x" * 600, "at most 500 characters"),
])
def test_an_endpoint_url_that_is_not_https_is_refused_with_a_reason(client, manager, settings, url, words):
    settings.WEBHOOK_ALLOW_HTTP = False
    client.force_login(manager)
    response = client.post(ADD, form(url=url))
    assert response.status_code == 200 and words in response.content.decode()
    assert not WebhookEndpoint.objects.filter(name="EHR interface").exists()


def test_an_endpoint_needs_at_least_one_known_event(client, manager):
    client.force_login(manager)
    assert "This field is required" in client.post(ADD, form(events=[])).content.decode()
    assert "not one of the available choices" in client.post(ADD, form(events=["appointment.deleted"])).content.decode()
    assert not WebhookEndpoint.objects.filter(name="EHR interface").exists()


def test_the_manager_sees_a_deliverys_attempts_and_retries_it_now(client, manager, endpoint):
    event = webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    delivery = WebhookDelivery.objects.get(event=event)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8,
                                                          last_error="The endpoint answered 500")
    WebhookAttempt.objects.create(delivery=delivery, at=delivery.created_at, status_code=500,
                                  error="The endpoint answered 500 Internal Server Error", duration_ms=42)
    client.force_login(manager)
    listing = client.get(DELIVERIES).content.decode()
    assert "appointment.booked" in listing and "The endpoint answered 500" in listing
    page = client.get(reverse("admin:scheduling_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "Internal Server Error" in page and "42" in page and event.public_id in page
    client.post(DELIVERIES, {"action": "retry_now", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0


def test_retry_now_refuses_a_given_up_delivery_a_later_event_overtook_and_says_why(client, manager, endpoint):
    endpoint.events = ["appointment.*"]
    endpoint.save()
    booked = webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    cancelled = webhook_event_write("appointment.cancelled", subject="appointment:1",
                                    data={"appointment": {"id": 1}})
    WebhookDelivery.objects.filter(event=booked).update(status=DeliveryStatus.FAILED, attempts=8)
    WebhookDelivery.objects.filter(event=cancelled).update(status=DeliveryStatus.DELIVERED, attempts=1)
    failed = WebhookDelivery.objects.get(event=booked)
    client.force_login(manager)
    response = client.post(DELIVERIES, {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True)
    page = response.content.decode()
    assert "Not retried: appointment.booked about appointment:1 is older than appointment.cancelled" in page
    assert "out of order" in page and "will be attempted again" not in page
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 8
