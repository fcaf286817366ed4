"""Error reports to Sentry (sentry-sdk) when SENTRY_DSN is set, with nothing about a patient in them.

What leaves the clinic is the exception, its stack (code lines, no local variables), the view
and the address with every link token and query string taken out; a log line (a breadcrumb,
or an error logged) goes as its words without the values put into them. Never: request
bodies, cookies, headers that authenticate, local variables, SQL parameters, or anything that
looks like a phone number, an email address, a date or a signed token, wherever in the
report it sits (an exception's message too). A name has no pattern to find: exception
messages must not carry one, which is why Interval's own never do.
"""

from __future__ import annotations

import re
from typing import Any

from sentry_sdk.scrubber import DEFAULT_DENYLIST

from clinic.log import redacted
from clinic.request_id import current as current_request_id

# Keys whose values are dropped wherever they appear, with sentry-sdk's own list (passwords,
# tokens, cookies, sessions, authorization headers). before_send applies it to the whole report:
# sentry-sdk's EventScrubber does not run beside `data_collection`.
DENYLIST = {
    "first_name", "last_name", "full_name", "patient", "phone", "phone_number", "mobile", "email",
    "date_of_birth", "dob", "birth_date", "address", "token", "link", "body", "data", "query_string", "notes",
    *(key.lower() for key in DEFAULT_DENYLIST),
}
# The report's own bookkeeping (times, ids, package versions) is left as it is: the patterns
# below would take a timestamp for a date of birth.
_OWN_FIELDS = {"request_id", "timestamp", "start_timestamp", "event_id", "trace_id", "span_id", "parent_span_id", "modules",
               "sdk", "release", "environment", "platform", "level", "lineno", "colno"}
FILTERED = "[Filtered]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# E.164 (+19185550111) and national forms ((918) 555-0111, 918-555-0111, 918.555.0111).
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{8,}\d")
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
    request_id = current_request_id.get()
    if request_id:  # the same id as the log lines of the request (or task) that failed
        event.setdefault("tags", {})["request_id"] = request_id
    logentry = event.get("logentry")
    if isinstance(logentry, dict):  # an error logged, not raised: its words, not its values
        logentry.pop("params", None)
        if "message" in logentry:
            logentry["formatted"] = logentry["message"]
    return _scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    record = (hint or {}).get("log_record")
    if record is not None and isinstance(record.msg, str):
        # A log line's words without the values put into them (a name has no pattern to find).
        crumb["message"] = record.msg
        crumb.pop("data", None)
    return _scrub(crumb)


def init_sentry(*, dsn: str, environment: str, release: str = "") -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # What the integrations collect at all: no user, cookies, bodies, query strings, local
        # variables or SQL parameters; of the request's headers, only harmless ones.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist",
                                         "terms": ["user-agent", "accept", "content-type", "x-request-id"]}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        traces_sample_rate=0,
    )
