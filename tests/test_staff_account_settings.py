"""The staff-account and API-throttle settings: production defaults, development defaults, and
a bad value stops start-up naming the variable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.test_settings import PRODUCTION, load_settings


def test_production_requires_two_step_sign_in_and_short_sessions(monkeypatch):
    loaded = load_settings(monkeypatch, **PRODUCTION)
    assert loaded["STAFF_2FA_REQUIRED"] is True
    assert loaded["SESSION_IDLE_MINUTES"] == 30 and loaded["SESSION_MAX_HOURS"] == 12
    assert loaded["SESSION_COOKIE_AGE"] == 12 * 3600
    assert loaded["AXES_FAILURE_LIMIT"] == 5 and loaded["AXES_COOLOFF_TIME"] == dt.timedelta(minutes=30)
    assert loaded["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {"user": "300/m", "anon": "30/m"}


def test_development_signs_in_with_the_password_alone_for_a_working_day(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert loaded["STAFF_2FA_REQUIRED"] is False
    assert loaded["SESSION_IDLE_MINUTES"] == 8 * 60


def test_the_environment_sets_each_one(monkeypatch):
    loaded = load_settings(monkeypatch, **PRODUCTION, STAFF_2FA_REQUIRED="0", SESSION_IDLE_MINUTES="15",
                           SESSION_MAX_HOURS="8", LOGIN_FAILURE_LIMIT="10", LOGIN_LOCKOUT_MINUTES="60",
                           API_USER_RATE="1000/h", API_ANON_RATE="5/s")
    assert loaded["STAFF_2FA_REQUIRED"] is False
    assert (loaded["SESSION_IDLE_MINUTES"], loaded["SESSION_MAX_HOURS"]) == (15, 8)
    assert loaded["AXES_FAILURE_LIMIT"] == 10 and loaded["AXES_COOLOFF_TIME"] == dt.timedelta(minutes=60)
    assert loaded["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {"user": "1000/h", "anon": "5/s"}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"STAFF_2FA_REQUIRED": "sometimes"}, "STAFF_2FA_REQUIRED"),
        ({"SESSION_IDLE_MINUTES": "0"}, "SESSION_IDLE_MINUTES"),
        ({"SESSION_IDLE_MINUTES": "half an hour"}, "SESSION_IDLE_MINUTES"),
        ({"SESSION_MAX_HOURS": "13"}, "SESSION_MAX_HOURS"),
        ({"SESSION_MAX_HOURS": "2", "SESSION_IDLE_MINUTES": "180"}, "SESSION_IDLE_MINUTES"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT"),
        ({"LOGIN_LOCKOUT_MINUTES": "0"}, "LOGIN_LOCKOUT_MINUTES"),
        ({"API_USER_RATE": "lots"}, "API_USER_RATE"),
        ({"API_ANON_RATE": "10/5m"}, "API_ANON_RATE"),
        ({"API_USER_RATE": "0/m"}, "API_USER_RATE"),
    ],
)
def test_a_bad_staff_account_value_stops_start_up_naming_the_variable(monkeypatch, env, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        load_settings(monkeypatch, **env)
