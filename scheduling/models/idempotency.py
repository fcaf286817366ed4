"""The first answer to a POST sent with an `Idempotency-Key`, so a client's retry (after a
timeout or a dropped connection) gets that answer again instead of a second booking."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# How long a key is remembered: long enough for any client's retries, short enough that the
# table stays small (a key older than this is treated as new).
IDEMPOTENCY_KEY_LIFETIME = dt.timedelta(hours=24)

# What a client's key may be, for the REST API and FHIR alike: 1 to 255 visible ASCII characters
# (what a header value carries safely; a UUID fits).
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = "^[!-~]+$"
IDEMPOTENCY_KEY_RULE = f"1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters"


class IdempotentRequest(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    key = models.CharField(_("idempotency key"), max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64,
                                   help_text=_("SHA-256 of the method, path and body of the first request."))
    # Empty only inside the transaction that answers the first request: never seen by others.
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    # JSON text, not a JSON column: PostgreSQL's jsonb would give the keys back in an order of its own.
    response_body = models.TextField(_("response body"), null=True,
                                     help_text=_("The first answer's body, as JSON, its keys in their order."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent request")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]
        indexes = [models.Index(fields=["user", "created_at"], name="idempotency_user_created")]

    def __str__(self) -> str:
        return self.key
