"""Logging helpers."""

import logging
import re

# The signed part of a patient's link is a key to their visit: never written to a log.
_LINK_TOKEN = re.compile(r"(/(?:visit|book/order)/)[^/\s\"']+")


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
        redacted = _LINK_TOKEN.sub(r"\1…", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
