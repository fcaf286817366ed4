"""The availability engine: plain data in, slots out. No ORM, no clock, no settings.

A visit is split into segments (DESIGN.md section 2): for a procedure starting at `start`,

    arrival = start - prep            discharge = end + recovery       end = start + procedure
    physician busy [start, end)       room busy [start - setup, end + turnover)
    recovery bay   [end, discharge)   patient busy [arrival, discharge)

A slot is a procedure start at which, all at once, a credentialed physician is inside a
schedule block of the right kind and free, a capable room is in service and free for its
whole occupied span, a recovery bay is free for the whole recovery, and the patient is free.

Candidate starts lie on a grid of wall-clock times in the location's zone (every 15 minutes
from local midnight by default), so 08:00 stays 08:00 on both sides of a daylight-saving
change; wall times that do not exist (spring forward) are skipped.

"Any physician": the engine returns, for every start, one slot per physician who can take it,
each with the first free room (rooms in the order given, lowest id first from the selector).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Span = tuple[dt.datetime, dt.datetime]  # half-open [start, end), aware datetimes (or epoch seconds)


@dataclass(frozen=True)
class Segments:
    """Minutes of each segment of a procedure type."""

    prep: int
    procedure: int
    recovery: int
    setup: int = 0
    turnover: int = 0


@dataclass(frozen=True)
class WeeklyBlock:
    """A physician's weekly block in local wall time; `weekday` 0 is Monday."""

    weekday: int
    start: dt.time
    end: dt.time
    valid_from: dt.date
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class PhysicianInput:
    id: int
    blocks: Sequence[WeeklyBlock]
    busy: Sequence[Span] = ()  # time off and the physician's other procedures [start, end)


@dataclass(frozen=True)
class RoomInput:
    id: int
    busy: Sequence[Span] = ()  # occupied spans of other appointments, out-of-service periods


@dataclass(frozen=True)
class Request:
    segments: Segments
    zone: ZoneInfo
    first_day: dt.date  # local dates, inclusive
    last_day: dt.date
    physicians: Sequence[PhysicianInput]
    rooms: Sequence[RoomInput]  # only rooms with the required capabilities
    recovery_bays: int
    recovery_busy: Sequence[Span] = ()  # recovery spans of other appointments at the location
    patient_busy: Sequence[Span] = ()
    closed_days: frozenset[dt.date] = frozenset()
    grid_minutes: int = 15
    earliest: dt.datetime | None = None  # no arrival before this (now + minimum notice)
    latest: dt.datetime | None = None  # no start at or after this (now + booking horizon)
    limit: int | None = None


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime
    physician_id: int
    end: dt.datetime = field(compare=False)
    arrival: dt.datetime = field(compare=False)
    discharge: dt.datetime = field(compare=False)
    room_id: int = field(compare=False)


@dataclass(frozen=True)
class Visit:
    """The instants of one visit, derived from its procedure start."""

    arrival: dt.datetime
    start: dt.datetime
    end: dt.datetime
    discharge: dt.datetime
    room_start: dt.datetime
    room_end: dt.datetime


def visit_at(start: dt.datetime, segments: Segments) -> Visit:
    # Elapsed time, not wall-clock time: Python adds a timedelta to an aware datetime on the
    # wall clock of its own zone, which makes a 15-minute visit at 01:50 on the night clocks
    # fall back last 75 minutes. So add in UTC and come back to the start's zone.
    zone, utc = start.tzinfo, start.astimezone(dt.timezone.utc)

    def at(offset_minutes: int) -> dt.datetime:
        return (utc + dt.timedelta(minutes=offset_minutes)).astimezone(zone)

    end = segments.procedure
    return Visit(
        arrival=at(-segments.prep),
        start=start,
        end=at(end),
        discharge=at(end + segments.recovery),
        room_start=at(-segments.setup),
        room_end=at(end + segments.turnover),
    )


Instant = dt.datetime | int | float  # an aware datetime, or seconds since the Unix epoch


def epoch(instant: Instant) -> int:
    """Seconds since the epoch. The engine compares integers: comparing aware datetimes of
    different zones costs two UTC-offset lookups per comparison."""
    return int(instant.timestamp()) if isinstance(instant, dt.datetime) else int(instant)


class BusySpans:
    """Spans that may overlap one another, queried for overlap in O(log n)."""

    def __init__(self, spans: Iterable[tuple[Instant, Instant]]):
        # Epochs first: the selector mixes rows read as epochs with datetimes (time off, holds).
        ordered = sorted((epoch(start), epoch(end)) for start, end in spans)
        self._starts = [start for start, _ in ordered]
        self._max_end: list[int] = []
        running = None
        for _, end in ordered:
            running = end if running is None or end > running else running
            self._max_end.append(running)

    def overlaps_epoch(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self._starts, end)  # spans starting before `end`
        return index > 0 and self._max_end[index - 1] > start

    def overlaps(self, start: Instant, end: Instant) -> bool:
        return self.overlaps_epoch(epoch(start), epoch(end))


