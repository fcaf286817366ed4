"""The pure availability engine: examples, daylight-saving weeks, and Hypothesis properties."""

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
    WeeklyBlock,
    epoch,
    explain_unavailable,
    find_slots,
    find_slots_by_room,
    is_on_grid,
    local_instant,
    saturated_spans,
    visit_at,
)

CHICAGO = ZoneInfo("America/Chicago")
ESI = Segments(prep=30, procedure=20, recovery=30, setup=5, turnover=10)
EVERY_DAY = [WeeklyBlock(weekday, dt.time(8), dt.time(10), dt.date(2026, 1, 1)) for weekday in range(7)]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


def request(**overrides) -> Request:
    values = dict(
        segments=ESI, zone=CHICAGO, first_day=dt.date(2026, 11, 30), last_day=dt.date(2026, 11, 30),
        physicians=[PhysicianInput(id=1, blocks=EVERY_DAY)], rooms=[RoomInput(id=10)], recovery_bays=2,
    )
    values.update(overrides)
    return Request(**values)


def starts(slots) -> list[str]:
    return [slot.start.astimezone(CHICAGO).strftime("%m-%d %H:%M") for slot in slots]


def test_slots_lie_on_the_grid_inside_the_block():
    slots = find_slots(request())
    # 08:00 to 09:40 (the 20-minute procedure must end by 10:00), every 15 minutes.
    assert starts(slots) == ["11-30 08:00", "11-30 08:15", "11-30 08:30", "11-30 08:45", "11-30 09:00",
                             "11-30 09:15", "11-30 09:30"]
    first = slots[0]
    assert first.arrival == at(30, 7, 30) and first.end == at(30, 8, 20) and first.discharge == at(30, 8, 50)


def test_a_booked_room_blocks_its_setup_and_turnover_too():
    visit = visit_at(at(30, 9), ESI)  # room held 08:55 to 09:30
    slots = find_slots(request(rooms=[RoomInput(id=10, busy=[(visit.room_start, visit.room_end)])]))
    # 08:15 would need the room until 08:45; 08:30 until 09:00 (overlaps 08:55); 09:15 from 09:10.
    assert starts(slots) == ["11-30 08:00", "11-30 08:15"]


def test_a_second_room_is_used_when_the_first_is_taken():
    busy = [(at(30, 8), at(30, 10))]
    slots = find_slots(request(rooms=[RoomInput(id=10, busy=busy), RoomInput(id=11)]))
    assert {slot.room_id for slot in slots} == {11}


def test_a_room_busy_twice_at_once_does_not_hide_a_free_room():
    twice = [(at(30, 8), at(30, 10)), (at(30, 8), at(30, 9))]  # a booking during a maintenance window
    slots = find_slots(request(rooms=[RoomInput(id=10, busy=twice), RoomInput(id=11)]))
    assert slots and {slot.room_id for slot in slots} == {11}


def test_the_physician_is_needed_only_for_the_procedure_itself():
    # The physician is in another room 08:20-08:40: an 08:40 start is fine though that
    # patient arrives at 08:10 and the room is set up from 08:35 (flip rooms).
    slots = find_slots(request(physicians=[PhysicianInput(id=1, blocks=EVERY_DAY, busy=[(at(30, 8, 20), at(30, 8, 40))])],
                               rooms=[RoomInput(id=10), RoomInput(id=11)]))
    assert "11-30 08:45" in starts(slots)
    assert "11-30 08:15" not in starts(slots)  # its procedure would run 08:15-08:35


def test_recovery_bays_are_a_pooled_capacity():
    full = [(at(30, 8, 20), at(30, 9, 30)), (at(30, 8, 30), at(30, 9))]
    slots = find_slots(request(recovery_busy=full, rooms=[RoomInput(id=10)]))
    # Both bays are taken 08:30-09:00: a start whose recovery (end to end + 30) overlaps that
    # is refused; from 08:45 the recovery begins at 09:05, when one bay is free again.
    assert starts(slots) == ["11-30 08:45", "11-30 09:00", "11-30 09:15", "11-30 09:30"]


def test_the_patient_cannot_be_in_two_places():
    slots = find_slots(request(patient_busy=[(at(30, 8, 30), at(30, 9))]))
    assert all(not (slot.arrival < at(30, 9) and slot.discharge > at(30, 8, 30)) for slot in slots)
    assert "11-30 09:30" in starts(slots)


