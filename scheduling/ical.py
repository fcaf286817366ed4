"""What every iCalendar file Interval writes shares: the calendar's header and its time zones.

Used by the patient's "add to calendar" file (scheduling/pages/calendar.py) and the staff's
calendar feeds (scheduling/feeds/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Timezone

# A VTIMEZONE lists the zone's offset changes between two dates. icalendar's default span,
# 1970-2038, writes some 140 of them into every file; a year either side of what the file holds
# is plenty for any client and keeps a feed small.
_TIME_ZONE_MARGIN = dt.timedelta(days=366)


def new_calendar(product: str) -> Calendar:
    """An empty VCALENDAR, published (METHOD:PUBLISH: a copy to keep, not an invitation)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Interval//{product}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def add_time_zones(calendar: Calendar, *, first: dt.date, last: dt.date, zones: Iterable[str] = ()) -> None:
    """Add a VTIMEZONE for every zone the events use, and for `zones` even when no event does
    (an empty feed still says which zone it is in), covering `first` to `last` with a margin."""
    first, last = first - _TIME_ZONE_MARGIN, last + _TIME_ZONE_MARGIN
    present = {str(timezone.tz_name) for timezone in calendar.timezones}
    for zone in sorted(set(zones) - present, reverse=True):  # first, as add_missing_timezones puts them
        calendar.subcomponents.insert(0, Timezone.from_tzid(zone, first_date=first, last_date=last))
    calendar.add_missing_timezones(first_date=first, last_date=last)
