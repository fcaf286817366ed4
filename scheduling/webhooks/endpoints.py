"""Managing webhook endpoints: their URLs, and their signing secrets."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import EVENT_CHOICES, WebhookEndpoint
from scheduling.models.webhooks import new_secret
from scheduling.webhooks.addresses import AddressRefused, check_host

MAX_URL_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
KNOWN_EVENTS = frozenset(value for value, _label in EVENT_CHOICES)


def validate_webhook_url(url: str) -> str:
    """An absolute https:// URL with a host; http:// only where WEBHOOK_ALLOW_HTTP is on
    (development): events can carry patient data, which never goes out unencrypted in production."""
    url = (url or "").strip()
    if len(url) > MAX_URL_LENGTH or any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise ValidationError(_("Give a full address starting with https://, without spaces, at most "
                                "%(length)d characters.") % {"length": MAX_URL_LENGTH}, code="invalid_url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 address
        host = None
    if not host or parts.scheme not in ("https", "http"):
        raise ValidationError(_("Give a full address starting with https://, e.g. https://billing.example.com/hooks."),
                              code="invalid_url")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationError(_("Webhooks go to https:// addresses only: events can carry patient data."),
                              code="https_required")
    if parts.username or parts.password:
        raise ValidationError(_("Leave the user name and password out of the address."), code="credentials_in_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(_("The port after the host must be a number from 1 to 65535."),
                              code="invalid_url") from None
    try:
        check_host(host, port)
    except AddressRefused as refused:
        raise ValidationError(str(refused), code="private_address") from None
    return url


def validate_events(events) -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationError(_("Choose at least one event."), code="no_events")
    unknown = sorted(set(map(str, events)) - KNOWN_EVENTS)
    if unknown:
        raise ValidationError(_("Unknown event: %(event)s.") % {"event": unknown[0]}, code="unknown_event")
    return sorted(set(events))


# How long a rotated-out secret still signs (a second v1= in the header).
ROTATION_GRACE = dt.timedelta(hours=24)


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, now: dt.datetime | None = None,
                          keep_previous: bool = True) -> WebhookEndpoint:
    """A new signing secret, used from the next delivery on. With `keep_previous`, deliveries
    are signed with the old one too for ROTATION_GRACE, so the receiver can switch without
    refusing any; without it (the secret leaked), the old one stops verifying at once."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret if keep_previous else ""
    endpoint.previous_secret_until = now + ROTATION_GRACE if keep_previous else None
    endpoint.secret, endpoint.secret_rotated_at = new_secret(), now
    endpoint.save(update_fields=["secret", "secret_rotated_at", "previous_secret", "previous_secret_until"])
    return endpoint
