"""Webhooks go to public internet addresses only: an endpoint on this server, the clinic's own
network or the cloud's metadata service is refused when it is saved, and again at each post on
the address the name resolves to then, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES (development)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.exceptions import ValidationError

from scheduling.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from scheduling.webhooks.delivery import dispatch_due
from scheduling.webhooks.endpoints import validate_webhook_url
from scheduling.webhooks.events import webhook_event_write
from tests.webhooks import start_receiver

pytestmark = pytest.mark.django_db

ADD = "/admin/scheduling/webhookendpoint/add/"


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the local receiver has no TLS; the address rule is what is tested
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def receiver(settings):
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("url", "kind"), [
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://127.1/hooks", "loopback"),
    ("https://2130706433/hooks", "loopback"),  # 127.0.0.1 written as one number
    ("https://[::1]:8443/hooks", "loopback"),
    ("https://localhost/hooks", "loopback"),
    ("https://billing.localhost/hooks", "loopback"),
    ("https://10.0.0.5/hooks", "private"),
    ("https://172.16.3.4/hooks", "private"),
    ("https://192.168.1.10/hooks", "private"),
    ("https://[fd12:3456::1]/hooks", "private"),
    ("https://[::ffff:10.0.0.1]/hooks", "private"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://[fe80::1]/hooks", "link-local"),
    ("https://0.0.0.0/hooks", "unspecified"),
    ("https://[::]/hooks", "unspecified"),
])
def test_an_endpoint_on_a_loopback_private_link_local_or_unspecified_address_is_refused(production, url, kind):
    with pytest.raises(ValidationError, match="public internet addresses only") as refused:
        validate_webhook_url(url)
    assert refused.value.code == "private_address" and kind in refused.value.messages[0]


def test_a_public_address_is_accepted_and_a_private_one_only_with_the_setting(production, settings):
    assert validate_webhook_url("https://93.184.216.34/hooks") == "https://93.184.216.34/hooks"
    with pytest.raises(ValidationError):
        validate_webhook_url("https://10.0.0.5/hooks")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert validate_webhook_url("https://10.0.0.5/hooks") == "https://10.0.0.5/hooks"


def test_a_bad_port_is_refused_in_words(production):
    with pytest.raises(ValidationError, match="port"):
        validate_webhook_url("https://billing.example.com:99999/hooks")


def test_the_manager_is_told_why_a_metadata_address_is_refused(client, manager, production):
    client.force_login(manager)
    response = client.post(ADD, {"name": "Metadata", "url": "https://169.254.169.254/latest/meta-data/",
                                 "events": ["appointment.*"], "is_active": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and "public internet addresses only" in page and "link-local" in page
    assert not WebhookEndpoint.objects.filter(name="Metadata").exists()


def send_to(url: str) -> WebhookDelivery:
    # Saved without the form's check, as an endpoint registered before its name pointed inside.
    WebhookEndpoint.objects.create(name="Billing", url=url, events=["appointment.*"])
    webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    dispatch_due(budget=dt.timedelta(seconds=10))
    return WebhookDelivery.objects.get()


def test_a_name_that_resolves_to_a_private_address_when_posting_is_not_sent_and_given_up_at_once(
        production, receiver):
    name = socket.gethostname()  # a real name, resolved by the system when the post is made
    try:
        socket.getaddrinfo(name, 80)
    except OSError:
        pytest.skip("this machine's name does not resolve")
    delivery = send_to(receiver.url.replace("127.0.0.1", name))
    assert receiver.received == []
    (attempt,) = delivery.attempt_log.all()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert attempt.status_code is None and attempt.error.startswith("Not sent: Webhooks go to public internet")
    assert name in attempt.error and delivery.last_error == attempt.error


def test_a_loopback_address_saved_earlier_is_not_posted_to(production, receiver):
    delivery = send_to(receiver.url)
    assert receiver.received == []
    assert delivery.status == DeliveryStatus.FAILED and "loopback" in delivery.last_error


def test_with_the_setting_on_a_receiver_on_this_machine_gets_the_event(receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    delivery = send_to(receiver.url)
    assert receiver.kinds() == ["appointment.booked"] and delivery.status == DeliveryStatus.DELIVERED
