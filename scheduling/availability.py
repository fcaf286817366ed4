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
change; wall times that do not exist (spring forward) are skipped (`local_grid`).

The search is a sweep (`start_sets`): each constraint's busy spans are turned once into the
starts they rule out, the free starts are intersected, and each block's grid is cut where the
free stretches begin and end; its cost follows the busy spans and the answer, not the number
of candidates times resources.

"Any physician": the engine returns, for every start, one slot per physician who can take it,
each with the first free room (rooms in the order given, lowest id first from the selector).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# The grid's functions are part of the engine's API (`engine.is_on_grid`, `engine.local_instant`).
from scheduling.local_grid import (  # noqa: F401
    block_spans,
    days,
    grid_epochs,
    grid_starts,
    is_on_grid,
    local_instant,
)
from scheduling.start_sets import FOREVER, Pieces, Starts, blocked_starts, common, free_starts, in_rooms, union

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


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    start: dt.datetime
    physician_id: int
    end: dt.datetime = field(compare=False)
    arrival: dt.datetime = field(compare=False)
    discharge: dt.datetime = field(compare=False)
    room_id: int = field(compare=False)
    # An engine's slot (`_slot_maker`) keeps its start in seconds and its procedure's shape,
    # (procedure, prep, recovery, zone); its instants become datetimes when first read.
    _start: int | None = field(default=None, init=False, compare=False, repr=False)
    _shape: tuple | None = field(default=None, init=False, compare=False, repr=False)

    def __getattr__(self, name: str):
        # Only reached for an instant of an engine's slot not read yet. From epochs, not
        # wall-clock arithmetic: elapsed time, right across a DST change.
        instant_of = _INSTANTS.get(name)
        if instant_of is None or self._start is None:
            raise AttributeError(name)
        instant = dt.datetime.fromtimestamp(instant_of(self._start, self._shape), self._shape[3])
        object.__setattr__(self, name, instant)
        return instant

    def epochs(self) -> tuple[int, int, int, int]:
        """(start, end, arrival, discharge) as seconds since the epoch."""
        start, shape = self._start, self._shape
        if start is not None:
            return start, start + shape[0], start - shape[1], start + shape[0] + shape[2]
        return epoch(self.start), epoch(self.end), epoch(self.arrival), epoch(self.discharge)


# Each instant of an engine's slot from its start and (procedure, prep, recovery, zone), in seconds.
_INSTANTS = {
    "start": lambda start, shape: start,
    "end": lambda start, shape: start + shape[0],
    "arrival": lambda start, shape: start - shape[1],
    "discharge": lambda start, shape: start + shape[0] + shape[2],
}


def _slot_maker(segments: Segments, zone: ZoneInfo, physician_ids: list[int], room_ids: list[int]):
    """Builds the engine's slots from found codes (`_found_code`). A month's answer holds
    thousands, and most callers read a few of them, or only their epochs: each slot keeps its
    start and turns instants into datetimes only when they are read (one object a slot, no
    datetimes, so the garbage collector has little to walk)."""
    shape = (segments.procedure * 60, segments.prep * 60, segments.recovery * 60, zone)
    new = object.__new__
    set_physician, set_room = Slot.physician_id.__set__, Slot.room_id.__set__
    set_start, set_shape = Slot._start.__set__, Slot._shape.__set__

    def make(code: int) -> Slot:
        slot = new(Slot)
        set_physician(slot, physician_ids[(code >> 16) & 0xFFFF])
        set_room(slot, room_ids[code & 0xFFFF])
        set_start(slot, code >> 32)
        set_shape(slot, shape)
        return slot

    return make


def _found_code(physician_rank: int, room_rank: int) -> int:
    """A found slot is one integer, start << 32 | physician rank << 16 | room rank: sorting
    integers orders them by start, physician id and room id as the answer must be, and a day's
    thousands of them cost no tuple each."""
    return physician_rank << 16 | room_rank


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
    if type(instant) is int:  # the selector's rows: the common case, kept cheap
        return instant
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


def saturated_spans(spans: Iterable[tuple[Instant, Instant]], capacity: int) -> list[tuple[int, int]]:
    """Where at least `capacity` of `spans` overlap: one more would exceed the capacity (epoch seconds)."""
    if capacity <= 0:
        return [(-(2**62), 2**62)]
    deltas: dict[int, int] = {}
    for start, end in spans:
        if type(start) is not int or type(end) is not int:
            start, end = epoch(start), epoch(end)
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


def _room_layers(request: Request, open_starts: Starts, *, each_room: bool) -> list[Pieces]:
    """Where each start finds its room. Without `each_room`, one layer: each start labelled with
    the first room (in the request's order) free for it. With it, one layer per room."""
    segments = request.segments
    before, after = -segments.setup * 60, (segments.procedure + segments.turnover) * 60
    layers: list[Pieces] = []
    first_free: Pieces = []
    unroomed = open_starts  # starts no earlier room is free for
    for room in request.rooms:
        if not each_room and not unroomed:
            break  # every start has its room already
        blocked = blocked_starts(room.busy, before, after)
        if each_room:
            layers.append([(first, last, room.id) for first, last in
                           common(free_starts(blocked), open_starts)])
            continue
        first_free += [(first, last, room.id) for first, last in
                       common(unroomed, free_starts(blocked))]
        unroomed = common(unroomed, blocked)
    if not each_room:
        first_free.sort()
        layers.append(first_free)
    return layers


