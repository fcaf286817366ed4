"""The API answers 429, with Retry-After and the API's JSON error, past its rate per user or
token, and per address for requests without one."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic.addresses import client_address


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
    assert refused["Retry-After"] == "60"
    body = refused.json()
    assert body["code"] == "throttled" and body["retry_after"] == 60
    assert body["detail"] == "Request was throttled. Expected available in 60 seconds."
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
