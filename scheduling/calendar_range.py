"""The days Interval books and searches: one range for every interface (REST API, FHIR).

Dates from outside beyond it are refused with `OUT_OF_RANGE`, in the field's own error, before
any arithmetic: a day after 9999-12-30 or before 0001-01-02 has no next or previous day in
Python, so a search window around it was an OverflowError (a 500). No clinic books visits
outside this century; birth dates are not calendar days and are not held to it.
"""

from __future__ import annotations

import datetime as dt
import re

EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
OUT_OF_RANGE = f"Give a date between {EARLIEST_DAY} and {LATEST_DAY}."


def in_range(day: dt.date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


NO_SUCH_DAY = "{value} is written as a date, but there is no such day."
_WRITTEN_AS_A_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[Tt ])")


def no_such_day(value) -> str | None:
    """The date part of `value` when it is written as a day (2026-02-30, or an instant on it) that
    no calendar has, for a message saying so rather than that its format is wrong; else None."""
    if not isinstance(value, str) or not _WRITTEN_AS_A_DAY.match(value):
        return None
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return value[:10]
    return None
