"""Calendar feeds: giving a physician, room or location its secret address, and changing it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinic.models import Location, Physician, Room
from scheduling.feeds.tokens import new_token
from scheduling.models import CalendarFeed
from scheduling.models.feeds import LOOKUP_LENGTH


def _token_fields() -> dict[str, str]:
    token = new_token()
    return {"token": token, "lookup": token[:LOOKUP_LENGTH]}


@transaction.atomic
def calendar_feed_open(*, physician: Physician | None = None, room: Room | None = None,
                       location: Location | None = None) -> CalendarFeed:
    """The feed of exactly one of `physician`, `room` or `location`; made the first time it is
    asked for, the same one afterwards (the demo seed asks on every run)."""
    owners = {name: value for name, value in (("physician", physician), ("room", room), ("location", location))
              if value is not None}
    if len(owners) != 1:
        raise ValueError("A calendar feed belongs to exactly one physician, room or location.")
    feed, _created = CalendarFeed.objects.get_or_create(**owners, defaults=_token_fields())
    return feed


@transaction.atomic
def calendar_feed_rotate(*, feed: CalendarFeed, by) -> CalendarFeed:
    """Give the feed a new address; the old one answers 404 from this moment (a subscription
    made with it stops updating and must be made again with the new one)."""
    current = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    for name, value in _token_fields().items():
        setattr(current, name, value)
    current.rotated_at, current.rotated_by = timezone.now(), by
    current.save(update_fields=["token", "lookup", "rotated_at", "rotated_by"])
    return current
