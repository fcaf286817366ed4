"""Tasks that belong to the service as a whole."""

import socket

from celery import shared_task


@shared_task(name="clinic.ping")
def ping() -> dict:
    """Answers with the worker's host name: proves a worker is consuming from the broker."""
    return {"pong": True, "host": socket.gethostname()}
