"""Delivering webhook events: claim due deliveries, post each one signed, log every attempt.

Claiming, leases and backoff are the reminders' (scheduling/outbox.py). One thing is the
webhooks' own: a delivery waits while an earlier delivery about the same subject (the same
visit, plan or patient) to the same endpoint is still pending or being sent, so a receiver
never hears "cancelled" before "booked". A delivery given up lets the later ones go.

Delivery is at least once: a receiver drops a repeat by the `Interval-Webhook-Id` header.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from scheduling import outbox
from scheduling.errors import DeliveryOvertaken
from scheduling.models import (
    UNSETTLED_DELIVERY_STATUSES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
)
from scheduling.webhooks.addresses import GuardedHTTPHandler, GuardedHTTPSHandler, refused_reason
from scheduling.webhooks.events import event_body
from scheduling.webhooks.signing import EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
USER_AGENT = "Interval-Webhooks/1"
ENDPOINT_INACTIVE = "Not sent: the endpoint was made inactive."
# What the log keeps of an error; a receiver's words can be long.
ERROR_LENGTH = 500


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following it would post the patient's data to a
    URL the manager never registered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxy from the environment: the address connected to must be the endpoint's own, checked.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), GuardedHTTPHandler, GuardedHTTPSHandler,
                                      _NoRedirects)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def retry_after(attempts: int) -> dt.timedelta:
    """WEBHOOK_BACKOFF_SECONDS after the first failure, then twice as long each time, at most
    six hours."""
    return outbox.backoff(attempts, first=dt.timedelta(seconds=settings.WEBHOOK_BACKOFF_SECONDS),
                          longest=dt.timedelta(hours=6))


def claim_due(*, now: dt.datetime, token: uuid.UUID, batch_size: int = BATCH_SIZE) -> list[int]:
    earlier_unsettled = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"), subject=OuterRef("subject"), pk__lt=OuterRef("pk"),
        status__in=UNSETTLED_DELIVERY_STATUSES)
    return outbox.claim_due(WebhookDelivery, now=now, token=token, lease=lease(), batch_size=batch_size,
                            claimable=~Exists(earlier_unsettled))


def request_for(delivery: WebhookDelivery, *, at: dt.datetime) -> urllib.request.Request:
    """The signed POST of the delivery's event, as its endpoint may receive it."""
    endpoint, event = delivery.endpoint, delivery.event
    body = json.dumps(event_body(event, patient_data=endpoint.may_receive_patient_data),
                      separators=(",", ":"), ensure_ascii=False).encode()
    return urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(endpoint.signing_secrets(at=at), body, timestamp=int(at.timestamp())),
        ID_HEADER: event.public_id,
        EVENT_HEADER: event.kind,
    })


def post(request: urllib.request.Request) -> tuple[int | None, str, bool]:
    """Post; the HTTP status (None when no answer came), the error ('' for a 2xx), and whether
    the failure is for good (the address is not one webhooks go to: trying again cannot help)."""
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, "", False
    except urllib.error.HTTPError as error:
        return error.code, f"The endpoint answered {error.code} {error.reason}"[:ERROR_LENGTH], False
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as error:
        refused = refused_reason(error)
        if refused:
            return None, f"Not sent: {refused}"[:ERROR_LENGTH], True
        # Refused, timed out, not HTTP at all (a malformed answer): no status to log.
        reason = getattr(error, "reason", error)
        return None, f"No answer from the endpoint: {reason}"[:ERROR_LENGTH], False