def merged(spans: Iterable[tuple[Instant, Instant]]) -> list[tuple[int, int]]:
    """The union of `spans` as disjoint spans (epoch seconds): one room busy twice is busy once."""
    union: list[tuple[int, int]] = []
    for start, end in sorted((epoch(start), epoch(end)) for start, end in spans):
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union


def saturated_spans(spans: Iterable[tuple[Instant, Instant]], capacity: int) -> list[tuple[int, int]]:
    """Where at least `capacity` of `spans` overlap: one more would exceed the capacity (epoch seconds)."""
    if capacity <= 0:
        return [(-(2**62), 2**62)]
    deltas: dict[int, int] = {}
    for start, end in ((epoch(start), epoch(end)) for start, end in spans):
        if end > start:
            deltas[start] = deltas.get(start, 0) + 1
            deltas[end] = deltas.get(end, 0) - 1
    saturated: list[tuple[int, int]] = []
    count, opened = 0, None
    for instant in sorted(deltas):  # all changes at one instant at once: no zero-length gaps
        count += deltas[instant]
        if count >= capacity and opened is None:
            opened = instant
        elif count < capacity and opened is not None:
            saturated.append((opened, instant))
            opened = None
    return saturated


def local_instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime | None:
    """The instant a wall-clock time happens on `day`, or None if the clock skips it (DST gap)."""
    local = dt.datetime.combine(day, wall).replace(tzinfo=zone)
    round_trip = local.astimezone(dt.timezone.utc).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


def is_on_grid(start: dt.datetime, zone: ZoneInfo, grid_minutes: int) -> bool:
    local = start.astimezone(zone)
    return not (local.second or local.microsecond) and (local.hour * 60 + local.minute) % grid_minutes == 0


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def block_spans(blocks: Sequence[WeeklyBlock], day: dt.date, zone: ZoneInfo) -> list[tuple[dt.time, dt.time]]:
    """The wall-clock blocks that apply on `day`."""
    return [
        (block.start, block.end)
        for block in blocks
        if block.weekday == day.weekday()
        and block.valid_from <= day
        and (block.valid_until is None or day <= block.valid_until)
    ]


