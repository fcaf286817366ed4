"""A real Celery worker, on Redis and PostgreSQL, delivers a booking's webhook to a receiver on
this machine, signed as the README documents."""

from __future__ import annotations

import time

import pytest
import time_machine
from celery import Celery

from clinic.models import Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.webhooks import start_receiver
from tests.worker import celery_worker, database_url

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "interval-webhooks-test"  # our own: no other worker on the broker takes the task


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def test_a_worker_delivers_a_bookings_webhook_signed(postgres, redis_url, demo_clinic, tmp_path):
    receiver, server = start_receiver()
    try:
        endpoint = WebhookEndpoint.objects.create(name="EHR", url=receiver.url, events=["appointment.booked"])
        receiver.secret = endpoint.secret
        receiver.answers = [500]  # the first attempt fails; the worker retries after the backoff
        patient = Patient.objects.filter(payer__name="Medicare", blood_thinners__isnull=True).order_by("pk").first()
        esi = ProcedureType.objects.get(code="ESI_IL")
        okafor = Physician.objects.get(user__username="okafor")
        with time_machine.travel(NOW, tick=False):  # the demo's schedule is seeded as of NOW
            services.order_create(patient=patient, procedure_type=esi, ordering_physician=okafor,
                                  region="lumbar", authorization_status="approved", authorization_number="PA-1")
            appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=okafor,
                                                    start=local(NEXT_MONDAY, 9))
        delivery = WebhookDelivery.objects.get()

        app = Celery(broker=redis_url)
        with celery_worker(queue=QUEUE, log_path=tmp_path / "worker.log", DATABASE_URL=database_url(),
                           CELERY_BROKER_URL=redis_url, WEBHOOK_DISPATCH_SECONDS="12",
                           WEBHOOK_BACKOFF_SECONDS="1", WEBHOOK_ALLOW_HTTP="1",
                           WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1"):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                delivery.refresh_from_db()
                if delivery.status == DeliveryStatus.DELIVERED:
                    break
                if delivery.status == DeliveryStatus.PENDING and not delivery.attempts:
                    app.send_task("scheduling.dispatch_webhooks", queue=QUEUE)  # as beat does
                    time.sleep(3)
                time.sleep(0.5)
        app.close()
        log = (tmp_path / "worker.log").read_text()
        assert delivery.status == DeliveryStatus.DELIVERED, log[-3000:]
        assert "scheduling.dispatch_webhooks" in log
        assert [attempt.status_code for attempt in delivery.attempt_log.all()] == [500, 200]
        first, second = receiver.received
        assert first.verified and second.verified
        assert second.event["type"] == "appointment.booked"
        assert second.event["data"]["appointment"]["id"] == appointment.pk
        assert second.headers["Interval-Webhook-Id"] == first.headers["Interval-Webhook-Id"] == second.event["id"]
    finally:
        server.shutdown()
        server.server_close()
