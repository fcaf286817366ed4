"""Where things sit on the day board: instants as percentages of the board's span of the day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Span:
    """A stretch of the day: `left` and `width` in percent of the board's span."""

    left: float
    width: float

    @property
    def right(self) -> float:
        return round(self.left + self.width, 3)


class Scale:
    """Instants to percentages of [opens, closes)."""

    def __init__(self, opens: dt.datetime, closes: dt.datetime):
        self.opens, self.seconds = opens, (closes - opens).total_seconds()

    def at(self, instant: dt.datetime) -> float:
        return min(max((instant - self.opens).total_seconds() / self.seconds * 100, 0.0), 100.0)

    def span(self, start: dt.datetime, end: dt.datetime) -> Span:
        left = self.at(start)
        return Span(round(left, 3), round(max(self.at(end) - left, 0.0), 3))


def local_minutes(day: dt.date, minutes: int, zone) -> dt.datetime:
    """`minutes` after local midnight of `day` on the wall clock (24:00 is the next midnight)."""
    days, minutes = divmod(minutes, 24 * 60)
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(minutes // 60, minutes % 60)).replace(tzinfo=zone)
