"""The webhook log is kept short: deliveries that arrived more than WEBHOOK_RETENTION_DAYS ago
go with their attempts (and their event, once no delivery of it is left), daily from beat;
given-up and pending ones stay."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings

from clinic.celery import app
from scheduling.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from scheduling.tasks import purge_webhook_history
from scheduling.webhooks.events import webhook_event_write
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints(demo_clinic, clock):
    return [WebhookEndpoint.objects.create(name=name, url=f"https://{name.lower()}.example.com/hooks",
                                           events=["appointment.*"]) for name in ("Billing", "EHR")]


def event(days_ago: int, statuses: list[str], subject: str) -> WebhookEvent:
    """An event written `days_ago`, its deliveries (one per endpoint) in `statuses`, one attempt each."""
    at = NOW - dt.timedelta(days=days_ago)
    written = webhook_event_write("appointment.booked", subject=subject, data={"appointment": {"id": 1}}, now=at)
    for delivery, status in zip(written.deliveries.order_by("pk"), statuses, strict=True):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=1, delivered_at=at if status == DeliveryStatus.DELIVERED else None)
        WebhookAttempt.objects.create(delivery=delivery, at=at, status_code=200, duration_ms=5)
    return written


def test_deliveries_that_arrived_more_than_90_days_ago_go_with_their_attempts_and_events(endpoints):
    old = event(91, [DeliveryStatus.DELIVERED] * 2, "appointment:1")
    recent = event(89, [DeliveryStatus.DELIVERED] * 2, "appointment:2")
    half = event(120, [DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], "appointment:3")
    waiting = event(200, [DeliveryStatus.PENDING, DeliveryStatus.FAILED], "appointment:4")

    assert purge_webhook_history() == {"deliveries": 3, "events": 1}

    assert not WebhookEvent.objects.filter(pk=old.pk).exists()
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {recent.pk, half.pk, waiting.pk}
    # The given-up delivery keeps its event and its attempt; its delivered sibling is gone.
    assert [d.status for d in half.deliveries.all()] == [DeliveryStatus.FAILED]
    assert WebhookAttempt.objects.filter(delivery__event=half).count() == 1
    assert waiting.deliveries.count() == 2 and recent.deliveries.count() == 2
    assert WebhookAttempt.objects.count() == 2 + 1 + 2
    # A second run finds nothing more.
    assert purge_webhook_history() == {"deliveries": 0, "events": 0}


def test_the_days_kept_come_from_the_setting_and_batches_cover_them_all(endpoints, settings):
    from scheduling.webhooks.retention import webhook_history_purge

    settings.WEBHOOK_RETENTION_DAYS = 30
    for number in range(3):
        event(31, [DeliveryStatus.DELIVERED] * 2, f"appointment:{number}")
    kept = event(29, [DeliveryStatus.DELIVERED] * 2, "appointment:9")
    assert webhook_history_purge(batch_size=2) == (6, 3)
    assert list(WebhookEvent.objects.all()) == [kept]


def test_beat_runs_the_purge_daily_from_the_settings_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-webhook-history"]
    assert entry["task"] == "scheduling.purge_webhook_history" in app.tasks
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {15}
    assert django_settings.WEBHOOK_RETENTION_DAYS == 90
