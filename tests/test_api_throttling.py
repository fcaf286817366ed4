"""The API answers 429, with Retry-After and the API's JSON error, past its rate per user or
token, and per address for requests without one."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic.addresses import client_address
from clinic.redis_cache import RedisCache as InternalRedisCache
from scheduling.api.throttles import PerUserThrottle
from tests.services import require_redis


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates once, at import: the test lowers them where the throttles look.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/m", "anon": "2/m"})


def test_a_token_past_its_rate_is_told_to_wait(low_rates, front_desk, nurse):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=front_desk).key}")
    assert [client.get("/api/v1/locations/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/locations/")
    assert refused.status_code == 429
    body = refused.json()
    # The rest of the minute the three were counted in.
    assert body["code"] == "throttled" and 0 < body["retry_after"] <= 60
    assert refused["Retry-After"] == str(body["retry_after"])
    wait = body["retry_after"]  # DRF says "1 second", "2 seconds"
    assert body["detail"] == f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=nurse).key}")
    assert other.get("/api/v1/locations/").status_code == 200  # per token, not for everyone


def test_an_address_without_a_token_past_its_rate_is_told_to_wait(low_rates, db):
    client = APIClient()
    assert [client.get("/api/schema/?format=json", REMOTE_ADDR="10.1.0.1").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/schema/?format=json", REMOTE_ADDR="10.1.0.1")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) == refused.json()["retry_after"] > 0
    assert client.get("/api/schema/?format=json", REMOTE_ADDR="10.1.0.2").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(low_rates, settings, db):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    client = APIClient()
    statuses = [client.get("/api/schema/?format=json", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}, 10.1.0.9").status_code
                for number in range(3)]
    assert statuses == [200, 200, 429]


def test_the_client_address_is_the_entry_the_proxy_added(rf, settings):
    assert client_address(rf.get("/", REMOTE_ADDR="10.9.9.9")) == "10.9.9.9"
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    assert client_address(rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_address(rf.get("/", REMOTE_ADDR="10.9.9.9")) == "10.9.9.9"  # no header: the connection


def _accepted_in_parallel(cache, *, threads: int = 8, each: int = 40) -> int:
    """Requests of one user let through when `threads` send `each` at once, at 100 a minute."""
    class Throttle(PerUserThrottle):
        THROTTLE_RATES = {"user": "100/m"}

        def timer(self):
            # Mid-minute, for every request: a run that crossed a minute would start a new count.
            return 1_800_000_030.0

    Throttle.cache = cache
    user = type("User", (), {"is_authenticated": True, "pk": 7})()
    request = type("Request", (), {"user": user, "META": {"REMOTE_ADDR": "10.2.0.1"}})()
    start, accepted, lock = threading.Barrier(threads), [], threading.Lock()

    def send():
        start.wait()
        let_through = sum(Throttle().allow_request(request, None) for _ in range(each))
        with lock:
            accepted.append(let_through)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(accepted)


def test_requests_sent_in_parallel_are_each_counted():
    cache = LocMemCache(f"throttle-test-{uuid.uuid4().hex}", {})
    assert _accepted_in_parallel(cache) == 100


@pytest.mark.parametrize("backend", [RedisCache, InternalRedisCache], ids=["django", "one-round-trip"])
def test_requests_sent_in_parallel_are_each_counted_in_redis(backend):
    """As between several web processes: the count lives in Redis, and INCR loses none (with
    Django's cache, and with Interval's, which counts in one round trip)."""
    # A prefix of its own: the counts expire with their minute, and nothing else is touched.
    cache = backend(require_redis(), {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"})
    assert _accepted_in_parallel(cache) == 100
