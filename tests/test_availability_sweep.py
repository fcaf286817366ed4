"""The engine's sweep against a straightforward reference, and the size of a plain month's answer.

The reference tests every grid start of every block one by one, with datetimes and the visit's
own segments (`visit_at`), the way the rules read in DESIGN.md section 3. The engine must give
exactly its answer: the same starts, physicians, rooms and instants, in the same order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.availability import (
    PhysicianInput,
    Request,
    RoomInput,
    Segments,
    Slot,
    WeeklyBlock,
    find_slots,
    find_slots_by_room,
    grid_starts,
    visit_at,
)

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.timezone.utc


def seconds(instant) -> int:
    return instant if isinstance(instant, int) else int(instant.timestamp())


def _overlaps(start: dt.datetime, end: dt.datetime, spans) -> bool:
    return any(seconds(busy_start) < end.timestamp() and start.timestamp() < seconds(busy_end)
               for busy_start, busy_end in spans)


def _bays_taken(start: dt.datetime, end: dt.datetime, spans) -> int:
    """The most recovery spans in progress at one moment of [start, end)."""
    spans = [(seconds(s), seconds(e)) for s, e in spans if seconds(e) > seconds(s)]
    moments = [int(start.timestamp())] + [s for s, _ in spans if start.timestamp() <= s < end.timestamp()]
    return max((sum(1 for s, e in spans if s <= moment < e) for moment in moments), default=0)


def reference_slots(request: Request, *, each_room: bool = False) -> list[tuple]:
    """Every slot as (start, physician, room, end, arrival, discharge), by testing each candidate."""
    segments, zone = request.segments, request.zone
    found = []
    day = request.first_day
    while day <= request.last_day:
        if day not in request.closed_days:
            for physician in request.physicians:
                for block in physician.blocks:
                    if block.weekday != day.weekday() or block.valid_from > day or (
                            block.valid_until is not None and day > block.valid_until):
                        continue
                    for start in grid_starts(day, block.start, block.end, segments.procedure,
                                             request.grid_minutes, zone):
                        visit = visit_at(start, segments)
                        if request.earliest is not None and visit.arrival < request.earliest:
                            continue
                        if request.latest is not None and start >= request.latest:
                            continue
                        if _overlaps(visit.start, visit.end, physician.busy):
                            continue
                        if segments.recovery and _bays_taken(visit.end, visit.discharge,
                                                             request.recovery_busy) >= request.recovery_bays:
                            continue
                        if _overlaps(visit.arrival, visit.discharge, request.patient_busy):
                            continue
                        for room in request.rooms:
                            if not _overlaps(visit.room_start, visit.room_end, room.busy):
                                found.append((start.timestamp(), physician.id, room.id, visit.end.timestamp(),
                                              visit.arrival.timestamp(), visit.discharge.timestamp()))
                                if not each_room:
                                    break
        day += dt.timedelta(days=1)
    return sorted(found)


def as_rows(slots: list[Slot]) -> list[tuple]:
    return [(slot.start.timestamp(), slot.physician_id, slot.room_id, slot.end.timestamp(),
             slot.arrival.timestamp(), slot.discharge.timestamp()) for slot in slots]


# Windows around both daylight-saving changes of 2026 in America/Chicago.
WINDOWS = [dt.date(2026, 10, 29), dt.date(2026, 3, 5)]


@st.composite
def calendars(draw):
    first_day = draw(st.sampled_from(WINDOWS))
    base = dt.datetime.combine(first_day, dt.time()).replace(tzinfo=CHICAGO)

    def spans(max_size: int):
        result = []
        for _ in range(draw(st.integers(0, max_size))):
            # Whole seconds as well as round minutes, as aware datetimes or as epochs like the selector's rows.
            start = base + dt.timedelta(seconds=draw(st.sampled_from([300, 1, 60])) * draw(st.integers(0, 6 * 24 * 12)))
            end = start + dt.timedelta(minutes=5 * draw(st.integers(1, 36)))
            result.append((start, end) if draw(st.booleans()) else (int(start.timestamp()), int(end.timestamp())))
        return result

    def blocks():
        result = []
        for weekday in draw(st.sets(st.integers(0, 6), max_size=7)):
            start = draw(st.integers(0, 20 * 4)) * 15
            end = min(start + draw(st.integers(2, 16)) * 15, 24 * 60 - 1)
            result.append(WeeklyBlock(weekday, dt.time(start // 60, start % 60), dt.time(end // 60, end % 60),
                                      draw(st.sampled_from([dt.date(2026, 1, 1), first_day + dt.timedelta(days=3)])),
                                      draw(st.sampled_from([None, first_day + dt.timedelta(days=4)]))))
        return result

    segments = Segments(prep=draw(st.sampled_from([0, 15, 30, 60])), procedure=draw(st.sampled_from([15, 20, 45, 60])),
                        recovery=draw(st.sampled_from([0, 30, 60])), setup=draw(st.sampled_from([0, 5, 10])),
                        turnover=draw(st.sampled_from([0, 10, 15])))

    def instant_or_none():  # minimum notice and horizon, sometimes with a fraction of a second
        if not draw(st.booleans()):
            return None
        return base + dt.timedelta(seconds=draw(st.integers(0, 7 * 24 * 3600)),
                                   microseconds=draw(st.sampled_from([0, 500_000])))

    return Request(
        segments=segments, zone=CHICAGO, first_day=first_day, last_day=first_day + dt.timedelta(days=6),
        physicians=[PhysicianInput(id=pid, blocks=blocks(), busy=spans(6))
                    for pid in draw(st.sampled_from([(1, 2), (3, 1, 2)]))],
        rooms=[RoomInput(id=rid, busy=spans(6)) for rid in draw(st.sampled_from([(10,), (11, 10), (10, 11, 12)]))],
        recovery_bays=draw(st.integers(0, 3)), recovery_busy=spans(10), patient_busy=spans(3),
        closed_days=frozenset(draw(st.sets(st.sampled_from([first_day + dt.timedelta(days=n) for n in range(7)]),
                                           max_size=2))),
        grid_minutes=draw(st.sampled_from([10, 15, 30])),
        earliest=instant_or_none(), latest=instant_or_none(),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_the_sweep_gives_exactly_the_slots_of_testing_each_candidate(request):
    assert as_rows(find_slots(request)) == reference_slots(request)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_each_rooms_slots_are_those_of_testing_each_candidate_in_every_room(request):
    expected = reference_slots(request, each_room=True)
    for room_id, slots in find_slots_by_room(request).items():
        assert as_rows(slots) == [row for row in expected if row[2] == room_id]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), st.integers(1, 40))
def test_a_limit_gives_the_first_slots_of_the_whole_answer(request, limit):
    assert as_rows(find_slots(dataclasses.replace(request, limit=limit))) == reference_slots(request)[:limit]


# ---- A plain single-resource month ------------------------------------------------------------

PLAIN_BOOKED = (dt.time(8), dt.time(9, 30), dt.time(11), dt.time(13), dt.time(14, 30), dt.time(16))


def plain_month(first_day: dt.date, days: int) -> Request:
    """10 physicians, 30-minute visits on a 30-minute grid, 08:00-17:00 on weekdays, each with six
    bookings a day; one room that is always free and no recovery: the physicians decide alone."""
    last_day = first_day + dt.timedelta(days=days - 1)
    blocks = [WeeklyBlock(weekday, dt.time(8), dt.time(17), dt.date(2026, 1, 1)) for weekday in range(5)]
    physicians = []
    for pid in range(1, 11):
        busy = []
        day = first_day
        while day <= last_day:
            if day.weekday() < 5:
                for booked in PLAIN_BOOKED:
                    start = dt.datetime.combine(day, booked).replace(tzinfo=CHICAGO)
                    busy.append((int(start.timestamp()), int(start.timestamp()) + 30 * 60))
            day += dt.timedelta(days=1)
        physicians.append(PhysicianInput(id=pid, blocks=blocks, busy=busy))
    return Request(segments=Segments(prep=0, procedure=30, recovery=0), zone=CHICAGO, first_day=first_day,
                   last_day=last_day, physicians=physicians, rooms=[RoomInput(id=1)], recovery_bays=0,
                   grid_minutes=30)


def test_a_plain_month_leaves_twelve_slots_a_weekday_for_each_physician():
    # From Tuesday 2026-12-01, 30 days hold 22 weekdays and 90 days 64; 18 half hours a day, 6 booked.
    month = find_slots(plain_month(dt.date(2026, 12, 1), 30))
    assert len(month) == 2_640
    assert len(find_slots(plain_month(dt.date(2026, 12, 1), 90))) == 7_680
    first_day = [slot for slot in month if slot.start.date() == dt.date(2026, 12, 1) and slot.physician_id == 1]
    assert [slot.start.strftime("%H:%M") for slot in first_day] == [
        "08:30", "09:00", "10:00", "10:30", "11:30", "12:00", "12:30", "13:30", "14:00", "15:00", "15:30", "16:30"]
