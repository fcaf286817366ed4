"""Prometheus metrics, served at `/metrics`.

Requests by view and status come from django-prometheus' middleware; the clinic's own are
below. With several processes (gunicorn workers, Celery workers) each writes its figures to
files under PROMETHEUS_MULTIPROC_DIR, and `/metrics` adds them up, whichever process answers.

`/metrics` is open while DEBUG is on. Otherwise it needs `Authorization: Bearer <METRICS_TOKEN>`,
and answers 404 when METRICS_TOKEN is not set.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

BOOKINGS = Counter("interval_bookings", "Booking attempts by outcome.", ["outcome"])
REMINDER_LAG = Histogram(
    "interval_reminder_lag_seconds", "From a reminder's due time to its being sent.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600, float("inf")))
DISPATCH_FAILURES = Counter("interval_reminder_dispatch_failures", "Failed attempts to send a reminder, by transport.",
                            ["transport"])


def counts_booking_outcome(book):
    """Counts each call of the booking service once: booked, slot_unavailable, not_eligible, or
    refused (any other BookingError). A booking is counted when its transaction commits: one
    made inside a caller's transaction that then rolls back (an API request failing after it,
    a data import undone) was never booked."""
    from django.db import transaction

    from scheduling.errors import BookingError, NotEligible, SlotUnavailable

    @functools.wraps(book)
    def counted(*args, **kwargs):
        try:
            appointment = book(*args, **kwargs)
        except SlotUnavailable:
            BOOKINGS.labels(outcome="slot_unavailable").inc()
            raise
        except NotEligible:
            BOOKINGS.labels(outcome="not_eligible").inc()
            raise
        except BookingError:
            BOOKINGS.labels(outcome="refused").inc()
            raise
        transaction.on_commit(BOOKINGS.labels(outcome="booked").inc)
        return appointment

    return counted


def reminder_sent(*, due_at: dt.datetime, sent_at: dt.datetime | None = None) -> None:
    REMINDER_LAG.observe(max(((sent_at or timezone.now()) - due_at).total_seconds(), 0))


def reminder_failed(*, channel: str) -> None:
    DISPATCH_FAILURES.labels(transport="email" if channel == "email" else f"sms_{settings.SMS_TRANSPORT}").inc()


def _registry() -> CollectorRegistry:
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    return registry


def _allowed(request) -> bool:
    if settings.DEBUG:
        return True
    if not settings.METRICS_TOKEN:
        raise Http404
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


@never_cache
def metrics_view(request):
    if not _allowed(request):
        response = HttpResponse("A bearer token is needed: Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
