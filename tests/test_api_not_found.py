"""Addresses under /api/ that no route matches answer the API's JSON 404, whatever DEBUG says
(Django's debug 404 page would list every route of the site)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/nothing", "/api/v1/appointments/999999/x/"])
def test_an_unknown_api_address_is_a_json_not_found(client, settings, debug, path):
    settings.DEBUG = debug
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_signing_in_with_a_foreign_next_lands_on_the_admin(client, front_desk):
    response = client.post("/admin/login/?next=https://evil.example/", {
        "username": front_desk.username, "password": "pw-for-tests-only", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_history_pages_carry_no_inline_style(admin_client, calendar):
    response = admin_client.get(f"/admin/clinic/location/{calendar.location.pk}/history/")
    assert response.status_code == 200
    assert 'style="' not in response.content.decode()


def test_a_post_to_an_unknown_api_address_with_a_session_is_a_json_not_found(client, front_desk):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(front_desk)
    response = browser.post("/api/v1/appointments/0.5/confirm/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
