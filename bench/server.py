"""The measured server: gunicorn on 127.0.0.1, started and always stopped by the benchmark."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Timing

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT_DIR = Path(__file__).resolve().parent / "output"  # logs; ignored by git


@dataclass(frozen=True)
class ServerConfig:
    worker_class: str
    workers: int
    threads: int

    @classmethod
    def from_environment(cls) -> ServerConfig:
        # Two sync workers. Tried on this 2-core machine: 2 and 3 sync workers did best, within noise
        # of each other (2 with the lower p99); 1 and 5 did worse, and 2 gthread workers x 4 threads
        # worst: bookings queue for one lock, so more concurrency only adds waiting.
        return cls(
            worker_class=os.environ.get("BENCH_WORKER_CLASS", "sync"),
            workers=int(os.environ.get("BENCH_WORKERS", "2")),
            threads=int(os.environ.get("BENCH_THREADS", "1")),
        )

    def describe(self) -> str:
        if self.worker_class == "gthread":
            return f"gunicorn, {self.workers} gthread workers x {self.threads} threads"
        return f"gunicorn, {self.workers} {self.worker_class} workers"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`with Gunicorn(...) as server:` starts it, waits until it answers, and stops it on the way out."""

    def __init__(self, *, config: ServerConfig, environment: dict[str, str], token: str):
        self.config = config
        self.environment = environment
        self.token = token
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        OUTPUT_DIR.mkdir(exist_ok=True)
        self.log_path = OUTPUT_DIR / "gunicorn.log"

    def __enter__(self) -> Gunicorn:
        command = [
            sys.executable, "-m", "gunicorn", "clinic.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.config.workers),
            "--worker-class", self.config.worker_class,
            "--threads", str(self.config.threads),
            "--log-level", "warning",
            "--error-logfile", str(self.log_path),
        ]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env={**os.environ, **self.environment},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _ = self.get("/api/v1/locations/")
                if status == 200:
                    return
                raise RuntimeError(f"gunicorn answered {status} to GET /api/v1/locations/:\n{self.log_tail()}")
            except (ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path: str, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request("GET", path, headers={"Authorization": f"Token {self.token}"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            if own:
                connection.close()

    def time_get(self, path: str, *, runs: int, warmup: int = 5) -> tuple[Timing, int]:
        """Sequential GETs on one connection (kept alive where the worker class allows); timing and slot count."""
        connection = self.connection()
        samples, count = [], 0
        try:
            for index in range(warmup + runs):
                started = time.perf_counter()
                status, body = self.get(path, connection)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
                if index >= warmup:
                    samples.append(elapsed)
                count = json.loads(body)["count"]
        finally:
            connection.close()
        return Timing(samples), count
