"""What a pain diary says about the block: pure functions over the entries, no ORM.

Relief at an entry is the fall in pain from the baseline (the pain before the procedure), as a
percentage of it: 8 before and 2 at the entry is 75%. Pain worse than before is 0% relief.
With no baseline, or a baseline of 0, relief cannot be measured and nothing is proposed.

Durations count from the procedure's end (the local anaesthetic works at once) and use the
entries in time order: relief "stayed at or above 50%" until the last entry of the unbroken
run of entries at or above 50% from the first one. Time after the last such entry is not
counted: the diary does not say when between two entries the relief fell. If the first entry
is already below, the duration is 0. Example: 90% at 0.5 h, 85% at 1 h, 60% at 2 h, 30% at 3 h
gives at least 80% for 1 h and at least 50% for 2 h.

The proposed outcome takes the peak relief (the figure the pathway rules compare with their
50% or 80% thresholds), the lowest pain recorded as the pain after, and the whole hours relief
stayed at or above 50% as its duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Iterable

THRESHOLDS = (50, 80)


@dataclass(frozen=True)
class DiaryPoint:
    minutes: int  # after the procedure's end: the prompt's time, or when an unprompted entry was recorded
    pain: int
    late: bool = False
    relief: int | None = None  # percent; None without a usable baseline


@dataclass(frozen=True)
class ProposedOutcome:
    pain_before: int
    pain_after: int
    relief_percent: int
    relief_duration_hours: int
    notes: str


@dataclass(frozen=True)
class DiarySummary:
    baseline: int | None
    points: tuple[DiaryPoint, ...]
    peak_relief: int | None
    hours_at_50: float | None
    hours_at_80: float | None
    proposal: ProposedOutcome | None
    why_no_proposal: str = ""  # for staff, when there is no proposal

    @property
    def late_count(self) -> int:
        return sum(point.late for point in self.points)


def relief_percent(baseline: int | None, pain: int) -> int | None:
    """The relief at a pain score, from the baseline; None when it cannot be measured."""
    if not baseline:
        return None
    return max(0, round(100 * (baseline - pain) / baseline))


def hours_at_or_above(points: Iterable[DiaryPoint], threshold: int) -> float:
    """Hours from the procedure's end to the last entry of the first unbroken run at or above
    `threshold` (see the module's docstring); points in time order, each with its relief."""
    reached = 0
    for point in points:
        if point.relief is None or point.relief < threshold:
            break
        reached = point.minutes
    return round(reached / 60, 2)


def summarise(*, baseline: int | None, entries: Iterable[tuple[int, int, bool]]) -> DiarySummary:
    """The diary's summary from its baseline and its entries as (minutes after the procedure's
    end, pain 0-10, late), in any order; entries at the same minute keep their given order."""
    ordered = sorted(entries, key=lambda entry: entry[0])
    points = tuple(DiaryPoint(minutes=max(0, int(minutes)), pain=pain, late=late,
                              relief=relief_percent(baseline, pain)) for minutes, pain, late in ordered)
    if baseline is None:
        return DiarySummary(baseline, points, None, None, None, None,
                            "The patient's pain before the procedure is not recorded.")
    if baseline == 0:
        return DiarySummary(baseline, points, None, None, None, None,
                            "The patient had no pain before the procedure (0/10): relief cannot be measured.")
    if not points:
        return DiarySummary(baseline, points, None, None, None, None, "The patient has recorded no pain scores yet.")
    peak = max(points, key=lambda point: point.relief)
    at_50, at_80 = (hours_at_or_above(points, threshold) for threshold in THRESHOLDS)
    late = sum(point.late for point in points)
    notes = (f"Pain diary (patient-reported): pain {baseline}/10 before; peak relief {peak.relief}% "
             f"(pain {peak.pain}/10 at {_hours(peak.minutes)} after the procedure); relief at least 50% for "
             f"{_hours_h(at_50)}, at least 80% for {_hours_h(at_80)}; {len(points)} "
             f"{'entry' if len(points) == 1 else 'entries'}{f', {late} late' if late else ''}.")
    proposal = ProposedOutcome(pain_before=baseline, pain_after=peak.pain, relief_percent=peak.relief,
                               relief_duration_hours=math.floor(at_50), notes=notes)
    return DiarySummary(baseline, points, peak.relief, at_50, at_80, proposal)


def _hours(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else _hours_h(minutes / 60)


def _hours_h(hours: float) -> str:
    """Whole hours as "3 h", parts of one in hours and minutes: "0 h 34 min", "2 h 15 min"."""
    whole, minutes = divmod(round(hours * 60), 60)
    return f"{whole} h {minutes} min" if minutes else f"{whole} h"