def _search(request: Request, *, each_room: bool) -> list[Slot]:
    """`find_slots`; with `each_room`, a start gives a slot in every free room, not only the first.

    A sweep, not a test per candidate: each constraint turns its busy spans once into the starts
    it rules out (a busy span [b, e) rules out the starts whose segment would overlap it), the
    free starts of the whole window are intersected once, and each block's grid is then cut
    where those free stretches begin and end. The work grows with the spans and the answer, not
    with candidates times resources.
    """
    segments, zone = request.segments, request.zone
    prep, procedure, recovery = segments.prep * 60, segments.procedure * 60, segments.recovery * 60
    # Rounded up, not down: a limit of 10:00:00.5 must not let 10:00:00 through here when
    # `explain_unavailable`, comparing exact instants, refuses it.
    first = math.ceil(request.earliest.timestamp()) + prep if request.earliest is not None else -FOREVER
    last = math.ceil(request.latest.timestamp()) - 1 if request.latest is not None else FOREVER
    blocked = blocked_starts(request.patient_busy, -prep, procedure + recovery)
    if recovery:
        full = saturated_spans(request.recovery_busy, request.recovery_bays)
        blocked = union(blocked, blocked_starts(full, procedure, procedure + recovery))
    layers = _room_layers(request, free_starts(blocked, first, last), each_room=each_room)
    physician_ids = sorted({physician.id for physician in request.physicians})
    room_ids = sorted({room.id for room in request.rooms})
    physician_rank = {physician_id: rank for rank, physician_id in enumerate(physician_ids)}
    room_rank = {room_id: rank for rank, room_id in enumerate(room_ids)}
    if len(physician_ids) > 0xFFFF or len(room_ids) > 0xFFFF:
        raise ValueError("At most 65,535 physicians and rooms in one request.")
    physicians = []
    for physician in request.physicians:
        by_weekday: dict[int, list[WeeklyBlock]] = {}
        for block in physician.blocks:
            by_weekday.setdefault(block.weekday, []).append(block)
        free = free_starts(blocked_starts(physician.busy, 0, procedure), first, last)
        own_layers = [in_rooms(free, layer) for layer in layers]
        rank = physician_rank[physician.id]
        physicians.append((by_weekday,
                           [([(first, last, _found_code(rank, room_rank[room_id]))
                              for first, last, room_id in pieces], [piece_last for _, piece_last, _ in pieces])
                            for pieces in own_layers if pieces]))
    grids: dict[tuple, list[int]] = {}
    make_slot = _slot_maker(segments, zone, physician_ids, room_ids)
    slots: list[Slot] = []
    for day in days(request.first_day, request.last_day):
        if day in request.closed_days:
            continue
        weekday = day.weekday()
        found: list[int] = []  # `_found_code`s
        for by_weekday, own_layers in physicians:
            for block in by_weekday.get(weekday, ()):
                if block.valid_from > day or (block.valid_until is not None and day > block.valid_until):
                    continue
                key = (day, block.start, block.end)
                grid = grids.get(key)
                if grid is None:
                    grid = grids[key] = grid_epochs(day, block.start, block.end, segments.procedure,
                                                    request.grid_minutes, zone)
                if not grid:
                    continue
                grid_first, grid_last = grid[0], grid[-1]
                for pieces, piece_lasts in own_layers:
                    index = bisect.bisect_left(piece_lasts, grid_first)
                    while index < len(pieces) and pieces[index][0] <= grid_last:
                        piece_first, piece_last, code = pieces[index]
                        found += [start << 32 | code for start in
                                  grid[bisect.bisect_left(grid, piece_first):bisect.bisect_right(grid, piece_last)]]
                        index += 1
        found.sort()
        slots += [make_slot(code) for code in found]
        if not each_room and request.limit is not None and len(slots) >= request.limit:
            return slots[: request.limit]
    return slots


def beyond_the_horizon(last_day: dt.date) -> str:
    """Why a time after `last_day`, the last day visits are booked on, is refused."""
    return (f"That time is beyond the booking horizon: visits here are booked up to "
            f"{last_day:%A %B} {last_day.day}, {last_day.year}.")


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
        return beyond_the_horizon(request.latest.astimezone(request.zone).date())
    at = start.timestamp()  # a start off the whole minute matches no grid time
    blocks = block_spans(physician.blocks, day, request.zone)
    in_block = any(
        at in grid_epochs(day, opens, closes, segments.procedure, request.grid_minutes, request.zone)
        for opens, closes in blocks
    )
    if not in_block:
        if not is_on_grid(start, request.zone, request.grid_minutes) and any(
                opens <= local.time() < closes for opens, closes in blocks):
            minute = local.hour * 60 + local.minute
            before = minute - minute % request.grid_minutes
            after = before + request.grid_minutes
            return (f"Times start every {request.grid_minutes} minutes; {local:%H:%M} lies between "
                    f"{before // 60:02d}:{before % 60:02d} and {after // 60 % 24:02d}:{after % 60:02d}.")
        return "The physician has no schedule block of this kind at that time."
    # The patient first: a second booking of a visit already made is told so, not that its
    # physician is busy (with that very visit).
    if BusySpans(request.patient_busy).overlaps(visit.arrival, visit.discharge):
        return "The patient already has a visit at that time."
    if BusySpans(physician.busy).overlaps(visit.start, visit.end):
        return "The physician is already booked or off at that time."
    if segments.recovery and BusySpans(saturated_spans(request.recovery_busy, request.recovery_bays)).overlaps(
        visit.end, visit.discharge
    ):
        return "Every recovery bay is taken for this patient's recovery time."
    rooms = [room for room in request.rooms if room_id is None or room.id == room_id]
    if not rooms:
        return "That room does not have what this procedure needs."
    if all(BusySpans(room.busy).overlaps(visit.room_start, visit.room_end) for room in rooms):
        return "That room is taken at that time." if room_id is not None else "No suitable room is free at that time."
    return None
