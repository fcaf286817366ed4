"""Two-step sign-in for staff: with STAFF_2FA_REQUIRED on, the admin and the session-signed API
need a code from an authenticator app (or a recovery code) after the password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

SETUP = "/admin/two-factor/setup/"
VERIFY = "/admin/two-factor/"
START = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _required(settings):
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def code_now(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def set_up(client, user, traveller) -> list[str]:
    """Sign in with the password and set up the app: the recovery codes shown."""
    client.force_login(user)
    client.get(SETUP)
    page = client.post(SETUP, {"code": code_now(TOTPDevice.objects.get(user=user)), "next": "/admin/"})
    assert page.status_code == 200
    traveller.shift(dt.timedelta(seconds=30))  # the next code
    return re.findall(r"<li>([a-z2-7]{8})</li>", page.text)


def test_staff_without_an_app_are_sent_to_set_one_up(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/admin/board/")
    assert response.status_code == 302 and response["Location"] == f"{SETUP}?next=%2Fadmin%2Fboard%2F"


def test_the_setup_page_shows_the_qr_code_the_key_and_the_link(client, front_desk):
    client.force_login(front_desk)
    page = client.get(SETUP).text
    device = TOTPDevice.objects.get(user=front_desk, confirmed=False)
    assert '<svg' in page and 'class="segno"' in page
    assert "otpauth://totp/Interval%3Afrontdesk-test?secret=" in page
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert secret[:4] + " " + secret[4:8] in page


def test_a_wrong_code_does_not_turn_it_on(client, front_desk, traveller):
    client.force_login(front_desk)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=front_desk)
    wrong = f"{(int(code_now(device)) + 1) % 1_000_000:06d}"
    page = client.post(SETUP, {"code": wrong})
    assert "That code is not right" in page.text
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(client, front_desk, traveller):
    codes = set_up(client, front_desk, traveller)
    assert len(set(codes)) == 10
    assert set(StaticToken.objects.filter(device__user=front_desk).values_list("token", flat=True)) == set(codes)
    assert client.get("/admin/").status_code == 200
    again = client.get(SETUP)
    assert again.status_code == 302 and again["Location"].startswith(VERIFY)


def test_a_new_session_asks_for_the_code_and_goes_on_to_the_page_asked_for(front_desk, traveller):
    set_up(Client(), front_desk, traveller)
    client = Client()
    client.force_login(front_desk)
    asked = client.get("/admin/scheduling/appointment/")
    assert asked.status_code == 302 and asked["Location"] == f"{VERIFY}?next=%2Fadmin%2Fscheduling%2Fappointment%2F"
    device = TOTPDevice.objects.get(user=front_desk)
    wrong = client.post(VERIFY, {"code": f"{(int(code_now(device)) + 1) % 1_000_000:06d}",
                                 "next": "/admin/scheduling/appointment/"})
    assert "That code is not right" in wrong.text
    traveller.shift(dt.timedelta(seconds=5))  # past the throttle after one wrong code
    right = client.post(VERIFY, {"code": code_now(TOTPDevice.objects.get(user=front_desk)),
                                 "next": "/admin/scheduling/appointment/"})
    assert right.status_code == 302 and right["Location"] == "/admin/scheduling/appointment/"
    assert client.get("/admin/scheduling/appointment/").status_code == 200


def test_a_recovery_code_works_once(front_desk, traveller):
    codes = set_up(Client(), front_desk, traveller)
    first = Client()
    first.force_login(front_desk)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert first.get("/admin/").status_code == 200
    second = Client()
    second.force_login(front_desk)
    assert "That code is not right" in second.post(VERIFY, {"code": codes[0]}).text
    assert second.get("/admin/").status_code == 302


def test_the_code_page_never_sends_anyone_to_another_site(front_desk, traveller):
    set_up(Client(), front_desk, traveller)
    client = Client()
    client.force_login(front_desk)
    response = client.post(VERIFY, {"code": code_now(TOTPDevice.objects.get(user=front_desk)),
                                    "next": "https://phish.example/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_api_refuses_a_session_without_the_second_step_but_takes_tokens(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/api/v1/locations/")
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    token = Token.objects.create(user=front_desk)
    assert Client().get("/api/v1/locations/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_the_api_docs_send_a_person_to_the_second_step(client, front_desk):
    client.force_login(front_desk)
    response = client.get("/api/docs/")
    assert response.status_code == 302 and response["Location"] == f"{SETUP}?next=%2Fapi%2Fdocs%2F"


def test_signing_out_works_before_the_second_step(client, front_desk):
    client.force_login(front_desk)
    assert client.post("/admin/logout/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_with_the_setting_off_the_admin_opens_with_the_password_alone(client, settings, front_desk):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(front_desk)
    assert client.get("/admin/").status_code == 200