def test_closures_minimum_notice_and_horizon():
    assert find_slots(request(closed_days=frozenset({dt.date(2026, 11, 30)}))) == []
    slots = find_slots(request(earliest=at(30, 8, 30)))  # arrival must be at or after 08:30
    assert starts(slots)[0] == "11-30 09:00"
    slots = find_slots(request(latest=at(30, 9)))
    assert starts(slots)[-1] == "11-30 08:45"


def test_blocks_apply_only_within_their_validity():
    blocks = [WeeklyBlock(0, dt.time(8), dt.time(10), dt.date(2026, 12, 1))]
    assert find_slots(request(physicians=[PhysicianInput(id=1, blocks=blocks)])) == []


def test_any_physician_gives_each_start_once_per_physician_sorted_by_start():
    slots = find_slots(request(physicians=[PhysicianInput(id=2, blocks=EVERY_DAY), PhysicianInput(id=1, blocks=EVERY_DAY)],
                               rooms=[RoomInput(id=10), RoomInput(id=11)], limit=4))
    assert [(s.start.astimezone(CHICAGO).strftime("%H:%M"), s.physician_id) for s in slots] == [
        ("08:00", 1), ("08:00", 2), ("08:15", 1), ("08:15", 2)]
    assert {s.room_id for s in slots} == {10}  # the first free room for each


def test_the_week_daylight_saving_time_ends_keeps_wall_clock_times():
    """2026-11-01 02:00 CDT becomes 01:00 CST in America/Chicago."""
    slots = find_slots(request(first_day=dt.date(2026, 10, 29), last_day=dt.date(2026, 11, 4)))
    firsts = {}
    for slot in slots:
        firsts.setdefault(slot.start.astimezone(CHICAGO).date(), slot.start)
    assert len(firsts) == 7
    for day, first in firsts.items():
        assert first.astimezone(CHICAGO).time() == dt.time(8), day
    utc = dt.timezone.utc
    assert firsts[dt.date(2026, 10, 31)].astimezone(utc).hour == 13  # 08:00 CDT
    assert firsts[dt.date(2026, 11, 1)].astimezone(utc).hour == 14  # 08:00 CST
    assert firsts[dt.date(2026, 11, 2)].astimezone(utc).hour == 14
    assert len(slots) == 7 * 7


def test_a_block_across_the_repeated_hour_counts_elapsed_time():
    night = [WeeklyBlock(6, dt.time(0), dt.time(3), dt.date(2026, 1, 1))]  # Sunday 2026-11-01
    segments = Segments(prep=0, procedure=60, recovery=0)
    slots = find_slots(request(segments=segments, physicians=[PhysicianInput(id=1, blocks=night)],
                               first_day=dt.date(2026, 11, 1), last_day=dt.date(2026, 11, 1)))
    # The wall clock runs 00:00-03:00 but four hours pass; every slot's procedure ends by 03:00 CST.
    assert slots and all(slot.end <= dt.datetime(2026, 11, 1, 3, tzinfo=CHICAGO) for slot in slots)
    assert len({slot.start for slot in slots}) == len(slots)


def test_the_spring_forward_gap_is_skipped():
    night = [WeeklyBlock(6, dt.time(1), dt.time(4), dt.date(2026, 1, 1))]  # Sunday 2026-03-08
    segments = Segments(prep=0, procedure=15, recovery=0)
    slots = find_slots(request(segments=segments, physicians=[PhysicianInput(id=1, blocks=night)],
                               first_day=dt.date(2026, 3, 8), last_day=dt.date(2026, 3, 8)))
    wall = [slot.start.astimezone(CHICAGO).strftime("%H:%M") for slot in slots]
    assert "02:00" not in wall and "02:30" not in wall
    assert wall[:4] == ["01:00", "01:15", "01:30", "01:45"] and wall[4] == "03:00"
    assert local_instant(dt.date(2026, 3, 8), dt.time(2, 30), CHICAGO) is None


def test_the_grid_is_in_local_time():
    assert is_on_grid(at(30, 8, 15), CHICAGO, 15)
    assert not is_on_grid(at(30, 8, 10), CHICAGO, 15)


