"""Webhook endpoints in the admin: the clinic manager's alone; the secret shown once, revealable
and rotatable; deliveries listed with their attempts and retried on demand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

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


def _failed_delivery(error: str) -> WebhookDelivery:
    event = webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    delivery = WebhookDelivery.objects.get(event=event)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8, last_error=error)
    delivery.refresh_from_db()
    return delivery


def test_the_delivery_list_cuts_a_long_error_short_and_the_deliverys_page_shows_it_whole(client, manager, endpoint):
    error = "The endpoint answered 502 Bad Gateway: " + "upstream connect error or disconnect " * 4 + "END"
    delivery = _failed_delivery(error)
    client.force_login(manager)
    listing = client.get(DELIVERIES).content.decode()
    assert "The endpoint answered 502 Bad Gateway" in listing
    assert f">{error}<" not in listing and f'title="{error}"' in listing  # whole only on hover
    page = client.get(reverse("admin:scheduling_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert f">{error}<" in page


def _next_attempt_row(page: str) -> str:
    return page.split("field-next_attempt", 1)[1].split("field-delivered_at", 1)[0]


def test_only_a_delivery_still_to_be_sent_shows_its_next_attempt(client, manager, endpoint):
    event = webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    delivery = WebhookDelivery.objects.get(event=event)
    shown = f"{timezone.localtime(delivery.next_attempt_at):%H:%M %Z}"
    client.force_login(manager)
    page = reverse("admin:scheduling_webhookdelivery_change", args=[delivery.pk])
    assert client.get(DELIVERIES).content.decode().count(shown) == 2  # created, next attempt
    assert shown in _next_attempt_row(client.get(page).content.decode())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED, attempts=1,
                                                          delivered_at=delivery.next_attempt_at)
    assert client.get(DELIVERIES).content.decode().count(shown) == 1  # created only
    assert shown not in _next_attempt_row(client.get(page).content.decode())


def test_an_attempt_is_labelled_in_the_clinics_local_time(client, manager, endpoint, settings):
    delivery = _failed_delivery("The endpoint answered 500")
    at = datetime(2026, 11, 24, 16, 1, 19, tzinfo=UTC)
    WebhookAttempt.objects.create(delivery=delivery, at=at, status_code=204, duration_ms=42)
    client.force_login(manager)
    page = client.get(reverse("admin:scheduling_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "204 at 2026-11-24 10:01:19 CST" in page
    assert "16:01:19" not in page


@pytest.mark.parametrize(("count", "words"), [(1, "1 delivery will be attempted again"),
                                              (2, "2 deliveries will be attempted again")])
def test_retrying_says_how_many_deliveries_in_plain_english(client, manager, endpoint, count, words):
    deliveries = [_failed_delivery("The endpoint answered 500") for _ in range(count)]
    client.force_login(manager)
    response = client.post(DELIVERIES, {"action": "retry_now", "_selected_action": [d.pk for d in deliveries]},
                           follow=True)
    text = response.content.decode()
    assert words in text and "(ies)" not in text


@pytest.mark.parametrize(("query", "form", "words"), [
    ("", {}, "must have the new secret within 24 hours"),
    ("?revoke=1", {"revoke": "1"}, "refuses every delivery from the moment you confirm"),
])
def test_rotating_the_secret_asks_first_and_says_what_the_receiver_needs(client, manager, endpoint, query, form,
                                                                         words):
    client.force_login(manager)
    secret_page = reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])
    confirm_page = reverse("admin:scheduling_webhookendpoint_secret_rotate", args=[endpoint.pk])
    assert f'href="{confirm_page}{query}"' in client.get(secret_page).content.decode()
    old = endpoint.secret
    confirm = client.get(confirm_page + query).content.decode()
    assert words in confirm and endpoint.url in confirm
    assert f'action="{secret_page}"' in confirm
    assert ('name="revoke" value="1"' in confirm) == bool(form)
    endpoint.refresh_from_db()
    assert endpoint.secret == old  # the button alone changed nothing
    client.post(secret_page, form)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and (endpoint.previous_secret == ("" if form else old))


def test_the_secret_page_gives_its_times_in_24_hours_without_a_double_period(client, manager, endpoint):
    client.force_login(manager)
    url = reverse("admin:scheduling_webhookendpoint_secret", args=[endpoint.pk])
    client.post(url)
    endpoint.refresh_from_db()
    page = client.get(url).content.decode()
    rotated = timezone.localtime(endpoint.secret_rotated_at)
    until = timezone.localtime(endpoint.previous_secret_until)
    assert f"Last rotated {rotated:%a %Y-%m-%d %H:%M %Z}." in page
    assert f"until {until:%a %Y-%m-%d %H:%M %Z}." in page
    assert ".." not in page.replace("...", "")


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
