"""The `Interval-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The time is signed with the body so that a receiver can refuse a replayed request (README,
"Webhooks", has the receiver's side).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Interval-Signature"
ID_HEADER = "Interval-Webhook-Id"
EVENT_HEADER = "Interval-Event"


def signature(secret: str, body: bytes, *, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret, body, timestamp=timestamp)}"