def test_explain_names_the_resource_that_is_missing():
    visit = visit_at(at(30, 9), ESI)
    busy_room = request(rooms=[RoomInput(id=10, busy=[(visit.room_start, visit.room_end)])])
    assert explain_unavailable(busy_room, at(30, 9), 1) == "No suitable room is free at that time."
    assert explain_unavailable(request(), at(30, 9), 1) is None
    assert "no schedule block" in explain_unavailable(request(), at(30, 12), 1)
    assert "patient already has a visit" in explain_unavailable(
        request(patient_busy=[(at(30, 8), at(30, 10))]), at(30, 9), 1)


def test_saturated_spans_are_where_capacity_is_reached():
    spans = [(at(30, 8), at(30, 10)), (at(30, 9), at(30, 11)), (at(30, 10), at(30, 12))]
    assert saturated_spans(spans, 2) == [(epoch(at(30, 9)), epoch(at(30, 11)))]
    assert saturated_spans(spans, 3) == []


# ---- Properties -------------------------------------------------------------------------------

BASE = dt.datetime(2026, 10, 29, tzinfo=CHICAGO)  # the DST week is inside the generated window


@st.composite
def spans(draw, max_size=6):
    result = []
    for _ in range(draw(st.integers(0, max_size))):
        start = BASE + dt.timedelta(minutes=5 * draw(st.integers(0, 6 * 24 * 12)))
        result.append((start, start + dt.timedelta(minutes=5 * draw(st.integers(1, 36)))))
    return result


