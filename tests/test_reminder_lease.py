"""A slow provider and a short lease: each reminder reaches the patient once.

A batch that takes longer to send than its lease has its tail taken back by the next dispatch
run; the run that claimed it must then leave those rows alone. These tests run on the real
clock (dispatch runs overlap in time), on PostgreSQL; the worker's on Redis too.
"""

from __future__ import annotations

import collections
import datetime as dt
import signal
import threading
import time
import uuid

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.sms_provider import SlowSMSProvider
from clinic.models import Patient, ProcedureType, Physician
from scheduling import services
from scheduling.models import ProcedureOrder, Reminder, ReminderAttempt, ReminderStatus
from scheduling.reminders import dispatch
from scheduling.reminders.transports import MemorySMSTransport
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.worker import in_the_workers_future
from tests.worker import celery_worker, database_url, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def due_reminders(count: int) -> list[str]:
    """`count` text reminders of one visit, due now on the real clock; returns their keys."""
    with time_machine.travel(NOW, tick=False):  # booked on the test clinic's calendar ...
        patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
        patient.blood_thinners.clear()
        esi = ProcedureType.objects.get(code="ESI_IL")
        okafor = Physician.objects.get(user__username="okafor")
        ProcedureOrder.objects.create(patient=patient, procedure_type=esi, ordering_physician=okafor,
                                      region="lumbar", authorization_status="approved", authorization_number="PA-1001",
                                      authorization_valid_from=dt.date(2026, 11, 1),
                                      authorization_valid_until=dt.date(2027, 4, 30))
        appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=okafor,
                                                start=local(NEXT_MONDAY, 9))
    in_the_workers_future(appointment, keep=())
    now = timezone.now()  # ... and sent on the real clock
    rows = Reminder.objects.bulk_create([
        Reminder(appointment=appointment, kind="arrival", channel="sms", due_at=now, next_attempt_at=now,
                 idempotency_key=f"lease:{uuid.uuid4().hex}")
        for _ in range(count)
    ])
    return [row.idempotency_key for row in rows]


def test_two_overlapping_dispatch_runs_with_a_slow_provider_send_each_reminder_once(postgres, demo_clinic,
                                                                                     settings, monkeypatch):
    keys = due_reminders(24)
    settings.SMS_TRANSPORT = "memory"
    settings.REMINDER_LEASE_SECONDS = 1  # a batch of 24 at 0.15 s a message takes 3.6 s
    sent_by: dict[str, list[str]] = collections.defaultdict(list)

    def slow_send(self, message):
        sent_by[message.idempotency_key].append(threading.current_thread().name)
        time.sleep(0.15)

    monkeypatch.setattr(MemorySMSTransport, "send", slow_send)
    all_sent = threading.Event()
    failures = []

    def run(delay: float) -> None:
        time.sleep(delay)
        try:
            dispatch.dispatch_due(budget=dt.timedelta(seconds=20), keep_polling=True, stop=all_sent)
        except Exception as error:  # reported by the test below, not lost in the thread
            failures.append(error)
        finally:
            connection.close()

    # The second run starts once the first one's lease has run out, mid-batch.
    runs = [threading.Thread(target=run, args=(delay,), name=name) for name, delay in (("first", 0), ("second", 1.3))]
    for thread in runs:
        thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Reminder.objects.exclude(status=ReminderStatus.SENT).exists():
        time.sleep(0.1)
    all_sent.set()
    for thread in runs:
        thread.join()

    assert failures == []
    assert sorted(sent_by) == sorted(keys)
    assert {key: len(senders) for key, senders in sent_by.items() if len(senders) != 1} == {}
    senders = collections.Counter(name for names in sent_by.values() for name in names)
    assert senders["first"] and senders["second"], senders  # the second run did take over the tail
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 24
    assert ReminderAttempt.objects.count() == 24  # one attempt each: a skipped row records none


