"""What a calendar feed reads: its window of days, its visits, and the figures its ETag and
Last-Modified are made of (read before anything is built, so that a 304 costs two small queries)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from scheduling.models import Appointment, CalendarFeed

DAYS_BACK = 30
DAYS_AHEAD = 180
# Raised when what a feed's events say changes shape, so that every client fetches it anew.
FORMAT = 1


@dataclass(frozen=True)
class FeedWindow:
    zone: zoneinfo.ZoneInfo
    first_day: dt.date
    last_day: dt.date

    @property
    def starts(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), tzinfo=self.zone)

    @property
    def ends(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)


@dataclass(frozen=True)
class FeedState:
    etag: str
    last_modified: dt.datetime


def feed_zone(feed: CalendarFeed) -> zoneinfo.ZoneInfo:
    """The location's zone; for a physician, that of their own times (Physician.zone)."""
    if feed.location_id:
        return feed.location.zone
    if feed.room_id:
        return feed.room.location.zone
    return feed.physician.zone


def feed_window(feed: CalendarFeed, *, now: dt.datetime | None = None) -> FeedWindow:
    """30 days back to 180 days ahead, whole days in the feed's zone."""
    zone = feed_zone(feed)
    today = (now or timezone.now()).astimezone(zone).date()
    return FeedWindow(zone=zone, first_day=today - dt.timedelta(days=DAYS_BACK),
                      last_day=today + dt.timedelta(days=DAYS_AHEAD))


def _owner(feed: CalendarFeed) -> Q:
    if feed.physician_id:
        return Q(physician_id=feed.physician_id)
    if feed.room_id:
        return Q(room_id=feed.room_id)
    return Q(location_id=feed.location_id)


def feed_visits(feed: CalendarFeed, window: FeedWindow):
    """The feed's visits whose procedure starts in the window, every status (a cancelled one is
    shown as cancelled, not dropped), as plain values: no model object per visit."""
    return (Appointment.objects.filter(_owner(feed), procedure_start__gte=window.starts,
                                       procedure_start__lt=window.ends)
            .order_by("procedure_start", "pk")
            .values("pk", "status", "sequence", "arrival", "procedure_start", "procedure_end", "discharge",
                    "room_start", "room_end", "updated_at", "procedure_type__code", "room__name",
                    "location__name", "location__time_zone", "patient__first_name", "patient__last_name",
                    "physician__user__first_name", "physician__user__last_name", "physician__user__username"))


def feed_state(feed: CalendarFeed, window: FeedWindow, *, patient_names: str) -> FeedState:
    """ETag and Last-Modified, from two aggregates.

    ETag: the feed's visits in the window (how many, the latest change, the sum of their
    revisions: a move or a cancellation raises one), the window's first day
    (a day later, the oldest visit leaves), the address, the owner's name (a renamed room) and
    the name setting. A visit moved out of the feed lowers the count; one moved in raises the
    latest change. A patient's corrected name shows with the visit's next change, or the next day.

    Last-Modified: the latest change to any visit of the clinic, or today's start when later.
    A client that sends only If-Modified-Since sees nothing of which visits are in the feed, so
    a visit moved out of it must count too; today's start brings in the days entering the window.
    """
    mine = (Appointment.objects.filter(_owner(feed), procedure_start__gte=window.starts,
                                       procedure_start__lt=window.ends)
            .aggregate(count=Count("pk"), latest=Max("updated_at"), revisions=Sum("sequence")))
    latest_anywhere = Appointment.objects.aggregate(latest=Max("updated_at"))["latest"]
    changed = [window.starts + dt.timedelta(days=DAYS_BACK), feed.rotated_at or feed.created_at, latest_anywhere]
    fingerprint = "|".join(str(part) for part in (
        FORMAT, feed.pk, feed.token, feed.owner, window.first_day, mine["count"], mine["revisions"],
        mine["latest"].timestamp() if mine["latest"] else "", patient_names))
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    return FeedState(etag=f'"{digest}"', last_modified=max(moment for moment in changed if moment is not None))
