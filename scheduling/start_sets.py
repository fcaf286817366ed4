"""Sets of procedure starts, for the availability engine's sweep.

A set is a sorted list of disjoint, closed ranges of whole seconds since the epoch,
[(first, last), ...]. On integers, "would overlap a busy span" and "is free" are exact
complements, so each constraint is turned once into the starts it rules out, and sets are
combined by one pass over both lists, never by testing candidates one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

Starts = list[tuple[int, int]]
Pieces = list[tuple[int, int, int]]  # (first start, last start, room id), sorted and disjoint
FOREVER = 2**62

Instant = dt.datetime | int | float


def _seconds(instant: Instant) -> int:
    return int(instant.timestamp()) if isinstance(instant, dt.datetime) else int(instant)


def blocked_starts(spans: Iterable[tuple[Instant, Instant]], before: int, after: int) -> Starts:
    """Starts `s` at which [s + before, s + after) overlaps one of `spans`: for a span [b, e),
    those with b - after < s < e - before."""
    spans = spans if isinstance(spans, (list, tuple)) else list(spans)
    try:  # the selector's rows are epochs already
        shifted = sorted((start - after + 1, end - before - 1) for start, end in spans)
    except TypeError:  # aware datetimes among them
        shifted = sorted((_seconds(start) - after + 1, _seconds(end) - before - 1) for start, end in spans)
    blocked: Starts = []
    for first, last in shifted:
        if first > last:
            continue
        if blocked and first <= blocked[-1][1] + 1:
            if last > blocked[-1][1]:
                blocked[-1] = (blocked[-1][0], last)
        else:
            blocked.append((first, last))
    return blocked


def union(a: Starts, b: Starts) -> Starts:
    """The starts in `a` or in `b`."""
    return blocked_starts([(first, last + 1) for first, last in a + b], 0, 1)


def free_starts(blocked: Starts, first: int = -FOREVER, last: int = FOREVER) -> Starts:
    """The starts in [first, last] that `blocked` leaves."""
    free: Starts = []
    for blocked_first, blocked_last in blocked:
        if blocked_last < first:
            continue
        if blocked_first > last:
            break
        if blocked_first > first:
            free.append((first, blocked_first - 1))
        first = blocked_last + 1
    if first <= last:
        free.append((first, last))
    return free


def common(a: Starts, b: Starts) -> Starts:
    """The starts in both `a` and `b`, by one sweep over the two."""
    both: Starts = []
    i = j = 0
    while i < len(a) and j < len(b):
        first, last = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if first <= last:
            both.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return both


def in_rooms(free: Starts, layer: Pieces) -> Pieces:
    """The starts of `free` that `layer` has a room for, with that room: one sweep over the two."""
    both: Pieces = []
    i = j = 0
    while i < len(free) and j < len(layer):
        (free_first, free_last), (piece_first, piece_last, room_id) = free[i], layer[j]
        first, last = max(free_first, piece_first), min(free_last, piece_last)
        if first <= last:
            both.append((first, last, room_id))
        if free_last < piece_last:
            i += 1
        else:
            j += 1
    return both
