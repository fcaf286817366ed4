"""Staff sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after
sign-in, however busy."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

START = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_MAX_HOURS = 12


def opens(client) -> bool:
    response = client.get("/admin/")
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/login/")
        return False
    assert response.status_code == 200
    return True


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(client, front_desk):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(front_desk)
        assert opens(client)
        traveller.shift(dt.timedelta(minutes=29))
        assert opens(client)
        traveller.shift(dt.timedelta(minutes=29))  # 58 minutes after sign-in, 29 idle
        assert opens(client)
        traveller.shift(dt.timedelta(minutes=31))
        assert not opens(client)
        assert "_auth_user_id" not in client.session


def test_a_busy_session_still_ends_at_the_absolute_limit(client, front_desk):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(front_desk)
        assert opens(client)
        for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
            traveller.shift(dt.timedelta(minutes=20))
            assert opens(client)
        traveller.shift(dt.timedelta(minutes=1))
        assert not opens(client)


def test_the_api_session_ends_the_same_way(client, front_desk):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(front_desk)
        assert client.get("/api/v1/locations/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        assert client.get("/api/v1/locations/").status_code in {401, 403}
