"""A request id on every log line a request causes, in the web process and in the tasks it sends.

The id comes from the `X-Request-ID` header when it looks like one (a proxy or load balancer
in front may have set it, so the same id names the request in its logs too), else a new one
is made. It is returned in the response's `X-Request-ID`, travels in the header of every
Celery task published while the request runs, and is set again while that task runs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
# The name of the Celery message header that carries it.
TASK_HEADER = "interval_request_id"
# Anything else (too long, spaces, quotes, a line break) is replaced: it goes into log lines
# and response headers as it is.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")

current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def sane(value: str | None) -> str | None:
    return value if value and _SANE.fullmatch(value) else None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane(request.headers.get(HEADER)) or uuid.uuid4().hex
        request.request_id = request_id
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` ("" outside a request or a task that carries one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # Django logs a 4xx or 5xx answer after the middleware has returned; such a line
            # carries its request.
            record.request_id = current.get() or getattr(getattr(record, "request", None), "request_id", "")
        return True


@before_task_publish.connect
def _send_the_request_id(headers=None, **kwargs) -> None:
    request_id = current.get()
    if request_id and headers is not None:
        headers[TASK_HEADER] = request_id


# A worker's pool reuses its threads: each task run sets the id it carries, or none, and the
# run's end takes it away again.
_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect
def _take_the_request_id(task_id=None, task=None, **kwargs) -> None:
    if task is None or task.request.is_eager:  # run in the caller's own context: already set
        return
    carried = sane(getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(TASK_HEADER))
    _task_tokens[task_id] = current.set(carried or "")


@task_postrun.connect
def _drop_the_request_id(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            current.reset(token)
        except ValueError:  # set in another context (another thread): nothing of ours to undo
            current.set("")
