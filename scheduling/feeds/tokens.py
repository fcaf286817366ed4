"""Feed addresses: long random tokens, found by their first characters and compared whole in
constant time."""

from __future__ import annotations

import hmac
import re
import secrets

from django.conf import settings
from django.urls import reverse

from scheduling.models.feeds import LOOKUP_LENGTH, TOKEN_LENGTH, CalendarFeed

# 36 random bytes, URL-safe base64: 48 characters, 288 bits. Nothing else is a token, so a
# malformed or overlong address is turned away before the database is asked.
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_LENGTH * 3 // 4)


def find_feed(token: str) -> CalendarFeed | None:
    """The feed whose address holds `token`, or None (unknown, rotated, deleted or malformed)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    feed = (CalendarFeed.objects.select_related("physician__user", "room__location", "location")
            .filter(lookup=token[:LOOKUP_LENGTH]).first())
    if feed is None or not hmac.compare_digest(feed.token.encode(), token.encode()):
        return None
    return feed


def feed_url(feed: CalendarFeed) -> str:
    """The https:// address (SITE_URL): what Google Calendar and Outlook on the web take."""
    return settings.SITE_URL.rstrip("/") + reverse("calendar-feed", kwargs={"token": feed.token})


def webcal_url(feed: CalendarFeed) -> str:
    """The webcal:// address: a click on it opens the subscription in Apple Calendar or Outlook."""
    return "webcal://" + feed_url(feed).split("://", 1)[1]
