"""The location and day a page of the staff's day is about, from `?location=ID&date=YYYY-MM-DD`.

Default: the first active location, today in its zone. A bad value is answered in words with
the default shown instead, never a server error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.models import Location

# Days a page can show: wide enough for any clinic's records, narrow enough that a day's bounds
# are always valid instants (9999-12-31 has no next midnight).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


@dataclass
class DayChoice:
    location: Location | None
    day: dt.date | None
    locations: list[Location]
    errors: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        return f"location={self.location.pk}&date={self.day.isoformat()}" if self.location else ""


def day_choice(params) -> DayChoice:
    """The location and day asked for in `params` (a QueryDict), or the defaults with errors."""
    locations = list(Location.objects.filter(is_active=True).order_by("name"))
    errors = []
    location = locations[0] if locations else None
    wanted = (params.get("location") or "").strip()
    if wanted:
        chosen = next((item for item in locations if str(item.pk) == wanted), None)
        if chosen is None:
            errors.append(_("There is no active location with ID “%(id)s”; showing %(name)s.") % {
                "id": wanted[:20], "name": location.name if location else "-"})
        else:
            location = chosen
    if location is None:
        return DayChoice(None, None, locations, errors + [_("No location is active yet; add one in the admin.")])
    day = timezone.now().astimezone(location.zone).date()
    wanted = (params.get("date") or "").strip()
    if wanted:
        try:
            asked = dt.date.fromisoformat(wanted)
        except ValueError:
            asked = None
        if asked is None or not FIRST_DAY <= asked <= LAST_DAY:
            errors.append(_("“%(date)s” is not a date like 2026-11-24; showing today.") % {"date": wanted[:20]})
        else:
            day = asked
    return DayChoice(location, day, locations, errors)


def wanted_id(params, name: str) -> tuple[int | None, str | None]:
    """An id from the query string (`physician=`, `room=`), or an error in words."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None, None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        return None, _("“%(value)s” is not a %(what)s ID.") % {"value": raw[:20], "what": name}
    return int(raw), None
