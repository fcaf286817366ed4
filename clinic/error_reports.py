"""Error reports to Sentry (sentry-sdk) when SENTRY_DSN is set, with nothing about a patient in them.

What leaves the clinic is the exception, its stack (code lines, no local variables), the view
and the address with every link token and query string taken out. Never: request bodies,
cookies, headers that authenticate, local variables, or anything that looks like a phone
number, an email address or a date of birth, wherever in the report it sits (a log line kept
as a breadcrumb, an exception's message).
"""

from __future__ import annotations

import re
from typing import Any

from clinic.log import redacted

# Keys whose values are dropped wherever they appear (sentry-sdk's own list is added).
DENYLIST = [
    "first_name", "last_name", "full_name", "patient", "phone", "phone_number", "mobile", "email",
    "date_of_birth", "dob", "birth_date", "address", "token", "link", "body", "data", "query_string", "notes",
]
# The report's own bookkeeping (times, ids, package versions) is left as it is: the patterns
# below would take a timestamp for a date of birth.
_OWN_FIELDS = {"timestamp", "start_timestamp", "event_id", "trace_id", "span_id", "parent_span_id", "modules",
               "sdk", "release", "environment", "platform", "level", "lineno", "colno"}
FILTERED = "[Filtered]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# E.164 (+19185550111) and national forms ((918) 555-0111, 918-555-0111, 918.555.0111).
_PHONE = re.compile(r"\+?\d[\d\s().-]{8,}\d")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
# A signed link token anywhere else (Django's signing: value:timestamp:signature).
_SIGNED = re.compile(r"[\w-]{2,}:[\w-]{4,}:[\w-]{20,}")


def scrubbed_text(text: str) -> str:
    text = redacted(text)
    for pattern in (_SIGNED, _EMAIL, _PHONE, _DATE):
        text = pattern.sub(FILTERED, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrubbed_text(value)
    if isinstance(value, dict):
        return {key: item if key in _OWN_FIELDS
                else FILTERED if isinstance(key, str) and key.lower() in DENYLIST else _scrub(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        for part in ("data", "cookies", "query_string", "env"):
            request.pop(part, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    return _scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return _scrub(crumb)


def init_sentry(*, dsn: str, environment: str, release: str = "") -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + DENYLIST, recursive=True),
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        traces_sample_rate=0,
    )
