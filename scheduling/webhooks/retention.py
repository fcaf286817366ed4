"""Keeping the webhook log short: a delivery that arrived is kept WEBHOOK_RETENTION_DAYS (90)
after it arrived, with its attempts; an event is kept while any delivery of it is. Deliveries
given up or still to go are kept, whatever their age: staff may still act on them.

Beat runs `scheduling.purge_webhook_history` daily (CELERY_BEAT_SCHEDULE in clinic/settings.py).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from scheduling.models import DeliveryStatus, WebhookDelivery, WebhookEvent

# Rows deleted per transaction: a long history goes without one long lock.
BATCH_SIZE = 1000


def _delete_in_batches(queryset, *, batch_size: int) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            queryset.filter(pk__in=ids).delete()
            deleted += len(ids)


def webhook_history_purge(*, now: dt.datetime | None = None, days: int | None = None,
                          batch_size: int = BATCH_SIZE) -> tuple[int, int]:
    """Delete the deliveries (and their attempts) delivered more than `days` ago, then the events
    older than that with no delivery left; how many deliveries and events went."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.WEBHOOK_RETENTION_DAYS if days is None else days)
    deliveries = _delete_in_batches(WebhookDelivery.objects.filter(
        status=DeliveryStatus.DELIVERED, delivered_at__lt=cutoff), batch_size=batch_size)
    events = _delete_in_batches(WebhookEvent.objects.filter(occurred_at__lt=cutoff).filter(
        ~Exists(WebhookDelivery.objects.filter(event=OuterRef("pk")))), batch_size=batch_size)
    return deliveries, events
