"""Booking throughput over HTTP: gunicorn started and stopped here, 16 client threads.

Bookings are planned before each run from the engine's own answers (`available_slots` asked room
by room), so that no two planned bookings share a physician or a room; each is for a new patient
with an approved order, so no pathway rule or visit of the patient refuses it. A location's
bookings fill its first free days (`plan` says in which order they are sent).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from bench.stats import Timing
from clinic.models import Location, ProcedureType, Room
from scheduling.large_clinic import add_patients, approved_order
from scheduling.models import ProcedureOrder
from scheduling.selectors import available_slots, segments_of

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
TIME_LIMIT = 10.0  # seconds a run lasts at most
ORDER_SEED = 14  # the planned bookings' order, the same in every run
TICKS = os.sysconf("SC_CLK_TCK")


class Gunicorn:
    """`with Gunicorn(environment) as server:` starts it, waits until it answers, stops it on the way out."""

    def __init__(self, environment: dict[str, str], *, workers: int = 2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [sys.executable, "-m", "gunicorn", "clinic.wsgi", "--bind", f"127.0.0.1:{self.port}",
                        "--workers", str(workers), "--log-level", "warning"]
        self.environment = environment

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, **self.environment})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health/")  # what a load balancer asks
                connection.getresponse().read()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {self.process.returncode}") from None
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer within 30 s")

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def workers(self) -> list[int]:
        return children(self.process.pid)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cpu_ticks(pids: list[int]) -> int:
    """User + system ticks of the processes."""
    total = 0
    for pid in pids:
        raw = Path(f"/proc/{pid}/stat").read_text()
        fields = raw[raw.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def database_active_ms() -> float:
    """Time PostgreSQL spent running statements in this database, every connection's: each
    request opens its own, too briefly to be sampled as a process, and other databases on the
    same server are left out."""
    time.sleep(1.1)  # backends report their counters at most once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT active_time FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True)
class Booking:
    location: int
    physician: int
    room: int
    start: dt.datetime
    patient: int = 0
    order: int = 0


def plan(*, locations: list[Location], procedure_type: ProcedureType, count: int,
         same_times_together: bool = False) -> list[dict]:
    """`count` bookings (API payloads) spread evenly over `locations`, which fit together and the
    calendar, in a shuffled order (the same every run): requests from many desks and patients,
    for any of the location's first free days. With `same_times_together`, the bookings of each
    start time are sent one after another, so the clients mostly book one day of a location
    at once and queue on its lock: the worst case for one location."""
    segments = segments_of(procedure_type)
    today, now = timezone.localdate(), timezone.now()
    chosen: list[Booking] = []
    for index, location in enumerate(locations):
        wanted = count * (index + 1) // len(locations) - count * index // len(locations)
        candidates = []
        for room in Room.objects.filter(location=location, capabilities__code="fluoroscopy").order_by("pk"):
            slots = available_slots(procedure_type=procedure_type, location=location, room=room, now=now,
                                    first_day=today, last_day=today + dt.timedelta(days=location.booking_horizon_days))
            candidates += [Booking(location.pk, slot.physician_id, room.pk, slot.start) for slot in slots]
        candidates.sort(key=lambda booking: (booking.start, booking.room))
        busy: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = {}
        found = 0
        for booking in candidates:
            if found == wanted:
                break
            physician_span = (booking.start, booking.start + dt.timedelta(minutes=segments.procedure))
            room_span = (physician_span[0] - dt.timedelta(minutes=segments.setup),
                         physician_span[1] + dt.timedelta(minutes=segments.turnover))
            holds = [(("physician", booking.physician), physician_span), (("room", booking.room), room_span)]
            if any(start < end_ and start_ < end for key, (start, end) in holds for start_, end_ in busy.get(key, ())):
                continue
            for key, span in holds:
                busy.setdefault(key, []).append(span)
            chosen.append(booking)
            found += 1
    patients = add_patients(len(chosen), label="Load")
    orders = ProcedureOrder.objects.bulk_create(
        approved_order(patient_id=patient.pk, procedure_type=procedure_type, physician_id=booking.physician,
                       today=today, number=1_000_000 + patient.pk)
        for booking, patient in zip(chosen, patients))
    payloads = [{"patient": patient.pk, "procedure_type": procedure_type.code, "physician": booking.physician,
                 "room": booking.room, "order": order.pk, "start": booking.start.isoformat()}
                for booking, patient, order in zip(chosen, patients, orders)]
    shuffle = random.Random(ORDER_SEED).shuffle
    if not same_times_together:
        shuffle(payloads)
        return payloads
    by_start: dict[str, list[dict]] = {}
    for payload in payloads:
        by_start.setdefault(payload["start"], []).append(payload)
    groups = list(by_start.values())
    shuffle(groups)
    return [payload for group in groups for payload in group]


@dataclass(frozen=True)
class LoadFigure:
    booked: int
    refused: int  # 409: a planned booking the server found taken
    failed: list[str]  # answers other than 201 and 409
    seconds: float
    latency: Timing
    web_cpu_ms: float  # per booking, all gunicorn workers
    database_ms: float  # per booking, statements' time inside PostgreSQL (this database only)
    worker_peak_rss_mb: float

    @property
    def per_second(self) -> float:
        return self.booked / self.seconds


def run(server: Gunicorn, token: str, payloads: list[dict]) -> LoadFigure:
    jobs: queue.SimpleQueue[dict] = queue.SimpleQueue()
    for payload in payloads:
        jobs.put(payload)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    outcomes: list[tuple[int, float, bytes]] = []
    go = threading.Barrier(CLIENTS + 1)
    deadline = time.perf_counter() + TIME_LIMIT + 5

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        go.wait()
        while time.perf_counter() < deadline:
            try:
                body = json.dumps(jobs.get_nowait())
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/appointments/", body=body, headers=headers)
                response = connection.getresponse()
                status, answer = response.status, response.read()
            except (http.client.HTTPException, OSError):  # sync workers close the connection after each answer
                connection.close()
                connection.request("POST", "/api/v1/appointments/", body=body, headers=headers)
                response = connection.getresponse()
                status, answer = response.status, response.read()
            outcomes.append((status, (time.perf_counter() - started) * 1000, answer))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    workers = server.workers()
    web_before, database_before = cpu_ticks(workers), database_active_ms()
    deadline = time.perf_counter() + TIME_LIMIT
    go.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    web, database = cpu_ticks(workers) - web_before, database_active_ms() - database_before
    statuses = [status for status, _, _ in outcomes]
    booked = max(1, statuses.count(201))
    return LoadFigure(booked=statuses.count(201), refused=statuses.count(409),
                      failed=[f"{status} {answer[:200]!r}" for status, _, answer in outcomes
                              if status not in (201, 409)],
                      seconds=seconds, latency=Timing([elapsed for _, elapsed, _ in outcomes]),
                      web_cpu_ms=web * 1000 / TICKS / booked, database_ms=database / booked,
                      worker_peak_rss_mb=max(peak_rss_mb(pid) for pid in workers))
