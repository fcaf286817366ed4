"""One small class per channel. `send` returns the provider's id for the message when it gives
one, and raises TransportError(permanent=...) on failure.

SMS goes through the transport named by SMS_TRANSPORT: "console" (the log; development),
"file" (JSON lines under var/; tests and demos), "memory" (kept in a list; tests), "null" (discarded; benchmarks),
"http" (a provider's generic JSON API: SMS_HTTP_URL, SMS_HTTP_TOKEN, SMS_FROM) or "twilio"
(Twilio's Messages API, scheduling/reminders/twilio_sms.py). Texts go to numbers in E.164.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from clinic.phone_numbers import for_sending

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    to: str
    body: str
    idempotency_key: str
    subject: str = ""
    html: str = ""  # email only: the same words, laid out, with buttons for the links


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class EmailTransport:
    def send(self, message: Message) -> None:
        email = EmailMultiAlternatives(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to],
                                       headers={"X-Idempotency-Key": message.idempotency_key})
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            email.send(fail_silently=False)
        except (OSError, ConnectionError) as error:  # SMTP down or refused: try again later
            raise TransportError(f"Mail server: {error}", permanent=False) from error


class ConsoleSMSTransport:
    def send(self, message: Message) -> None:
        logger.info("SMS to %s [%s]: %s", message.to, message.idempotency_key, message.body)


class FileSMSTransport:
    def send(self, message: Message) -> None:
        path = settings.VAR_DIR / "sms.jsonl"
        with open(path, "a", encoding="utf-8") as sink:
            sink.write(json.dumps(asdict(message)) + "\n")


class MemorySMSTransport:
    outbox: list[Message] = []

    def send(self, message: Message) -> None:
        self.outbox.append(message)


class NullSMSTransport:
    """Discards every message: for measuring the dispatcher alone."""

    def send(self, message: Message) -> None:
        return None


class HttpSMSTransport:
    def send(self, message: Message) -> None:
        payload = json.dumps({"to": for_sending(message.to), "from": settings.SMS_FROM,
                              "body": message.body}).encode()
        request = urllib.request.Request(settings.SMS_HTTP_URL, data=payload, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
            "Idempotency-Key": message.idempotency_key})
        try:
            with urllib.request.urlopen(request, timeout=10):
                return
        except urllib.error.HTTPError as error:
            # 4xx but 408/429: the provider refuses this message (a bad number); 5xx: try again.
            permanent = 400 <= error.code < 500 and error.code not in (408, 429)
            raise TransportError(f"SMS provider answered {error.code}", permanent=permanent) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TransportError(f"SMS provider unreachable: {error}", permanent=False) from error


SMS_TRANSPORTS = {"console": ConsoleSMSTransport, "file": FileSMSTransport, "memory": MemorySMSTransport,
                  "null": NullSMSTransport, "http": HttpSMSTransport}


def transport_for(channel: str):
    if channel == "email":
        return EmailTransport()
    if settings.SMS_TRANSPORT == "twilio":
        from scheduling.reminders.twilio_sms import TwilioSMSTransport  # the SDK loads only when used

        return TwilioSMSTransport()
    return SMS_TRANSPORTS[settings.SMS_TRANSPORT]()
