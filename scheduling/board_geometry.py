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
        # In UTC, as the day's rows come: two instants of the same zone subtract without asking
        # the zone for either's offset (some 13,000 times a busy board).
        self.opens, self.seconds = opens.astimezone(dt.timezone.utc), (closes - opens).total_seconds()

    def at(self, instant: dt.datetime) -> float:
        return min(max((instant - self.opens).total_seconds() / self.seconds * 100, 0.0), 100.0)

    def span(self, start: dt.datetime, end: dt.datetime) -> Span:
        left = self.at(start)
        return Span(round(left, 3), round(max(self.at(end) - left, 0.0), 3))


def local_minutes(day: dt.date, minutes: int, zone) -> dt.datetime:
    """`minutes` after local midnight of `day` on the wall clock (24:00 is the next midnight)."""
    days, minutes = divmod(minutes, 24 * 60)
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(minutes // 60, minutes % 60)).replace(tzinfo=zone)


def hm(moment: dt.datetime | dt.time) -> str:
    """"09:05": the wall-clock time as the board writes it, without `strftime` (several times
    slower, and a busy board writes some 600 of them)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"
