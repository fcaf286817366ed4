"""Headers on every answer: a Content-Security-Policy whose nonce every inline style and script
carries, a Permissions-Policy, no-store on API responses; a language cookie no script reads; the
API schema and docs for staff only in production."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.conftest import local
from tests.test_booking_pages import NEXT_TUESDAY
from tests.test_settings import PRODUCTION, load_settings

pytestmark = pytest.mark.django_db

INLINE = re.compile(r"<(style|script)\b([^>]*)>", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _no_rate_limits():
    cache.clear()
    yield
    cache.clear()


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def assert_inline_code_carries_the_nonce(response) -> None:
    """Every inline <style> and <script> of the page has the nonce the header allows; no inline
    style attribute or event handler (neither could carry one)."""
    directives = policy(response)
    (nonce,) = [value for value in directives["script-src"] if value.startswith("'nonce-")]
    assert nonce in directives["style-src"]
    assert "'unsafe-inline'" not in directives["script-src"] + directives["style-src"]
    text = response.content.decode()
    tags = INLINE.findall(text)
    for tag, attributes in tags:
        if "src=" in attributes:
            continue  # a file from this site
        assert f'nonce="{nonce[7:-1]}"' in attributes, f"<{tag}{attributes}> has no nonce"
    assert not re.search(r"""<[^>]+\s(style|on[a-z]+)=["']""", text), "an inline style attribute or handler"


def test_the_booking_pages_allow_their_own_inline_style_and_script_only(client, calendar):
    from tests.test_booking_pages import hold

    start = client.get("/book/")
    assert_inline_code_carries_the_nonce(start)
    times = client.get("/book/times/?visit=CONSULT_NEW&week=2026-11-30")
    assert_inline_code_carries_the_nonce(times)
    assert "<script nonce=" in times.content.decode()
    hold(client, calendar)
    assert_inline_code_carries_the_nonce(client.get("/book/details/"))
    directives = policy(start)
    assert directives["default-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_each_answer_has_its_own_nonce(client, calendar):
    first, second = policy(client.get("/book/"))["script-src"], policy(client.get("/book/"))["script-src"]
    assert first != second


def test_the_friendly_error_pages_carry_the_nonce_too(client, calendar, settings):
    settings.DEBUG = False
    assert_inline_code_carries_the_nonce(client.get("/book/nothing-here/"))
    assert_inline_code_carries_the_nonce(client.get("/book/times/?visit=a%00b"))


def test_the_server_error_page_carries_the_nonce(calendar, monkeypatch):
    from scheduling.pages import booking

    monkeypatch.setattr(booking, "_public_search", lambda *args: 1 / 0)
    response = Client(raise_request_exception=False).get("/book/times/?visit=CONSULT_NEW")
    assert response.status_code == 500
    assert_inline_code_carries_the_nonce(response)


@pytest.mark.parametrize("url", [
    "/admin/", "/admin/scheduling/appointment/add/", "/admin/scheduling/waitlistentry/add/",
    "/admin/clinic/patient/{patient}/change/", "/admin/board/attention/",
])
def test_the_staff_pages_carry_the_nonce_on_their_inline_code(client, calendar, superuser, url):
    client.force_login(superuser)
    response = client.get(url.format(patient=calendar.patients[0].pk), follow=True)
    assert response.status_code == 200 and response.redirect_chain == []
    assert_inline_code_carries_the_nonce(response)


def test_the_order_page_with_its_booking_link_carries_no_inline_handler(client, calendar, superuser):
    order = calendar.order_for(calendar.patients[0])
    client.force_login(superuser)
    response = client.get(f"/admin/scheduling/procedureorder/{order.pk}/change/")
    assert "Booking link" in response.content.decode()
    assert_inline_code_carries_the_nonce(response)


def test_the_reschedule_page_carries_the_nonce(client, calendar, superuser):
    from scheduling import services

    visit = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.consult,
                                      physician=calendar.okafor, start=local(NEXT_TUESDAY, 9))
    client.force_login(superuser)
    response = client.get(f"/admin/scheduling/appointment/{visit.pk}/reschedule/")
    assert response.status_code == 200
    assert_inline_code_carries_the_nonce(response)


def test_every_answer_says_no_camera_microphone_location_or_payment(client, calendar):
    for response in (client.get("/book/"), client.get("/api/v1/locations/"), client.get("/admin/login/")):
        assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/patients/1/", "/api/v1/appointments/",
                                 "/api/v1/nothing/", "/api/v1/patients/999999/"])
def test_api_answers_are_never_stored(calendar, front_desk, url):
    token = Token.objects.create(user=front_desk)
    response = Client().get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in Client().get(url)["Cache-Control"]  # the 401 too


def test_the_language_cookie_is_not_for_scripts_nor_other_sites(client, calendar):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/book/"})
    cookie = response.cookies["django_language"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_language_cookie_is_https_only_in_production(monkeypatch):
    assert load_settings(monkeypatch, **PRODUCTION)["LANGUAGE_COOKIE_SECURE"] is True
    assert load_settings(monkeypatch)["LANGUAGE_COOKIE_SECURE"] is False


def test_the_api_docs_are_public_in_development_only(monkeypatch):
    assert load_settings(monkeypatch)["API_DOCS_PUBLIC"] is True
    assert load_settings(monkeypatch, **PRODUCTION)["API_DOCS_PUBLIC"] is False
    assert load_settings(monkeypatch, **PRODUCTION, API_DOCS_PUBLIC="1")["API_DOCS_PUBLIC"] is True


def test_the_schema_needs_a_staff_login_when_not_public(calendar, settings, front_desk):
    settings.API_DOCS_PUBLIC = False
    anonymous = Client().get("/api/schema/")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/json"
    assert anonymous.json()["code"] == "not_authenticated"
    token = Token.objects.create(user=front_desk)
    staff = Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert staff.status_code == 200 and b"openapi" in staff.content


def test_the_docs_send_a_visitor_to_the_staff_login_when_not_public(client, calendar, settings, front_desk):
    settings.API_DOCS_PUBLIC = False
    anonymous = client.get("/api/docs/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/?next=/api/docs/")
    client.force_login(front_desk)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert_inline_code_carries_the_nonce(page)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_a_signed_in_user_who_is_not_staff_is_refused_the_docs(client, calendar, settings):
    from django.contrib.auth import get_user_model

    settings.API_DOCS_PUBLIC = False
    client.force_login(get_user_model().objects.create_user("patient-like", password="pw-for-tests-only"))
    assert client.get("/api/docs/").status_code == 403
    assert client.get("/api/schema/").status_code == 403


def test_the_docs_are_open_when_public(calendar, settings):
    settings.API_DOCS_PUBLIC = True
    assert Client().get("/api/docs/").status_code == 200
    assert Client().get("/api/schema/").status_code == 200
