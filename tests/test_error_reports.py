"""Error reports reach Sentry (the real sentry-sdk, to a stand-in of its envelope endpoint) with
nothing about the patient in them, and the 500 page shows nothing either."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.core import signing
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from clinic import urls as site_urls
from clinic.error_reports import init_sentry, scrubbed_text
from clinic.models import Patient

logger = logging.getLogger("scheduling.pages")


@csrf_exempt
def failing_visit_page(request, token):
    """A view that fails with a patient at hand: in its locals, its log lines and its message."""
    patient = Patient.objects.order_by("pk").first()
    contact = f"{patient.first_name} {patient.last_name} <{patient.email}> {patient.phone}"
    logger.warning("Reminder for %s born %s", contact, patient.date_of_birth)
    raise RuntimeError(f"could not send to {patient.phone} / {patient.email}")


urlpatterns = [path("visit/<str:token>/explode/", failing_visit_page), *site_urls.urlpatterns]
handler500 = site_urls.handler500


class SentryStandIn(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path.endswith("/envelope/"):
            type(self).received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry():
    SentryStandIn.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SentryStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    init_sentry(dsn=f"http://publickey@127.0.0.1:{server.server_port}/42", environment="test")
    yield SentryStandIn.received
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: nothing is sent by the tests after this one
    server.shutdown()


@pytest.mark.urls(__name__)
def test_an_error_report_reaches_sentry_without_the_patient(sentry, demo_clinic):
    patient = Patient.objects.order_by("pk").first()
    token = signing.TimestampSigner(salt="interval.visit-link.manage").sign(str(patient.pk))
    # Through the WSGI handler, as gunicorn calls it (sentry-sdk wraps it to read the request).
    body = urlencode({"first_name": patient.first_name, "phone": str(patient.phone),
                      "notes": f"{patient.last_name} has a driver"}).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": f"/visit/{token}/explode/",
               "QUERY_STRING": urlencode({"email": patient.email, "link_token": token}),
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), "HTTP_COOKIE": "sessionid=session-cookie-value-123",
               "HTTP_AUTHORIZATION": "Token api-token-value-456", "HTTP_USER_AGENT": "test-browser/1.0",
               "HTTP_X_REQUEST_ID": "lb-request-0001"}
    setup_testing_defaults(environ)
    answered = {}
    # As Django's test client does: the test's own connection (and its transaction) stays open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = WSGIHandler()(environ, lambda status, headers: answered.update(status=status))
        page = b"".join(answer).decode()
        answer.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    sentry_sdk.flush(timeout=10)

    # The 500 page: the clinic's words, no traceback, nothing of the patient's.
    assert answered["status"].startswith("500")
    assert "Traceback" not in page and "RuntimeError" not in page and patient.last_name not in page

    envelopes = b"\n".join(sentry).decode()
    events = [json.loads(line) for line in envelopes.splitlines()
              if line.startswith("{") and '"exception"' in line]
    assert len(events) == 1, envelopes[:2000]
    event = events[0]
    # The report is there and useful: the exception, the code path, the page (without its token).
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert any(frame["function"] == "failing_visit_page" for frame in exception["stacktrace"]["frames"])
    assert event["request"]["url"].endswith("/visit/…/explode/")
    assert event["request"]["method"] == "POST"
    assert event["request"]["headers"]["User-Agent"] == "test-browser/1.0"
    assert event["tags"]["request_id"] == "lb-request-0001"  # as in the request's log lines
    # A log line kept as a breadcrumb: its words, not the values put in them.
    assert "Reminder for %s born %s" in [crumb.get("message") for crumb in event["breadcrumbs"]["values"]]
    # Nothing that names or reaches the patient, anywhere in what was sent.
    for secret in (patient.first_name, patient.last_name, str(patient.phone), patient.phone.as_national,
                   patient.email, patient.date_of_birth.isoformat(), token, token.split(":")[-1],
                   "session-cookie-value-123", "api-token-value-456"):
        assert secret and secret not in envelopes, secret
    assert "vars" not in json.dumps(exception["stacktrace"])  # no local variables


def test_phone_numbers_emails_dates_and_link_tokens_are_taken_out_of_any_text():
    text = ("Sent to +19185550111 and (918) 555-0111, jane.doe@example.com, born 1961-04-02, "
            "link /visit/MTI:1vAbCd:abcdefghijklmnopqrstuvwxyz012/ and 12:1vAbCd:abcdefghijklmnopqrstuvwxyz")
    assert scrubbed_text(text) == ("Sent to [Filtered] and [Filtered], [Filtered], born [Filtered], "
                                   "link /visit/…/ and [Filtered]")
