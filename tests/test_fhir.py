"""FHIR R4 at /fhir/r4/: the CapabilityStatement, reads and searches of every resource type,
authentication and roles, paging, slot ids, DST offsets and errors as OperationOutcome."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from clinic.models import Location, Patient, Room
from scheduling import services
from scheduling.models import AppointmentStatus
from tests.conftest import NEXT_MONDAY, local
from tests.fhir import FHIR_JSON, fhir_client, issues, parsed, post_parameters, resources

pytestmark = pytest.mark.django_db

SLOTS = f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{NEXT_MONDAY}&start=le{NEXT_MONDAY}"


@pytest.fixture
def desk(front_desk) -> Client:
    return fhir_client(front_desk)


@pytest.fixture
def booked(calendar, front_desk):
    calendar.order_for(calendar.patients[0])
    return services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                     physician=calendar.okafor, start=local(NEXT_MONDAY, 9), by=front_desk)


def test_the_capability_statement_lists_exactly_what_is_served(demo_clinic):
    statement = parsed(Client().get("/fhir/r4/metadata"))
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1" and statement["format"] == ["json"]
    served = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}
    assert set(served) == {"Practitioner", "Location", "HealthcareService", "Schedule", "Slot", "Appointment",
                           "Patient"}
    assert {item["code"] for item in served["Slot"]["interaction"]} == {"read", "search-type"}
    assert {item["name"] for item in served["Slot"]["searchParam"]} == {"service-type", "schedule", "start", "status"}
    assert {item["name"] for item in served["Appointment"]["searchParam"]} == {
        "patient", "practitioner", "date", "status", "location"}
    assert {item["name"] for item in served["Patient"]["searchParam"]} == {"identifier", "birthdate", "family"}
    assert [item["name"] for item in served["Appointment"]["operation"]] == ["find", "hold", "book"]
    assert not any("operation" in entry for name, entry in served.items() if name != "Appointment")


def test_every_resource_type_served_reads_and_parses_back_with_fhir_resources(calendar, desk, booked):
    appointment = parsed(desk.get(f"/fhir/r4/Appointment/{booked.pk}"))
    assert appointment["status"] == "booked"
    for participant in appointment["participant"]:
        parsed(desk.get("/fhir/r4/" + participant["actor"]["reference"]))  # patient, practitioner, room, site
    room = parsed(desk.get(f"/fhir/r4/Location/room-{booked.room_id}"))
    assert room["partOf"] == {"reference": f"Location/{calendar.location.pk}"}
    assert room["physicalType"]["coding"][0]["code"] == "ro"
    service = parsed(desk.get("/fhir/r4/HealthcareService?service-type=ESI_IL"))
    assert [item["type"][0]["coding"][0]["code"] for item in resources(service)] == ["ESI_IL"]
    esi = parsed(desk.get(f"/fhir/r4/HealthcareService/{calendar.esi.pk}"))
    assert esi["location"] == [{"reference": f"Location/{calendar.location.pk}"}]
    here = resources(parsed(desk.get(f"/fhir/r4/HealthcareService?location=Location/{calendar.location.pk}")))
    assert "ESI_IL" in [item["type"][0]["coding"][0]["code"] for item in here]
    assert parsed(desk.get("/fhir/r4/HealthcareService?location=Location/99999"))["total"] == 0
    schedules = parsed(desk.get(f"/fhir/r4/Schedule?actor=Practitioner/{calendar.okafor.pk}"))
    schedule_id = f"physician-{calendar.okafor.pk}-location-{calendar.location.pk}"
    assert [item["id"] for item in resources(schedules)] == [schedule_id]
    parsed(desk.get(f"/fhir/r4/Schedule/{schedule_id}"))
    parsed(desk.get(f"/fhir/r4/Schedule/room-{booked.room_id}"))
    slot = resources(parsed(desk.get(SLOTS + "&_count=1")))[0]
    assert parsed(desk.get(f"/fhir/r4/Slot/{slot['id']}"))["status"] == "free"
    for resource_type in ("Practitioner", "Location", "HealthcareService", "Schedule", "Patient", "Appointment"):
        bundle = parsed(desk.get(f"/fhir/r4/{resource_type}?_count=3"))
        Bundle.model_validate(bundle)
        assert bundle["type"] == "searchset" and bundle["total"] >= 1
        assert {item["resourceType"] for item in resources(bundle)} == {resource_type}


def test_anonymous_requests_get_a_401_operation_outcome(demo_clinic):
    response = Client().get("/fhir/r4/Patient")
    outcome = parsed(response, 401)
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["code"] == "login" and response["WWW-Authenticate"] == "Bearer"
    assert parsed(Client(HTTP_AUTHORIZATION="Bearer not-a-token").get("/fhir/r4/Patient"), 401)


def test_bearer_and_token_keywords_both_authenticate(demo_clinic, front_desk):
    assert fhir_client(front_desk, "Bearer").get("/fhir/r4/Practitioner").status_code == 200
    assert fhir_client(front_desk, "Token").get("/fhir/r4/Practitioner").status_code == 200


def test_a_signed_in_staff_session_is_accepted(demo_clinic, front_desk):
    client = Client()
    client.force_login(front_desk)
    assert client.get("/fhir/r4/Practitioner").status_code == 200


def test_staff_without_a_role_are_refused_and_a_nurse_cannot_book(demo_clinic, nurse):
    nobody = get_user_model().objects.create_user("no-role", password="pw-for-tests-only", is_staff=True)
    for url in ("/fhir/r4/Patient", "/fhir/r4/Appointment", SLOTS, "/fhir/r4/Practitioner"):
        outcome = parsed(fhir_client(nobody).get(url), 403)
        assert outcome["issue"][0]["code"] == "forbidden"
    nurse_client = fhir_client(nurse)
    assert nurse_client.get(SLOTS).status_code == 200  # a nurse sees the calendar
    for operation in ("$book", "$hold"):
        refused = post_parameters(nurse_client, f"/fhir/r4/Appointment/{operation}", [])
        assert parsed(refused, 403)["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize("url", [
    "/fhir/r4/Slot?service-type=ESI%00IL",
    "/fhir/r4/Patient?family=Sm%00ith",
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge2026-13-45",
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge2026-11-30T09:00:00",  # no offset
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge" + "9" * 5000,
    "/fhir/r4/Slot?service-type=ESI_IL&_count=abc",
    "/fhir/r4/Slot?service-type=ESI_IL&_count=-1",
    "/fhir/r4/Slot?service-type=ESI_IL&_count=5001",
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge2026-11-30&start=le2027-11-30",  # a year at once
    "/fhir/r4/Slot",  # no service-type
    "/fhir/r4/Slot?service-type=ESI_IL&schedule=Schedule/garbage",
    "/fhir/r4/Patient?birthdate=yesterday",
    "/fhir/r4/Appointment?date=ge%C3%A9t%C3%A9",
    "/fhir/r4/Appointment?patient=Practitioner/1",
    "/fhir/r4/Appointment/$find?service-type=ESI_IL&start=2026-02-30",
])
def test_bad_or_garbage_parameters_give_a_400_operation_outcome(demo_clinic, desk, url):
    outcome = parsed(desk.get(url), 400)
    assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["diagnostics"]


@pytest.mark.parametrize("body", [
    "not json at all",
    '{"resourceType": "Patient"}',
    '{"resourceType": "Parameters", "parameter": [{"name": "hold", "valueString": "a\\u0000b"}]}',
    '{"resourceType": "Parameters", "parameter": [{"name": "start", "valueDate": "2026-13-01"}]}',
    '{"resourceType": "Parameters", "parameter": [{"name": "appointment-reference", '
    '"valueReference": {"reference": "Appointment/1-2-3-4-000000000000"}}]}',
    '[1, 2, 3]',
])
def test_bad_operation_bodies_give_a_400_operation_outcome(demo_clinic, desk, body):
    outcome = parsed(desk.post("/fhir/r4/Appointment/$book", body, content_type=FHIR_JSON), 400)
    assert outcome["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["Patient/abc", "Patient/99999", "Appointment/0", "Location/room-99999",
                                  "Slot/1-1-1-1-abcdefabcdef", "Schedule/physician-999-location-1",
                                  "Practitioner/" + "9" * 300, "Nothing/1", "r5/metadata"])
def test_unknown_ids_and_addresses_give_a_404_operation_outcome(demo_clinic, desk, path):
    outcome = parsed(desk.get(f"/fhir/r4/{path}" if not path.startswith("r5") else f"/fhir/{path}"), 404)
    assert outcome["issue"][0]["code"] == "not-found"


def test_slot_search_pages_with_count_and_links(calendar, desk):
    first = parsed(desk.get(SLOTS + "&_count=10"))
    total = first["total"]
    assert total > 20 and len(first["entry"]) == 10
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links and "_offset=10" in links["next"]
    seen = [slot["id"] for slot in resources(first)]
    url = links["next"]
    while url:
        page = parsed(desk.get(url))
        assert page["total"] == total
        seen += [slot["id"] for slot in resources(page)]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert "previous" in links
        url = links.get("next")
    assert len(seen) == len(set(seen)) == total
    only_total = parsed(desk.get(SLOTS + "&_count=0"))
    assert only_total["total"] == total and "entry" not in only_total
    assert [link["relation"] for link in only_total["link"]] == ["self"]
    everything = resources(parsed(desk.get(SLOTS + "&_count=1000")))
    assert [slot["id"] for slot in everything] == seen
    starts = [slot["start"] for slot in everything]
    assert starts == sorted(starts) and all(slot["status"] == "free" for slot in everything)


def test_a_slot_id_is_stable_for_the_same_time_and_resources(calendar, desk, front_desk):
    narrow = f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{local(NEXT_MONDAY, 9).isoformat()}" \
             f"&start=le{local(NEXT_MONDAY, 9).isoformat()}&schedule=Schedule/physician-{calendar.okafor.pk}" \
             f"-location-{calendar.location.pk}"
    week = f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{NEXT_MONDAY}&start=le{NEXT_MONDAY + dt.timedelta(days=6)}"
    [nine] = resources(parsed(desk.get(narrow)))
    again = [slot["id"] for slot in resources(parsed(desk.get(week + "&_count=1000")))]
    assert nine["id"] in again and nine["start"] == "2026-11-30T09:00:00-06:00"
    tampered = nine["id"][:-1] + ("0" if nine["id"][-1] != "0" else "1")
    assert parsed(desk.get(f"/fhir/r4/Slot/{tampered}"), 404)
    calendar.order_for(calendar.patients[1])
    services.appointment_book(patient=calendar.patients[1], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 9))
    assert parsed(desk.get(f"/fhir/r4/Slot/{nine['id']}"))["status"] == "busy"
    assert nine["id"] not in [slot["id"] for slot in resources(parsed(desk.get(week + "&_count=1000")))]


def test_slots_on_each_side_of_a_daylight_saving_change_carry_their_own_offset(calendar, desk, clock):
    # Clocks spring forward on Sunday 2027-03-14 in Bartlesville: Friday is CST, Monday CDT.
    clock.move_to(dt.datetime(2027, 3, 8, 8, 0, tzinfo=calendar.location.zone))
    Location.objects.filter(pk=calendar.location.pk).update(booking_horizon_days=120)
    url = "/fhir/r4/Slot?service-type=ESI_IL&start=ge2027-03-12&start=le2027-03-15&_count=1000"
    starts = [slot["start"] for slot in resources(parsed(desk.get(url)))]
    friday = [start for start in starts if start.startswith("2027-03-12")]
    monday = [start for start in starts if start.startswith("2027-03-15")]
    assert friday and monday
    assert all(start.endswith("-06:00") for start in friday)
    assert all(start.endswith("-05:00") for start in monday)
    assert "2027-03-15T09:00:00-05:00" in monday  # the grid keeps its wall-clock times


def test_appointments_are_searched_by_patient_practitioner_date_status_and_location(calendar, desk, booked):
    def ids(query: str) -> list[str]:
        return [item["id"] for item in resources(parsed(desk.get(f"/fhir/r4/Appointment?{query}")))]

    mine = [str(booked.pk)]
    assert ids(f"patient=Patient/{calendar.patients[0].pk}") == mine
    assert ids(f"patient={calendar.patients[1].pk}") == []
    assert ids(f"practitioner=Practitioner/{calendar.okafor.pk}") == mine
    assert ids(f"practitioner={calendar.reyes.pk}") == []
    assert ids(f"date={NEXT_MONDAY}") == mine and ids(f"date={NEXT_MONDAY + dt.timedelta(days=1)}") == []
    assert ids(f"date=ge{NEXT_MONDAY}&date=le{NEXT_MONDAY}") == mine
    assert ids("status=booked") == mine and ids("status=arrived") == []
    assert ids(f"location=Location/{calendar.location.pk}") == mine
    assert ids(f"location=Location/room-{booked.room_id}") == mine
    other_room = Room.objects.exclude(pk=booked.room_id).first()
    assert ids(f"location=Location/room-{other_room.pk}") == []


@pytest.mark.parametrize("status, fhir_status, patient_status", [
    (AppointmentStatus.SCHEDULED, "booked", "needs-action"),
    (AppointmentStatus.CONFIRMED, "booked", "accepted"),
    (AppointmentStatus.CHECKED_IN, "arrived", "accepted"),
    (AppointmentStatus.IN_PROCEDURE, "arrived", "accepted"),
    (AppointmentStatus.IN_RECOVERY, "arrived", "accepted"),
    (AppointmentStatus.COMPLETED, "fulfilled", "accepted"),
    (AppointmentStatus.CANCELLED, "cancelled", "accepted"),
    (AppointmentStatus.NO_SHOW, "noshow", "accepted"),
])
def test_visit_statuses_map_to_fhir_statuses(calendar, desk, booked, status, fhir_status, patient_status):
    type(booked).objects.filter(pk=booked.pk).update(status=status)
    appointment = parsed(desk.get(f"/fhir/r4/Appointment/{booked.pk}"))
    assert appointment["status"] == fhir_status
    patient = next(p for p in appointment["participant"] if p["actor"]["reference"].startswith("Patient/"))
    assert patient["status"] == patient_status


def test_patients_are_searched_by_identifier_birthdate_and_family(calendar, desk):
    patient = calendar.patients[3]

    def ids(query: str) -> set[str]:
        return {item["id"] for item in resources(parsed(desk.get(f"/fhir/r4/Patient?{query}&_count=1000")))}

    assert ids(f"identifier=urn:interval:patient|{patient.pk}") == {str(patient.pk)}
    assert ids(f"identifier={patient.pk}") == {str(patient.pk)}
    assert ids(f"identifier=urn:other|{patient.pk}") == set()
    assert str(patient.pk) in ids(f"birthdate={patient.date_of_birth}")
    assert all(p["birthDate"] == patient.date_of_birth.isoformat() for p in resources(
        parsed(desk.get(f"/fhir/r4/Patient?birthdate={patient.date_of_birth}"))))
    prefix = patient.last_name[:3].lower()
    found = ids(f"family={prefix}")
    assert str(patient.pk) in found
    assert found == {str(p.pk) for p in Patient.objects.all() if p.last_name.lower().startswith(prefix)}
    read = parsed(desk.get(f"/fhir/r4/Patient/{patient.pk}"))
    assert read["name"][0]["family"] == patient.last_name and read["birthDate"] == patient.date_of_birth.isoformat()


def test_reading_a_patient_is_logged_as_an_access(calendar, desk, front_desk):
    from clinic.models import PatientAccess

    desk.get(f"/fhir/r4/Patient/{calendar.patients[2].pk}")
    assert PatientAccess.objects.filter(user=front_desk, patient=calendar.patients[2]).count() == 1


def test_a_json_body_is_answered_in_fhir_json_whatever_the_client_accepts(demo_clinic, front_desk):
    client = fhir_client(front_desk)
    response = client.get("/fhir/r4/Practitioner", HTTP_ACCEPT="application/xml")
    assert response.status_code == 200 and response["Content-Type"].startswith(FHIR_JSON)
    assert json.loads(response.content)["resourceType"] == "Bundle"
    assert issues(parsed(client.put("/fhir/r4/Practitioner"), 405))


def test_slot_entries_written_as_text_are_the_same_resources_as_a_slot_read(calendar, desk):
    week = resources(parsed(desk.get(SLOTS + "&_count=5")))
    for searched in week:
        assert parsed(desk.get(f"/fhir/r4/Slot/{searched['id']}")) == searched


def test_a_control_character_in_a_header_and_a_crash_are_operation_outcomes_too(demo_clinic, rf):
    from clinic import http_errors

    response = Client(HTTP_AUTHORIZATION="Bearer ab\x00cd").get("/fhir/r4/Patient")
    assert parsed(response, 400)["issue"][0]["code"] == "invalid"
    crashed = http_errors.server_error(rf.get("/fhir/r4/Patient"))
    assert parsed(crashed, 500)["issue"][0]["code"] == "exception"
    assert b"Traceback" not in crashed.content


def test_the_rest_api_schema_leaves_the_fhir_interface_out(demo_clinic, superuser):
    client = Client()
    client.force_login(superuser)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and b"/api/v1/availability/" in schema.content
    assert b"/fhir/" not in schema.content