def grid_starts(day: dt.date, opens: dt.time, closes: dt.time, procedure_minutes: int, grid_minutes: int,
                zone: ZoneInfo) -> Iterator[dt.datetime]:
    """Procedure starts on the local grid such that the procedure lies within [opens, closes)."""
    open_minute = opens.hour * 60 + opens.minute + (1 if opens.second or opens.microsecond else 0)
    close_minute = closes.hour * 60 + closes.minute
    minute = -(-open_minute // grid_minutes) * grid_minutes  # first grid time at or after opening
    while minute + procedure_minutes <= close_minute and minute < 24 * 60:
        instant = local_instant(day, dt.time(minute // 60, minute % 60), zone)
        if instant is not None:
            # The procedure must fit in the block as elapsed time too, which differs from wall
            # time only on a daylight-saving day.
            block_end = local_instant(day, closes, zone)
            end = instant + dt.timedelta(minutes=procedure_minutes)
            if block_end is None or end <= block_end:
                yield instant
        minute += grid_minutes


def grid_epochs(day: dt.date, opens: dt.time, closes: dt.time, procedure_minutes: int, grid_minutes: int,
                zone: ZoneInfo) -> list[int]:
    """`grid_starts` as epoch seconds; plain arithmetic on a day whose block has no clock change."""
    block_start, block_end = local_instant(day, opens, zone), local_instant(day, closes, zone)
    if block_start is None or block_end is None or block_start.utcoffset() != block_end.utcoffset():
        return [epoch(start) for start in grid_starts(day, opens, closes, procedure_minutes, grid_minutes, zone)]
    open_minute = opens.hour * 60 + opens.minute + (1 if opens.second or opens.microsecond else 0)
    first_minute = -(-open_minute // grid_minutes) * grid_minutes
    if first_minute >= 24 * 60:
        return []
    first = epoch(dt.datetime.combine(day, dt.time(first_minute // 60, first_minute % 60)).replace(tzinfo=zone))
    last_start = epoch(block_end) - procedure_minutes * 60
    return list(range(first, last_start + 1, grid_minutes * 60))


def find_slots(request: Request) -> list[Slot]:
    """Every slot in the request's window, sorted by start then physician, up to `limit`."""
    return _search(request, each_room=False)


def find_slots_by_room(request: Request) -> dict[int, list[Slot]]:
    """For each of the request's rooms, the slots `find_slots` gives when asked with that room
    alone (whether or not an earlier room could take the same start), from one walk of the grid:
    the day board offers each room's own free time. `limit` counts each room's slots."""
    by_room: dict[int, list[Slot]] = {room.id: [] for room in request.rooms}
    for slot in _search(request, each_room=True):
        room_slots = by_room[slot.room_id]
        if request.limit is None or len(room_slots) < request.limit:
            room_slots.append(slot)
    return by_room


def _search(request: Request, *, each_room: bool) -> list[Slot]:
    """`find_slots`; with `each_room`, a start gives a slot in every free room, not only the first."""
    segments, zone = request.segments, request.zone
    prep, procedure, recovery = segments.prep * 60, segments.procedure * 60, segments.recovery * 60
    setup, turnover = segments.setup * 60, segments.turnover * 60
    room_busy = [(room.id, BusySpans(room.busy)) for room in request.rooms]
    # Where every capable room is busy at once: one test rejects a start before trying each room.
    rooms_full = BusySpans(saturated_spans((span for room in request.rooms for span in merged(room.busy)),
                                           len(request.rooms)))
    recovery_full = BusySpans(saturated_spans(request.recovery_busy, request.recovery_bays))
    patient_busy = BusySpans(request.patient_busy)
    physicians = [(physician, BusySpans(physician.busy)) for physician in request.physicians]
    # Rounded up, not down: a limit of 10:00:00.5 must not let 10:00:00 through here when
    # `explain_unavailable`, comparing exact instants, refuses it.
    earliest = math.ceil(request.earliest.timestamp()) if request.earliest is not None else None
    latest = math.ceil(request.latest.timestamp()) if request.latest is not None else None
    grids: dict[tuple, list[int]] = {}
    slots: list[Slot] = []
    for day in _days(request.first_day, request.last_day):
        if day in request.closed_days:
            continue
        found: list[tuple[int, int, int]] = []  # (start, physician, room)
        for physician, physician_busy in physicians:
            for opens, closes in block_spans(physician.blocks, day, zone):
                key = (day, opens, closes)
                if key not in grids:
                    grids[key] = grid_epochs(day, opens, closes, segments.procedure, request.grid_minutes, zone)
                for start in grids[key]:
                    end = start + procedure
                    if earliest is not None and start - prep < earliest:
                        continue
                    if latest is not None and start >= latest:
                        break
                    if physician_busy.overlaps_epoch(start, end):
                        continue
                    if recovery and recovery_full.overlaps_epoch(end, end + recovery):
                        continue
                    if patient_busy.overlaps_epoch(start - prep, end + recovery):
                        continue
                    room_start, room_end = start - setup, end + turnover
                    if rooms_full.overlaps_epoch(room_start, room_end):
                        continue
                    for room_id, busy in room_busy:
                        if not busy.overlaps_epoch(room_start, room_end):
                            found.append((start, physician.id, room_id))
                            if not each_room:
                                break
        found.sort()
        for start, physician_id, room_id in found:
            begins = dt.datetime.fromtimestamp(start, zone)
            slots.append(Slot(  # from epochs: elapsed time, right across a DST change
                start=begins, physician_id=physician_id, end=dt.datetime.fromtimestamp(start + procedure, zone),
                arrival=dt.datetime.fromtimestamp(start - prep, zone),
                discharge=dt.datetime.fromtimestamp(start + procedure + recovery, zone), room_id=room_id,
            ))
        if not each_room and request.limit is not None and len(slots) >= request.limit:
            return slots[: request.limit]
    return slots


def explain_unavailable(request: Request, start: dt.datetime, physician_id: int, room_id: int | None = None) -> str | None:
    """Why `start` with this physician (and room) is not a slot, in front-desk words; None if it is one."""
    segments = request.segments
    visit = visit_at(start, segments)
    local = start.astimezone(request.zone)
    day = local.date()
    physician = next((p for p in request.physicians if p.id == physician_id), None)
    if physician is None:
        return "The physician is not available for this procedure at this location."
    if day in request.closed_days:
        return "The clinic is closed that day."
    if request.earliest is not None and visit.arrival < request.earliest:
        return "That time is too soon: it is within the clinic's minimum notice or already past."
    if request.latest is not None and start >= request.latest:
        return "That time is beyond the clinic's booking horizon."
    in_block = any(
        candidate == start
        for opens, closes in block_spans(physician.blocks, day, request.zone)
        for candidate in grid_starts(day, opens, closes, segments.procedure, request.grid_minutes, request.zone)
    )
    if not in_block:
        return "The physician has no schedule block of this kind at that time."
    if BusySpans(physician.busy).overlaps(visit.start, visit.end):
        return "The physician is already booked or off at that time."
    if segments.recovery and BusySpans(saturated_spans(request.recovery_busy, request.recovery_bays)).overlaps(
        visit.end, visit.discharge
    ):
        return "Every recovery bay is taken for this patient's recovery time."
    if BusySpans(request.patient_busy).overlaps(visit.arrival, visit.discharge):
        return "The patient already has a visit at that time."
    rooms = [room for room in request.rooms if room_id is None or room.id == room_id]
    if not rooms:
        return "That room does not have what this procedure needs."
    if all(BusySpans(room.busy).overlaps(visit.room_start, visit.room_end) for room in rooms):
        return "That room is taken at that time." if room_id is not None else "No suitable room is free at that time."
    return None
