"""The booking's locked section, timed in process: one booking at a time through the service.

Bookings at one location run one at a time (the location's row is locked from the checks
to the commit), so the time the lock is held bounds the throughput of figure (c).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction

from bench.plan import Job
from bench.stats import ProfileLine, Timing, profile
from clinic.models import Patient, Physician, ProcedureType, Room
from scheduling.errors import BookingError
from scheduling.models import ProcedureOrder
from scheduling.services import booking


@dataclass(frozen=True)
class LockHold:
    bookings: int
    total: Timing  # the whole appointment_book call
    held: Timing  # from the location row locked to the transaction committed
    queries: int  # per booking, median
    locked_queries: int  # of which while the lock is held (the lock itself included)
    locked_statements: list[str]  # what the last booking ran while holding the lock, e.g. "SELECT clinic_room"
    locked_sql: Timing  # per booking: time inside cursor.execute while holding the lock
    slowest_locked: list[tuple[str, float]]  # statements by mean milliseconds per booking, slowest first
    refused: list[str]  # planned bookings the service refused: should be none

    @property
    def ceiling(self) -> float:
        """Bookings per second one location can take while each holds its lock this long."""
        return 1000 / self.held.p50 if self.held.p50 else 0.0


def _booker(jobs: list[Job], procedure_type: ProcedureType, user) -> Callable[[Job], None]:
    """Books one planned job through `appointment_book`, its rows loaded beforehand."""
    physicians = Physician.objects.in_bulk([job.physician_id for job in jobs])
    rooms = Room.objects.select_related("location").in_bulk([job.room_id for job in jobs])
    patients = Patient.objects.in_bulk([job.patient_id for job in jobs])
    orders = ProcedureOrder.objects.in_bulk([job.order_id for job in jobs])

    def book(job: Job) -> None:
        booking.appointment_book(patient=patients[job.patient_id], procedure_type=procedure_type,
                                 physician=physicians[job.physician_id], start=job.start, room=rooms[job.room_id],
                                 order=orders[job.order_id], by=user)

    return book


def _statement(sql: str) -> str:
    """'SELECT scheduling_appointment', 'INSERT scheduling_historicalappointment', 'SAVEPOINT'..."""
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?([a-z_]+)"?', sql, re.IGNORECASE)
    if verb == "SELECT" and "FOR UPDATE" in sql.upper():
        verb = "SELECT ... FOR UPDATE"
    return f"{verb} {table.group(1)}" if table else verb


def measure_lock_hold(*, jobs: list[Job], procedure_type: ProcedureType, user) -> LockHold:
    """Book `jobs` one at a time, timing the section that holds the location's lock.

    The service's lock helper is wrapped for the duration (in this process only): the time
    runs from the lock granted to the commit, which `on_commit` marks.
    """
    book = _booker(jobs, procedure_type, user)
    original = booking.lock_locations
    held: list[float] = []
    locked_now = [False]
    statements: list[str] = []  # the current booking's, while locked
    counts = {"all": 0, "locked": 0}
    locked_ms = [0.0]  # the current booking's time inside execute while locked
    by_statement: dict[str, float] = defaultdict(float)  # all bookings' time per statement kind

    def count_queries(execute, sql, params, many, context):
        counts["all"] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if locked_now[0]:
                elapsed = (time.perf_counter() - started) * 1000
                counts["locked"] += 1
                statements.append(_statement(sql))
                locked_ms[0] += elapsed
                by_statement[_statement(sql)] += elapsed

    def timed_lock(location_ids):
        locked_now[0] = True
        original(location_ids)
        locked = time.perf_counter()
        transaction.on_commit(lambda: held.append((time.perf_counter() - locked) * 1000))

    totals, queries, locked_queries, locked_sql, refused = [], [], [], [], []
    booking.lock_locations = timed_lock
    try:
        with connection.execute_wrapper(count_queries):
            for job in jobs:
                counts["all"] = counts["locked"] = 0
                locked_ms[0] = 0.0
                statements.clear()
                started = time.perf_counter()
                try:
                    book(job)
                except BookingError as error:
                    refused.append(f"{job.start.isoformat()} physician {job.physician_id}: {error.message}")
                    continue
                finally:
                    locked_now[0] = False
                totals.append((time.perf_counter() - started) * 1000)
                queries.append(counts["all"])
                locked_queries.append(counts["locked"])
                locked_sql.append(locked_ms[0])
    finally:
        booking.lock_locations = original
    warm = len(totals) // 10  # the first few warm caches up
    return LockHold(bookings=len(totals), total=Timing(totals[warm:]), held=Timing(held[warm:]),
                    queries=sorted(queries)[len(queries) // 2],
                    locked_queries=sorted(locked_queries)[len(locked_queries) // 2],
                    locked_statements=list(statements), locked_sql=Timing(locked_sql[warm:]),
                    slowest_locked=sorted(((name, total / max(1, len(totals))) for name, total in by_statement.items()),
                                          key=lambda item: -item[1])[:3],
                    refused=refused)


def profile_bookings(*, jobs: list[Job], procedure_type: ProcedureType, user) -> list[ProfileLine]:
    """Where one `appointment_book` call spends its time, by the project's functions (profiled apart from the timing)."""
    book = _booker(jobs, procedure_type, user)
    remaining = iter(jobs)
    return profile(lambda: book(next(remaining)), runs=len(jobs), project_only=True)
