"""`GET /feeds/<token>.ics`: a feed, or 304 when the client's copy is current, or 404."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.gzip import gzip_page
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from scheduling.feeds.calendar import REFRESH, feed_calendar
from scheduling.feeds.selectors import feed_state, feed_visits, feed_window
from scheduling.feeds.tokens import find_feed

# The address is the only key: no referrer carries it on, no search engine keeps it, and a
# shared cache may not hold it. Clients ask again with If-None-Match and mostly get a 304.
_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


_KEPT_SECONDS = int(REFRESH.total_seconds())


def _protect(response: HttpResponse) -> None:
    for name, value in _HEADERS.items():
        response.headers[name] = value


def _not_found() -> HttpResponse:
    # Plain text: the asker is a calendar client, and the same words for an address that never
    # was, one that was rotated and a malformed one.
    response = HttpResponseNotFound("No calendar feed at this address. Ask the clinic for the current one.\n",
                                    content_type="text/plain; charset=utf-8")
    _protect(response)
    return response


@csrf_exempt  # read only: anything but GET or HEAD is 405, not the CSRF page meant for forms
@require_safe
@gzip_page  # a feed is text that compresses twentyfold; calendar clients accept gzip
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = find_feed(token)
    if feed is None:
        return _not_found()
    names = settings.CALENDAR_FEED_PATIENT_NAMES
    window = feed_window(feed)
    state = feed_state(feed, window, patient_names=names)
    last_modified = int(state.last_modified.timestamp())
    response = get_conditional_response(request, etag=state.etag, last_modified=last_modified)
    if response is None:
        # Kept under its ETag: Google and some others poll without If-None-Match, and a busy
        # physician's feed is a megabyte written afresh. The ETag changes whenever a visit in
        # the feed does (selectors.feed_state), and a kept body lasts one refresh interval.
        key = f"calendar-feed:{state.etag}"
        body = cache.get(key)
        if body is None:
            body = feed_calendar(feed, window, list(feed_visits(feed, window)), names=names)
            cache.set(key, body, timeout=_KEPT_SECONDS)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = 'inline; filename="interval.ics"'
    response.headers["ETag"] = state.etag
    response.headers["Last-Modified"] = http_date(last_modified)
    _protect(response)
    return response
