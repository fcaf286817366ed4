"""The relief chart's geometry: where each entry sits on a small SVG, as plain numbers.

The template draws it (pages/_diary_chart.html), so its words are translated with the page's
and no script or style attribute is needed (the Content-Security-Policy allows neither).
Hours after the procedure's end run left to right (at least the first 6), relief 0-100%
bottom to top, with the 50% and 80% lines the pathway rules use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scheduling.diary.summary import DiarySummary

WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36  # margins for the axes' labels


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    relief: int
    pain: int
    minutes: int
    late: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    points: tuple[ChartPoint, ...]
    line: str  # the polyline's points, "x,y x,y ..."
    hours: tuple[tuple[float, int], ...]  # (x, hour) ticks
    percents: tuple[tuple[float, int], ...]  # (y, percent) ticks: 0, 50, 80, 100


def relief_chart(summary: DiarySummary) -> Chart | None:
    """The chart of a diary's relief, or None when there is none to draw (no usable baseline,
    no entries)."""
    points = [point for point in summary.points if point.relief is not None]
    if not points:
        return None
    last_hour = max(6, math.ceil(max(point.minutes for point in points) / 60))
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    span_x, span_y = right - LEFT, bottom - TOP

    def x_at(minutes: float) -> float:
        return round(LEFT + span_x * minutes / (last_hour * 60), 1)

    def y_at(percent: float) -> float:
        return round(bottom - span_y * percent / 100, 1)

    drawn = tuple(ChartPoint(x_at(point.minutes), y_at(point.relief), point.relief, point.pain, point.minutes,
                             point.late) for point in points)
    step = 1 if last_hour <= 8 else (2 if last_hour <= 12 else 4)
    hours = tuple((x_at(hour * 60), hour) for hour in range(0, last_hour + 1, step))
    percents = tuple((y_at(percent), percent) for percent in (0, 50, 80, 100))
    return Chart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, drawn, " ".join(f"{p.x},{p.y}" for p in drawn),
                 hours, percents)
