"""A stand-in for an SMS provider's HTTP API that answers slowly, for the worker's tests
(tests/test_reminder_lease.py): the real `HttpSMSTransport` talks to it.

It counts a message as delivered the moment the request arrives (a real provider may deliver a
text even when the client gives up waiting for the answer), then waits `seconds_per_message`
before answering 200. Like SMTP and most SMS APIs, it does not drop a repeated idempotency key:
every request is a text on the patient's phone, so repeats can be counted.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlowSMSProvider:
    def __init__(self, *, seconds_per_message: float):
        self.seconds_per_message = seconds_per_message
        self.received: list[tuple[str, str]] = []  # (idempotency key, body), in arrival order
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                with provider._lock:
                    provider.received.append((self.headers.get("Idempotency-Key", ""), payload.get("body", "")))
                time.sleep(provider.seconds_per_message)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"status": "queued"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while waiting: the text went all the same

            def log_message(self, *args):  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/messages"

    def environment(self) -> dict[str, str]:
        """What a worker needs to send its texts here."""
        return {"SMS_TRANSPORT": "http", "SMS_HTTP_URL": self.url, "SMS_HTTP_TOKEN": "test", "SMS_FROM": "+19185550100"}

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def keys(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(key for key, _ in self.received)

    def duplicates(self) -> int:
        """Texts received beyond the first of each reminder."""
        return sum(times - 1 for times in self.keys().values())

    def __enter__(self) -> "SlowSMSProvider":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
