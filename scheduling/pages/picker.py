"""The week a patient picks a time from: the engine's slots, grouped by the clinic's local day.

Only times the engine offers are shown; the patient's choice goes back as the slot's epoch
second and physician id, and is checked again when it is held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Location, Patient, Physician, ProcedureType
from scheduling.models import Appointment
from scheduling.pathways.bookable_days import BookableDays, horizon_day
from scheduling.selectors import available_slots
from scheduling.templatetags.visit_time import longday

NEXT_AVAILABLE = 6
ALTERNATIVES = 6


@dataclass(frozen=True)
class Choice:
    start: dt.datetime  # in the location's zone
    physician_id: int
    physician: str

    @property
    def doctor(self) -> str:
        """Short enough for a time button: "Dr. Maya Okafor" is "Dr. Okafor"."""
        if self.physician.startswith("Dr. ") and " " in self.physician[4:]:
            return "Dr. " + self.physician.rsplit(" ", 1)[-1]
        return self.physician

    @property
    def value(self) -> str:
        return f"{int(self.start.timestamp())}-{self.physician_id}"


@dataclass
class Day:
    date: dt.date
    choices: list[Choice] = field(default_factory=list)


@dataclass
class Week:
    monday: dt.date
    days: list[Day]
    previous: dt.date | None
    next: dt.date | None
    next_available: list[Choice]
    zone_label: str
    horizon: dt.date  # the last day booked online

    @property
    def empty(self) -> bool:
        return not any(day.choices for day in self.days)


@dataclass
class Search:
    """What to look for: one visit type at one location, for one patient or anyone."""

    procedure_type: ProcedureType
    location: Location
    physician: Physician | None = None
    patient: Patient | None = None
    moving: Appointment | None = None  # the visit being rescheduled: its own time is free to it
    hold_key: str = ""  # the visitor's own hold does not hide the time they hold
    days: BookableDays | None = None  # the days the patient may book (`bookable_days`), when a patient is known

    def window(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """The first and last day any time can be offered on."""
        today = now.astimezone(self.location.zone).date()
        if self.days is not None:
            return max(today, self.days.first or today), min(horizon_day(self.location, now), self.days.last or today)
        return today, horizon_day(self.location, now)

    def allows(self, start: dt.datetime) -> bool:
        """Whether a time sent back by the page lies on a day this search offers."""
        return self.days is None or self.days.allows(start.astimezone(self.location.zone).date())

    def slots(self, first_day: dt.date, last_day: dt.date, now: dt.datetime, limit: int | None = None) -> list[Choice]:
        if self.days is not None:
            # Only the days the rules allow: an interval against a later visit can leave a gap.
            allowed = [day for day in self.days.days if first_day <= day <= last_day]
            if not allowed:
                return []
            first_day, last_day = allowed[0], allowed[-1]
        if first_day > last_day:
            return []
        slots = available_slots(
            procedure_type=self.procedure_type, location=self.location, first_day=first_day, last_day=last_day,
            now=now, physician=self.physician, patient=self.patient, exclude_appointment=self.moving,
            exclude_hold=self.hold_key, limit=None if self.days is not None else limit,
        )
        if self.days is not None:
            slots = [slot for slot in slots if self.allows(slot.start)][:limit]
        names = {physician.pk: physician.name for physician in
                 Physician.objects.filter(pk__in={slot.physician_id for slot in slots}).select_related("user")}
        zone, seen, choices = self.location.zone, set(), []
        # The visit's own time, which counts as free while it is moved, is no new time.
        own = (self.moving.procedure_start, self.moving.physician_id) if self.moving is not None else None
        for slot in slots:
            if slot.start in seen or (slot.start, slot.physician_id) == own:  # "first available": one button per time
                continue
            seen.add(slot.start)
            choices.append(Choice(slot.start.astimezone(zone), slot.physician_id, names.get(slot.physician_id, "")))
        return choices


def physicians_for(procedure_type: ProcedureType, location: Location):
    """The doctors a patient can choose for this visit at this location."""
    return Physician.objects.filter(
        is_active=True, procedure_types=procedure_type, schedule_blocks__location=location,
        schedule_blocks__kind=procedure_type.schedule_kind,
    ).distinct().select_related("user").order_by("user__last_name", "user__first_name")


def next_free(search: Search, after: dt.date, last: dt.date, now: dt.datetime) -> list[Choice]:
    """The first free times from `after`: four weeks in one load, then the rest of the horizon
    (one load each, rather than a week at a time, which costs a load per week)."""
    soon = min(last, after + dt.timedelta(days=27))
    found = search.slots(after, soon, now)
    if not found and soon < last:
        found = search.slots(soon + dt.timedelta(days=1), last, now)
    return found[:NEXT_AVAILABLE]


ZONE_NAMES = {
    "America/New_York": gettext_lazy("Eastern Time"),
    "America/Detroit": gettext_lazy("Eastern Time"),
    "America/Chicago": gettext_lazy("Central Time"),
    "America/Denver": gettext_lazy("Mountain Time"),
    "America/Phoenix": gettext_lazy("Mountain Time"),
    "America/Los_Angeles": gettext_lazy("Pacific Time"),
    "America/Anchorage": gettext_lazy("Alaska Time"),
    "Pacific/Honolulu": gettext_lazy("Hawaii Time"),
}


def zone_label(location: Location, instant: dt.datetime) -> str:
    """How the page names the clinic's time: "Central Time (CST)"; else "Chicago time (CST)"."""
    abbreviation = instant.astimezone(location.zone).tzname()
    name = ZONE_NAMES.get(location.time_zone)
    if name is None:
        city = location.time_zone.rsplit("/", 1)[-1].replace("_", " ")
        return _("%(city)s time (%(abbreviation)s)") % {"city": city, "abbreviation": abbreviation}
    return f"{name} ({abbreviation})"


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _asked_week(value: str | None, search: Search, now: dt.datetime) -> tuple[dt.date, str]:
    """The Monday of the week a link asked for, kept inside the bookable window, and why it is
    another week than the one asked for (a week that is no date, one gone by, one past the last
    day to book online), or ""."""
    first, last = search.window(now)
    if not value:
        return monday_of(first), ""
    try:
        wanted = dt.date.fromisoformat(value)
    except ValueError:
        return monday_of(first), _("The link asked for a week that is not a date. Here is the first week you can "
                                   "book.")
    if wanted < monday_of(first):
        return monday_of(first), _("That week has gone by. Here is the first week you can book.")
    if wanted > last:
        return monday_of(last), _("Times can be booked online up to %(last)s. Here is the last week you can "
                                  "book.") % {"last": longday(last)}
    return monday_of(max(wanted, first)), ""


