"""Logging helpers."""

import datetime as dt
import logging
import re

from pythonjsonlogger import json as _json

# The signed part of a patient's link is a key to their visit (a calendar feed's, to a
# physician's day): never written to a log.
_LINK_TOKEN = re.compile(r"(/(?:visit|book/order|feeds)/)[^/\s\"']+")


class ClientErrorsWithoutTraceback(logging.Filter):
    """A refused request (403, 404) is the client's business: log one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class PatientLinksRedacted(logging.Filter):
    """Log lines name the page a link opened, not the link's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        without_tokens = redacted(message)
        if without_tokens != message:
            record.msg, record.args = without_tokens, None
        return True


def redacted(text: str) -> str:
    """`text` with every patient link's token replaced (error reports use it too)."""
    return _LINK_TOKEN.sub(r"\1…", text)


class JsonFormatter(_json.JsonFormatter):
    """One JSON object a line (LOG_FORMAT=json): time, level, logger, message, request id.

    Django's request loggers attach the request object itself; its text is the address with
    any link token in it, so it is left out (the message already names the page, redacted)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # ISO 8601 in UTC with its offset: a log collector must not guess the server's zone.
        return dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record.pop("request", None)
        log_record.pop("server_time", None)
        for key, value in log_record.items():
            if isinstance(value, str):
                log_record[key] = redacted(value)


def json_formatter() -> JsonFormatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})


def worker_handlers_configured(logger: logging.Logger, *, log_format: str) -> None:
    """A Celery worker sets up its own log handlers: give them the web's filters (link tokens
    out, the request id in) and, with LOG_FORMAT=json, the web's JSON lines."""
    from clinic.request_id import RequestIdFilter

    for handler in logger.handlers:
        handler.addFilter(PatientLinksRedacted())
        handler.addFilter(RequestIdFilter())
        if log_format == "json":
            handler.setFormatter(json_formatter())
