"""Logging helpers."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A refused request (403, 404) is the client's business: log one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
