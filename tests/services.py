"""Which real services the suite can reach, and what to do when one is missing.

A test that needs PostgreSQL, Redis or Chromium skips with the reason on a machine without it.
CI sets REQUIRE_SERVICES (a comma-separated list such as "postgres,redis,chromium", or "1" for
all) to turn such a skip into a failure, so a green CI run means the real service was used.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection



def _test_redis_url() -> str:
    """Redis for the worker tests: database 15, or one of its own for each pytest-xdist worker
    (gw0 -> 15, gw1 -> 14, ...), so parallel workers never take each other's tasks."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        return configured
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    return f"redis://127.0.0.1:6379/{15 - index % 15}"


TEST_REDIS_URL = _test_redis_url()
CHROMIUM = "/usr/bin/chromium"  # Debian's package; the browser tests never download one


def required_services() -> set[str]:
    raw = os.environ.get("REQUIRE_SERVICES", "").strip().lower()
    if raw in {"", "0", "no", "false"}:
        return set()
    if raw in {"1", "yes", "true", "all"}:
        return {"postgres", "redis", "chromium"}
    return {name.strip() for name in raw.split(",") if name.strip()}


def unavailable(service: str, reason: str) -> None:
    """Skip, or fail when CI requires the service."""
    if service in required_services():
        pytest.fail(f"{reason} (REQUIRE_SERVICES includes {service})")
    pytest.skip(reason)


def redis_reachable(url: str = TEST_REDIS_URL) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def require_redis() -> str:
    if not redis_reachable():
        unavailable("redis", f"Redis is not reachable at {TEST_REDIS_URL}")
    return TEST_REDIS_URL


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        unavailable("postgres", "needs PostgreSQL: set DATABASE_URL=postgres://... to run it")


def require_chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable("chromium", f"needs Chromium at {CHROMIUM}: apt-get install chromium")
    return CHROMIUM
