"""Starting a real Celery worker for integration tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
INSTANTS = ("arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end")


def database_url() -> str:
    """The test database, as a URL for a worker process started by the test."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def in_the_workers_future(appointment, *, keep: tuple[str, ...]) -> dt.datetime:
    """Move a visit booked under the tests' frozen clock whole weeks on, to at least three days
    after the real clock that a worker runs on (a reminder about a visit already begun is not
    sent), keep only its reminders of the `keep` kinds, due now on that clock; the new start."""
    import time_machine
    from django.db.models import F

    clock = time_machine.escape_hatch.datetime.datetime if time_machine.escape_hatch.is_travelling() else dt.datetime
    real_now = clock.now(dt.timezone.utc)
    weeks = max(0, (real_now + dt.timedelta(days=3) - appointment.procedure_start).days // 7 + 1)
    shift = dt.timedelta(weeks=weeks)
    type(appointment).objects.filter(pk=appointment.pk).update(**{name: F(name) + shift for name in INSTANTS})
    appointment.reminders.exclude(kind__in=keep).delete()
    appointment.reminders.update(due_at=real_now, next_attempt_at=real_now)
    appointment.refresh_from_db()
    return appointment.procedure_start.astimezone(appointment.location.zone)


@contextlib.contextmanager
def celery_worker(*, queue: str, log_path: Path, extra_args: tuple[str, ...] = (), name: str = "",
                  **env: str) -> Iterator[subprocess.Popen]:
    """Run `celery --app clinic worker` on `queue` for the duration of the block (`name` tells
    several workers on one queue apart)."""
    environment = {**os.environ, **env}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "clinic", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--queues", queue, "--hostname", f"{name or queue}@%h", "--without-mingle", "--without-gossip",
             *extra_args],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield process
        finally:
            stop(process, signal.SIGTERM)


@contextlib.contextmanager
def celery_beat(*, log_path: Path, schedule: Path, **env: str) -> Iterator[subprocess.Popen]:
    """Run `celery --app clinic beat` (the one scheduler of a deployment) for the block."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "clinic", "beat", "--loglevel", "INFO", "--schedule",
             str(schedule)], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            yield process
        finally:
            stop(process, signal.SIGTERM)


def stop(process: subprocess.Popen, how: int = signal.SIGKILL) -> None:
    """Signal the worker and everything it started (an embedded beat is a child process)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, how)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