def _deliver(delivery: WebhookDelivery, *, token: uuid.UUID, now: dt.datetime | None) -> str:
    at = now or timezone.now()
    ours = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claim_token=token)
    if not delivery.endpoint.is_active:
        ours.update(status=DeliveryStatus.FAILED, last_error=ENDPOINT_INACTIVE, claim_token=None)
        return DeliveryStatus.FAILED
    # Re-check the claim right before the post: a run whose lease ran out must not send a
    # delivery another run has taken back.
    if not ours.update(claimed_at=at):
        logger.info("Webhook delivery %s skipped: no longer held by this run", delivery.pk)
        return outbox.SENDING
    started = time.monotonic()
    status_code, error, for_good = post(request_for(delivery, at=at))
    took = int((time.monotonic() - started) * 1000)
    WebhookAttempt.objects.create(delivery=delivery, at=at, status_code=status_code, error=error, duration_ms=took)
    count = delivery.attempts + 1
    if not error:
        ours.update(status=DeliveryStatus.DELIVERED, attempts=count, delivered_at=at, last_error="", claim_token=None)
        return DeliveryStatus.DELIVERED
    if for_good or count >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.warning("Webhook delivery %s given up after %s attempt(s): %s", delivery.pk, count, error)
        ours.update(status=DeliveryStatus.FAILED, attempts=count, last_error=error, claim_token=None)
        return DeliveryStatus.FAILED
    ours.update(status=DeliveryStatus.PENDING, attempts=count, last_error=error, claim_token=None,
                next_attempt_at=at + retry_after(count))
    return DeliveryStatus.PENDING


def send_claimed(ids: list[int], *, token: uuid.UUID, now: dt.datetime | None = None,
                 stop: threading.Event | None = None) -> list[str]:
    """Post the deliveries claimed under `token`; their new statuses. When `stop` is set (the
    worker is stopping), the ones not reached yet go back to pending at once."""
    deliveries = list(WebhookDelivery.objects.select_related("event", "endpoint").filter(
        pk__in=ids, status=DeliveryStatus.SENDING, claim_token=token).order_by("next_attempt_at", "pk"))
    statuses = []
    for position, delivery in enumerate(deliveries):
        if stop is not None and stop.is_set():
            outbox.release(WebhookDelivery, [d.pk for d in deliveries[position:]], token=token)
            break
        statuses.append(_deliver(delivery, token=token, now=now))
    return statuses


def dispatch_due(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
                 budget: dt.timedelta = dt.timedelta(seconds=50), keep_polling: bool = False,
                 stop: threading.Event | None = None) -> int:
    """Deliver what is due for at most `budget`; how many were delivered."""
    def claim(at: dt.datetime, token: uuid.UUID) -> list[int]:
        return claim_due(now=at, token=token, batch_size=batch_size)

    def send(ids: list[int], token: uuid.UUID) -> int:
        return sum(status == DeliveryStatus.DELIVERED for status in send_claimed(ids, token=token, now=now,
                                                                                stop=stop))

    return outbox.drain(claim=claim, send=send, now=now, budget=budget, keep_polling=keep_polling, stop=stop)


@transaction.atomic
def webhook_delivery_retry(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> bool:
    """Staff's "retry now": a delivery given up, or waiting out its backoff, is due at once (a
    given-up one gets its full count of attempts again). A later event about the same subject
    still waits for it.

    A given-up delivery is not retried once a later event about the same subject reached the
    endpoint (or is being posted): sent now, "booked" would arrive after "cancelled" with nothing
    to say so. DeliveryOvertaken says which later event; the receiver already has the newer state."""
    now = now or timezone.now()
    rows = WebhookDelivery.objects.filter(pk=delivery.pk)
    overtaken = _later_sent(OuterRef("endpoint"), OuterRef("subject"), OuterRef("pk"))
    if rows.filter(status=DeliveryStatus.FAILED).filter(~Exists(overtaken)).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0):
        return True
    if rows.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=now):
        return True
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)
    later = _later_sent(delivery.endpoint_id, delivery.subject, delivery.pk).select_related("event").first()
    if delivery.status == DeliveryStatus.FAILED and later is not None:
        raise DeliveryOvertaken(
            f"Not retried: {delivery.event.kind} about {delivery.subject} is older than {later.event.kind}, "
            f"which {'already reached' if later.status == DeliveryStatus.DELIVERED else 'is being posted to'} "
            f"{delivery.endpoint.name}. Sent now it would arrive out of order; the receiver has the newer state.")
    return False


def _later_sent(endpoint, subject, pk):
    """Deliveries after `pk` about the same subject to the same endpoint, delivered or being posted."""
    return WebhookDelivery.objects.filter(endpoint=endpoint, subject=subject, pk__gt=pk, status__in=[
        DeliveryStatus.DELIVERED, DeliveryStatus.SENDING]).order_by("pk")
