"""Remembering the first answer to a request sent with an `Idempotency-Key`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling.errors import IdempotencyKeyReused
from scheduling.models import IDEMPOTENCY_KEY_LIFETIME, IdempotentRequest


@transaction.atomic
def idempotent_request_claim(*, by, key: str, fingerprint: str) -> IdempotentRequest | None:
    """Claim `key` for this request: None when it is new (answer it, then call
    `idempotent_request_answered`), else the first request's answered record.

    Call it inside the transaction that answers the request. A concurrent retry with the same
    key waits on the unique (user, key) index until the first request commits (then it gets
    that answer) or rolls back (then it is the first).
    """
    # Keys are forgotten after their lifetime; one user's old keys go as they send new ones.
    IdempotentRequest.objects.filter(user=by, created_at__lt=timezone.now() - IDEMPOTENCY_KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(user=by, key=key, fingerprint=fingerprint)
        return None
    except IntegrityError:
        first = IdempotentRequest.objects.get(user=by, key=key)
    if first.fingerprint != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request; "
                                   "send a new key for a new request.")
    return first


@transaction.atomic
def idempotent_request_answered(*, by, key: str, status_code: int, body: str) -> None:
    """Keep the first answer to the key: its status and its body as JSON text."""
    IdempotentRequest.objects.filter(user=by, key=key).update(status_code=status_code, response_body=body)
