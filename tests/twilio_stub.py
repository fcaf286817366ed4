"""A stand-in for Twilio's REST API on this machine, for the real twilio SDK to talk to.

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does: 201 with the new
message as JSON (`sid`, `status` "queued", ...), or, for a `To` number given an error with
`fail`, Twilio's error document (`code`, `message`, `status`). Every request is kept, with its
form fields, for the test to check.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "stub-auth-token-0123456789abcdef"


class TwilioStub:
    def __init__(self) -> None:
        self.received: list[dict] = []  # {"path", "fields", "account"} per request
        self.failures: dict[str, tuple[int, int | None]] = {}  # To -> (HTTP status, Twilio code)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def fail(self, to: str, status: int, code: int | None = None) -> None:
        self.failures[to] = (status, code)

    def settings(self) -> dict[str, str]:
        return {"SMS_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM": "+19185550100", "TWILIO_API_BASE_URL": self.url}

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                user = base64.b64decode(self.headers.get("Authorization", "Basic ")[6:] or b"").decode()
                with stub._lock:
                    stub.received.append({"path": self.path, "fields": fields, "account": user.split(":")[0]})
                    number = next(stub._numbers)
                failure = stub.failures.get(fields.get("To", ""))
                if not self.path.endswith("/Messages.json"):
                    failure = (404, 20404)
                if failure:
                    status, code = failure
                    document = {"code": code, "message": f"Stub refusal {code}", "status": status,
                                "more_info": f"https://www.twilio.com/docs/errors/{code}"}
                else:
                    status = 201
                    document = {"sid": f"SM{number:032x}", "status": "queued", "to": fields.get("To"),
                                "from": fields.get("From"), "body": fields.get("Body"),
                                "messaging_service_sid": fields.get("MessagingServiceSid"),
                                "account_sid": self.path.split("/")[3], "num_segments": "1", "direction":
                                "outbound-api", "api_version": "2010-04-01",
                                "date_created": "Tue, 24 Nov 2026 14:00:00 +0000", "uri": self.path}
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler


@contextlib.contextmanager
def twilio_stub() -> Iterator[TwilioStub]:
    stub = TwilioStub()
    stub.server = ThreadingHTTPServer(("127.0.0.1", 0), stub._handler())
    thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.server.shutdown()
        stub.server.server_close()
