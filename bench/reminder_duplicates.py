"""Reminders sent twice with a slow SMS provider: `python -m bench.reminder_duplicates`.

The question: with 500 reminders due at once, a provider answering in 2 s a message and the
production defaults (lease 300 s, a dispatch run every 60 s, batches of 200), how many texts
reach a patient twice? And after the worker is SIGKILLed mid-batch and another takes over?

That takes about 17 minutes of sending in real time, so every duration is multiplied by
--scale (default 0.1: 0.2 s a message, lease 30 s, dispatch every 6 s, each run's budget 5 s).
The ratios that decide whether a batch outlives its lease stay exactly as in production:
a batch of 200 takes 40 s against a 30 s lease, as 400 s against 300 s. Batches stay at 200.

Each scenario runs a real Celery worker (prefork, embedded beat) on Redis and PostgreSQL: with
--concurrency processes (default 4), so that dispatch runs overlap, for the slow provider; with
one process for the kill, whose bound is the one message that process had in flight (each
process killed mid-send can resend its own one). Texts go through the real HTTP transport to a
stand-in provider in this process (bench/sms_provider.py), which counts every request as a text
on the patient's phone.

Its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/interval_bench,
dropped and created again), migrated and seeded with the demo clinic; Redis at BENCH_REDIS_URL
(default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import environment

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "output"
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PRODUCTION = {"seconds_per_message": 2.0, "lease": 300, "dispatch": 60}


@dataclasses.dataclass
class Outcome:
    scenario: str
    reminders: int
    texts: int
    twice: int
    unsent: int
    seconds: float
    killed_after: int | None = None


def _worker(env: dict[str, str], *, concurrency: int, log: Path) -> subprocess.Popen:
    schedule = OUTPUT / f"beat-schedule-{uuid.uuid4().hex[:8]}"
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "clinic", "worker", "--beat", "--schedule", str(schedule),
         "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle",
         "--without-gossip"],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(worker: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, how)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _due(count: int) -> None:
    from django.utils import timezone

    from scheduling.models import Appointment, Reminder

    Reminder.objects.all().delete()
    # Text reminders are written only for a patient who consents to texts (and the dispatcher
    # checks again before sending).
    appointment = (Appointment.objects.filter(status="scheduled", patient__sms_consent=True)
                   .exclude(patient__phone="").order_by("pk").first())
    now = timezone.now()
    Reminder.objects.bulk_create([
        Reminder(appointment=appointment, kind="arrival", channel="sms", due_at=now, next_attempt_at=now,
                 idempotency_key=f"bench:{uuid.uuid4().hex}")
        for _ in range(count)])


def _left() -> int:
    from scheduling.models import Reminder

    return Reminder.objects.exclude(status="sent").count()


def _wait_until_sent(limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and _left():
        time.sleep(0.5)


def run(*, count: int, scale: float, concurrency: int, kill: bool, env: dict[str, str]) -> Outcome:
    from bench.sms_provider import SlowSMSProvider

    per_message = PRODUCTION["seconds_per_message"] * scale
    lease, dispatch = round(PRODUCTION["lease"] * scale), round(PRODUCTION["dispatch"] * scale)
    _due(count)
    # Sending alone takes count x per_message; the slack covers a lease or two and start-up.
    limit = count * per_message + 4 * lease + 60
    with SlowSMSProvider(seconds_per_message=per_message) as provider:
        worker_env = {**env, **provider.environment(), "CELERY_BROKER_URL": BROKER,
                      "REMINDER_LEASE_SECONDS": str(lease), "REMINDER_DISPATCH_SECONDS": str(dispatch),
                      "LOG_LEVEL": "INFO"}
        started = time.monotonic()
        killed_after = None
        name = "kill" if kill else "slow"
        worker = _worker(worker_env, concurrency=concurrency, log=OUTPUT / f"duplicates-{name}.log")
        try:
            if kill:
                # In the middle of the first batch of 200.
                while time.monotonic() - started < limit and provider.count() < 100:
                    time.sleep(0.02)
                _stop(worker, signal.SIGKILL)
                killed_after = provider.count()
                worker = _worker(worker_env, concurrency=concurrency, log=OUTPUT / f"duplicates-{name}-after.log")
            _wait_until_sent(limit)
        finally:
            _stop(worker)
        seconds = time.monotonic() - started
        keys = provider.keys()
    return Outcome(scenario=name, reminders=count, texts=sum(keys.values()), twice=sum(n - 1 for n in keys.values()),
                   unsent=_left(), seconds=seconds, killed_after=killed_after)


def describe(outcome: Outcome, *, scale: float, concurrency: int) -> str:
    per_message = PRODUCTION["seconds_per_message"] * scale
    lease, dispatch = round(PRODUCTION["lease"] * scale), round(PRODUCTION["dispatch"] * scale)
    killed = (f"; worker SIGKILLed after {outcome.killed_after} texts, a new one finished"
              if outcome.killed_after is not None else "")
    return (f"{outcome.reminders} reminders, {per_message:g} s a text, lease {lease} s, dispatch every {dispatch} s, "
            f"batches of 200, {concurrency} worker process{'es' if concurrency != 1 else ''}{killed}: {outcome.texts} texts, "
            f"{outcome.twice} sent twice, {outcome.unsent} unsent, {outcome.seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=500)
    parser.add_argument("--scale", type=float, default=0.1,
                        help="multiplies the provider's 2 s, the 300 s lease and the 60 s dispatch period")
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes (prefork)")
    parser.add_argument("--only", choices=["slow", "kill"], help="run one scenario")
    arguments = parser.parse_args()

    url = environment.database_url()
    env = environment.settings_environment(url)
    os.environ.update(env)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    print(f"Recreating {url} and seeding the demo clinic ...", flush=True)
    environment.recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    worker_env = {**os.environ, **env}
    outcomes = []
    for kill in (False, True):
        if arguments.only and arguments.only != ("kill" if kill else "slow"):
            continue
        concurrency = 1 if kill else arguments.concurrency
        outcome = run(count=arguments.reminders, scale=arguments.scale, concurrency=concurrency, kill=kill,
                      env=worker_env)
        outcomes.append(outcome)
        print(describe(outcome, scale=arguments.scale, concurrency=concurrency), flush=True)
    return 0 if all(o.unsent == 0 and o.twice <= (1 if o.killed_after is not None else 0) for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
