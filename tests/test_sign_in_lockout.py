"""Repeated wrong passwords pause sign-in for the login and for the address (django-axes), on the
admin's real sign-in form; a manager unlocks from the admin."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-only"  # the fixtures' password


def sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_fifth_wrong_password_pauses_sign_in_and_the_right_one_is_then_refused(client, front_desk):
    for _ in range(4):
        response = sign_in(client, front_desk.username, "wrong")
        assert response.status_code == 200 and "Please enter the correct username and password" in response.text
    fifth = sign_in(client, front_desk.username, "wrong")
    assert fifth.status_code == 429
    assert "Sign-in paused" in fifth.text and "paused for 30 minutes" in fifth.text
    assert "ask your clinic manager to unlock" in fifth.text
    assert 'id="site-name"' in fifth.text  # in the admin's own look
    right = sign_in(client, front_desk.username, PASSWORD)
    assert right.status_code == 429 and not signed_in(client)


def test_a_locked_login_stays_locked_from_another_address(client, front_desk):
    for number in range(5):
        sign_in(client, front_desk.username, "wrong", address=f"10.0.1.{number}")
    assert sign_in(client, front_desk.username, PASSWORD, address="10.0.2.1").status_code == 429
    assert not signed_in(client)


def test_an_address_that_tried_five_logins_is_paused_for_every_login(client, front_desk, nurse):
    for number in range(5):
        sign_in(client, f"guess-{number}", "wrong", address="10.0.3.1")
    assert sign_in(client, nurse.username, PASSWORD, address="10.0.3.1").status_code == 429
    assert not signed_in(client)
    assert sign_in(client, nurse.username, PASSWORD, address="10.0.3.2").status_code == 302
    assert signed_in(client)


def test_a_right_password_before_the_limit_starts_the_count_again(client, front_desk):
    for _ in range(4):
        sign_in(client, front_desk.username, "wrong")
    assert sign_in(client, front_desk.username, PASSWORD).status_code == 302
    client.post(reverse("admin:logout"))
    for _ in range(4):
        assert sign_in(client, front_desk.username, "wrong").status_code == 200
    assert sign_in(client, front_desk.username, PASSWORD).status_code == 302


def test_sign_in_opens_again_after_the_cool_off(client, front_desk):
    with time_machine.travel(dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for _ in range(5):
            sign_in(client, front_desk.username, "wrong")
        traveller.shift(dt.timedelta(minutes=29))
        assert sign_in(client, front_desk.username, PASSWORD).status_code == 429
        traveller.shift(dt.timedelta(minutes=2))
        assert sign_in(client, front_desk.username, PASSWORD).status_code == 302


def test_a_manager_unlocks_a_colleague_from_the_admin(client, front_desk, manager):
    for _ in range(5):
        sign_in(client, front_desk.username, "wrong")
    desk = AccessAttempt.objects.get(username=front_desk.username)
    assert desk.failures_since_start == 5

    from django.test import Client

    manager_client = Client()
    manager_client.force_login(manager)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert front_desk.username in manager_client.get(changelist).text
    confirmed = manager_client.post(changelist, {"action": "delete_selected", "_selected_action": [desk.pk],
                                                 "post": "yes"})
    assert confirmed.status_code == 302
    assert not AccessAttempt.objects.filter(username=front_desk.username).exists()
    assert sign_in(client, front_desk.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("role_fixture", ["front_desk", "nurse", "physician_user"])
def test_only_managers_see_and_clear_failed_sign_ins(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_staff_sharing_one_address_are_not_locked_out_by_each_others_typos(client, front_desk, nurse):
    """A clinic's computers often reach Interval from one address: a right password from it starts
    the address's count again, so only five wrong ones in a row pause it."""
    for _ in range(4):
        sign_in(client, "frontdesk-typo", "wrong", address="10.0.4.1")
    assert sign_in(client, nurse.username, PASSWORD, address="10.0.4.1").status_code == 302
    client.post(reverse("admin:logout"))
    for _ in range(4):
        assert sign_in(client, "nurse-typo", "wrong", address="10.0.4.1").status_code == 200
    assert sign_in(client, front_desk.username, PASSWORD, address="10.0.4.1").status_code == 302
