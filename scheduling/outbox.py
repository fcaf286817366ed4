"""The machinery every transactional outbox shares: reminders and webhook deliveries.

An outbox row is written in the transaction of the change it reports, and a beat job drains
the table. A row is `pending` until a dispatch run claims it: SELECT ... FOR UPDATE SKIP
LOCKED, then a compare-and-set to `sending` under the run's own token in a short transaction,
so two runs never take the same row. A row a killed worker left `sending` goes back to
`pending` once its lease runs out (at least once). A failed attempt puts the row back to
`pending` with its next attempt later by an exponential backoff.

The model needs the fields `status` (with the values below), `next_attempt_at`, `claimed_at`
and `claim_token`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

PENDING = "pending"
SENDING = "sending"
POLL_SECONDS = 1.0


def backoff(attempts: int, *, first: dt.timedelta = dt.timedelta(minutes=1),
            longest: dt.timedelta = dt.timedelta(hours=1)) -> dt.timedelta:
    """`first`, twice that, four times ... after each failure, at most `longest`."""
    return min(first * 2 ** max(attempts - 1, 0), longest)


def claim_due(model: type[Model], *, now: dt.datetime, token: uuid.UUID, lease: dt.timedelta, batch_size: int,
              claimable: Q = Q()) -> list[int]:
    """Take back rows whose lease ran out, then claim up to `batch_size` due rows under `token`,
    the longest due first. `claimable` narrows the due rows further (a webhook waits for the
    earlier events of its visit)."""
    rows = model._default_manager
    with transaction.atomic():
        rows.filter(status=SENDING, claimed_at__lt=now - lease).update(status=PENDING, claim_token=None)
        ids = list(
            rows.select_for_update(skip_locked=True)
            .filter(claimable, status=PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        rows.filter(pk__in=ids, status=PENDING).update(status=SENDING, claimed_at=now, claim_token=token)
    return ids


def release(model: type[Model], ids: list[int], *, token: uuid.UUID) -> int:
    """Give back rows claimed under `token` not sent yet (the worker is stopping)."""
    return model._default_manager.filter(pk__in=ids, status=SENDING, claim_token=token).update(
        status=PENDING, claim_token=None)


@contextlib.contextmanager
def asynchronous_commit():
    """Each mark commits on its own, without waiting for the disk (PostgreSQL).

    A worker killed mid-batch loses nothing: the server has the commits. Only a crash of the
    database server itself could forget the last few marks, and those rows would be sent
    again: at least once, as ever. Waiting for a disk flush per message would cap dispatch near
    700 a second.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def drain(*, claim: Callable[[dt.datetime, uuid.UUID], list[int]],
          send: Callable[[list[int], uuid.UUID], int], now: dt.datetime | None = None,
          budget: dt.timedelta = dt.timedelta(seconds=50), keep_polling: bool = False,
          stop: threading.Event | None = None) -> int:
    """Claim and send batch by batch for at most `budget`; returns what `send` counted.

    With `keep_polling` (a beat task), it goes on looking every second until the budget is
    spent, so a row falling due between two beat runs waits about a second, not a minute.
    """
    deadline = time.monotonic() + budget.total_seconds()
    sent = 0
    with asynchronous_commit():
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            token = uuid.uuid4()
            ids = claim(now or timezone.now(), token)
            if ids:
                sent += send(ids, token)
            elif keep_polling:
                if stop is not None:
                    stop.wait(POLL_SECONDS)
                else:
                    time.sleep(POLL_SECONDS)
            else:
                break
    return sent
