"""Figure (c): bookings over HTTP from 16 concurrent clients, and what the server spends."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import queue
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg

from bench import cpu
from bench.plan import CLIENTS, Job, Plan
from bench.server import Gunicorn
from bench.stats import Timing

LOAD_TIME_LIMIT = 30.0  # seconds: the run ends when the queue is empty or after this long
LOCK_SAMPLE_INTERVAL = 0.02


@dataclass
class LoadResult:
    statuses: Counter = field(default_factory=Counter)
    latency: Timing = field(default_factory=lambda: Timing([]))
    booked_latency: Timing = field(default_factory=lambda: Timing([]))
    wall_seconds: float = 0.0
    sent: int = 0
    planned: int = 0
    collisions: int = 0
    unexpected_conflicts: int = 0
    failures: list[str] = field(default_factory=list)  # answers other than 201 and 409
    conflict_examples: list[str] = field(default_factory=list)  # why planned bookings were refused with 409
    cpu_share: cpu.CpuShare | None = None
    lock_waiting: float = 0.0  # mean server connections waiting for a lock
    lock_waiting_peak: int = 0
    active: float = 0.0  # mean server connections running a statement

    @property
    def booked(self) -> int:
        return self.statuses[201]

    @property
    def bookings_per_second(self) -> float:
        return self.booked / self.wall_seconds if self.wall_seconds else 0.0


def _post(connection: http.client.HTTPConnection, body: str, headers: dict) -> tuple[int, bytes]:
    """POST once; on a connection the server has closed meanwhile, reconnect and send again."""
    for attempt in range(2):
        try:
            connection.request("POST", "/api/v1/appointments/", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            if attempt:
                raise
    raise AssertionError("unreachable")


class _LockWatcher(threading.Thread):
    """Samples pg_stat_activity: how many of the server's connections wait for a lock."""

    def __init__(self, database_url: str, database: str):
        super().__init__(daemon=True)
        self.database_url, self.database = database_url, database
        self.stopped = threading.Event()
        self.samples: list[tuple[int, int]] = []

    def run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as watcher:
            while not self.stopped.is_set():
                row = watcher.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE state = 'active') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchone()
                self.samples.append((row[0], row[1]))
                time.sleep(LOCK_SAMPLE_INTERVAL)


def run_load(*, server: Gunicorn, plan: Plan, procedure_code: str, zone, database_url: str,
             database: str) -> LoadResult:
    headers = {"Authorization": f"Token {server.token}", "Content-Type": "application/json"}
    jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in plan.measured:
        jobs.put(job)
    warmed = threading.Barrier(CLIENTS + 1)
    go = threading.Barrier(CLIENTS + 1)
    outcomes: list[tuple[Job, int, float, bytes]] = []
    warmup_failures: list[str] = []
    deadline = [0.0]

    def client(index: int) -> None:
        connection = server.connection()
        try:
            for job in plan.warmup[index::CLIENTS]:
                status, answer = _post(connection, json.dumps(job.payload(procedure_code, zone)), headers)
                if status != 201:
                    warmup_failures.append(f"warm-up booking: {status} {answer[:200]!r}")
            warmed.wait()
            go.wait()
            while time.perf_counter() < deadline[0]:
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    return
                body = json.dumps(job.payload(procedure_code, zone))
                started = time.perf_counter()
                status, answer = _post(connection, body, headers)
                outcomes.append((job, status, (time.perf_counter() - started) * 1000, answer))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    warmed.wait(timeout=120)
    watcher = _LockWatcher(database_url, database)
    watcher.start()
    before = cpu.sample(server.pid)
    deadline[0] = time.perf_counter() + LOAD_TIME_LIMIT
    go.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=LOAD_TIME_LIMIT + 60)
    wall = time.perf_counter() - started
    after = cpu.sample(server.pid)
    watcher.stopped.set()
    watcher.join(timeout=5)

    result = LoadResult(wall_seconds=wall, sent=len(outcomes), planned=len(plan.measured), collisions=plan.collisions)
    result.latency = Timing([elapsed for _, _, elapsed, _ in outcomes])
    result.booked_latency = Timing([elapsed for _, status, elapsed, _ in outcomes if status == 201])
    # A collision and the planned booking it copies: exactly one of the two gets the slot.
    contested: dict[tuple[int, dt.datetime], list[int]] = defaultdict(list)
    for job, status, _, answer in outcomes:
        result.statuses[status] += 1
        if status not in (201, 409):
            result.failures.append(f"{status} {answer[:200]!r}")
        contested[job.physician_id, job.start].append(status)
    for job, status, _, answer in outcomes:
        statuses = contested[job.physician_id, job.start]
        expected = [201, 409] if len(statuses) == 2 else [201]
        if status == 409 and sorted(statuses) != expected:
            result.unexpected_conflicts += 1
            if len(result.conflict_examples) < 5:
                result.conflict_examples.append(f"{job.start.isoformat()} physician {job.physician_id} room "
                                                f"{job.room_id}: {answer[:200]!r}")
    result.failures.extend(warmup_failures)
    result.cpu_share = cpu.between(before, after, seconds=wall)
    if watcher.samples:
        result.lock_waiting = sum(waiting for waiting, _ in watcher.samples) / len(watcher.samples)
        result.lock_waiting_peak = max(waiting for waiting, _ in watcher.samples)
        result.active = sum(active for _, active in watcher.samples) / len(watcher.samples)
    return result
