"""Text from outside holding a NUL or another control character is refused with a 400 before
any view sees it (PostgreSQL text cannot hold NUL: it used to give a 500); API errors are JSON
even when raised outside a view.

Run these on PostgreSQL too (DATABASE_URL=postgres://...): the 500s only showed there.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

API_PREFIXES = ("/api/v1/", "/api/schema/")


@pytest.fixture(autouse=True)
def _no_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def doctor(physician_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(physician_user)
    return client


def refused_page(response) -> None:
    """The patient pages' own friendly error, not a server error."""
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "characters we cannot read" in text
    assert "(918) 555-0140" in text  # the clinic's phone, as on every problem page


def refused_json(response, field: str | None = None) -> dict:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid"
    assert "control character" in body["detail"]
    if field is not None:
        assert field in body["errors"]
    return body


# ---- The public booking pages ------------------------------------------------------------------

def test_a_nul_in_the_picker_query_string_is_refused_with_the_friendly_page(client, calendar):
    refused_page(client.get("/book/times/?visit=a%00b"))


def test_a_nul_in_a_held_time_form_is_refused_with_the_friendly_page(client, calendar):
    refused_page(client.post("/book/hold/", {"visit": "a\x00b", "choice": "x"}))
    assert not Appointment.objects.exists()


def test_other_control_characters_are_refused_too(client, calendar):
    refused_page(client.get("/book/times/?visit=CONSULT%1BNEW"))
    refused_page(client.get("/book/times/?visit=CONSULT_NEW&week=%7F"))
    refused_page(client.get("/book/times/?vi%00sit=CONSULT_NEW"))


def test_a_nul_in_a_page_address_is_refused(client, calendar):
    refused_page(client.get("/visit/a%00b/"))
    refused_page(client.get("/book/order/a%00b/"))


def test_a_newline_in_a_free_text_field_is_still_accepted(client, calendar, settings):
    settings.BOOKING_FORM_MIN_SECONDS = 0
    from tests.test_booking_pages import book

    response = book(client, calendar, note="Line one\r\nline two\tindented")
    assert response.status_code == 302
    assert Appointment.objects.get().notes.endswith("Line one\r\nline two\tindented")


def test_a_plain_search_is_not_refused(client, calendar):
    assert client.get("/book/times/?visit=CONSULT_NEW").status_code == 200


# ---- The API -----------------------------------------------------------------------------------

def test_a_nul_in_an_availability_query_is_refused_as_json(desk, calendar):
    body = refused_json(desk.get("/api/v1/availability/?procedure_type=a%00b&from=2026-11-30&to=2026-12-04"),
                        "procedure_type")
    assert body["errors"]["procedure_type"] == ["This value holds a control character (such as NUL): remove it."]


def test_a_nul_in_an_api_address_is_refused_as_json(desk, calendar):
    refused_json(desk.get("/api/v1/procedure-types/a%00b/"))


def test_a_nul_in_a_json_booking_is_refused_and_names_the_field(desk, calendar):
    response = desk.post("/api/v1/appointments/", {
        "patient": calendar.patients[0].pk, "procedure_type": "a\u0000b", "physician": calendar.okafor.pk,
        "start": local(NEXT_MONDAY, 9).isoformat()}, format="json")
    refused_json(response, "procedure_type")
    assert not Appointment.objects.exists()


def test_a_nul_in_a_json_order_is_refused(doctor, calendar):
    response = doctor.post("/api/v1/orders/", {
        "patient": calendar.patients[0].pk, "procedure_type": "a\u0000b", "ordering_physician": calendar.okafor.pk,
        "region": "lumbar"}, format="json")
    refused_json(response, "procedure_type")


def test_a_control_character_deep_in_a_json_body_is_found(doctor, calendar):
    response = doctor.post("/api/v1/orders/", {"patient": calendar.patients[0].pk, "levels": ["L4", "L5\u0007"],
                                                "notes": {"inner": "a\u0000"}}, format="json")
    body = refused_json(response)
    assert set(body["errors"]) == {"levels[1]", "notes.inner"}


def test_a_nul_in_a_json_key_is_refused(doctor, calendar):
    refused_json(doctor.post("/api/v1/orders/", {"pati\u0000ent": 1}, format="json"))


def test_a_nul_in_an_api_form_body_is_refused_as_json(desk, calendar):
    refused_json(desk.post("/api/v1/appointments/", {"procedure_type": "a\x00b"}), "procedure_type")


def test_a_newline_in_a_json_reason_is_still_accepted(desk, calendar):
    calendar.order_for(calendar.patients[0])
    booked = desk.post("/api/v1/appointments/", {
        "patient": calendar.patients[0].pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
        "start": local(NEXT_MONDAY, 9).isoformat()}, format="json")
    assert booked.status_code == 201, booked.json()
    response = desk.post(f"/api/v1/appointments/{booked.json()['id']}/cancel/",
                         {"reason": "Patient called.\nWill rebook\tafter surgery."}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["cancel_reason"] == "Patient called.\nWill rebook\tafter surgery."


def test_a_nul_in_a_token_header_is_refused_as_json(calendar):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token a\x00b")
    refused_json(client.get("/api/v1/locations/"))


def test_a_nul_in_the_session_cookie_is_refused(calendar):
    response = Client().get("/book/", HTTP_COOKIE="sessionid=abcdefgh\x00ijkl")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


# ---- API errors raised outside a view are JSON too ----------------------------------------------

def test_an_unknown_api_address_answers_json(desk):
    response = desk.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_api_error_asked_for_by_a_browser_is_json_too(desk):
    response = desk.get("/api/v1/patients/999999/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_unknown_page_address_still_answers_the_friendly_page(client, calendar):
    response = client.get("/book/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_a_server_error_in_the_api_answers_json(front_desk, monkeypatch):
    from scheduling.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.LocationViewSet, "list", broken)
    client = Client(raise_request_exception=False)
    client.force_login(front_desk)
    response = client.get("/api/v1/locations/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert "a bug" not in response.content.decode()


def test_a_server_error_on_a_page_answers_the_html_page(client, monkeypatch, calendar):
    from scheduling.pages import booking

    monkeypatch.setattr(booking, "_public_search", lambda *args: 1 / 0)
    response = Client(raise_request_exception=False).get("/book/times/?visit=CONSULT_NEW")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_bad_host_under_the_api_answers_json(calendar, settings):
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    response = Client(raise_request_exception=False).get("/api/v1/locations/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "bad_request"
