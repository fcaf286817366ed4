"""A real Celery worker with beat, on Redis and PostgreSQL, sends a booking's reminders."""

from __future__ import annotations

import datetime as dt
import json
import time

import time_machine
import pytest

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import ReminderStatus
from tests.conftest import NEXT_MONDAY, local
from tests.worker import celery_worker, database_url, in_the_workers_future

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def confirmation_sent(reminder) -> bool:
    reminder.refresh_from_db()
    return reminder.status == ReminderStatus.SENT


def test_beat_and_a_worker_send_the_booking_confirmation(postgres, redis_url, calendar, tmp_path):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    # The test's clock is frozen; the worker's is the real one: the visit goes to the worker's
    # future, and its confirmation is due now on the worker's clock.
    start = in_the_workers_future(appointment, keep=("booking_confirmation",))
    confirmation = appointment.reminders.get(kind="booking_confirmation")
    sms_log = tmp_path / "var" / "sms.jsonl"
    with celery_worker(queue="celery", log_path=tmp_path / "worker.log",
                       extra_args=("--beat", "--schedule", str(tmp_path / "beat-schedule")),
                       DATABASE_URL=database_url(), CELERY_BROKER_URL=redis_url, SMS_TRANSPORT="file",
                       INTERVAL_VAR_DIR=str(tmp_path / "var"), REMINDER_DISPATCH_SECONDS="2"):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not confirmation_sent(confirmation):
            time.sleep(0.5)
    log = (tmp_path / "worker.log").read_text()
    assert sms_log.exists(), log[-3000:]
    messages = [json.loads(line) for line in sms_log.read_text().splitlines()]
    booked = [m for m in messages if f"your visit is booked for {start:%A %B} {start.day}" in m["body"]]
    assert len(booked) == 1 and booked[0]["to"] == patient.phone, messages
    assert len({m["idempotency_key"] for m in messages}) == len(messages)
    confirmation.refresh_from_db()
    assert confirmation.status == ReminderStatus.SENT
    assert "scheduling.dispatch_reminders" in log


def test_a_worker_killed_mid_batch_loses_no_reminder(postgres, redis_url, calendar, tmp_path):
    """2,000 reminders due; the worker is SIGKILLed while sending; a new worker finishes."""
    import signal
    import uuid

    from scheduling.models import Reminder
    from tests.worker import stop

    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    in_the_workers_future(appointment, keep=())
    real_now = time_machine.escape_hatch.datetime.datetime.now(dt.timezone.utc)
    Reminder.objects.bulk_create([
        Reminder(appointment=appointment, kind="arrival", channel="sms", due_at=real_now, next_attempt_at=real_now,
                 idempotency_key=f"load:{uuid.uuid4().hex}")
        for _ in range(2000)
    ])
    var = tmp_path / "var"
    sms_log = var / "sms.jsonl"
    env = dict(DATABASE_URL=database_url(), CELERY_BROKER_URL=redis_url, SMS_TRANSPORT="file",
               INTERVAL_VAR_DIR=str(var), REMINDER_DISPATCH_SECONDS="1", REMINDER_LEASE_SECONDS="3")
    beat = ("--beat", "--schedule", str(tmp_path / "beat-schedule"))

    def lines() -> int:
        return len(sms_log.read_text().splitlines()) if sms_log.exists() else 0

    with celery_worker(queue="celery", log_path=tmp_path / "first.log", extra_args=beat, **env) as first:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and lines() < 300:
            time.sleep(0.05)
        stop(first, signal.SIGKILL)  # in the middle of a batch of 200
    killed_after = lines()
    assert 300 <= killed_after < 2000, (tmp_path / "first.log").read_text()[-2000:]
    assert Reminder.objects.filter(status="sending").exists()  # claimed, not yet sent: the lease brings them back

    with celery_worker(queue="celery", log_path=tmp_path / "second.log", extra_args=beat, **env):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and Reminder.objects.filter(status__in=["pending", "sending"]).exists():
            time.sleep(0.5)
    keys = [json.loads(line)["idempotency_key"] for line in sms_log.read_text().splitlines()]
    sent_twice = len(keys) - len(set(keys))
    print(f"\n2,000 reminders; worker killed after {killed_after} sent; sent twice: {sent_twice}")
    assert Reminder.objects.filter(status="sent").count() == 2000, (tmp_path / "second.log").read_text()[-2000:]
    assert len(set(keys)) == 2000  # none unsent
    assert sent_twice <= 1  # at most the one in flight when the worker died


def test_with_redis_down_bookings_succeed_and_reminders_go_out_once_it_is_back(postgres, redis_url, calendar,
                                                                              tmp_path):
    """A broker of our own on another port, stopped and started again: the outbox waits in the database."""
    import shutil
    import socket
    import subprocess

    from tests.worker import stop

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen:
        process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return process
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    redis = start_redis()
    var = tmp_path / "var"
    sms_log = var / "sms.jsonl"
    worker = celery_worker(queue="celery", log_path=tmp_path / "worker.log",
                           extra_args=("--beat", "--schedule", str(tmp_path / "beat-schedule")),
                           DATABASE_URL=database_url(), CELERY_BROKER_URL=broker, SMS_TRANSPORT="file",
                           INTERVAL_VAR_DIR=str(var), REMINDER_DISPATCH_SECONDS="1")
    with worker:
        time.sleep(3)
        stop(redis)  # the broker goes away

        patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
        patient.blood_thinners.clear()
        esi = ProcedureType.objects.get(code="ESI_IL")
        calendar.order_for(patient, esi)
        appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                                start=local(NEXT_MONDAY, 9))  # booking needs no broker
        in_the_workers_future(appointment, keep=("booking_confirmation",))
        time.sleep(4)
        assert not sms_log.exists()  # nothing can be dispatched without the broker ...

        redis = start_redis()  # ... and once it is back, the reminder goes
        try:
            confirmation = appointment.reminders.get(kind="booking_confirmation")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not confirmation_sent(confirmation):
                time.sleep(0.5)
        finally:
            stop(redis)
    assert sms_log.exists(), (tmp_path / "worker.log").read_text()[-3000:]
    assert appointment.reminders.get(kind="booking_confirmation").status == ReminderStatus.SENT
