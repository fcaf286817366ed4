"""The HTTP SMS transport against a real HTTP server on this machine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scheduling.reminders.transports import HttpSMSTransport, Message, TransportError


class Provider(BaseHTTPRequestHandler):
    answer = 200
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (the standard library's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Provider.received.append({"body": body, "key": self.headers["Idempotency-Key"],
                                  "auth": self.headers["Authorization"]})
        self.send_response(Provider.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/messages"
    settings.SMS_HTTP_TOKEN = "secret-token"
    settings.SMS_FROM = "+19185550140"
    Provider.received.clear()
    yield Provider
    server.shutdown()
    server.server_close()


MESSAGE = Message(to="(918) 555-0101", body="Your visit is booked.", idempotency_key="7:booking:abc")


def test_a_message_is_posted_with_its_idempotency_key(provider):
    HttpSMSTransport().send(MESSAGE)
    (request,) = provider.received
    assert request["body"] == {"to": "+19185550101", "from": "+19185550140", "body": "Your visit is booked."}
    assert request["key"] == "7:booking:abc" and request["auth"] == "Bearer secret-token"


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False), (408, False),
                                                   (400, True), (422, True)])
def test_the_providers_answer_decides_whether_to_retry(provider, status, permanent):
    provider.answer = status
    try:
        with pytest.raises(TransportError) as caught:
            HttpSMSTransport().send(MESSAGE)
    finally:
        provider.answer = 200
    assert caught.value.permanent is permanent


def test_an_unreachable_provider_is_retried_later(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/messages"  # nothing listens there
    settings.SMS_FROM = "+19185550140"
    with pytest.raises(TransportError) as caught:
        HttpSMSTransport().send(MESSAGE)
    assert caught.value.permanent is False
