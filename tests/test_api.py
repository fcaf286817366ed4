"""REST API v1: every endpoint, each role refused where it should be, and clear JSON errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.models import Patient
from scheduling.models import Appointment, ProcedureOrder
from tests.conftest import NEXT_MONDAY, api_as, local

pytestmark = pytest.mark.django_db


def book_payload(calendar, patient=None, start=None, **extra) -> dict:
    return {"patient": (patient or calendar.patients[0]).pk, "procedure_type": "ESI_IL",
            "physician": calendar.okafor.pk, "start": (start or local(NEXT_MONDAY, 9)).isoformat(), **extra}


@pytest.fixture
def booked(calendar, desk) -> dict:
    calendar.order_for(calendar.patients[0])
    response = desk.post("/api/v1/appointments/", book_payload(calendar), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize("url", ["/api/v1/procedure-types/", "/api/v1/locations/", "/api/v1/rooms/",
                                 "/api/v1/physicians/", "/api/v1/patients/", "/api/v1/orders/",
                                 "/api/v1/appointments/", "/api/v1/availability/?procedure_type=ESI_IL"])
def test_anonymous_users_are_refused(demo_clinic, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_authenticates(demo_clinic, front_desk):
    token = Token.objects.create(user=front_desk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/locations/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/locations/").json()["code"] == "authentication_failed"


def test_the_catalog_and_resources_are_listed(demo_clinic, desk):
    types = desk.get("/api/v1/procedure-types/").json()["results"]
    esi = next(item for item in types if item["code"] == "ESI_IL")
    assert (esi["prep_minutes"], esi["procedure_minutes"], esi["recovery_minutes"]) == (30, 20, 30)
    assert esi["requires_order"] and not esi["self_bookable"]
    assert desk.get("/api/v1/procedure-types/KYPHOPLASTY/").json()["required_capabilities"] == ["fluoroscopy",
                                                                                                  "sterile-or"]
    for url in ("/api/v1/locations/", "/api/v1/rooms/", "/api/v1/physicians/"):
        first = desk.get(url).json()["results"][0]
        assert {"id", "name"} <= set(first)
    assert desk.get("/api/v1/physicians/").json()["results"][0]["name"].startswith("Dr. ")


def test_patients_are_created_and_read(demo_clinic, desk):
    response = desk.post("/api/v1/patients/", {"first_name": "Ruth", "last_name": "Okonkwo",
                                                "date_of_birth": "1948-02-03", "phone": "(918) 555-0177",
                                                "preferred_channel": "sms", "sms_consent": True}, format="json")
    assert response.status_code == 201, response.json()
    patient_id = response.json()["id"]
    assert desk.get(f"/api/v1/patients/{patient_id}/").json()["last_name"] == "Okonkwo"


def test_bad_patient_input_gets_field_errors(demo_clinic, desk):
    response = desk.post("/api/v1/patients/", {"first_name": "Ruth", "last_name": "Okonkwo",
                                                "date_of_birth": "2099-01-01", "email": "ruth@example.com"},
                         format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "future" in body["errors"]["date_of_birth"][0]
    response = desk.post("/api/v1/patients/", {"first_name": "Ruth", "date_of_birth": "03/02/1948"}, format="json")
    assert set(response.json()["errors"]) >= {"last_name", "date_of_birth"}


def test_a_nurse_cannot_add_patients_or_orders(demo_clinic, nurse, calendar):
    client = api_as(nurse)
    assert client.post("/api/v1/patients/", {}, format="json").status_code == 403
    assert client.post("/api/v1/orders/", {}, format="json").json()["code"] == "permission_denied"


def test_a_physician_orders_a_procedure(calendar, physician_user):
    response = api_as(physician_user).post("/api/v1/orders/", {
        "patient": calendar.patients[0].pk, "procedure_type": "MBB_LUMBAR", "ordering_physician": calendar.okafor.pk,
        "region": "lumbar", "laterality": "bilateral", "levels": "L4-L5", "notes": "Facet pain"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "open" and response.json()["levels"] == "L4-L5"
    ablation = api_as(physician_user).post("/api/v1/orders/", {
        "patient": calendar.patients[0].pk, "procedure_type": "RFA_LUMBAR", "ordering_physician": calendar.okafor.pk,
        "region": "lumbar"}, format="json")
    assert ablation.status_code == 400 and ablation.json()["code"] == "not_eligible"
    assert "Needs 2 prior Lumbar medial branch block (diagnostic) procedures" in ablation.json()["detail"]
    bad = api_as(physician_user).post("/api/v1/orders/", {"patient": calendar.patients[0].pk,
                                                          "procedure_type": "NOPE", "ordering_physician": 999},
                                      format="json")
    assert set(bad.json()["errors"]) == {"procedure_type", "ordering_physician"}


def test_an_order_the_models_rules_refuse_is_a_400_naming_the_field(calendar, physician_user):
    response = api_as(physician_user).post("/api/v1/orders/", {
        "patient": calendar.patients[0].pk, "procedure_type": "MBB_LUMBAR", "ordering_physician": calendar.okafor.pk,
        "region": "lumbar", "authorization_status": "approved"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == {"authorization_number": ["An approved authorization has a number from the payer."]}


def test_orders_are_listed_for_one_patient_or_status(calendar, physician_user):
    client = api_as(physician_user)
    for patient in calendar.patients[:2]:
        assert client.post("/api/v1/orders/", {"patient": patient.pk, "procedure_type": "MBB_LUMBAR",
                                               "ordering_physician": calendar.okafor.pk, "region": "lumbar"},
                           format="json").status_code == 201
    first = calendar.patients[0].pk
    listed = client.get("/api/v1/orders/", {"patient": first}).json()["results"]
    assert listed and {order["patient"] for order in listed} == {first}
    assert client.get("/api/v1/orders/", {"status": "completed"}).json()["results"] == []
    refused = client.get("/api/v1/orders/", {"patient": "x"})
    assert refused.status_code == 400 and "patient" in refused.json()["errors"]


def test_the_front_desk_cannot_order(calendar, desk):
    assert desk.post("/api/v1/orders/", {}, format="json").status_code == 403


def availability(client, **params):
    query = {"procedure_type": "ESI_IL", "from": NEXT_MONDAY.isoformat(), "to": NEXT_MONDAY.isoformat(), **params}
    return client.get("/api/v1/availability/", query)


def test_availability_lists_slots_sorted_in_local_time(calendar, desk):
    response = availability(desk, location=calendar.location.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["time_zone"] == "America/Chicago" and body["count"] == len(body["slots"]) > 0
    first = body["slots"][0]
    assert first == {"start": "2026-11-30T07:30:00-06:00", "end": "2026-11-30T07:50:00-06:00",
                     "arrival": "2026-11-30T07:00:00-06:00", "discharge": "2026-11-30T08:20:00-06:00",
                     "physician": calendar.okafor.pk, "room": first["room"], "location": calendar.location.pk,
                     "inside_minimum_notice": False}
    starts = [slot["start"] for slot in body["slots"]]
    assert starts == sorted(starts)
    assert len(availability(desk, limit=3).json()["slots"]) == 3


def test_availability_filters_by_physician(calendar, desk):
    assert availability(desk, physician=calendar.reyes.pk).json()["slots"] == []  # Monday is his clinic day
    assert availability(desk, physician=calendar.okafor.pk).json()["count"] > 0


def test_booked_times_leave_availability(calendar, desk, booked):
    starts = {slot["start"] for slot in availability(desk).json()["slots"]}
    assert "2026-11-30T09:00:00-06:00" not in starts
    assert "2026-11-30T09:30:00-06:00" in starts


@pytest.mark.parametrize(("params", "field"), [
    ({"procedure_type": "NOT_A_CODE"}, "procedure_type"),
    ({"from": "30/11/2026"}, "from"),
    ({"to": "2026-11-01"}, "to"),
    ({"to": "2027-06-01"}, "to"),
    ({"physician": "abc"}, "physician"),
    ({"limit": "0"}, "limit"),
    ({"location": "999"}, "location"),
])
def test_bad_availability_queries_get_field_errors(calendar, desk, params, field):
    response = availability(desk, **params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]


def test_availability_takes_the_same_number_of_queries_for_a_day_and_sixty_days(calendar, desk, booked):
    def count(days: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = availability(desk, to=(NEXT_MONDAY + dt.timedelta(days=days - 1)).isoformat())
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    one_day, one_day_slots = count(1)
    sixty_days, sixty_days_slots = count(60)
    assert one_day == sixty_days
    assert sixty_days_slots > one_day_slots > 0


def test_booking_returns_the_visit(calendar, booked):
    assert booked["status"] == "scheduled"
    assert booked["start"] == "2026-11-30T09:00:00-06:00" and booked["end"] == "2026-11-30T09:20:00-06:00"
    assert booked["arrival"] == "2026-11-30T08:30:00-06:00"
    assert booked["physician"] == calendar.okafor.pk and booked["room"]


def test_a_taken_slot_is_a_conflict(calendar, desk, booked):
    calendar.order_for(calendar.patients[1])
    response = desk.post("/api/v1/appointments/", book_payload(calendar, calendar.patients[1]), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


@pytest.mark.parametrize(("change", "field"), [
    ({"procedure_type": "NOT_A_CODE"}, "procedure_type"),
    ({"start": "2026-11-30T09:10:00-06:00"}, "start"),
    ({"start": "2026-11-02T09:00:00-06:00"}, "start"),
    ({"start": "2026-11-30T09:00:00"}, "start"),
    ({"start": "next monday"}, "start"),
    ({"physician": "x"}, "physician"),
    ({"patient": 999999}, "patient"),
])
def test_bad_booking_input_gets_field_errors(calendar, desk, change, field):
    calendar.order_for(calendar.patients[0])
    response = desk.post("/api/v1/appointments/", {**book_payload(calendar), **change}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]


def test_a_physician_not_credentialed_is_a_field_error(calendar, desk):
    calendar.order_for(calendar.patients[0])
    response = desk.post("/api/v1/appointments/", {**book_payload(calendar), "procedure_type": "ESI_IL",
                                                   "physician": calendar.okafor.pk}, format="json")
    assert response.status_code == 201
    calendar.order_for(calendar.patients[1], calendar.esi)
    from clinic.models import ProcedureType
    calendar.order_for(calendar.patients[1], ProcedureType.objects.get(code="KYPHOPLASTY"))
    response = desk.post("/api/v1/appointments/", {**book_payload(calendar, calendar.patients[1]),
                                                   "procedure_type": "KYPHOPLASTY", "physician": calendar.reyes.pk,
                                                   "start": "2026-12-03T09:00:00-06:00"}, format="json")
    assert response.status_code == 400 and "not credentialed" in response.json()["errors"]["physician"][0]


def test_a_missing_order_is_not_eligible(calendar, desk):
    response = desk.post("/api/v1/appointments/", book_payload(calendar), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_eligible" and "order" in response.json()["detail"]


def test_appointments_are_listed_and_filtered(calendar, desk, booked):
    everything = desk.get("/api/v1/appointments/").json()
    assert everything["count"] == 1 and everything["results"][0]["id"] == booked["id"]
    assert desk.get("/api/v1/appointments/", {"date": "2026-11-30"}).json()["count"] == 1
    assert desk.get("/api/v1/appointments/", {"date": "2026-12-01"}).json()["count"] == 0
    assert desk.get("/api/v1/appointments/", {"physician": calendar.reyes.pk}).json()["count"] == 0
    assert desk.get("/api/v1/appointments/", {"status": "scheduled",
                                              "location": calendar.location.pk}).json()["count"] == 1
    assert desk.get("/api/v1/appointments/", {"status": "lost"}).json()["code"] == "invalid"
    assert desk.get(f"/api/v1/appointments/{booked['id']}/").json()["procedure_type"] == "ESI_IL"
    assert desk.get("/api/v1/appointments/999999/").json()["code"] == "not_found"


def test_a_nurse_cannot_cancel_but_the_front_desk_can(calendar, nurse, desk, booked):
    url = f"/api/v1/appointments/{booked['id']}/cancel/"
    assert api_as(nurse).post(url, {"reason": "x"}, format="json").status_code == 403
    assert desk.post(url, {}, format="json").json()["errors"].keys() == {"reason"}
    response = desk.post(url, {"reason": "Patient asked"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Patient asked"


def test_rescheduling_through_the_api(calendar, desk, booked):
    url = f"/api/v1/appointments/{booked['id']}/reschedule/"
    response = desk.post(url, {"start": "2026-11-30T13:00:00-06:00"}, format="json")
    assert response.status_code == 200 and response.json()["start"] == "2026-11-30T13:00:00-06:00"
    calendar.order_for(calendar.patients[1])
    desk.post("/api/v1/appointments/", book_payload(calendar, calendar.patients[1], start=local(NEXT_MONDAY, 9)),
              format="json")
    conflict = desk.post(url, {"start": "2026-11-30T09:00:00-06:00"}, format="json")
    assert conflict.status_code == 409 and conflict.json()["code"] == "slot_unavailable"


def test_the_day_of_the_visit_through_the_api(calendar, clock, desk, nurse, booked):
    base = f"/api/v1/appointments/{booked['id']}"
    early = desk.post(f"{base}/check-in/")
    assert early.status_code == 409 and "day of their visit (Monday November 30)" in early.json()["detail"]
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    assert desk.post(f"{base}/check-in/").json()["status"] == "checked_in"
    assert desk.post(f"{base}/start/").status_code == 403  # the front desk does not run procedures
    clinical = api_as(nurse)
    unchecked = clinical.post(f"{base}/start/")
    assert unchecked.status_code == 400 and unchecked.json()["code"] == "checks_missing"
    assert "consent form signed" in unchecked.json()["detail"]
    started = clinical.post(f"{base}/start/", {"reason": "Consent signed on paper"}, format="json")
    assert started.json()["status"] == "in_procedure"
    assert clinical.post(f"{base}/recovery/").json()["status"] == "in_recovery"
    assert clinical.post(f"{base}/complete/").json()["status"] == "completed"
    again = desk.post(f"{base}/no-show/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_no_show_and_confirm(calendar, clock, desk, nurse, booked):
    base = f"/api/v1/appointments/{booked['id']}"
    assert api_as(nurse).post(f"{base}/no-show/").status_code == 403
    assert desk.post(f"{base}/confirm/").json()["status"] == "confirmed"
    early = desk.post(f"{base}/no-show/")
    assert early.status_code == 409 and "not due until Monday November 30, 08:30" in early.json()["detail"]
    clock.move_to(local(NEXT_MONDAY, 9, 15))
    assert desk.post(f"{base}/no-show/").json()["status"] == "no_show"


def test_the_schema_and_docs_are_served(demo_clinic, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/availability/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_every_booking_leaves_a_history_with_the_user(calendar, front_desk, booked):
    appointment = Appointment.objects.get(pk=booked["id"])
    assert appointment.history.first().history_user == front_desk
    assert Patient.objects.exists() and ProcedureOrder.objects.filter(patient=calendar.patients[0]).exists()


def test_a_limited_search_returns_the_first_slots_of_the_whole_window(calendar, desk, booked):
    window = {"to": (NEXT_MONDAY + dt.timedelta(days=40)).isoformat()}
    everything = availability(desk, **window).json()["slots"]
    first = availability(desk, limit=25, **window).json()["slots"]
    assert first == everything[:25]
    later = availability(desk, **{"from": (NEXT_MONDAY + dt.timedelta(days=8)).isoformat(), **window}, limit=5)
    assert later.json()["slots"] == [s for s in everything if s["start"] >= "2026-12-08"][:5]
