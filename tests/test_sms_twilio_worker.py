"""A real Celery worker, on Redis and PostgreSQL, texts a reminder through the Twilio SDK to a stub
of Twilio's API, and keeps Twilio's message id."""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from tests.conftest import NEXT_MONDAY, local
from tests.twilio_stub import ACCOUNT_SID, twilio_stub
from tests.worker import celery_worker, database_url, in_the_workers_future

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def test_a_worker_sends_a_reminder_through_twilio(postgres, redis_url, calendar, tmp_path):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    in_the_workers_future(appointment, keep=("booking_confirmation",))
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    queue = f"interval-sms-{uuid.uuid4().hex[:8]}"
    client = Celery("interval-test-client", broker=redis_url)
    with twilio_stub() as stub, celery_worker(
            queue=queue, log_path=tmp_path / "worker.log", DATABASE_URL=database_url(), CELERY_BROKER_URL=redis_url,
            SITE_URL="https://clinic.example.org", REMINDER_DISPATCH_SECONDS="2", **stub.settings()):
        client.send_task("scheduling.dispatch_reminders", queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            confirmation.refresh_from_db()
            if confirmation.status == ReminderStatus.SENT and confirmation.provider_message_id:
                break
            time.sleep(0.5)
    log = (tmp_path / "worker.log").read_text()
    assert confirmation.status == ReminderStatus.SENT, log[-3000:]
    (request,) = stub.received
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["fields"]["To"] == patient.phone.as_e164
    assert request["fields"]["From"] == "+19185550100"
    assert "your visit is booked" in request["fields"]["Body"]
    assert request["fields"]["StatusCallback"].startswith("https://clinic.example.org/sms/twilio/status/?reminder=")
    assert confirmation.provider_message_id == f"SM{1:032x}"
