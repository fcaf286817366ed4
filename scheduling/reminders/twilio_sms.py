"""Texts through Twilio's Messages API, with the official SDK.

Each text asks Twilio to report its delivery to our status callback (scheduling/sms/), whose
address carries the reminder's idempotency key, so a report that comes back before the message's
SID is stored still finds its reminder.

Which failures are worth another try: Twilio answers 400 when this message can never go (an
invalid or landline number, a patient who replied STOP); those are final. 429 (too many
requests), 5xx and a network failure are passing. 401/403/404 mean our account settings are
wrong: retried (with back-off) so that texts are not lost while an operator fixes them.
"""

from __future__ import annotations

import functools
import logging
import re

import requests
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from clinic.phone_numbers import for_sending
from scheduling.reminders.transports import Message, TransportError

logger = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 10
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Status codes whose error is about the account's settings, not this message.
ACCOUNT_PROBLEM = frozenset({401, 403, 404})
# Error codes Twilio gives with a 400 that say this message will never go; any other 400 is
# final too (the request itself is wrong), these are named for the log and the tests.
UNDELIVERABLE = {
    21211: "invalid 'To' number",
    21408: "no permission to text this region",
    21610: "the patient replied STOP to this sender",
    21612: "the number cannot be reached from this sender",
    21614: "not a mobile number",
}


class _RedirectedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending to TWILIO_API_BASE_URL instead of api.twilio.com (tests)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


@functools.lru_cache(maxsize=4)
def twilio_client(account_sid: str, auth_token: str, base_url: str) -> Client:
    """One client (and its connection pool) per account, shared by the worker's sends."""
    http_client = (_RedirectedHttpClient(base_url, timeout=TIMEOUT_SECONDS) if base_url
                   else TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    return Client(account_sid, auth_token, http_client=http_client)


def status_callback_url(idempotency_key: str) -> str:
    return (settings.SITE_URL.rstrip("/") + reverse("sms-twilio-status") + "?"
            + urlencode({"reminder": idempotency_key}))


class TwilioSMSTransport:
    def send(self, message: Message) -> str:
        to = for_sending(message.to)
        if not E164.fullmatch(to):
            raise TransportError(f"Not a phone number that can be texted: {message.to!r}", permanent=True)
        sender = ({"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
                  if settings.TWILIO_MESSAGING_SERVICE_SID else {"from_": settings.TWILIO_FROM})
        client = twilio_client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL)
        try:
            sent = client.messages.create(to=to, body=message.body,
                                          status_callback=status_callback_url(message.idempotency_key), **sender)
        except TwilioRestException as error:
            raise _transport_error(error) from error
        except (requests.RequestException, OSError) as error:
            raise TransportError(f"Twilio unreachable: {error}", permanent=False) from error
        except TwilioException as error:  # an answer the SDK could not read
            raise TransportError(f"Twilio: {error}", permanent=False) from error
        return sent.sid or ""


def _transport_error(error: TwilioRestException) -> TransportError:
    code = f" (error {error.code})" if error.code else ""
    text = f"Twilio answered {error.status}{code}: {UNDELIVERABLE.get(error.code) or error.msg}"
    if error.status == 429 or error.status >= 500:
        return TransportError(text, permanent=False)
    if error.status in ACCOUNT_PROBLEM:
        logger.error("Twilio refused the account's credentials or sender: %s", text)
        return TransportError(text, permanent=False)
    return TransportError(text, permanent=True)
