"""The bookings figure (c) sends, planned before the server starts.

Slots come from the engine and are picked so that no two planned bookings share a physician
or a room at the same time and the recovery bays never run out: every planned booking should
succeed. Each is for a new patient with an approved order, so neither a visit of the patient
nor a pathway rule can refuse it. A few deliberate collisions (another patient at a planned
physician, room and start) must each lose to the booking they copy, with 409.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from bench.seed import add_patients, approved_order
from clinic.models import Location, ProcedureType
from scheduling import availability as engine
from scheduling.models import ProcedureOrder
from scheduling.selectors import availability_request

CLIENTS = 16
WARMUP_PER_CLIENT = 2
MINIMUM_BOOKINGS = 500


@dataclass(frozen=True)
class Job:
    physician_id: int
    room_id: int
    patient_id: int
    order_id: int
    start: dt.datetime
    collision: bool = False

    def payload(self, procedure_code: str, zone) -> dict:
        return {
            "patient": self.patient_id,
            "procedure_type": procedure_code,
            "physician": self.physician_id,
            "start": self.start.astimezone(zone).isoformat(),
            "room": self.room_id,
            "order": self.order_id,
        }


@dataclass(frozen=True)
class Plan:
    warmup: list[Job]
    measured: list[Job]
    in_process: list[Job]
    candidate_slots: int
    days: tuple[dt.date, dt.date]
    requested: int  # bookings asked for; fewer are planned when the free calendar cannot take them

    @property
    def collisions(self) -> int:
        return sum(job.collision for job in self.measured)


def _seconds(instant: dt.datetime | int | float) -> int:
    return int(instant.timestamp()) if isinstance(instant, dt.datetime) else int(instant)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < span_end and span_start < end for span_start, span_end in spans)


class _Picks:
    """What the calendar and the planned bookings hold, by resource and local day, in epoch seconds."""

    def __init__(self, request: engine.Request):
        self.zone = request.zone
        self.segments = request.segments
        self.recovery_bays = request.recovery_bays
        self.room_ids = [room.id for room in request.rooms]
        self.busy: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
        for physician in request.physicians:
            for span in physician.busy:
                self._hold(("physician", physician.id), *span)
        for room in request.rooms:
            for span in room.busy:
                self._hold(("room", room.id), *span)
        for span in request.recovery_busy:
            self._hold(("recovery",), *span)

    def _day(self, seconds: int) -> dt.date:
        return dt.datetime.fromtimestamp(seconds, self.zone).date()

    def _hold(self, resource: tuple, start, end) -> None:
        start, end = _seconds(start), _seconds(end)
        for day in {self._day(start), self._day(end - 1)}:
            self.busy[(*resource, day)].append((start, end))

    def take(self, slot: engine.Slot) -> int | None:
        """Promise the slot's physician, a free room and a bay; the room, or None if it clashes."""
        minute = 60
        start = _seconds(slot.start)
        end = start + self.segments.procedure * minute
        room_start, room_end = start - self.segments.setup * minute, end + self.segments.turnover * minute
        discharge = end + self.segments.recovery * minute
        day = self._day(start)
        if _overlaps(self.busy["physician", slot.physician_id, day], start, end):
            return None
        room_id = next((room_id for room_id in self.room_ids
                        if not _overlaps(self.busy["room", room_id, day], room_start, room_end)), None)
        if room_id is None:
            return None
        if discharge > end:
            in_recovery = sum(1 for busy_start, busy_end in self.busy["recovery", day]
                              if end < busy_end and busy_start < discharge)
            if in_recovery >= self.recovery_bays:  # counts every overlap, so it errs on the safe side
                return None
            self._hold(("recovery",), end, discharge)
        self._hold(("physician", slot.physician_id), start, end)
        self._hold(("room", room_id), room_start, room_end)
        return room_id


def plan_bookings(*, location: Location, procedure_type: ProcedureType, first_day: dt.date, last_day: dt.date,
                  count: int, collisions: int, in_process: int, seed: int = 7) -> Plan:
    """Bookings that fit together in today's calendar, each with its own patient and open order."""
    rng = random.Random(seed)
    requested = count
    warmup_count = CLIENTS * WARMUP_PER_CLIENT
    wanted = warmup_count + count + in_process
    request = availability_request(procedure_type=procedure_type, location=location, first_day=first_day,
                                   last_day=last_day, now=timezone.now())
    slots = engine.find_slots(request)
    # In time order (physicians shuffled at each start), so rooms are packed back to back as a
    # front desk fills a day: far more bookings fit than in a random order.
    rng.shuffle(slots)
    slots.sort(key=lambda slot: slot.start)
    picks = _Picks(request)
    chosen: list[tuple[engine.Slot, int]] = []
    for slot in slots:
        room_id = picks.take(slot)
        if room_id is not None:
            chosen.append((slot, room_id))
            if len(chosen) == wanted:
                break
    if len(chosen) < wanted:
        count = len(chosen) - warmup_count - in_process
        if count < MINIMUM_BOOKINGS:
            raise RuntimeError(f"Only {len(chosen)} compatible free slots for {wanted} planned bookings.")
        wanted = len(chosen)
        collisions = min(collisions, count // 20)
    chosen.sort(key=lambda pick: rng.random())  # warm-up, measured and in-process bookings spread over the days

    # New patients: no history for the pathway rules to count (at most 4 epidurals a year,
    # 14 days apart) and no visit of theirs to collide with.
    drafts = [(slot.physician_id, room_id, slot.start, False) for slot, room_id in chosen]
    drafts += [(physician_id, room_id, start, True)
               for physician_id, room_id, start, _ in rng.sample(drafts[warmup_count:warmup_count + count], collisions)]
    patients = add_patients(len(drafts), label="Load")
    today = timezone.localdate()
    orders = ProcedureOrder.objects.bulk_create(
        approved_order(patient_id=patient.pk, procedure_type=procedure_type, physician_id=physician_id, today=today,
                       number=1_000_000 + index)
        for index, ((physician_id, *_), patient) in enumerate(zip(drafts, patients))
    )
    jobs = [Job(physician_id, room_id, patient.pk, order.pk, start, collision)
            for (physician_id, room_id, start, collision), patient, order in zip(drafts, patients, orders)]
    collision_jobs = jobs[wanted:]
    warmup = jobs[:warmup_count]
    measured = jobs[warmup_count:warmup_count + count] + collision_jobs
    rng.shuffle(measured)
    return Plan(warmup=warmup, measured=measured, in_process=jobs[warmup_count + count:wanted],
                candidate_slots=len(slots), days=(first_day, last_day), requested=requested)
