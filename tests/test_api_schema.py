"""The OpenAPI schema says what the API really answers: error responses with their body,
nullable fields, and the constraints the code enforces."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(schema: dict, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def test_an_appointments_outcome_is_nullable_until_recorded(schema):
    outcome = schema["components"]["schemas"]["Appointment"]["properties"]["outcome"]
    assert outcome["nullable"] is True


def test_every_operation_documents_its_auth_and_throttle_errors_with_the_error_body(schema):
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, spec in methods.items():
            for status in ("401", "403", "429"):
                assert status in spec["responses"], (method, path, status)
                body = spec["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_error_body_has_a_code_detail_field_errors_unmet_rules_and_when_to_retry(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "detail", "errors", "unmet", "held_until", "retry_after"}
    assert error["required"] == ["code", "detail"]


def test_bookings_document_409_and_a_reused_idempotency_key(schema):
    book = operation(schema, "/api/v1/appointments/", "post")
    assert {"201", "400", "409", "422"} <= set(book["responses"])
    assert {"400", "404", "409"} <= set(operation(schema, "/api/v1/appointments/{id}/cancel/", "post")["responses"])
    assert "422" in operation(schema, "/api/v1/orders/", "post")["responses"]


def test_a_throttled_answer_documents_retry_after(schema):
    throttled = operation(schema, "/api/v1/locations/", "get")["responses"]["429"]
    assert "Retry-After" in throttled["headers"]


def test_every_operation_documents_400_and_detail_reads_404(schema):
    assert "400" in operation(schema, "/api/v1/appointments/", "get")["responses"]
    assert "400" in operation(schema, "/api/v1/availability/", "get")["responses"]
    assert "404" in operation(schema, "/api/v1/patients/{id}/", "get")["responses"]
    assert "404" not in operation(schema, "/api/v1/availability/", "get")["responses"]


def test_record_ids_in_paths_and_filters_start_at_one(schema):
    detail = operation(schema, "/api/v1/appointments/{id}/", "get")
    assert [p["schema"]["minimum"] for p in detail["parameters"] if p["name"] == "id"] == [1]
    listing = operation(schema, "/api/v1/appointments/", "get")
    physician = next(p for p in listing["parameters"] if p["name"] == "physician")
    assert physician["schema"]["minimum"] == 1
    availability = operation(schema, "/api/v1/availability/", "get")
    assert next(p for p in availability["parameters"] if p["name"] == "patient")["schema"]["minimum"] == 1
    booking = schema["components"]["schemas"]["AppointmentBookRequest"]["properties"]
    assert booking["patient"]["minimum"] == booking["physician"]["minimum"] == 1


def test_a_cancel_reason_cannot_be_empty_in_the_schema(schema):
    reason = schema["components"]["schemas"]["CancelRequest"]["properties"]["reason"]
    assert reason["minLength"] == 1


def test_the_appointment_status_filter_lists_its_values(schema):
    listing = operation(schema, "/api/v1/appointments/", "get")
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert "checked_in" in status["schema"]["enum"]


def test_the_patient_schema_says_an_email_or_a_phone_is_needed(schema):
    assert "email" in schema["components"]["schemas"]["PatientRequest"]["description"]
    assert "phone" in schema["components"]["schemas"]["PatientRequest"]["description"]


def test_availability_documents_the_eligibility_a_patient_query_adds(schema):
    assert "eligibility" in schema["components"]["schemas"]["Availability"]["properties"]


def test_an_api_url_no_route_matches_answers_a_json_404(demo_clinic, front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post("/api/v1/appointments/a.b/cancel/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_the_idempotency_key_header_is_documented_with_its_limits(schema):
    (header,) = [p for p in operation(schema, "/api/v1/orders/", "post")["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
