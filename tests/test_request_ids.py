"""Request ids: on every answer, in every JSON log line, and in the tasks a request sends."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import uuid

import pytest
from celery import Celery
from django.http import HttpResponse
from django.test import RequestFactory

from clinic.log import PatientLinksRedacted, json_formatter
from clinic.request_id import RequestIdFilter, RequestIdMiddleware
from tests.worker import celery_worker


@pytest.fixture
def json_lines():
    """What the `json` log format writes for the logger "interval.test", one dict a line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(PatientLinksRedacted())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("interval.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_an_answer_carries_a_new_request_id(client, db):
    first, second = client.get("/health/"), client.get("/health/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_request_id_from_the_proxy_is_kept(client, db):
    assert client.get("/health/", HTTP_X_REQUEST_ID="lb-7f3a9c21.0001").headers["X-Request-ID"] == "lb-7f3a9c21.0001"


@pytest.mark.parametrize("given", ["short", "x" * 200, "has spaces in it", 'quote"injected-0001', "é-not-ascii-0001"])
def test_a_request_id_that_does_not_look_like_one_is_replaced(client, db, given):
    answered = client.get("/health/", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    assert answered != given and len(answered) == 32


def test_json_log_lines_carry_the_request_id_and_no_link_token(json_lines):
    def view(request):
        logging.getLogger("interval.test").warning("Opened /visit/Mg:1vAbCd:secret-signature-xyz/ from a reminder",
                                                   extra={"request": request, "status_code": 200})
        return HttpResponse()

    response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-12345678"))
    logging.getLogger("interval.test").info("outside any request")
    inside, outside = json_lines()
    assert response["X-Request-ID"] == "req-12345678"
    assert inside["request_id"] == "req-12345678"
    assert inside["level"] == "WARNING" and inside["logger"] == "interval.test" and "time" in inside
    assert inside["message"] == "Opened /visit/…/ from a reminder"
    assert "secret-signature" not in json.dumps(inside)
    assert "request" not in inside  # the request object's text is its address, token and all
    assert outside["request_id"] == ""


def test_a_line_django_writes_after_the_answer_carries_the_request_id(json_lines):
    """Django logs a 4xx answer once the middleware stack has returned."""
    request = RequestFactory().get("/nope/", HTTP_X_REQUEST_ID="req-87654321")
    RequestIdMiddleware(lambda request: HttpResponse(status=404))(request)
    logging.getLogger("interval.test").warning("Not Found: /nope/", extra={"request": request, "status_code": 404})
    (line,) = json_lines()
    assert line["request_id"] == "req-87654321"
    assert dt.datetime.fromisoformat(line["time"]).utcoffset() == dt.timedelta(0)  # a time with its offset


def test_json_logs_are_a_setting(settings):
    assert settings.LOGGING["handlers"]["console"]["formatter"] == settings.LOG_FORMAT == "plain"
    assert "request_id" in settings.LOGGING["handlers"]["console"]["filters"]


@pytest.fixture
def _client_uses_its_own_broker(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)


def test_a_task_sent_by_a_request_logs_with_its_request_id_in_a_real_worker(redis_url, tmp_path, db,
                                                                            _client_uses_its_own_broker):
    queue = f"interval-test-{uuid.uuid4().hex[:8]}"
    sender = Celery("interval-test-client", broker=redis_url, backend=redis_url)
    results = []

    def view(request):
        results.append(sender.send_task("clinic.ping", queue=queue))
        return HttpResponse()

    request_id = f"req-{uuid.uuid4().hex}"
    with celery_worker(queue=queue, log_path=tmp_path / "worker.log", LOG_FORMAT="json",
                       CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url):
        RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID=request_id))
        assert results[0].get(timeout=60)["pong"] is True
        # A task sent outside any request carries none, though the worker's thread ran one before.
        assert sender.send_task("clinic.ping", queue=queue).get(timeout=60)["pong"] is True
        time.sleep(0.5)
    log = (tmp_path / "worker.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    pings = [line for line in lines if line["message"].startswith("Ping answered by")]
    assert [ping["request_id"] for ping in pings] == [request_id, ""], log[-3000:]
    assert pings[0]["logger"] == "clinic.tasks"