def parse_week(value: str | None, search: Search, now: dt.datetime) -> dt.date:
    """The Monday of the week asked for, kept inside the bookable window."""
    return _asked_week(value, search, now)[0]


def week_notice(value: str | None, search: Search, now: dt.datetime) -> str:
    """Why the week `parse_week` shows is not the one asked for, or ""."""
    return _asked_week(value, search, now)[1]


def week_of(search: Search, monday: dt.date, now: dt.datetime) -> Week:
    first, last = search.window(now)
    sunday = monday + dt.timedelta(days=6)
    choices = search.slots(max(monday, first), min(sunday, last), now)
    days = {monday + dt.timedelta(days=offset): Day(monday + dt.timedelta(days=offset)) for offset in range(7)}
    for choice in choices:
        days[choice.start.date()].choices.append(choice)
    next_available: list[Choice] = []
    if not choices:
        next_available = next_free(search, max(sunday + dt.timedelta(days=1), first), last, now)
    noon = dt.datetime.combine(monday, dt.time(12), tzinfo=search.location.zone)
    return Week(
        monday=monday,
        days=[days[day] for day in sorted(days) if day >= first or days[day].choices],
        previous=monday - dt.timedelta(days=7) if monday > first else None,
        next=sunday + dt.timedelta(days=1) if sunday < last else None,
        next_available=next_available,
        zone_label=zone_label(search.location, noon),
        horizon=last,
    )


# Choices outside these years are not times anyone was offered.
_EARLIEST_CHOICE = int(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc).timestamp())
_LATEST_CHOICE = int(dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc).timestamp())


def parse_choice(value: str) -> tuple[dt.datetime, int] | None:
    try:
        epoch, physician_id = (int(part) for part in value.split("-"))
    except ValueError:
        return None
    if not _EARLIEST_CHOICE <= epoch < _LATEST_CHOICE or physician_id <= 0:
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc), physician_id


def alternatives(search: Search, wanted: dt.datetime, now: dt.datetime) -> list[Choice]:
    """The free times nearest to one that was just taken, in time order."""
    first, last = search.window(now)
    day = min(max(wanted.astimezone(search.location.zone).date(), first), last)
    nearby = search.slots(max(first, day - dt.timedelta(days=3)), min(last, day + dt.timedelta(days=10)), now)
    if not nearby:
        nearby = search.slots(first, last, now, limit=ALTERNATIVES * 4)
    nearest = sorted(nearby, key=lambda choice: abs((choice.start - wanted).total_seconds()))[:ALTERNATIVES]
    return sorted(nearest, key=lambda choice: choice.start)
