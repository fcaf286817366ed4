"""The `Interval-Signature` header: `t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The time is signed with the body so that a receiver can refuse a replayed request (README,
"Webhooks", has the receiver's side). For a day after the secret is rotated the header carries
a second `v1=`, made with the previous secret, so that a receiver keeps verifying until the new
secret is in place.
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


def signature_header(secrets: list[str], body: bytes, *, timestamp: int) -> str:
    """Signed with each of `secrets`, the current one first."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, body, timestamp=timestamp)}" for secret in secrets)])
