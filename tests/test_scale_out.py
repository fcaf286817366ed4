"""Scale-out: two Celery workers drain one reminder outbox, with one beat, on PostgreSQL and Redis.

Each worker's dispatch runs claim their rows with SKIP LOCKED, so together they send every
reminder once: none twice, none left behind, over a provider that takes its time.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from prometheus_client import CollectorRegistry, multiprocess

from clinic.models import Patient
from scheduling import services
from scheduling.models import Reminder
from tests.conftest import NEXT_MONDAY, local
from tests.worker import celery_beat, celery_worker, database_url, in_the_workers_future

pytestmark = pytest.mark.django_db(transaction=True)

REMINDERS = 400
PROVIDER_SECONDS = 0.015  # each text takes the provider this long to accept


class SlowProvider(BaseHTTPRequestHandler):
    """An SMS provider's API: records each message's idempotency key, answers after a moment."""

    keys: list[str] = []
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(PROVIDER_SECONDS)
        with self.lock:
            type(self).keys.append(self.headers["Idempotency-Key"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def sent_by(log: str) -> int:
    """What a worker's dispatch runs reported sending ("Task ... succeeded in 0.8s: 57")."""
    return sum(int(count) for count in re.findall(r"scheduling\.dispatch_reminders\[[^]]+\] succeeded in [\d.]+s: (\d+)",
                                                  log))


def test_two_workers_and_one_beat_send_every_reminder_once(postgres, redis_url, calendar, tmp_path):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    calendar.order_for(patient, calendar.esi)
    appointment = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    in_the_workers_future(appointment, keep=())
    real_now = time_machine.escape_hatch.datetime.datetime.now(dt.timezone.utc)
    Reminder.objects.bulk_create([
        Reminder(appointment=appointment, kind="arrival", channel="sms", due_at=real_now, next_attempt_at=real_now,
                 idempotency_key=f"scale:{uuid.uuid4().hex}")
        for _ in range(REMINDERS)
    ])
    SlowProvider.keys = []
    provider = ThreadingHTTPServer(("127.0.0.1", 0), SlowProvider)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = dict(DATABASE_URL=database_url(), CELERY_BROKER_URL=redis_url, INTERVAL_VAR_DIR=str(tmp_path / "var"),
               SMS_TRANSPORT="http", SMS_HTTP_URL=f"http://127.0.0.1:{provider.server_port}/messages",
               SMS_FROM="+19185550100", REMINDER_DISPATCH_SECONDS="1", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        with (celery_worker(queue="celery", name="first", log_path=tmp_path / "first.log", **env),
              celery_worker(queue="celery", name="second", log_path=tmp_path / "second.log", **env),
              celery_beat(log_path=tmp_path / "beat.log", schedule=tmp_path / "beat-schedule", **env)):
            deadline = time.monotonic() + 120
            while (time.monotonic() < deadline
                   and Reminder.objects.filter(status__in=["pending", "sending"]).exists()):
                time.sleep(0.5)
            time.sleep(2)  # the runs in progress report what they sent
    finally:
        provider.shutdown()
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("first", "second", "beat")}
    assert Reminder.objects.filter(status="sent").count() == REMINDERS, logs["first"][-2000:]
    keys = SlowProvider.keys
    print(f"\n{REMINDERS} reminders, two workers: first sent {sent_by(logs['first'])}, "
          f"second {sent_by(logs['second'])}; sent twice: {len(keys) - len(set(keys))}")
    assert len(keys) == len(set(keys)) == REMINDERS  # none twice, none missing
    assert sent_by(logs["first"]) > 0 and sent_by(logs["second"]) > 0, logs  # both took part
    assert sent_by(logs["first"]) + sent_by(logs["second"]) == REMINDERS
    assert "Scheduler: Sending due task dispatch-reminders" in logs["beat"]
    # Both workers' figures land in one folder: the lag was observed once per reminder sent.
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))
    assert registry.get_sample_value("interval_reminder_lag_seconds_count") == REMINDERS
