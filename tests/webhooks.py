"""What the webhook tests share: a receiver on this machine that checks each request's signature
with the README's own snippet, and answers as the test tells it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_verifier():
    """`verify_interval_signature` exactly as README.md documents it for receivers."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (snippet,) = [block for block in blocks if "def verify_interval_signature" in block]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 (our own documentation, run as a receiver would)
    return namespace["verify_interval_signature"]


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: bool
    answer: int

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (then 200), or what `answer_for` says of
    the event, and keeps what it received."""

    url: str
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    answer_for: Callable[[dict], int] | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def kinds(self) -> list[str]:
        return [item.headers["Interval-Event"] for item in self.received]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    verify = documented_verifier()
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the standard library's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                verified = verify(receiver.secret, body, self.headers.get("Interval-Signature", ""))
                if receiver.answer_for is not None:
                    answer = receiver.answer_for(json.loads(body))
                else:
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(Received(self.path, dict(self.headers), body, verified, answer))
            self.send_response(answer)
            if 300 <= answer < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/interval"
    return receiver, server