def test_a_run_stopped_mid_batch_hands_the_rest_back_at_once(demo_clinic, settings, monkeypatch):
    due_reminders(5)
    settings.SMS_TRANSPORT = "memory"
    MemorySMSTransport.outbox.clear()
    stopping = threading.Event()

    def send_then_shut_down(self, message):
        MemorySMSTransport.outbox.append(message)
        stopping.set()  # the worker is told to stop while the first message is in flight

    monkeypatch.setattr(MemorySMSTransport, "send", send_then_shut_down)
    assert dispatch.dispatch_due(stop=stopping) == 1
    statuses = collections.Counter(Reminder.objects.values_list("status", flat=True))
    assert statuses == {ReminderStatus.SENT: 1, ReminderStatus.PENDING: 4}  # not left "sending" for a lease
    assert not Reminder.objects.filter(status=ReminderStatus.PENDING, claim_token__isnull=False).exists()
    MemorySMSTransport.outbox.clear()


# ---- The real worker: prefork processes, beat, Redis, a provider over HTTP -----------------------

def worker_environment(redis_url: str, tmp_path, provider: SlowSMSProvider, *, lease: int) -> dict[str, str]:
    return dict(DATABASE_URL=database_url(), CELERY_BROKER_URL=redis_url, INTERVAL_VAR_DIR=str(tmp_path / "var"),
                REMINDER_DISPATCH_SECONDS="1", REMINDER_LEASE_SECONDS=str(lease), **provider.environment())


def wait_until_all_sent(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and Reminder.objects.exclude(status=ReminderStatus.SENT).exists():
        time.sleep(0.25)


def test_a_worker_with_a_slow_provider_and_a_short_lease_sends_no_reminder_twice(postgres, redis_url, demo_clinic,
                                                                                   tmp_path):
    """60 texts at 0.1 s each (6 s a batch) under a 2 s lease, a dispatch run every second on
    three worker processes: the runs overlap and take back each other's tails."""
    keys = due_reminders(60)
    log = tmp_path / "worker.log"
    with SlowSMSProvider(seconds_per_message=0.1) as provider:
        with celery_worker(queue="celery", log_path=log,
                           extra_args=("--beat", "--schedule", str(tmp_path / "beat-schedule"),
                                       "--pool", "prefork", "--concurrency", "3"),
                           **worker_environment(redis_url, tmp_path, provider, lease=2)):
            wait_until_all_sent(60)
        received = provider.keys()
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 60, log.read_text()[-3000:]
    assert sorted(received) == sorted(keys)
    assert {key: times for key, times in received.items() if times != 1} == {}
    # More than one run sent: the lease did run out mid-batch, the case under test.
    assert Reminder.objects.values("claim_token").distinct().count() > 1


def test_a_worker_killed_mid_batch_with_a_slow_provider_resends_at_most_the_message_in_flight(
        postgres, redis_url, demo_clinic, tmp_path):
    keys = due_reminders(60)
    beat = ("--beat", "--schedule", str(tmp_path / "beat-schedule"))
    with SlowSMSProvider(seconds_per_message=0.1) as provider:
        env = worker_environment(redis_url, tmp_path, provider, lease=2)
        with celery_worker(queue="celery", log_path=tmp_path / "first.log", extra_args=beat, **env) as first:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and provider.count() < 20:
                time.sleep(0.02)
            stop(first, signal.SIGKILL)
        killed_after = provider.count()
        assert 20 <= killed_after < 60, (tmp_path / "first.log").read_text()[-2000:]
        assert Reminder.objects.filter(status=ReminderStatus.SENDING).exists()  # the lease brings them back
        with celery_worker(queue="celery", log_path=tmp_path / "second.log", extra_args=beat, **env):
            wait_until_all_sent(60)
        received = provider.keys()
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 60, \
        (tmp_path / "second.log").read_text()[-2000:]
    assert sorted(received) == sorted(keys)  # none lost
    assert sum(times - 1 for times in received.values()) <= 1  # at most the one in flight
