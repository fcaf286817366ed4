"""A calendar feed's VCALENDAR.

What an event says, and why:
- Its time is the time the feed's owner is taken: a physician's feed shows the procedure
  itself (procedure start to end, when the physician is at the table; flip rooms then do not
  overlap), a room's and a location's feed the room's time (setup to turnover), which is what
  the room staff plan around. The description gives every instant: arrival, room, procedure,
  discharge.
- Its summary names what staff need and nothing more: the procedure's catalog code, the room,
  the physician (in room and location feeds) and the patient, by initials unless
  CALENDAR_FEED_PATIENT_NAMES=full. Never a diagnosis, a phone number, a date of birth or the
  visit's notes: feeds end up on phones, watches and shared screens.
- Its UID is the visit's own (`appointment-<id>@interval`) and never changes, so a moved visit
  is the same event; its SEQUENCE is the visit's revision, which the services raise each time
  it is moved, cancelled or marked a no-show, so that Google, Apple and Outlook replace their copy.
- A cancelled visit stays in the feed as STATUS:CANCELLED (free time, "Cancelled:" first in
  its summary) rather than disappearing: a client that imported the feed once, rather than
  subscribing, cancels its copy only when told; subscribed clients hide or strike it through.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from icalendar import Calendar, vDuration

from scheduling.feeds import lines
from scheduling.feeds.selectors import FeedWindow
from scheduling.ical import add_time_zones, new_calendar
from scheduling.models import AppointmentStatus, CalendarFeed

# How often a subscribed client should fetch the feed again (RFC 7986 REFRESH-INTERVAL, and
# Outlook's X-PUBLISHED-TTL). Google decides for itself (every few hours).
REFRESH = dt.timedelta(minutes=15)

_OFF = {AppointmentStatus.CANCELLED: gettext_lazy("Cancelled"), AppointmentStatus.NO_SHOW: gettext_lazy("No-show")}


def patient_label(first_name: str, last_name: str, *, names: str) -> str:
    """"J.D." (initials) or "Jane Doe" (full), as CALENDAR_FEED_PATIENT_NAMES says."""
    if names == "full":
        return f"{first_name} {last_name}".strip()
    return "".join(f"{part.strip()[0].upper()}." for part in (first_name, last_name) if part.strip())


def _physician_label(visit: dict) -> str:
    """As Physician.name, from the plain values a feed reads."""
    full_name = f"{visit['physician__user__first_name']} {visit['physician__user__last_name']}".strip()
    return f"Dr. {full_name}" if full_name else visit["physician__user__username"]


def feed_title(feed: CalendarFeed) -> str:
    if feed.physician_id:
        return _("%(physician)s: procedures") % {"physician": feed.physician.name}
    if feed.room_id:
        return _("%(room)s, %(location)s") % {"room": feed.room.name, "location": feed.room.location.name}
    return _("%(location)s: all rooms") % {"location": feed.location.name}


@dataclass(frozen=True)
class _Wording:
    """What every event of one feed shares, translated and reversed once rather than per event."""

    instants: str
    physician: str
    off: dict[str, str]
    visit_url: str  # with {pk} for the visit's id

    @classmethod
    def now(cls) -> _Wording:
        marker = 999_999_999
        url = settings.SITE_URL.rstrip("/") + reverse("admin:scheduling_appointment_change", args=[marker])
        return cls(
            instants=_("Arrival %(arrival)s · room %(room_start)s-%(room_end)s · procedure %(start)s-%(end)s · "
                       "discharge %(discharge)s"),
            physician=_("Physician: %(physician)s"),
            off={status: str(label) for status, label in _OFF.items()},
            visit_url=url.replace(str(marker), "{pk}"),
        )


def _event(visit: dict, *, feed: CalendarFeed, names: str, wording: _Wording) -> bytes:
    zone = zoneinfo.ZoneInfo(visit["location__time_zone"])
    start, end = ((visit["procedure_start"], visit["procedure_end"]) if feed.physician_id
                  else (visit["room_start"], visit["room_end"]))
    parts = [visit["procedure_type__code"], visit["room__name"]]
    if not feed.physician_id:
        parts.append(_physician_label(visit))
    parts.append(patient_label(visit["patient__first_name"], visit["patient__last_name"], names=names))
    summary = " · ".join(part for part in parts if part)
    off = wording.off.get(visit["status"])
    if off:
        summary = f"{off}: {summary}"

    def hhmm(moment: dt.datetime) -> str:
        return f"{moment.astimezone(zone):%H:%M}"

    description = "\n".join([
        wording.instants % {
            "arrival": hhmm(visit["arrival"]), "room_start": hhmm(visit["room_start"]),
            "room_end": hhmm(visit["room_end"]), "start": hhmm(visit["procedure_start"]),
            "end": hhmm(visit["procedure_end"]), "discharge": hhmm(visit["discharge"])},
        wording.physician % {"physician": _physician_label(visit)},
    ])
    changed = lines.utc(visit["updated_at"])
    return b"".join(lines.fold(line) for line in (
        "BEGIN:VEVENT",
        f"UID:appointment-{visit['pk']}@interval",
        f"SEQUENCE:{visit['sequence']}",
        f"DTSTAMP:{changed}",
        f"LAST-MODIFIED:{changed}",
        lines.local("DTSTART", start, zone),
        lines.local("DTEND", end, zone),
        f"SUMMARY:{lines.text(summary)}",
        f"LOCATION:{lines.text(visit['room__name'] + ', ' + visit['location__name'])}",
        f"DESCRIPTION:{lines.text(description)}",
        "URL:" + wording.visit_url.format(pk=visit["pk"]),
        "STATUS:" + ("CANCELLED" if visit["status"] == AppointmentStatus.CANCELLED else "CONFIRMED"),
        # A cancelled visit or a no-show no longer takes the time: free/busy lookups skip it.
        "TRANSP:" + ("TRANSPARENT" if off else "OPAQUE"),
        "END:VEVENT",
    ))


def feed_calendar(feed: CalendarFeed, window: FeedWindow, visits: list[dict], *, names: str) -> bytes:
    calendar: Calendar = new_calendar("Calendar feed")
    title = feed_title(feed)
    calendar.add("name", title)
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-caldesc", _("Interval: visits from %(first)s to %(last)s. Read-only.") % {
        "first": window.first_day.isoformat(), "last": window.last_day.isoformat()})
    calendar.add("x-wr-timezone", str(window.zone))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))  # an X- property is text unless told
    wording = _Wording.now()
    events = [_event(visit, feed=feed, names=names, wording=wording) for visit in visits]
    zones = {str(window.zone)} | {visit["location__time_zone"] for visit in visits}
    add_time_zones(calendar, first=window.first_day, last=window.last_day, zones=zones)
    head, end = calendar.to_ical().rsplit(b"END:VCALENDAR", 1)
    return head + b"".join(events) + b"END:VCALENDAR" + end
