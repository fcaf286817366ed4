"""Tasks that belong to the service as a whole."""

import logging
import socket

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="clinic.ping")
def ping() -> dict:
    """Answers with the worker's host name: proves a worker is consuming from the broker."""
    host = socket.gethostname()
    logger.info("Ping answered by %s", host)
    return {"pong": True, "host": host}
