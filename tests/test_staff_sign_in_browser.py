"""Staff sign-in in a real browser at the staff's widths: the first sign-in with two-step
sign-in required (set up the app, keep the recovery codes), and the page a locked-out person
sees. Each page is photographed and held to axe-core."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser import STAFF_WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-only"


@pytest.fixture(params=list(STAFF_WIDTHS))
def width(request) -> str:
    return request.param


def type_password(page, username: str, password: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_first_sign_in_sets_up_the_app_and_shows_the_recovery_codes(visitor, settings, front_desk, width):
    settings.STAFF_2FA_REQUIRED = True
    you = visitor("two-step-sign-in", width)
    page = you.page
    type_password(page, front_desk.username, PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    you.check("setup")

    device = TOTPDevice.objects.get(user=front_desk)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Code from your app").fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_text("Two-step sign-in is on for your account.")).to_be_visible()
    expect(page.locator(".codes li")).to_have_count(10)
    you.check("recovery-codes")

    recovery_code = page.locator(".codes li").first.inner_text()
    page.get_by_role("link", name="I have kept them; continue").click()
    expect(page.get_by_role("heading", name="Clinic administration")).to_be_visible()

    # The next sign-in, with the phone left at home: a recovery code instead.
    later = visitor("two-step-sign-in-again", width)
    type_password(later.page, front_desk.username, PASSWORD)
    expect(later.page.get_by_role("heading", name="Second step of sign-in")).to_be_visible()
    later.check("code")
    later.page.get_by_label("Code from your app, or a recovery code").fill(recovery_code)
    later.page.get_by_role("button", name="Continue").click()
    expect(later.page.get_by_role("heading", name="Clinic administration")).to_be_visible()


def test_the_fifth_wrong_password_shows_the_paused_page(visitor, front_desk, width):
    you = visitor("sign-in-lockout", width)
    page = you.page
    for _ in range(5):
        type_password(page, front_desk.username, "not-the-password")
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_text("paused for 30 minutes")).to_be_visible()
    you.check("paused")
