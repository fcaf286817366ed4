"""The wall-clock grid of candidate starts, in a location's zone.

Candidate starts lie on a grid of wall-clock times (every 15 minutes from local midnight by
default), so 08:00 stays 08:00 on both sides of a daylight-saving change; wall times that do
not exist (spring forward) are skipped, and a procedure must fit in its block as elapsed time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from scheduling.availability import WeeklyBlock


def _epoch(instant: dt.datetime) -> int:
    return int(instant.timestamp())


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


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
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
        return [_epoch(start) for start in grid_starts(day, opens, closes, procedure_minutes, grid_minutes, zone)]
    open_minute = opens.hour * 60 + opens.minute + (1 if opens.second or opens.microsecond else 0)
    first_minute = -(-open_minute // grid_minutes) * grid_minutes
    if first_minute >= 24 * 60:
        return []
    first = _epoch(dt.datetime.combine(day, dt.time(first_minute // 60, first_minute % 60)).replace(tzinfo=zone))
    last_start = _epoch(block_end) - procedure_minutes * 60
    return list(range(first, last_start + 1, grid_minutes * 60))
