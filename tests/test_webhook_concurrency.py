"""Two dispatchers at once on PostgreSQL (real concurrent transactions): every webhook is
delivered exactly once, and each visit's events still arrive in the order they happened."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from scheduling.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from scheduling.webhooks.delivery import dispatch_due
from scheduling.webhooks.events import webhook_event_write
from tests.webhooks import start_receiver

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ["appointment.booked", "appointment.status_changed", "appointment.moved", "appointment.cancelled"]


def test_two_dispatchers_deliver_each_event_once_and_in_order_per_visit(postgres, settings):
    receiver, server = start_receiver()
    try:
        endpoint = WebhookEndpoint.objects.create(name="EHR", url=receiver.url, events=["appointment.*"])
        receiver.secret = endpoint.secret
        settings.WEBHOOK_BACKOFF_SECONDS = 1
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on this machine
        refused = set()

        def answer_for(event: dict) -> int:
            # The odd visits' bookings fail once: their later events must wait for the retry.
            visit = event["data"]["appointment"]["id"]
            if event["type"] == "appointment.booked" and visit % 2 and visit not in refused:
                refused.add(visit)
                return 500
            time.sleep(0.01)
            return 200

        receiver.answer_for = answer_for
        for kind in KINDS:  # interleaved, as a busy day writes them
            for visit in range(1, 9):
                webhook_event_write(kind, subject=f"appointment:{visit}",
                                    data={"appointment": {"id": visit}, "patient": {"id": visit}})
        errors = []

        def dispatcher():
            try:
                # Several rounds: a visit's next event becomes claimable once the one before is out.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and WebhookDelivery.objects.filter(
                        status__in=["pending", "sending"]).exists():
                    dispatch_due(batch_size=3, budget=dt.timedelta(seconds=5))
                    time.sleep(0.05)  # the refused ones wait out their backoff
            except Exception as error:  # noqa: BLE001 (reported by the test)
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 32
        delivered = [item.headers["Interval-Webhook-Id"] for item in receiver.received if item.answer == 200]
        assert len(delivered) == 32 and len(set(delivered)) == 32  # none twice
        assert all(item.verified for item in receiver.received)
        for visit in range(1, 9):
            arrived = [item.event["type"] for item in receiver.received
                       if item.event["data"]["appointment"]["id"] == visit]
            # An odd visit's booking is refused once and retried before its next event is sent.
            assert arrived == (["appointment.booked"] if visit % 2 else []) + KINDS, (visit, arrived)
    finally:
        server.shutdown()
        server.server_close()