@st.composite
def weekly_blocks(draw):
    blocks = []
    for weekday in draw(st.sets(st.integers(0, 6), max_size=7)):
        start = draw(st.integers(0, 20 * 4)) * 15
        length = draw(st.integers(2, 16)) * 15
        end = min(start + length, 24 * 60 - 1)
        blocks.append(WeeklyBlock(weekday, dt.time(start // 60, start % 60), dt.time(end // 60, end % 60),
                                  dt.date(2026, 10, 1)))
    return blocks


@st.composite
def requests(draw):
    segments = Segments(prep=draw(st.sampled_from([0, 15, 30, 60])), procedure=draw(st.sampled_from([15, 20, 45, 60])),
                        recovery=draw(st.sampled_from([0, 30, 60])), setup=draw(st.sampled_from([0, 5, 10])),
                        turnover=draw(st.sampled_from([0, 10, 15])))
    physicians = [PhysicianInput(id=pid, blocks=draw(weekly_blocks()), busy=draw(spans())) for pid in (1, 2)]
    rooms = [RoomInput(id=rid, busy=draw(spans())) for rid in (10, 11)]
    return Request(
        segments=segments, zone=CHICAGO, first_day=dt.date(2026, 10, 29), last_day=dt.date(2026, 11, 4),
        physicians=physicians, rooms=rooms, recovery_bays=draw(st.integers(0, 3)),
        recovery_busy=draw(spans(max_size=10)), patient_busy=draw(spans(max_size=3)),
        grid_minutes=draw(st.sampled_from([10, 15, 30])),
    )


def _seconds(span: tuple) -> tuple[float, float]:
    # Aware datetimes of one zone compare by wall clock, ignoring `fold`: compare instants.
    return span[0].timestamp(), span[1].timestamp()


def overlaps(a: tuple, b: tuple) -> bool:
    (a0, a1), (b0, b1) = _seconds(a), _seconds(b)
    return a0 < b1 and b0 < a1


def peak_overlap(spans_: list, window: tuple) -> int:
    spans_ = [_seconds(span) for span in spans_]
    window = _seconds(window)
    points = [window[0]] + [s for s, _ in spans_ if window[0] <= s < window[1]]
    return max((sum(1 for s, e in spans_ if s <= point < e) for point in points), default=0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_no_slot_overlaps_any_busy_span_and_every_slot_is_inside_a_block(req):
    slots = find_slots(req)
    assert slots == sorted(slots)
    physicians = {p.id: p for p in req.physicians}
    rooms = {r.id: r for r in req.rooms}
    for slot in slots:
        visit = visit_at(slot.start, req.segments)
        assert (slot.arrival, slot.end, slot.discharge) == (visit.arrival, visit.end, visit.discharge)
        physician = physicians[slot.physician_id]
        assert not any(overlaps((visit.start, visit.end), busy) for busy in physician.busy)
        assert not any(overlaps((visit.room_start, visit.room_end), busy) for busy in rooms[slot.room_id].busy)
        assert not any(overlaps((visit.arrival, visit.discharge), busy) for busy in req.patient_busy)
        local_start, local_end = slot.start.astimezone(CHICAGO), slot.end.astimezone(CHICAGO)
        assert is_on_grid(slot.start, CHICAGO, req.grid_minutes)
        assert any(
            block.weekday == local_start.weekday()
            and dt.datetime.combine(local_start.date(), block.start).replace(tzinfo=CHICAGO) <= slot.start
            and slot.end <= dt.datetime.combine(local_start.date(), block.end).replace(tzinfo=CHICAGO)
            for block in physician.blocks
        ), (local_start, local_end)
        if req.segments.recovery:
            assert peak_overlap(list(req.recovery_busy), (visit.end, visit.discharge)) + 1 <= req.recovery_bays


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_every_start_left_out_has_a_reason(req):
    """Completeness: a grid start inside a block that is not offered is explained as unavailable."""
    offered = {(slot.start, slot.physician_id) for slot in find_slots(req)}
    for physician in req.physicians:
        for block in physician.blocks[:2]:
            day = req.first_day + dt.timedelta(days=(block.weekday - req.first_day.weekday()) % 7)
            start = local_instant(day, block.start, CHICAGO)
            if start is None or not is_on_grid(start, CHICAGO, req.grid_minutes):
                continue
            reason = explain_unavailable(req, start, physician.id)
            assert (reason is None) == ((start, physician.id) in offered), reason


def test_a_visit_across_the_fall_back_hour_lasts_its_real_length():
    # 01:50 CDT on 2026-11-01; fifteen minutes later the clocks have gone back: 01:05 CST.
    start = dt.datetime(2026, 11, 1, 1, 50, tzinfo=CHICAGO)
    visit = visit_at(start, Segments(prep=30, procedure=15, recovery=30, setup=5, turnover=10))
    utc = dt.timezone.utc
    assert visit.end.astimezone(utc) - start.astimezone(utc) == dt.timedelta(minutes=15)
    assert (visit.end.hour, visit.end.minute, visit.end.fold) == (1, 5, 1)
    assert visit.discharge.astimezone(utc) - start.astimezone(utc) == dt.timedelta(minutes=45)


def test_a_start_offered_at_the_minimum_notice_is_one_explain_unavailable_accepts():
    # "now + notice" with a fraction of a second: the engine must not offer a start the
    # booking check then refuses as too soon.
    day = dt.date(2026, 12, 1)
    request = Request(
        segments=Segments(prep=15, procedure=45, recovery=0), zone=CHICAGO, first_day=day, last_day=day,
        physicians=[PhysicianInput(id=1, blocks=[WeeklyBlock(day.weekday(), dt.time(8), dt.time(12),
                                                             dt.date(2026, 1, 1), None)])],
        rooms=[RoomInput(id=10)], recovery_bays=0, grid_minutes=15,
        earliest=dt.datetime(2026, 12, 1, 8, 45, 0, 500_000, tzinfo=CHICAGO),
    )
    for slot in find_slots(request):
        assert explain_unavailable(request, slot.start, 1) is None, slot.start
    assert find_slots(request)[0].start == dt.datetime(2026, 12, 1, 9, 15, tzinfo=CHICAGO)


def test_each_room_on_its_own_offers_a_start_an_earlier_room_also_could_take():
    """Asked for both rooms, `find_slots` gives 08:00 to the first; asked room by room, both have it."""
    both = request(rooms=[RoomInput(id=10), RoomInput(id=11, busy=[(at(30, 8, 30), at(30, 10))])])
    by_room = find_slots_by_room(both)
    assert starts(by_room[10]) == starts(find_slots(request(rooms=[RoomInput(id=10)])))
    assert starts(by_room[11]) == ["11-30 08:00"]
    assert {slot.room_id for slot in find_slots(both)} == {10}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_the_slots_by_room_are_each_rooms_slots_asked_alone(req):
    by_room = find_slots_by_room(req)
    assert set(by_room) == {room.id for room in req.rooms}
    for room in req.rooms:
        alone = find_slots(dataclasses.replace(req, rooms=[room]))
        # Whole slots: a Slot compares by start and physician only.
        assert [dataclasses.astuple(slot) for slot in by_room[room.id]] == [dataclasses.astuple(slot) for slot in alone]
