"""FHIR search parameters as a new client meets them: unknown ones ignored unless the client asks
for strict handling (and the `self` link shows what was used), birthdate with prefixes and
partial dates, and answers with patient data kept out of caches."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from clinic.models import Patient
from scheduling import services
from tests.conftest import NEXT_MONDAY, local
from tests.fhir import fhir_client, issues, parsed, post_parameters, resources

pytestmark = pytest.mark.django_db

SLOTS = f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{NEXT_MONDAY}&start=le{NEXT_MONDAY}"
STRICT = {"HTTP_PREFER": "handling=strict"}


@pytest.fixture
def desk(front_desk) -> Client:
    return fhir_client(front_desk)


def self_query(bundle: dict) -> dict:
    link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    return parse_qs(urlsplit(link).query)


@pytest.mark.parametrize("url", [SLOTS, "/fhir/r4/Patient?family=a", "/fhir/r4/Appointment?status=booked",
                                 f"/fhir/r4/Appointment/$find?service-type=ESI_IL&start={NEXT_MONDAY}"])
def test_an_unknown_parameter_is_ignored_and_left_out_of_the_self_link(calendar, desk, url):
    plain = parsed(desk.get(url))
    with_unknown = parsed(desk.get(url + "&colour=blue&_sort=date"))
    assert with_unknown["total"] == plain["total"]
    used = self_query(with_unknown)
    assert "colour" not in used and "_sort" not in used
    assert self_query(plain) == used  # the known ones stay


@pytest.mark.parametrize("url", [SLOTS, "/fhir/r4/Patient?family=a", "/fhir/r4/Practitioner?name=o",
                                 f"/fhir/r4/Appointment/$find?service-type=ESI_IL&start={NEXT_MONDAY}"])
def test_under_strict_handling_an_unknown_parameter_is_a_400_naming_it(calendar, desk, url):
    outcome = parsed(desk.get(url + "&colour=blue", **STRICT), 400)
    assert "Unknown search parameter: colour." in issues(outcome)[0]
    assert outcome["issue"][0]["expression"] == ["colour"] and outcome["issue"][0]["code"] == "not-supported"
    parsed(desk.get(url, HTTP_PREFER="return=minimal, handling=strict"))  # known ones only: fine


def test_strict_handling_applies_to_a_posted_find_too(calendar, desk):
    body = [{"name": "service-type", "valueString": "ESI_IL"}, {"name": "colour", "valueString": "blue"}]
    lenient = post_parameters(desk, "/fhir/r4/Appointment/$find", body)
    assert parsed(lenient)["total"] > 0
    strict = desk.post("/fhir/r4/Appointment/$find", {"resourceType": "Parameters", "parameter": body},
                       content_type="application/fhir+json", **STRICT)
    assert "colour" in issues(parsed(strict, 400))[0]


@pytest.fixture
def born(demo_clinic):
    """Three patients born 1958-04-12, 1958-11-03 and 1961-01-20."""
    return [Patient.objects.create(first_name="Ada", last_name=f"Birthdate{n}", date_of_birth=day,
                                   email=f"born{n}@example.com")
            for n, day in enumerate(["1958-04-12", "1958-11-03", "1961-01-20"])]


@pytest.mark.parametrize("query, expected", [
    ("birthdate=1958-04-12", [0]),
    ("birthdate=eq1958", [0, 1]),
    ("birthdate=1958-11", [1]),
    ("birthdate=ne1958", [2]),
    ("birthdate=lt1958-11-03", [0]),
    ("birthdate=le1958-11", [0, 1]),
    ("birthdate=gt1958-04-12", [1, 2]),
    ("birthdate=ge1959", [2]),
    ("birthdate=ge1958-05&birthdate=lt1961", [1]),
])
def test_birthdate_takes_prefixes_and_partial_dates(born, desk, query, expected):
    found = resources(parsed(desk.get(f"/fhir/r4/Patient?family=Birthdate&{query}")))
    assert sorted(item["name"][0]["family"] for item in found) == [f"Birthdate{n}" for n in expected]


@pytest.mark.parametrize("value", ["1958-13", "1958-02-30", "58", "xx1958", "1958-04-12T00:00:00Z"])
def test_a_birthdate_that_is_not_a_date_is_a_400(demo_clinic, desk, value):
    outcome = parsed(desk.get(f"/fhir/r4/Patient?birthdate={value}"), 400)
    assert outcome["issue"][0]["expression"] == ["birthdate"]


def test_the_capability_statement_declares_birthdate_a_date(demo_clinic):
    statement = parsed(Client().get("/fhir/r4/metadata"))
    patient = next(entry for entry in statement["rest"][0]["resource"] if entry["type"] == "Patient")
    assert {"name": "birthdate", "type": "date"} in patient["searchParam"]


def test_answers_with_patient_data_are_not_stored_by_caches_but_the_capability_statement_may_be(
        calendar, desk, front_desk):
    patient = calendar.patients[0]
    calendar.order_for(patient)
    booked = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                       start=local(NEXT_MONDAY, 9), by=front_desk)
    other = calendar.patients[1]
    calendar.order_for(other)
    find = f"/fhir/r4/Appointment/$find?service-type=ESI_IL&start={NEXT_MONDAY}&patient=Patient/{other.pk}"
    proposal = resources(parsed(desk.get(find)), "Appointment")[0]
    held = post_parameters(desk, "/fhir/r4/Appointment/$hold", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}])
    answers = [desk.get(f"/fhir/r4/Patient/{patient.pk}"), desk.get("/fhir/r4/Patient?family=a"),
               desk.get(f"/fhir/r4/Appointment/{booked.pk}"), desk.get("/fhir/r4/Appointment"), desk.get(find),
               desk.get(SLOTS), held, desk.get("/fhir/r4/Patient/999999"),
               post_parameters(desk, "/fhir/r4/Appointment/$book", [
                   {"name": "appointment-resource", "resource": resources(parsed(held), "Appointment")[0]}])]
    assert [answer.status_code for answer in answers] == [200] * 7 + [404, 201]
    for answer in answers:
        assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
    assert "no-store" not in Client().get("/fhir/r4/metadata").get("Cache-Control", "")


def test_a_bare_plus_in_an_offset_is_a_400_that_says_to_write_it_as_2b(demo_clinic, desk):
    outcome = parsed(desk.get(f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{NEXT_MONDAY}T08:00:00+01:00"), 400)
    assert "Write a + in the offset as %2B in a URL." in issues(outcome)[0]
    parsed(desk.get(f"/fhir/r4/Slot?service-type=ESI_IL&start=ge{NEXT_MONDAY}T08:00:00%2B01:00"))
