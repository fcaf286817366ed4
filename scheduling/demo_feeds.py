"""The demo clinic's calendar feeds: one for each physician, room and location (idempotent)."""

from __future__ import annotations

from clinic.demo import SeedReport
from clinic.models import Location, Physician, Room
from scheduling.models import CalendarFeed
from scheduling.services.feeds import calendar_feed_open


def seed_demo_calendar_feeds(report: SeedReport) -> None:
    for kind, owners in (("physician", Physician.objects.all()), ("room", Room.objects.all()),
                         ("location", Location.objects.all())):
        for owner in owners:
            existed = CalendarFeed.objects.filter(**{kind: owner}).exists()
            calendar_feed_open(**{kind: owner})
            report.record("calendar feeds", not existed)
