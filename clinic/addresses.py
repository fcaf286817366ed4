"""The client's address, as every per-address limit counts it (sign-in lockout, API throttles).

Without RATELIMIT_IP_META_KEY it is REMOTE_ADDR. Behind a proxy that header names where the proxy
puts the client's address; of a list (X-Forwarded-For) only the last entry is taken, the one the
proxy itself added: the entries before it are whatever the client chose to send.
"""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str:
    key = getattr(settings, "RATELIMIT_IP_META_KEY", "") or "REMOTE_ADDR"
    value = request.META.get(key) or request.META.get("REMOTE_ADDR") or ""
    return value.split(",")[-1].strip()
