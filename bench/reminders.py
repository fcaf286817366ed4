"""Reminder dispatch: (d) reminders sent per second by one worker to a null transport, and
(e) the lag from due to sent with a real worker and beat on Redis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench.stats import percentile
from scheduling.models import Appointment, Reminder
from scheduling.reminders.dispatch import dispatch_due

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
THROUGHPUT_COUNT = 5000
LAG_COUNT = 1500
LAG_SPREAD_SECONDS = 30
DISPATCH_SECONDS = 10


@dataclasses.dataclass
class DispatchFigures:
    sent: int
    per_second: float
    lag_count: int = 0
    lag_p50: float | None = None
    lag_p99: float | None = None
    lag_note: str = ""


def _reminders(appointment_ids: list[int], count: int, due: list[dt.datetime]) -> None:
    Reminder.objects.bulk_create([
        Reminder(appointment_id=appointment_ids[i % len(appointment_ids)], kind="arrival", channel="sms",
                 due_at=due[i], next_attempt_at=due[i], idempotency_key=f"bench:{uuid.uuid4().hex}")
        for i in range(count)
    ], batch_size=1000)


def _redis_up() -> bool:
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def measure(database_url: str) -> DispatchFigures:
    appointment_ids = list(Appointment.objects.filter(status="scheduled").values_list("pk", flat=True)[:500])
    Reminder.objects.all().delete()
    settings.SMS_TRANSPORT = "null"

    now = timezone.now()
    _reminders(appointment_ids, THROUGHPUT_COUNT, [now] * THROUGHPUT_COUNT)
    started = time.perf_counter()
    sent = dispatch_due(budget=dt.timedelta(minutes=5))
    figures = DispatchFigures(sent=sent, per_second=sent / (time.perf_counter() - started))

    if not _redis_up():
        figures.lag_note = "not measured: Redis is not reachable at 127.0.0.1:6379"
        return figures
    Reminder.objects.all().delete()
    start = timezone.now() + dt.timedelta(seconds=DISPATCH_SECONDS + 5)
    step = LAG_SPREAD_SECONDS / LAG_COUNT
    _reminders(appointment_ids, LAG_COUNT, [start + dt.timedelta(seconds=i * step) for i in range(LAG_COUNT)])
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": BROKER, "SMS_TRANSPORT": "null",
           "REMINDER_DISPATCH_SECONDS": str(DISPATCH_SECONDS), "DEBUG": "1"}
    log = open(ROOT / "bench" / "output" / "worker.log", "w")
    schedule = ROOT / "bench" / "output" / "beat-schedule"
    schedule.unlink(missing_ok=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "clinic", "worker", "--beat", "--schedule", str(schedule),
         "--pool", "solo", "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + DISPATCH_SECONDS + LAG_SPREAD_SECONDS + 60
        while time.monotonic() < deadline and Reminder.objects.exclude(status="sent").exists():
            time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXTRACT(EPOCH FROM sent_at - due_at) FROM scheduling_reminder WHERE status = 'sent'")
        lags = sorted(float(row[0]) for row in cursor.fetchall())
    figures.lag_count = len(lags)
    if lags:
        figures.lag_p50, figures.lag_p99 = percentile(lags, 0.5), percentile(lags, 0.99)
    figures.lag_note = (f"{len(lags):,} of {LAG_COUNT:,} reminders falling due over {LAG_SPREAD_SECONDS} s, a worker "
                        f"with embedded beat every {DISPATCH_SECONDS} s (the dispatch polls every second between "
                        "beat runs), null transport")
    return figures


def markdown(figures: DispatchFigures) -> str:
    lag = (f"p50 {figures.lag_p50:.2f} s, p99 {figures.lag_p99:.2f} s" if figures.lag_p99 is not None
           else figures.lag_note)
    met_rate = "yes" if figures.per_second >= 1000 else "**no**"
    met_lag = ("yes" if figures.lag_p99 is not None and figures.lag_p99 <= 60 else "**no**")
    return "\n".join([
        "",
        "## Reminder dispatch",
        "",
        "| figure | measured | target | met | reminders |",
        "| --- | --- | --- | --- | --- |",
        f"| (d) due reminders sent per second, one process, null transport | {figures.per_second:,.0f}/s | "
        f">= 1,000/s | {met_rate} | {figures.sent:,} |",
        f"| (e) due-to-sent lag | {lag} | p99 <= 60 s | {met_lag} | {figures.lag_count:,} |",
        "",
        f"(d) drains {THROUGHPUT_COUNT:,} reminders due at once with `dispatch_due`, the code the worker's task "
        "runs: claims of 200 with SELECT ... FOR UPDATE SKIP LOCKED, the batch loaded in one query, one UPDATE per "
        "message (so a killed worker resends at most the message in flight), the attempts inserted per batch. "
        f"(e): {figures.lag_note}.",
        "",
    ])


def console(figures: DispatchFigures) -> str:
    lag = (f"p50 {figures.lag_p50:.2f} s, p99 {figures.lag_p99:.2f} s" if figures.lag_p99 is not None
           else figures.lag_note)
    return (f"(d) reminders sent per second (null transport): {figures.per_second:,.0f}/s ({figures.sent:,})\n"
            f"(e) reminder due-to-sent lag: {lag}")
